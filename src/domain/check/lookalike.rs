//! Whether a link passes for an official site, by the rules README's "The risk check"
//! lists with their examples:
//!
//! 1. It shows one site and leads to another: a domain written before an `@`
//!    (`https://alipay.com@evil.example/`), or spelled by the labels before the domain that
//!    owns the host (`alipay.com.evil.example`) when that is an official domain, one that
//!    looks like one (rule 2 or 3), or one under a generic suffix of three letters or more
//!    or of two labels (`.com`, `.top`, `.com.cn`) — not a bare country code, so that
//!    `help.cn.example.com` is not taken for `help.cn`.
//! 2. Its name has the skeleton of an official name (UTS #39 confusables): look-alike
//!    letters of another script mixed in (`аlipay.com`, Cyrillic `а`), written wholly in
//!    another script (`аӏірау.com`), digits for letters (`a1ipay.com`), or the same name
//!    under another suffix (`alipay.top`).
//! 3. Its name is one slip from an official name of [`MIN_SLIP_NAME`] characters or more
//!    (two letters swapped, one changed, added or dropped: Damerau–Levenshtein distance 1),
//!    under any suffix (`alipya.top`).
//!
//! Official names are the labels under the public suffix of the official domains (the
//! shipped list and those editors list `official`). A domain that is itself official is
//! never a look-alike, so an official name under another suffix that is listed too
//! (`alipan.com` beside `alipay.com`) is not flagged.

use super::confusables::{Scripts, scripts, skeleton};
use super::link::{Domain, to_unicode};

/// The shortest official name (in characters of its skeleton) that one slip is matched
/// against. Shorter names (`ccb`, `boc`, `jd`, `qq`, `icbc`, `psbc`) are one slip from
/// many genuine sites (`pbc.gov.cn` is the People's Bank of China, one letter from `psbc`).
pub const MIN_SLIP_NAME: usize = 5;

/// How a link passes for another site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Imitation {
    /// It shows `shown` (Unicode) but leads to the domain itself (rule 1).
    Disguised { shown: String },
    /// Its name reads as the name of `official` (Unicode), in the way `how` says.
    LookAlike { official: String, how: Likeness },
}

/// In what way a name reads as an official one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Likeness {
    /// The same skeleton, letters of scripts that must not mix among them (`аlipay`).
    MixedScript,
    /// The same skeleton, every letter of another script (`аӏірау`).
    WholeScript,
    /// The same skeleton in plain letters and digits: digits for letters (`a1ipay`),
    /// `rn` for `m`, or simply the same name under another suffix (`alipay.top`).
    SameName,
    /// One slip of a long enough official name (`alipya`).
    OneSlip,
}

/// What the scripts of a domain's labels say, when they say something: the most telling
/// of its labels (mixed scripts first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptNote {
    /// A label mixes scripts that imitations mix (`аlipay.com`).
    Mixed,
    /// A label is wholly of another script but looks Latin; the domain reads as
    /// `reads_as` (`аррӏе.com` as `apple.com`). Not said when the top-level domain is of
    /// another script itself (`сайт.рф`), where Latin is not what readers expect.
    LooksLatin { reads_as: String },
}

impl Domain {
    /// How this link passes for one of `officials` (ASCII or Unicode domains), if it does:
    /// rule 1 first, then 2, then 3.
    pub fn imitates<'a>(&self, officials: impl IntoIterator<Item = &'a str>) -> Option<Imitation> {
        let officials: Vec<Domain> = officials.into_iter().filter_map(|o| Domain::parse(o).ok()).collect();
        if officials.iter().any(|o| o == self) {
            return None;
        }
        if let Some(shown) = self.credentials() {
            return Some(Imitation::Disguised { shown: to_unicode(shown) });
        }
        if let Some(shown) = self.in_subdomain().and_then(|s| Domain::parse(s).ok()) {
            let generic = psl::suffix_str(shown.ascii())
                .is_some_and(|suffix| suffix.contains('.') || suffix.chars().count() >= 3);
            if generic || officials.contains(&shown) || shown.reads_as(&officials).is_some() {
                return Some(Imitation::Disguised { shown: shown.unicode() });
            }
        }
        self.reads_as(&officials).map(|(official, how)| Imitation::LookAlike { official, how })
    }

    /// The script note for this domain's labels, if any (UTS #39 §5).
    pub fn script_note(&self) -> Option<ScriptNote> {
        let unicode = self.unicode();
        let labels: Vec<&str> = unicode.split('.').collect();
        let judged: Vec<Scripts> = labels.iter().map(|label| scripts(label)).collect();
        if judged.contains(&Scripts::Mixed) {
            return Some(ScriptNote::Mixed);
        }
        let latin_top = labels.last().is_some_and(|top| top.is_ascii());
        if !latin_top || !judged.iter().any(|j| matches!(j, Scripts::LooksLatin { .. })) {
            return None;
        }
        let reads_as = labels
            .iter()
            .zip(&judged)
            .map(|(label, judged)| match judged {
                Scripts::LooksLatin { reads_as } => reads_as.as_str(),
                _ => label,
            })
            .collect::<Vec<_>>()
            .join(".");
        Some(ScriptNote::LooksLatin { reads_as })
    }

    /// The official domain whose name this one's reads as (rules 2 and 3), and how.
    fn reads_as(&self, officials: &[Domain]) -> Option<(String, Likeness)> {
        let unicode = self.unicode();
        let name = name_of(&unicode);
        let own = skeleton(name);
        let names: Vec<(String, String)> = officials
            .iter()
            .map(|o| {
                let unicode = o.unicode();
                let official = skeleton(name_of(&unicode));
                (unicode, official)
            })
            .collect();
        if let Some((official, _)) = names.iter().find(|(_, official)| *official == own) {
            let how = match scripts(name) {
                Scripts::Mixed => Likeness::MixedScript,
                Scripts::LooksLatin { .. } => Likeness::WholeScript,
                Scripts::Plain => Likeness::SameName,
            };
            return Some((official.clone(), how));
        }
        names
            .iter()
            .find(|(_, official)| official.chars().count() >= MIN_SLIP_NAME && one_slip_apart(&own, official))
            .map(|(official, _)| (official.clone(), Likeness::OneSlip))
    }
}

/// The label under the public suffix (`icbc` of `icbc.com.cn`); the first label of a
/// domain that is a public suffix itself.
fn name_of(registrable: &str) -> &str {
    registrable.split('.').next().unwrap_or(registrable)
}

/// Whether one insertion, deletion, substitution or swap of neighbours turns `a` into `b`
/// (optimal-string-alignment distance 1).
fn one_slip_apart(a: &str, b: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    const OFFICIALS: [&str; 6] =
        ["alipay.com", "icbc.com.cn", "12306.cn", "ccb.com", "taobao.com", "apple.com"];

    fn imitates(link: &str) -> Option<Imitation> {
        Domain::parse(link).unwrap_or_else(|e| panic!("{link}: {e}")).imitates(OFFICIALS)
    }

    fn disguised(shown: &str) -> Option<Imitation> {
        Some(Imitation::Disguised { shown: shown.into() })
    }

    fn like(official: &str, how: Likeness) -> Option<Imitation> {
        Some(Imitation::LookAlike { official: official.into(), how })
    }

    /// Each rule with the inputs and more of each kind; what the link is taken
    /// for (`None`: nothing).
    #[test]
    fn each_look_alike_rule_flags_its_forms_and_leaves_genuine_sites_alone() {
        let cyrillic_a = idna::domain_to_ascii("аlipay.com").unwrap();
        let cases: Vec<(String, Option<Imitation>)> = vec![
            // Rule 1: shows one site, leads to another.
            ("https://alipay.com@evil.example/".into(), disguised("alipay.com")),
            ("https://www.alipay.com:443@evil.example/pay".into(), disguised("alipay.com")),
            ("http://paypal.com@login-check.top".into(), disguised("paypal.com")),
            ("alipay.com.evil.example".into(), disguised("alipay.com")),
            ("http://icbc.com.cn.secure-pay.top/login".into(), disguised("icbc.com.cn")),
            ("https://www.paypal.com.account-verify.top/".into(), disguised("paypal.com")),
            ("hxxps://alipay[.]com[.]refund-center[.]top".into(), disguised("alipay.com")),
            ("аlipay.cn.evil.top".into(), disguised("аlipay.cn")),
            ("help.cn.example.com".into(), None),
            ("https://user:secret@evil.example/".into(), None),
            // Rule 2: the skeleton of an official name.
            (cyrillic_a.clone(), like("alipay.com", Likeness::MixedScript)),
            ("https://αlipay.com/".into(), like("alipay.com", Likeness::MixedScript)),
            ("аӏірау.com".into(), like("alipay.com", Likeness::WholeScript)),
            ("аррӏе.com".into(), like("apple.com", Likeness::WholeScript)),
            ("a1ipay.com".into(), like("alipay.com", Likeness::SameName)),
            ("ALIPAY．TOP".into(), like("alipay.com", Likeness::SameName)),
            ("taoba0.net".into(), like("taobao.com", Likeness::SameName)),
            ("ccb.co".into(), like("ccb.com", Likeness::SameName)),
            ("icbc-com-cn.top".into(), None),
            // Rule 3: one slip, under any suffix.
            ("alipya.top".into(), like("alipay.com", Likeness::OneSlip)),
            ("alipay.com.cn".into(), like("alipay.com", Likeness::SameName)),
            ("alipays.com".into(), like("alipay.com", Likeness::OneSlip)),
            ("aipay.vip".into(), like("alipay.com", Likeness::OneSlip)),
            ("12036.cn".into(), like("12306.cn", Likeness::OneSlip)),
            ("taobaoo.shop".into(), like("taobao.com", Likeness::OneSlip)),
            ("alipan.com".into(), like("alipay.com", Likeness::OneSlip)),
            ("ccc.com".into(), None),
            ("icbd.com".into(), None),
            // Genuine and unrelated sites.
            ("https://www.alipay.com/".into(), None),
            ("HTTPS://WWW.ALIPAY.COM./".into(), None),
            ("https://某区公安.中国/".into(), None),
            ("example.org".into(), None),
            ("pbc.gov.cn".into(), None),
        ];
        assert!(cases.len() >= 15);
        for (link, expected) in &cases {
            assert_eq!(&imitates(link), expected, "{link}");
        }
    }

    /// `alipan.com` (Alibaba's cloud drive) is one slip from `alipay`: listed official, it
    /// is no look-alike, and its own imitations are.
    #[test]
    fn an_official_name_under_another_listed_name_is_not_flagged() {
        let officials = ["alipay.com", "alipan.com"];
        assert_eq!(Domain::parse("alipan.com").unwrap().imitates(officials), None);
        assert_eq!(
            Domain::parse("a1ipan.top").unwrap().imitates(officials),
            like("alipan.com", Likeness::SameName)
        );
    }

    #[test]
    fn scripts_are_noted_where_imitations_use_them_and_not_for_chinese_names() {
        let note = |link: &str| Domain::parse(link).unwrap().script_note();
        assert_eq!(note("https://某区公安.中国/"), None);
        assert_eq!(note("公安.中国"), None);
        assert_eq!(note("工商银行.com"), None);
        assert_eq!(note("支付宝pay.cn"), None);
        assert_eq!(note("example.com"), None);
        assert_eq!(note("пример.рф"), None, "Cyrillic under a Cyrillic top-level domain");
        assert_eq!(note("аlipay-refund.top"), Some(ScriptNote::Mixed));
        assert_eq!(note("аррӏе.top"), Some(ScriptNote::LooksLatin { reads_as: "apple.top".into() }));
    }

    #[test]
    fn one_slip_is_one_slip() {
        assert!(one_slip_apart("alipay", "alipya"));
        assert!(one_slip_apart("alipay", "alipays"));
        assert!(one_slip_apart("alipay", "aipay"));
        assert!(one_slip_apart("alipay", "alipey"));
        assert!(!one_slip_apart("alipay", "alipay"));
        assert!(!one_slip_apart("alipay", "lapiay"));
    }
}
