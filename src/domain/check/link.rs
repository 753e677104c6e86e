//! Links reduced to the domain that owns them, and look-alikes of official domains.
//!
//! `https://www.icbc.com.cn/login`, `ICBC.com.cn` and `m.icbc.com.cn` all belong to
//! `icbc.com.cn`: the *registrable* domain, one label under a public suffix. Domains are
//! compared in their ASCII (punycode) form, so `工商银行.中国` and `xn--…` are the same.

use std::fmt;

use super::confusables::skeleton;

/// Public suffixes with more than one label that the bureau's citizens meet. Every other
/// top-level domain is a public suffix on its own (the Public Suffix List's default rule).
/// This is a curated subset of the list: a suffix missing here makes its registrable
/// domain one label too short (`example.xx.yy` read as `xx.yy`), never a wrong match of
/// two different sites under one owner — unless the owner is that suffix.
const MULTI_LABEL_SUFFIXES: &[&str] = &[
    // China
    "com.cn",
    "net.cn",
    "org.cn",
    "gov.cn",
    "edu.cn",
    "ac.cn",
    "mil.cn",
    "ah.cn",
    "bj.cn",
    "cq.cn",
    "fj.cn",
    "gd.cn",
    "gs.cn",
    "gz.cn",
    "gx.cn",
    "ha.cn",
    "hb.cn",
    "he.cn",
    "hi.cn",
    "hl.cn",
    "hn.cn",
    "jl.cn",
    "js.cn",
    "jx.cn",
    "ln.cn",
    "nm.cn",
    "nx.cn",
    "qh.cn",
    "sc.cn",
    "sd.cn",
    "sh.cn",
    "sn.cn",
    "sx.cn",
    "tj.cn",
    "xj.cn",
    "xz.cn",
    "yn.cn",
    "zj.cn",
    "hk.cn",
    "mo.cn",
    "tw.cn",
    "公司.cn",
    "网络.cn",
    // Hong Kong, Macao, Taiwan
    "com.hk",
    "net.hk",
    "org.hk",
    "gov.hk",
    "edu.hk",
    "idv.hk",
    "com.mo",
    "net.mo",
    "org.mo",
    "gov.mo",
    "edu.mo",
    "com.tw",
    "net.tw",
    "org.tw",
    "gov.tw",
    "edu.tw",
    "idv.tw",
    // Where scam compounds and their sites are often registered, and common elsewhere
    "com.kh",
    "net.kh",
    "org.kh",
    "gov.kh",
    "com.mm",
    "net.mm",
    "gov.mm",
    "com.la",
    "net.la",
    "gov.la",
    "com.ph",
    "net.ph",
    "gov.ph",
    "com.my",
    "net.my",
    "gov.my",
    "com.sg",
    "net.sg",
    "gov.sg",
    "edu.sg",
    "co.th",
    "in.th",
    "go.th",
    "com.vn",
    "net.vn",
    "gov.vn",
    "co.id",
    "go.id",
    "co.jp",
    "ne.jp",
    "or.jp",
    "go.jp",
    "co.kr",
    "or.kr",
    "go.kr",
    "co.uk",
    "org.uk",
    "gov.uk",
    "ac.uk",
    "com.au",
    "net.au",
    "org.au",
    "gov.au",
    "co.nz",
    "com.br",
    "com.mx",
    "co.in",
    "gov.in",
    "com.ru",
    "com.tr",
    "ae.org",
    "com.ae",
    "gov.ae",
    "co.za",
    "com.ng",
    // Hosting where anyone gets a name of their own
    "github.io",
    "gitee.io",
    "vercel.app",
    "netlify.app",
    "pages.dev",
    "workers.dev",
    "herokuapp.com",
    "blogspot.com",
    "azurewebsites.net",
    "cloudfront.net",
    "appspot.com",
    "web.app",
    "firebaseapp.com",
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("{0:?} is not a web address")]
    NotALink(String),
    #[error("{0:?} is an IP address, not a domain: treat any link to a bare address with care")]
    IpAddress(String),
}

/// The registrable domain a link belongs to. Two links are the same domain whatever
/// their hosts (`www.`, `m.`), so equality and order look at the domain alone.
#[derive(Clone, Debug)]
pub struct Domain {
    /// ASCII form (punycode for non-ASCII labels), lower case: the key.
    ascii: String,
    /// The host as written in the link, ASCII, when it is more than the domain.
    host: String,
}

impl Domain {
    /// Reads a link (`https://…`, `www.…`, `example.com/path`) or a bare domain.
    pub fn parse(input: &str) -> Result<Domain, LinkError> {
        let trimmed = input.trim().trim_end_matches(['.', '。', ',', '，', ')', '）']);
        let with_scheme =
            if trimmed.contains("://") { trimmed.to_owned() } else { format!("http://{trimmed}") };
        let not_a_link = || LinkError::NotALink(trimmed.to_owned());
        let mut url = url::Url::parse(&with_scheme).map_err(|_| not_a_link())?;
        // Only web addresses have hosts read by the web's rules; under any other scheme
        // (a typo, `hxxp://` as reports defang links, `app://`) the host is opaque text
        // that may hold what no domain can (`%`, say). Read it as the web address it means.
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
        // Labels of letters, digits, hyphens (and the underscores some hosts carry), as
        // DNS names are (RFC 952/1123; punycode for the rest). The URL standard lets much
        // more through — `)`, `*`, `!` — which no registered name holds.
        let is_label = |label: &str| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let top = host.rsplit('.').next().unwrap_or_default();
        if !host.contains('.') || !host.split('.').all(is_label) || top.bytes().all(|b| b.is_ascii_digit()) {
            return Err(not_a_link());
        }
        let ascii = registrable(&host);
        Ok(Domain { ascii, host })
    }

    /// `icbc.com.cn`, `xn--…`: the key it is stored and looked up by.
    pub fn ascii(&self) -> &str {
        &self.ascii
    }

    /// The domain as people read it: Unicode labels where it has them.
    pub fn unicode(&self) -> String {
        let (unicode, result) = idna::domain_to_unicode(&self.ascii);
        if result.is_ok() { unicode } else { self.ascii.clone() }
    }

    /// Whether any label is punycode: non-Latin letters, where look-alikes hide.
    pub fn is_internationalised(&self) -> bool {
        self.ascii.split('.').any(|label| label.starts_with("xn--"))
    }

    /// The host the link named, if it is more than the domain (`m.icbc.com.cn`).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The official domain this one imitates, if any: the same letters once look-alike
    /// characters are folded (`аlipay.com` in Cyrillic, `a1ipay.com`), one slip of a
    /// letter in a long enough name (`alipya.com`), or the official name worn as a
    /// subdomain of someone else's site (`icbc.com.cn.secure-pay.top`).
    pub fn imitates<'a>(&self, officials: impl IntoIterator<Item = &'a str>) -> Option<String> {
        let (own_name, own_suffix) = split_name(&self.unicode());
        let own_skeleton = skeleton(&own_name);
        for official in officials {
            let official = match Domain::parse(official) {
                Ok(d) => d,
                Err(_) => continue,
            };
            if official.ascii == self.ascii {
                return None;
            }
            let (name, _) = split_name(&official.unicode());
            let official_skeleton = skeleton(&name);
            let worn = self.host != self.ascii
                && self
                    .host
                    .strip_suffix(&self.ascii)
                    .is_some_and(|sub| sub.contains(official.ascii.as_str()));
            let same_look = own_skeleton == official_skeleton;
            let slip = official_skeleton.chars().count() >= 6
                && own_suffix == split_name(&official.unicode()).1
                && one_edit_apart(&own_skeleton, &official_skeleton);
            if worn || same_look || slip {
                return Some(official.unicode());
            }
        }
        None
    }
}

/// The registrable domain of an ASCII host.
fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    // The longest public suffix the host ends with; at least its last label.
    let mut suffix_len = 1;
    for n in (2..labels.len()).rev() {
        let candidate = labels[labels.len() - n..].join(".");
        if MULTI_LABEL_SUFFIXES.iter().any(|s| suffix_ascii(s) == candidate) {
            suffix_len = n;
            break;
        }
    }
    let take = (suffix_len + 1).min(labels.len());
    labels[labels.len() - take..].join(".")
}

fn suffix_ascii(suffix: &str) -> String {
    if suffix.is_ascii() { suffix.to_owned() } else { idna::domain_to_ascii(suffix).unwrap_or_default() }
}

/// The registrable domain's own name and its suffix: `("icbc", "com.cn")`.
fn split_name(domain: &str) -> (String, String) {
    match domain.split_once('.') {
        Some((name, suffix)) => (name.to_owned(), suffix.to_owned()),
        None => (domain.to_owned(), String::new()),
    }
}

/// Whether one insertion, deletion, substitution or swap of neighbours turns `a` into `b`.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a == b {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    match ra.len() as isize - rb.len() as isize {
        0 => ra[1..] == rb[1..] || (ra.len() >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && ra[2..] == rb[2..]),
        1 => ra[1..] == *rb,
        -1 => *ra == rb[1..],
        _ => false,
    }
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
        use crate::domain::Subject;
        let found = Subject::find_all("/check httrsQJe://alipay.c%?=heck example/");
        assert!(found.iter().all(|s| Subject::of_kind(s.kind(), &s.key()).is_ok()), "{found:?}");
    }

    #[test]
    fn links_come_down_to_the_domain_that_owns_them() {
        for link in [
            "https://www.icbc.com.cn/login?x=1",
            "http://ICBC.com.cn",
            "icbc.com.cn",
            "m.icbc.com.cn/",
            "www.icbc.com.cn。",
        ] {
            assert_eq!(domain(link), "icbc.com.cn", "{link}");
        }
        assert_eq!(domain("https://pay.example.co.uk/a"), "example.co.uk");
        assert_eq!(domain("scam-site.github.io"), "scam-site.github.io");
        assert_eq!(domain("a.b.c.alipay.com"), "alipay.com");
        assert_eq!(domain("gov.cn"), "gov.cn");
    }

    #[test]
    fn unicode_and_punycode_are_the_same_domain() {
        let unicode = Domain::parse("http://工商银行.中国/").unwrap();
        assert!(unicode.ascii().starts_with("xn--"));
        assert!(unicode.is_internationalised());
        assert_eq!(Domain::parse(unicode.ascii()).unwrap(), unicode);
        assert_eq!(unicode.unicode(), "工商银行.中国");
        assert_eq!(unicode.to_string(), format!("工商银行.中国 ({})", unicode.ascii()));
    }

    #[test]
    fn look_alikes_of_official_domains_are_named() {
        let officials = ["alipay.com", "icbc.com.cn", "12306.cn", "ccb.com"];
        let imitates = |link: &str| Domain::parse(link).unwrap().imitates(officials);
        // Cyrillic а and о, written in punycode as a phishing message would carry them.
        let cyrillic = idna::domain_to_ascii("аlipay.com").unwrap();
        assert!(cyrillic.starts_with("xn--"), "{cyrillic}");
        assert_eq!(imitates(&cyrillic).as_deref(), Some("alipay.com"));
        assert_eq!(imitates("a1ipay.com").as_deref(), Some("alipay.com"));
        assert_eq!(imitates("alipya.com").as_deref(), Some("alipay.com"), "two letters swapped");
        assert_eq!(imitates("icbc.com.cn.secure-pay.top").as_deref(), Some("icbc.com.cn"));
        assert_eq!(imitates("https://www.alipay.com/"), None, "the real one");
        assert_eq!(imitates("ccb.co").as_deref(), Some("ccb.com"), "the same name elsewhere");
        assert_eq!(imitates("ccc.com"), None, "a slip in a short name is not guessed at");
        assert_eq!(imitates("example.org"), None);
    }

    #[test]
    fn what_is_not_a_domain_says_why() {
        assert!(matches!(Domain::parse("not a link"), Err(LinkError::NotALink(_))));
        assert!(matches!(Domain::parse("localhost"), Err(LinkError::NotALink(_))));
        assert!(matches!(Domain::parse("http://203.0.113.9/pay"), Err(LinkError::IpAddress(_))));
    }

    #[test]
    fn one_edit_is_one_edit() {
        assert!(one_edit_apart("alipay", "alipya"));
        assert!(one_edit_apart("alipay", "alipays"));
        assert!(one_edit_apart("alipay", "aipay"));
        assert!(one_edit_apart("alipay", "alipey"));
        assert!(!one_edit_apart("alipay", "alipay"));
        assert!(!one_edit_apart("alipay", "lapiay"));
    }
}
