//! The risk check: what a citizen asks about (a phone number, a link, an account),
//! normalised so every way of writing it finds the same record, and the verdict.

mod account;
mod area;
mod confusables;
mod link;
mod lookalike;
mod phone;
mod short;
mod typed;

use std::fmt;

use chrono::{DateTime, Utc};

pub use account::{AccountError, AccountNumber};
pub use area::Area;
pub use link::{Domain, LINK_KEY_RULES, LinkError};
pub use lookalike::{Imitation, Likeness, MIN_SLIP_NAME, ScriptNote};
pub use phone::{PHONE_KEY_RULES, PhoneError, PhoneKind, PhoneNumber, ShortKind, warm_up};
pub use typed::Found;

use super::Actor;
use super::keyword_enum::keyword_enum;

keyword_enum! {
    /// What an indicator is.
    pub enum IndicatorKind ("kind") {
        Phone = "phone",
        Domain = "domain",
        Account = "account",
    }
}

keyword_enum! {
    /// What the bureau knows of a value.
    pub enum Risk ("risk") {
        /// Used in fraud: do not answer, pay or click.
        Fraud = "fraud",
        /// Reported or suspected; be careful.
        Suspicious = "suspicious",
        /// A genuine number or site of a bank, a platform or the authorities (callers
        /// can still fake the number they show).
        Official = "official",
    }
}

/// A phone number, a link's domain or an account number, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Phone(PhoneNumber),
    Link(Domain),
    Account(AccountNumber),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl Subject {
    /// Reads what a citizen typed. `phone …`, `link …` or `account …` (or 电话, 网址,
    /// 账号, 卡号, in simplified or traditional characters: 電話, 網址, 帳號, 卡號) say what
    /// it is; otherwise a link has a dot and letters, a phone number is digits (with `+`,
    /// spaces, dashes, brackets) of the lengths phone numbers have, and anything else is an
    /// account. A defanged link (`hxxps://evil[.]top`, or `alipay．com` with a full-width
    /// dot) is read as the link it stands for. `QQ` names an account; `微信`/`wechat` and
    /// `支付宝`/`alipay` an account, or the mobile number it is found by.
    ///
    /// One value; what citizens type after `/check` (several values, words around them,
    /// emoji) is read by [`Subject::read_check`].
    pub fn parse(input: &str) -> Result<Subject, SubjectError> {
        let input = without_sentence_end(input);
        let refanged = link::refang(input);
        if refanged != input && guess(&refanged) == IndicatorKind::Domain {
            return Ok(Subject::Link(Domain::parse(&refanged)?));
        }
        if let Some((word, rest)) = input.split_once(char::is_whitespace) {
            // Traditional characters fold to simplified ones (src/domain/hanzi.rs).
            match super::hanzi::to_simplified(&word.to_lowercase()).as_ref() {
                "phone" | "tel" | "电话" | "号码" | "手机" => {
                    return Ok(Subject::Phone(PhoneNumber::parse(rest)?));
                }
                // 連結 is Taiwan's word for a link.
                "link" | "url" | "site" | "网址" | "链接" | "连结" | "网站" => {
                    return Ok(Subject::Link(Domain::parse(rest)?));
                }
                // 帳號 (simplified 帐号) is Taiwan's and Hong Kong's spelling of 账号.
                "account" | "card" | "账号" | "账户" | "帐号" | "帐户" | "卡号" | "银行卡" | "qq"
                | "qq号" | "qq号码" => {
                    return Ok(Subject::Account(AccountNumber::parse(rest)?));
                }
                // A WeChat or Alipay account: the mobile number it is found by, or its ID.
                "微信" | "微信号" | "wechat" | "weixin" | "wx" | "vx" | "支付宝" | "支付宝账号"
                | "alipay" => {
                    return match PhoneNumber::parse(rest) {
                        Ok(phone) if *phone.kind() == PhoneKind::Mobile => Ok(Subject::Phone(phone)),
                        _ => Ok(Subject::Account(AccountNumber::parse(rest)?)),
                    };
                }
                _ => {}
            }
        }
        Ok(match guess(input) {
            IndicatorKind::Domain => Subject::Link(Domain::parse(input)?),
            IndicatorKind::Phone => match PhoneNumber::parse(input) {
                Ok(phone) => Subject::Phone(phone),
                // Longer than any Chinese number written without +: an account (a
                // 13-digit account, a 15-digit card). With a + it is a phone number.
                Err(PhoneError::NotChinese(n) | PhoneError::TooLong(n))
                    if n > 11 && !input.trim_start().starts_with(['+', '＋']) =>
                {
                    Subject::Account(AccountNumber::parse(input)?)
                }
                Err(e) => return Err(e.into()),
            },
            IndicatorKind::Account => Subject::Account(AccountNumber::parse(input)?),
        })
    }

    /// Reads a value stored as `kind`, as an editor or an import file gives it.
    pub fn of_kind(kind: IndicatorKind, input: &str) -> Result<Subject, SubjectError> {
        Ok(match kind {
            IndicatorKind::Phone => Subject::Phone(PhoneNumber::parse(input)?),
            IndicatorKind::Domain => Subject::Link(Domain::parse(input)?),
            IndicatorKind::Account => Subject::Account(AccountNumber::parse(input)?),
        })
    }

    /// Every phone number, link and long account number in a free text (a citizen's
    /// report, a forwarded message), each once; a number with the letter O among its digits
    /// as the number meant (scammers write them so to pass filters). See [`typed`].
    pub fn find_all(text: &str) -> Vec<Subject> {
        typed::read_text(text).into_iter().map(Found::into_subject).collect()
    }

    /// Every value in a message's free text, as [`Subject::find_all`], with the numbers
    /// whose Os were taken for zeros told apart, for the chat to ask "did you mean".
    pub fn read_text(text: &str) -> Vec<Found> {
        typed::read_text(text)
    }

    /// `/check`'s arguments: one value, or several (`13800138000 13900001111`), with
    /// the words around them read as context or as their kind ([`typed`]).
    pub fn read_check(args: &str) -> Result<Vec<Found>, SubjectError> {
        typed::read_check(args)
    }

    pub fn kind(&self) -> IndicatorKind {
        match self {
            Subject::Phone(_) => IndicatorKind::Phone,
            Subject::Link(_) => IndicatorKind::Domain,
            Subject::Account(_) => IndicatorKind::Account,
        }
    }

    /// The normalised value records are kept under: `+8613800138000`, `icbc.com.cn`,
    /// `6222021234567890128`.
    pub fn key(&self) -> String {
        match self {
            Subject::Phone(p) => p.e164().to_owned(),
            Subject::Link(d) => d.ascii().to_owned(),
            Subject::Account(a) => a.as_str().to_owned(),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Phone(p) => p.fmt(f),
            Subject::Link(d) => d.fmt(f),
            Subject::Account(a) => a.fmt(f),
        }
    }
}

/// The value without the punctuation a sentence puts after it (`13800138000。`,
/// `alipay.com，`), which is no part of a number, link or account.
fn without_sentence_end(input: &str) -> &str {
    input.trim().trim_end_matches(['。', '，', '；', '、', '！', '？', '：', ',', ';', '!']).trim_end()
}

/// An account number found in free text: long enough, and with digits in it, so words
/// are not taken for accounts.
fn account(token: &str) -> Option<Subject> {
    AccountNumber::parse(token)
        .ok()
        .filter(|a| a.as_str().len() >= 8 && a.as_str().bytes().any(|b| b.is_ascii_digit()))
        .map(Subject::Account)
}

/// What a value probably is, from its shape.
fn guess(input: &str) -> IndicatorKind {
    let has_letter = input.chars().any(|c| c.is_alphabetic());
    if input.contains("://") || (input.contains('.') && has_letter && !input.contains('@')) {
        return IndicatorKind::Domain;
    }
    let digits = input.chars().filter(|c| phone::fold_width(*c).is_ascii_digit()).count();
    let phone_like = input.chars().all(|c| {
        let c = phone::fold_width(c);
        c.is_ascii_digit() || " +-()./\u{a0}".contains(c)
    });
    // 16 to 19 digits without a + are bank cards; phone numbers have at most 15, and
    // anything written after a + is meant as one (and told if it has too many digits).
    let international = input.trim_start().starts_with(['+', '＋']);
    let card_like = (16..=19).contains(&digits) && !international;
    if phone_like && (international || ((3..=15).contains(&digits) && !card_like)) {
        IndicatorKind::Phone
    } else {
        IndicatorKind::Account
    }
}

/// A stretch of a text that may be a phone number, a link or an account, with the text
/// between it and the stretch before (where a word may name its kind: `QQ`, `微信`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stretch {
    pub token: String,
    pub before: String,
}

/// Stretches of a text that may be a phone number, a link or an account: runs of the
/// characters those are written with, split at other characters (Chinese text around
/// them, most punctuation), each with the text before it; what is no stretch (words,
/// punctuation, runs too short to be a value) is kept in the `before` of the stretch after it.
pub(crate) fn stretches(text: &str) -> Vec<Stretch> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut gap = String::new();
    let flush = |current: &mut String, gap: &mut String, out: &mut Vec<Stretch>| {
        let token = current.trim_matches(|c: char| " -./:(),".contains(c)).to_owned();
        if token.chars().filter(|c| c.is_ascii_alphanumeric()).count() >= 5 {
            out.push(Stretch { token, before: std::mem::take(gap) });
        } else {
            gap.push_str(current);
        }
        current.clear();
    };
    for c in text.chars() {
        let c = phone::fold_width(c);
        // Letters of other alphabets stay (a look-alike link hides Cyrillic in Latin), but
        // Chinese characters end a stretch: a story is written in them.
        let letter = c.is_alphanumeric() && !is_cjk(c);
        let keeps = letter || "+-./:_@%?=&#~()".contains(c);
        // A number and a space, then a word: the number ends at the space
        // ("called from 13800138000 and asked").
        if current.ends_with(' ') && !(c.is_ascii_digit() || "+( ".contains(c)) {
            flush(&mut current, &mut gap, &mut out);
        }
        // A space may sit inside a phone or card number between short groups of digits
        // (138 0013 8000, 6222 0212 3456 7890 128) but ends a link, and a long group is
        // a whole number ("13800138000 13900139000" are two).
        let digit_run = current.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
        let last_group = current.rsplit(' ').next().unwrap_or_default();
        let short_group = last_group.chars().filter(char::is_ascii_digit).count() <= 4;
        let joins = c == ' ' && digit_run && short_group;
        // A fifth digit makes the group after the last space a number of its own when
        // enough digits came before it ("6222 0212 3456 7890 128 13800138000").
        if c.is_ascii_digit()
            && digit_run
            && let Some((before, group)) = current.rsplit_once(' ')
        {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).count();
            if digits(group) == 4 && digits(before) >= 7 {
                let group = group.to_owned();
                current.truncate(before.len());
                flush(&mut current, &mut gap, &mut out);
                gap.push(' ');
                current = group;
            }
        }
        if keeps || (joins && !current.is_empty()) {
            current.push(c);
        } else {
            flush(&mut current, &mut gap, &mut out);
            gap.push(c);
        }
    }
    flush(&mut current, &mut gap, &mut out);
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x2FFFF)
}

/// A value in the bureau's list, with what is known of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    pub kind: IndicatorKind,
    /// The normalised value ([`Subject::key`]).
    pub value: String,
    pub risk: Risk,
    pub reason: ListedReason,
    pub added_by: Actor,
    pub added_at: DateTime<Utc>,
}

super::text::bounded_text!(
    /// Why a value is listed, shown to citizens who check it.
    IndicatorReason, "reason", max = 300, Single
);

/// Why a value is listed: the words an editor wrote, or the bot's own reason kept as data
/// and written in each reader's language when shown (issue 13, part 7), so an English
/// reader is never shown a reason the bot wrote in Chinese. Stored as the `indicators`
/// columns `reason_key` and `reason` (migration 20261201000018).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListedReason {
    /// Written by an editor (`/indicator add`), an import or the official list; shown as
    /// written, in whatever language it was written. Rows stored before reasons were kept
    /// as data are read as this too.
    Written(IndicatorReason),
    /// Listed because a moderator confirmed this citizens' report (locale key
    /// `moderation.listed_reason`).
    ConfirmedReport(super::ReportId),
}

impl ListedReason {
    /// The stored `reason_key`: `None` for written text, `confirmed_report` for a
    /// confirmed report.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            ListedReason::Written(_) => None,
            ListedReason::ConfirmedReport(_) => Some(CONFIRMED_REPORT),
        }
    }

    /// The stored `reason`: the written text, or the report's reference (`R000001`).
    pub fn stored_text(&self) -> String {
        match self {
            ListedReason::Written(text) => text.as_str().to_owned(),
            ListedReason::ConfirmedReport(id) => id.to_string(),
        }
    }

    /// Reads the stored pair back ([`Self::key`], [`Self::stored_text`]).
    pub fn from_stored(key: Option<&str>, text: &str) -> Result<ListedReason, String> {
        match key {
            None => IndicatorReason::parse(text).map(ListedReason::Written).map_err(|e| e.to_string()),
            Some(CONFIRMED_REPORT) => super::ReportId::parse(text)
                .map(ListedReason::ConfirmedReport)
                .ok_or_else(|| format!("not a report reference: {text:?}")),
            Some(other) => Err(format!("unknown reason key {other:?}")),
        }
    }
}

const CONFIRMED_REPORT: &str = "confirmed_report";

impl From<IndicatorReason> for ListedReason {
    fn from(text: IndicatorReason) -> ListedReason {
        ListedReason::Written(text)
    }
}

/// The language-neutral form, for the audit log and the CLI: the written text, or
/// `confirmed report R000001`.
impl std::fmt::Display for ListedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ListedReason::Written(text) => f.write_str(text.as_str()),
            ListedReason::ConfirmedReport(id) => write!(f, "confirmed report {id}"),
        }
    }
}

/// A value to add to the list (or to update, if it is there).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIndicator {
    pub subject: Subject,
    pub risk: Risk,
    pub reason: ListedReason,
    pub added_by: Actor,
}

/// What a check found, most serious first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The bureau lists it as used in fraud.
    Fraud(Indicator),
    /// A link that shows `shown` but leads to `leads_to`, another site (Unicode domains):
    /// credentials before an `@`, or a domain spelled in its subdomain.
    Disguised { shown: String, leads_to: String },
    /// A link whose name reads as the name of `official` (Unicode): look-alike letters,
    /// the same name under another suffix, or one slip of a long name.
    LookAlike { official: String },
    /// Listed as suspicious, or named in reports the bureau accepted.
    Suspicious { listed: Option<Indicator>, reports: u64 },
    /// A genuine number or site (callers can still fake the number they show).
    Official(Indicator),
    /// Nothing is known: which is not proof of safety.
    NoRecord,
}

impl Verdict {
    /// Weighs what is known of `subject`: its entry in the list, how many accepted
    /// reports name it, and the official domains a link may imitate (the rules of
    /// `lookalike.rs`). Listed as fraud or official comes first, then a disguised link,
    /// then a look-alike, then suspicion.
    pub fn of<'a>(
        subject: &Subject,
        listed: Option<Indicator>,
        reports: u64,
        official_domains: impl IntoIterator<Item = &'a str>,
    ) -> Verdict {
        match listed {
            Some(i) if i.risk == Risk::Fraud => return Verdict::Fraud(i),
            Some(i) if i.risk == Risk::Official => return Verdict::Official(i),
            _ => {}
        }
        if let Subject::Link(domain) = subject {
            match domain.imitates(official_domains) {
                Some(Imitation::Disguised { shown }) => {
                    return Verdict::Disguised { shown, leads_to: domain.unicode() };
                }
                Some(Imitation::LookAlike { official, .. }) => return Verdict::LookAlike { official },
                None => {}
            }
        }
        if listed.is_some() || reports > 0 {
            return Verdict::Suspicious { listed, reports };
        }
        Verdict::NoRecord
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_reason_is_stored_as_data_and_read_back() {
        let report = ListedReason::ConfirmedReport(crate::domain::ReportId(42));
        assert_eq!((report.key(), report.stored_text().as_str()), (Some("confirmed_report"), "R000042"));
        assert_eq!(ListedReason::from_stored(report.key(), &report.stored_text()), Ok(report.clone()));
        assert_eq!(report.to_string(), "confirmed report R000042");
        let written: ListedReason = IndicatorReason::parse("冒充客服").unwrap().into();
        assert_eq!(written.key(), None);
        assert_eq!(ListedReason::from_stored(None, "冒充客服"), Ok(written));
        assert!(ListedReason::from_stored(Some("confirmed_report"), "冒充客服").is_err());
        assert!(ListedReason::from_stored(Some("hearsay"), "x").is_err());
        assert!(ListedReason::from_stored(None, "").is_err());
    }

    fn key(input: &str) -> (IndicatorKind, String) {
        let subject = Subject::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        (subject.kind(), subject.key())
    }

    #[test]
    fn what_a_citizen_types_is_recognised() {
        let phone = (IndicatorKind::Phone, "+8613800138000".to_owned());
        for written in
            ["138-0013-8000", "+86 138 0013 8000", "8613800138000", "phone 13800138000", "电话 138 0013 8000"]
        {
            assert_eq!(key(written), phone, "{written}");
        }
        assert_eq!(key("https://www.icbc.com.cn/x"), (IndicatorKind::Domain, "icbc.com.cn".to_owned()));
        assert_eq!(key("网址 icbc.com.cn"), (IndicatorKind::Domain, "icbc.com.cn".to_owned()));
        assert_eq!(
            key("6222 0212 3456 7890 128"),
            (IndicatorKind::Account, "6222021234567890128".to_owned())
        );
        assert_eq!(key("账号 12345678"), (IndicatorKind::Account, "12345678".to_owned()));
        assert_eq!(key("wxid_abc123"), (IndicatorKind::Account, "wxid_abc123".to_owned()));
        assert_eq!(key("96110"), (IndicatorKind::Phone, "+8696110".to_owned()));
        assert!(Subject::parse("phone abc").is_err());
        // Longer than any Chinese number written without +: accounts, not phones.
        assert_eq!(key("621700123456789"), (IndicatorKind::Account, "621700123456789".to_owned()));
        assert_eq!(key("6222021234567"), (IndicatorKind::Account, "6222021234567".to_owned()));
        // A Chongqing landline (area code 23) written without its trunk 0, as libphonenumber
        // reads it; no area code begins with 60.
        assert_eq!(key("2380013800"), (IndicatorKind::Phone, "+862380013800".to_owned()));
        assert!(matches!(Subject::parse("6001234567"), Err(SubjectError::Phone(PhoneError::NotChinese(10)))));
        assert_eq!(key("13800138000。"), phone);
        assert_eq!(key("（０２１）５５５５－００００"), (IndicatorKind::Phone, "+862155550000".to_owned()));
        assert!(matches!(
            Subject::parse("+86 138 0013 8000 1234"),
            Err(SubjectError::Phone(PhoneError::TooLong(17)))
        ));
    }

    /// The issue's `alipay．com` (a full-width dot, as Chinese input methods type it) was
    /// read as words; defanged links were too.
    #[test]
    fn links_with_other_dots_and_defanged_links_are_links() {
        let link = |key: &str| (IndicatorKind::Domain, key.to_owned());
        assert_eq!(key("alipay．com"), link("alipay.com"));
        assert_eq!(key("alipay。com"), link("alipay.com"));
        assert_eq!(key("ａｌｉｐａｙ．ｃｏｍ"), link("alipay.com"));
        assert_eq!(key("evil[.]top"), link("evil.top"));
        assert_eq!(key("hxxps://pay(.)evil-refund(.)top/x"), link("evil-refund.top"));
        assert_eq!(key("138．0013．8000"), (IndicatorKind::Phone, "+8613800138000".to_owned()));
        let found: Vec<String> =
            Subject::find_all("短信说：登录 hxxps://alipay[.]com[.]refund-center[.]top 领取退款。")
                .iter()
                .map(Subject::key)
                .collect();
        assert_eq!(found, ["refund-center.top"]);
    }

    #[test]
    fn the_kind_may_be_named_in_traditional_characters() {
        let phone = (IndicatorKind::Phone, "+8613800138000".to_owned());
        let link = (IndicatorKind::Domain, "icbc.com.cn".to_owned());
        let account = (IndicatorKind::Account, "12345678".to_owned());
        let cases = [
            ("電話 138 0013 8000", &phone),
            ("电话 138 0013 8000", &phone),
            ("號碼 13800138000", &phone),
            ("手機 13800138000", &phone),
            ("網址 icbc.com.cn", &link),
            ("鏈接 https://www.icbc.com.cn/x", &link),
            ("連結 icbc.com.cn", &link),
            ("網站 icbc.com.cn", &link),
            ("賬號 12345678", &account),
            ("帳號 12345678", &account),
            ("帳戶 12345678", &account),
            ("卡號 12345678", &account),
            ("銀行卡 12345678", &account),
        ];
        for (written, expected) in cases {
            assert_eq!(&key(written), expected, "{written}");
        }
        // A word that names no kind is read with the rest as before.
        assert!(matches!(Subject::parse("刷單 13800138000"), Err(SubjectError::Account(_))));
    }

    #[test]
    fn a_number_ends_where_the_words_begin() {
        let keys = |text: &str| Subject::find_all(text).iter().map(Subject::key).collect::<Vec<_>>();
        assert_eq!(
            keys("He called from 13800138000 and asked me to pay into 6222 0212 3456 7890 128 at once"),
            ["+8613800138000", "6222021234567890128"]
        );
        assert_eq!(keys("13800138000 13900139000"), ["+8613800138000", "+8613900139000"]);
        assert_eq!(keys("6222 0212 3456 7890 128 13800138000"), ["6222021234567890128", "+8613800138000"]);
        assert_eq!(keys("138 0013 8000 13900139000"), ["+8613800138000", "+8613900139000"]);
        assert_eq!(keys("0971 8123456"), ["+869718123456"]);
        assert_eq!(keys("call +86 138 0013 8000 now"), ["+8613800138000"]);
    }

    #[test]
    fn numbers_and_links_are_found_in_a_story() {
        let story = "昨天接到13800138000的电话，自称客服，让我打开 https://аlipay.com/refund 填写卡号 6222 0212 3456 7890 128，\
                     还加了QQ 123456789。客服电话 +86 10 6552 3456。";
        let found: Vec<String> = Subject::find_all(story).iter().map(Subject::key).collect();
        assert!(found.contains(&"+8613800138000".to_owned()), "{found:?}");
        assert!(found.contains(&idna::domain_to_ascii("аlipay.com").unwrap()), "{found:?}");
        assert!(found.contains(&"6222021234567890128".to_owned()), "{found:?}");
        assert!(found.contains(&"+861065523456".to_owned()), "{found:?}");
        assert!(found.contains(&"123456789".to_owned()), "a QQ number is an account: {found:?}");
        assert_eq!(Subject::find_all("no numbers here, 只有文字。"), []);
    }

    #[test]
    fn the_verdict_weighs_what_is_known() {
        let listed = |risk| Indicator {
            kind: IndicatorKind::Phone,
            value: "+8613800138000".into(),
            risk,
            reason: IndicatorReason::parse("冒充客服").unwrap().into(),
            added_by: Actor::System,
            added_at: Utc::now(),
        };
        let phone = Subject::parse("13800138000").unwrap();
        assert!(matches!(Verdict::of(&phone, Some(listed(Risk::Fraud)), 3, []), Verdict::Fraud(_)));
        assert!(matches!(Verdict::of(&phone, Some(listed(Risk::Official)), 0, []), Verdict::Official(_)));
        assert_eq!(Verdict::of(&phone, None, 2, []), Verdict::Suspicious { listed: None, reports: 2 });
        assert_eq!(Verdict::of(&phone, None, 0, []), Verdict::NoRecord);
        let fake = Subject::parse("a1ipay.com").unwrap();
        assert_eq!(
            Verdict::of(&fake, None, 0, ["alipay.com"]),
            Verdict::LookAlike { official: "alipay.com".into() }
        );
        let disguised = Subject::parse("https://alipay.com@evil.example/").unwrap();
        assert_eq!(
            Verdict::of(&disguised, None, 1, ["alipay.com"]),
            Verdict::Disguised { shown: "alipay.com".into(), leads_to: "evil.example".into() }
        );
    }
}
