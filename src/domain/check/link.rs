//! Links reduced to the domain that owns them.
//!
//! `https://www.icbc.com.cn/login`, `ICBC.com.cn.` and `m.icbc.com.cn` all belong to
//! `icbc.com.cn`: the *registrable* domain, one label under a public suffix of Mozilla's
//! Public Suffix List (the whole list, ICANN and private sections, compiled into the `psl`
//! crate and updated with it). The host is read by the WHATWG URL standard (the `url`
//! crate): what precedes an `@` is credentials, not the host, and IDNA (UTS #46) maps the
//! host, so full-width `．`, ideographic `。` and `｡` separate labels, `ＡＬＩＰＡＹ` is
//! `alipay` and case is folded. Domains are compared in their ASCII (punycode) form, so
//! `工商银行.中国` and `xn--…` are the same. Links defanged in warnings (`hxxps://`, `[.]`)
//! are read as the links they stand for.
//!
//! Whether a domain imitates an official one is in `lookalike.rs`.

use std::borrow::Cow;
use std::fmt;

/// The rules link keys are made by: the Public Suffix List as the `psl` crate compiles it,
/// IDNA as the `idna` crate (under `url`) maps hosts, and the revision of Pingan's reading
/// in this file. Change it when any changes: migrating a database then re-keys its stored
/// domains (`src/store/subject_keys.rs`). A test checks the crates' versions against
/// `Cargo.lock`.
pub const LINK_KEY_RULES: &str = "psl 2.1.247, idna 1.1.0, pingan 2";

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("{0:?} is not a web address")]
    NotALink(String),
    #[error("{0:?} is an IP address, not a domain: treat any link to a bare address with care")]
    IpAddress(String),
}

/// The registrable domain a link belongs to. Two links are the same domain whatever
/// their hosts (`www.`, `m.`) or credentials, so equality and order look at the domain
/// alone.
#[derive(Clone, Debug)]
pub struct Domain {
    /// ASCII form (punycode for non-ASCII labels), lower case: the key.
    ascii: String,
    /// The host the link leads to, ASCII, lower case, without a trailing dot.
    host: String,
    /// The registrable domain written as credentials before an `@`
    /// (`https://alipay.com@evil.example/`), ASCII, when it is another than `ascii`.
    credentials: Option<String>,
}

impl Domain {
    /// Reads a link (`https://…`, `www.…`, `example.com/path`, `hxxps://evil[.]top`) or a
    /// bare domain.
    pub fn parse(input: &str) -> Result<Domain, LinkError> {
        let refanged = refang(input);
        let trimmed = refanged.trim().trim_end_matches(['.', '。', '．', '｡', ',', '，', ')', '）']);
        let with_scheme =
            if trimmed.contains("://") { trimmed.to_owned() } else { format!("http://{trimmed}") };
        let not_a_link = || LinkError::NotALink(trimmed.to_owned());
        let mut url = url::Url::parse(&with_scheme).map_err(|_| not_a_link())?;
        // Only web addresses have hosts read by the web's rules; under any other scheme
        // (a typo, `app://`) the host is opaque text that may hold what no domain can
        // (`%`, say). Read it as the web address it means.
        if !matches!(url.scheme(), "http" | "https") {
            let rest = with_scheme.split_once("://").map_or("", |(_, rest)| rest);
            url = url::Url::parse(&format!("http://{rest}")).map_err(|_| not_a_link())?;
        }
        let host = match url.host() {
            Some(url::Host::Domain(host)) => host.trim_end_matches('.').to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => return Err(LinkError::IpAddress(ip.to_string())),
            Some(url::Host::Ipv6(ip)) => return Err(LinkError::IpAddress(ip.to_string())),
            None => return Err(not_a_link()),
        };
        if !is_dns_name(&host) {
            return Err(not_a_link());
        }
        let ascii = registrable(&host).to_owned();
        let credentials = [url.username(), url.password().unwrap_or_default()]
            .into_iter()
            .filter_map(host_of)
            .filter(|shown| known_suffix(shown))
            .map(|shown| registrable(&shown).to_owned())
            .find(|shown| *shown != ascii);
        Ok(Domain { ascii, host, credentials })
    }

    /// `icbc.com.cn`, `xn--…`: the key it is stored and looked up by.
    pub fn ascii(&self) -> &str {
        &self.ascii
    }

    /// The domain as people read it: Unicode labels where it has them.
    pub fn unicode(&self) -> String {
        to_unicode(&self.ascii)
    }

    /// The host the link leads to (`m.icbc.com.cn`), ASCII; the domain itself when the
    /// link named no more.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The registrable domain the link shows as credentials before an `@`
    /// (`alipay.com` in `https://alipay.com@evil.example/`), ASCII; browsers open the host
    /// after the `@`.
    pub fn credentials(&self) -> Option<&str> {
        self.credentials.as_deref()
    }

    /// The registrable domain the labels before this one spell, when they spell one under
    /// a public suffix the list knows (`alipay.com` in `alipay.com.evil.example`), ASCII.
    pub fn in_subdomain(&self) -> Option<&str> {
        let sub = self.host.strip_suffix(self.ascii.as_str())?.strip_suffix('.')?;
        if known_suffix(sub) { psl::domain_str(sub) } else { None }
    }
}

/// The registrable domain of an ASCII host: one label under its longest public suffix
/// (PSL algorithm, `*` as the default rule); the host itself when it is a public suffix
/// (`gov.cn`, `github.io`), so that it is still one key.
pub(crate) fn registrable(host: &str) -> &str {
    psl::domain_str(host).unwrap_or(host)
}

/// Whether the host's public suffix is one the list names, not the default rule's
/// (`evil.example` has none; `first.name` has one).
fn known_suffix(host: &str) -> bool {
    psl::suffix(host.as_bytes()).is_some_and(|s| s.is_known())
}

/// The ASCII host some text reads as by the WHATWG host parser (percent-decoding, IDNA),
/// if it is a domain name of two labels or more.
fn host_of(text: &str) -> Option<String> {
    if text.is_empty() || !text.contains(['.', '%']) {
        return None;
    }
    let url = url::Url::parse(&format!("http://{text}/")).ok()?;
    match url.host()? {
        url::Host::Domain(host) => {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            is_dns_name(&host).then_some(host)
        }
        _ => None,
    }
}

/// Labels of letters, digits, hyphens (and the underscores some hosts carry), as DNS
/// names are (RFC 952/1123; punycode for the rest), two or more, the last not all digits.
/// The URL standard lets much more through — `)`, `*`, `!` — which no registered name
/// holds.
fn is_dns_name(host: &str) -> bool {
    // RFC 1035 §2.3.4: a label has at most 63 octets, a name at most 253 written out
    // (255 on the wire); a 4 000-character "domain" is no site, and no answer echoes it.
    let is_label = |label: &str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let top = host.rsplit('.').next().unwrap_or_default();
    host.len() <= 253
        && host.contains('.')
        && host.split('.').all(is_label)
        && !top.bytes().all(|b| b.is_ascii_digit())
}

/// An ASCII domain in Unicode where it has punycode labels; as it is if they do not decode.
pub(crate) fn to_unicode(ascii: &str) -> String {
    let (unicode, result) = idna::domain_to_unicode(ascii);
    if result.is_ok() { unicode } else { ascii.to_owned() }
}

/// A link as security warnings defang it, made whole again: `hxxp://` and `hxxps://` (any
/// case), `[.]`, `(.)`, `{.}`, `[dot]`, `(dot)`, `{dot}`, `[:]` and `[://]`; and a value
/// written with full-width `．`, ideographic `。` or half-width `｡` dots between letters or
/// digits (`alipay．com`, as Chinese input methods type it) gets `.`. For one value a
/// citizen sent; free text goes through [`refang_text`].
pub(crate) fn refang(input: &str) -> Cow<'_, str> {
    let text = refang_text(input);
    if !text.contains(['．', '。', '｡']) {
        return text;
    }
    let chars: Vec<char> = text.chars().collect();
    let joins = |i: usize| {
        i > 0 && i + 1 < chars.len() && chars[i - 1].is_alphanumeric() && chars[i + 1].is_alphanumeric()
    };
    let dotted: String = chars
        .iter()
        .enumerate()
        .map(|(i, &c)| if matches!(c, '．' | '。' | '｡') && joins(i) { '.' } else { c })
        .collect();
    Cow::Owned(dotted)
}

/// The defanged spellings of links in free text made whole (`hxxps://`, `[.]`, `(.)`,
/// `{.}`, `[dot]`, `(dot)`, `{dot}`, `[:]`, `[://]`); an ideographic `。` only between an
/// ASCII letter or digit and a lower-case ASCII letter (`alipay。com`), since elsewhere it
/// ends a sentence.
pub(crate) fn refang_text(text: &str) -> Cow<'_, str> {
    const BRACKETED: [(&str, &str); 8] = [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("{dot}", "."),
        ("[://]", "://"),
        ("[:]", ":"),
    ];
    let lower = text.to_ascii_lowercase();
    let defanged = lower.contains("hxxp")
        || BRACKETED.iter().any(|(from, _)| lower.contains(from))
        || text.contains('。');
    if !defanged {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let scheme_follows = |after: &str| {
            after.starts_with(':') || after.get(..2).is_some_and(|h| h.eq_ignore_ascii_case("s:"))
        };
        if rest.get(..4).is_some_and(|h| h.eq_ignore_ascii_case("hxxp")) && scheme_follows(&rest[4..]) {
            // `hxxp` to `http`, keeping the `s` and what follows.
            out.push_str("http");
            rest = &rest[4..];
            continue;
        }
        if let Some((from, to)) = BRACKETED
            .iter()
            .find(|(from, _)| rest.get(..from.len()).is_some_and(|h| h.eq_ignore_ascii_case(from)))
        {
            out.push_str(to);
            rest = &rest[from.len()..];
            continue;
        }
        if c == '。' {
            let before = out.chars().next_back().is_some_and(|b| b.is_ascii_alphanumeric());
            let after = rest['。'.len_utf8()..].chars().next().is_some_and(|a| a.is_ascii_lowercase());
            out.push(if before && after { '.' } else { c });
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    Cow::Owned(out)
}

impl PartialEq for Domain {
    fn eq(&self, other: &Self) -> bool {
        self.ascii == other.ascii
    }
}

impl Eq for Domain {}

impl std::hash::Hash for Domain {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ascii.hash(state);
    }
}

impl PartialOrd for Domain {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Domain {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ascii.cmp(&other.ascii)
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unicode = self.unicode();
        if unicode == self.ascii { f.write_str(&self.ascii) } else { write!(f, "{unicode} ({})", self.ascii) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(input: &str) -> String {
        Domain::parse(input).unwrap_or_else(|e| panic!("{input}: {e}")).ascii().to_owned()
    }

    /// Found by the `command` fuzz target: under a scheme that is not the web's, `url`
    /// keeps the host as opaque text, and `alipay.c%` was taken for a domain.
    #[test]
    fn a_link_under_another_scheme_is_read_as_the_web_address_it_means() {
        assert_eq!(domain("hxxp://www.evil-refund.top/pay"), "evil-refund.top");
        assert_eq!(domain("ftp://files.example.com/a"), "example.com");
        assert!(Domain::parse("httrsQJe://alipay.c%?=heck").is_err());
        // And what the web's rules let through but no registered name holds.
        assert!(Domain::parse("m.3)))))))/po)s").is_err());
        assert!(Domain::parse("evil.example)").is_ok(), "a closing bracket after a link is punctuation");
        // Longer than DNS lets a label (63) or a name (253) be.
        assert!(Domain::parse(&format!("http://{}.com", "x".repeat(4000))).is_err());
        assert!(Domain::parse(&format!("{}.com", "x".repeat(63))).is_ok());
        assert!(Domain::parse(&format!("{}.com", "x".repeat(64))).is_err());
        assert!(Domain::parse(&format!("{}com", "x.".repeat(130))).is_err());
        use crate::domain::Subject;
        let found = Subject::find_all("/check httrsQJe://alipay.c%?=heck example/");
        assert!(found.iter().all(|s| Subject::of_kind(s.kind(), &s.key()).is_ok()), "{found:?}");
    }

    /// Each link form, the registrable domain it comes to (ASCII), and the domain it shows
    /// before an `@` if any.
    #[test]
    fn every_form_of_a_link_comes_down_to_the_domain_that_owns_it() {
        let alipay_cn = idna::domain_to_ascii("支付宝.中国").unwrap();
        let police = idna::domain_to_ascii("某区公安.中国").unwrap();
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("https://www.icbc.com.cn/login?x=1", "icbc.com.cn", None),
            ("http://ICBC.com.cn", "icbc.com.cn", None),
            ("m.icbc.com.cn/", "icbc.com.cn", None),
            ("www.icbc.com.cn。", "icbc.com.cn", None),
            ("icbc.com.cn.", "icbc.com.cn", None),
            // IDNA: full-width, ideographic and half-width dots are label separators.
            ("alipay．com", "alipay.com", None),
            ("alipay。com", "alipay.com", None),
            ("alipay｡com", "alipay.com", None),
            ("ＡＬＩＰＡＹ．ＣＯＭ", "alipay.com", None),
            ("HTTPS://WWW.ALIPAY.COM./", "alipay.com", None),
            // Credentials before `@` are not the host.
            ("https://alipay.com@evil.example/", "evil.example", Some("alipay.com")),
            ("https://alipay.com:pw@evil.example/pay", "evil.example", Some("alipay.com")),
            ("https://user:secret@evil.example/", "evil.example", None),
            ("https://www.alipay.com@alipay.com/", "alipay.com", None),
            ("alipay.com.evil.example", "evil.example", None),
            // Defanged.
            ("hxxps://evil[.]top/pay", "evil.top", None),
            ("HXXP://pay(.)evil-refund(.)top", "evil-refund.top", None),
            ("evil[dot]top", "evil.top", None),
            ("https[:]//evil{.}top", "evil.top", None),
            // The whole Public Suffix List.
            ("https://pay.example.co.uk/a", "example.co.uk", None),
            ("shop.example.com.ua", "example.com.ua", None),
            ("a.b.example.kawasaki.jp", "b.example.kawasaki.jp", None),
            ("scam-site.github.io", "scam-site.github.io", None),
            ("a.b.c.alipay.com", "alipay.com", None),
            ("gov.cn", "gov.cn", None),
            ("evil.example", "evil.example", None),
            ("https://www.支付宝.中国/", &alipay_cn, None),
            ("https://某区公安.中国/", &police, None),
            ("https://某区公安。中国/", &police, None),
        ];
        assert!(cases.len() >= 15);
        for (link, key, shown) in cases {
            let parsed = Domain::parse(link).unwrap_or_else(|e| panic!("{link}: {e}"));
            assert_eq!(parsed.ascii(), *key, "{link}");
            assert_eq!(parsed.credentials(), *shown, "{link}");
            assert_eq!(
                Domain::parse(parsed.ascii()).unwrap().ascii(),
                *key,
                "the key of {link} reads as itself"
            );
        }
    }

    #[test]
    fn the_domain_a_subdomain_spells_is_found() {
        let sub = |link: &str| Domain::parse(link).unwrap().in_subdomain().map(str::to_owned);
        assert_eq!(sub("alipay.com.evil.example").as_deref(), Some("alipay.com"));
        assert_eq!(sub("https://login.icbc.com.cn.secure-pay.top/").as_deref(), Some("icbc.com.cn"));
        assert_eq!(sub("m.alipay-refund.top"), None);
        assert_eq!(sub("www.alipay.com"), None);
        assert_eq!(sub("cn.example.com").as_deref(), None, "a public suffix alone is no domain");
    }

    #[test]
    fn unicode_and_punycode_are_the_same_domain() {
        let unicode = Domain::parse("http://工商银行.中国/").unwrap();
        assert!(unicode.ascii().starts_with("xn--"));
        assert_eq!(Domain::parse(unicode.ascii()).unwrap(), unicode);
        assert_eq!(unicode.unicode(), "工商银行.中国");
        assert_eq!(unicode.to_string(), format!("工商银行.中国 ({})", unicode.ascii()));
    }

    #[test]
    fn what_is_not_a_domain_says_why() {
        assert!(matches!(Domain::parse("not a link"), Err(LinkError::NotALink(_))));
        assert!(matches!(Domain::parse("localhost"), Err(LinkError::NotALink(_))));
        assert!(matches!(Domain::parse("http://203.0.113.9/pay"), Err(LinkError::IpAddress(_))));
        assert!(matches!(Domain::parse("hxxp://203[.]0[.]113[.]9/pay"), Err(LinkError::IpAddress(_))));
    }

    #[test]
    fn defanged_links_are_made_whole_and_sentences_are_left_alone() {
        assert_eq!(refang("hxxps://evil[.]top"), "https://evil.top");
        assert_eq!(refang("alipay．com"), "alipay.com");
        assert_eq!(refang("138．0013．8000"), "138.0013.8000");
        assert_eq!(refang_text("打开 hxxps://evil[.]top 领取。"), "打开 https://evil.top 领取。");
        assert_eq!(refang_text("见 alipay。com 页面"), "见 alipay.com 页面");
        assert_eq!(refang_text("拨打13800138000。I was told"), "拨打13800138000。I was told");
        assert!(matches!(refang_text("nothing to do here"), Cow::Borrowed(_)));
    }

    /// The suffixes of more than one label in the hand-kept list this replaced are in the
    /// Public Suffix List, but two: `com.ae` (the UAE registers `co.ae`) and `gitee.io`
    /// (Gitee Pages closed in 2024). Keys under those two become the suffix itself, and
    /// migrating moves them (`subject_keys.rs`).
    #[test]
    fn the_suffixes_once_kept_by_hand_are_in_the_public_suffix_list_but_two() {
        let kept = [
            "com.cn",
            "gov.cn",
            "edu.cn",
            "bj.cn",
            "xz.cn",
            "公司.cn",
            "网络.cn",
            "com.hk",
            "idv.hk",
            "com.mo",
            "com.tw",
            "idv.tw",
            "com.kh",
            "com.mm",
            "com.la",
            "com.ph",
            "com.my",
            "com.sg",
            "co.th",
            "com.vn",
            "co.id",
            "co.jp",
            "co.kr",
            "co.uk",
            "com.au",
            "co.nz",
            "com.br",
            "co.in",
            "com.ru",
            "com.tr",
            "ae.org",
            "gov.ae",
            "co.za",
            "com.ng",
            "github.io",
            "vercel.app",
            "pages.dev",
            "herokuapp.com",
            "blogspot.com",
            "appspot.com",
            "web.app",
        ];
        let in_list = |suffix: &str| {
            let host = format!("name.{}", idna::domain_to_ascii(suffix).unwrap());
            registrable(&host) == host
        };
        for suffix in kept {
            assert!(in_list(suffix), "{suffix}");
        }
        assert!(!in_list("com.ae") && !in_list("gitee.io"));
        assert_eq!(registrable("scam.gitee.io"), "gitee.io");
    }

    /// The rules' name carries the crates' versions: updating either without naming new
    /// rules would leave stored keys unchecked.
    #[test]
    fn the_key_rules_name_the_locked_psl_and_idna_versions() {
        let lock = include_str!("../../../Cargo.lock");
        let version = |name: &str| {
            lock.split("[[package]]")
                .find(|p| p.contains(&format!("name = \"{name}\"\n")))
                .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")?.strip_suffix('"')))
                .unwrap_or_else(|| panic!("{name} in Cargo.lock"))
                .to_owned()
        };
        let expected = format!("psl {}, idna {}, ", version("psl"), version("idna"));
        assert!(LINK_KEY_RULES.starts_with(&expected), "{LINK_KEY_RULES} vs {expected}");
    }
}
