//! Every sentence Pingan says, in Chinese and English.
//!
//! The texts live in `locales/zh-CN.toml` and `locales/en.toml` (built into the binary).
//! Each is an HTML template for Telegram's HTML parse mode; `{name}` placeholders are
//! filled by [`Texts::fill`], which escapes every value that is not already [`Html`].
//!
//! An entry that counts something may be a table of plural forms by CLDR category instead
//! of one text ([`plural`]):
//!
//! ```toml
//! new_notices = { one = "<b>1 new notice:</b>", other = "<b>{count} new notices:</b>" }
//! week_figures = { selector = "total", one = "{total} notice", other = "{total} notices" }
//! ```
//!
//! [`Texts::fill`] picks the form by the number passed as [`Arg::Number`] for `{count}`,
//! or for the placeholder the table's `selector` names, under the language's CLDR
//! cardinal rule (English: `one` for 1, `other` for 0, 2, 21; Chinese: only `other`, so
//! Chinese entries stay single texts). The loader refuses, naming the key, a table that
//! lacks `other` (or another category of its language) or holds a category its language
//! does not have. [`Texts::template`] and [`Texts::lookup`] give a plural entry's `other`
//! form, [`Texts::entries`] every form, [`Texts::placeholders`] the union over the forms.

pub mod plural;
mod vocabulary;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use icu_plurals::PluralRules;

use crate::domain::Language;
use crate::html::{Html, escape};

pub use plural::Plural;
pub use vocabulary::{
    WEEKDAYS, category_key, language_key, notice_status_key, role_key, severity_key, weekday_key,
};

const ZH: &str = include_str!("../../locales/zh-CN.toml");
const EN: &str = include_str!("../../locales/en.toml");

/// A value for a placeholder.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    /// Plain text from anywhere; it is escaped.
    Text(&'a str),
    /// Markup Pingan built itself; it goes in as it is.
    Html(&'a Html),
    /// A whole number, written in ASCII digits; as a plural entry's selector (`{count}`
    /// or its `selector`) it also picks the entry's form.
    Number(i64),
    /// What a user typed, echoed back in a reply: shortened to [`ECHO_LIMIT`] characters
    /// ([`shorten`]), then escaped, so that no input makes a reply longer than Telegram's
    /// 4096 characters (issue 13, part 8).
    Typed(&'a str),
}

/// The most characters of a user's input a reply echoes back.
pub const ECHO_LIMIT: usize = 64;

/// `text` cut to at most `max` characters (Unicode scalar values), the last of them an
/// ellipsis when anything was cut; whitespace runs (line breaks included) shown as one
/// space, so an echo stays on its line.
pub fn shorten(text: &str, max: usize) -> Cow<'_, str> {
    let one_line = !text.contains(['\n', '\r', '\t']);
    if one_line && text.chars().count() <= max {
        return Cow::Borrowed(text);
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return Cow::Owned(flat);
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    Cow::Owned(cut)
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Text(s)
    }
}

impl<'a> From<&'a Html> for Arg<'a> {
    fn from(h: &'a Html) -> Self {
        Arg::Html(h)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("locale file {file}: {reason}")]
pub struct LocaleError {
    file: &'static str,
    reason: String,
}

/// One entry of a locale file: a text for every number, or one per plural category.
#[derive(Clone, Debug)]
enum Entry {
    Text(String),
    Plural(Plural),
}

impl Entry {
    /// The text for most numbers: the text itself, or the `other` form.
    fn main(&self) -> &str {
        match self {
            Entry::Text(text) => text,
            Entry::Plural(plural) => plural.other(),
        }
    }

    /// Every text of the entry: one, or each plural form (`other` last).
    fn texts(&self) -> Vec<&str> {
        match self {
            Entry::Text(text) => vec![text.as_str()],
            Entry::Plural(plural) => plural.forms().map(|(_, text)| text).collect(),
        }
    }
}

/// The texts of one language, by dotted key (`help.header`), and its plural rules.
#[derive(Clone)]
struct Catalog {
    entries: HashMap<String, Entry>,
    rules: Arc<PluralRules>,
}

impl Catalog {
    fn parse(file: &'static str, lang: Language, source: &str) -> Result<Catalog, LocaleError> {
        let table: toml::Table = source
            .parse()
            .map_err(|e: toml::de::Error| LocaleError { file, reason: e.message().to_owned() })?;
        let rules = plural::rules(lang).map_err(|reason| LocaleError { file, reason })?;
        let mut entries = HashMap::new();
        flatten("", &table, &rules, &mut entries).map_err(|reason| LocaleError { file, reason })?;
        Ok(Catalog { entries, rules: Arc::new(rules) })
    }
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    rules: &PluralRules,
    out: &mut HashMap<String, Entry>,
) -> Result<(), String> {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::String(s) => {
                out.insert(path, Entry::Text(s.trim_end_matches('\n').to_owned()));
            }
            toml::Value::Table(inner) if plural::is_plural_table(inner) => {
                let entry = Entry::Plural(Plural::parse(&path, inner, rules)?);
                out.insert(path, entry);
            }
            toml::Value::Table(inner) => flatten(&path, inner, rules, out)?,
            other => return Err(format!("`{path}` is a {}, not text", other.type_str())),
        }
    }
    Ok(())
}

#[derive(Clone)]
pub struct Texts {
    zh: Catalog,
    en: Catalog,
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Texts({} zh, {} en)", self.zh.entries.len(), self.en.entries.len())
    }
}

impl Texts {
    /// Loads the built-in locale files.
    pub fn load() -> Result<Texts, LocaleError> {
        Ok(Texts {
            zh: Catalog::parse("zh-CN.toml", Language::Zh, ZH)?,
            en: Catalog::parse("en.toml", Language::En, EN)?,
        })
    }

    fn catalog(&self, lang: Language) -> &Catalog {
        match lang {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }

    /// The raw template for `key` (of a plural entry: its `other` form, the one for most
    /// numbers; [`Texts::fill`] picks the right form). A missing key is a bug that a test
    /// catches; should one slip through, the user sees the English text or nothing, and
    /// the log says which.
    pub fn template(&self, lang: Language, key: &str) -> &str {
        self.entry(lang, key).map_or("", |(entry, _)| entry.main())
    }

    /// The entry for `key` in `lang`, or the English one (logged) when `lang` lacks it,
    /// with the plural rules of the catalog it came from.
    fn entry(&self, lang: Language, key: &str) -> Option<(&Entry, &PluralRules)> {
        let catalog = self.catalog(lang);
        match catalog.entries.get(key) {
            Some(entry) => Some((entry, &catalog.rules)),
            None => {
                tracing::error!(key, language = %lang, "missing locale text");
                self.en.entries.get(key).map(|entry| (entry, self.en.rules.as_ref()))
            }
        }
    }

    /// The raw template for `key` (of a plural entry: its `other` form), or `None` when
    /// the locale has none (for texts that are optional, such as a zone's name: nothing is
    /// logged).
    pub fn lookup(&self, lang: Language, key: &str) -> Option<&str> {
        self.catalog(lang).entries.get(key).map(Entry::main)
    }

    /// The plural forms of `key` in `lang`, or `None` when it is a single text (or missing).
    pub fn plural(&self, lang: Language, key: &str) -> Option<&Plural> {
        match self.catalog(lang).entries.get(key) {
            Some(Entry::Plural(plural)) => Some(plural),
            _ => None,
        }
    }

    /// The text for `key` without placeholders, as HTML.
    pub fn get(&self, lang: Language, key: &str) -> Html {
        self.fill(lang, key, &[])
    }

    /// The text for `key` with its `{placeholders}` filled. For a plural entry the form is
    /// the one `lang`'s CLDR rule gives for the selector's [`Arg::Number`]; without that
    /// number (a bug: the log names the key) the `other` form is used.
    pub fn fill(&self, lang: Language, key: &str, args: &[(&str, Arg<'_>)]) -> Html {
        let template = match self.entry(lang, key) {
            None => "",
            Some((Entry::Text(text), _)) => text.as_str(),
            Some((Entry::Plural(plural), rules)) => {
                let number =
                    args.iter().find(|(name, _)| *name == plural.selector()).and_then(|(_, arg)| match arg {
                        Arg::Number(n) => Some(*n),
                        _ => None,
                    });
                match number {
                    Some(n) => plural.form(rules, n),
                    None => {
                        tracing::error!(key, selector = plural.selector(), "plural text without its number");
                        plural.other()
                    }
                }
            }
        };
        Html::trusted(substitute(template, args))
    }

    /// Why a value is listed, as plain text in `lang`: the written reason as it was written,
    /// or the bot's own reason (a confirmed report: `moderation.listed_reason`) in `lang`.
    pub fn listed_reason(&self, lang: Language, reason: &crate::domain::ListedReason) -> String {
        match reason {
            crate::domain::ListedReason::Written(text) => text.as_str().to_owned(),
            crate::domain::ListedReason::ConfirmedReport(id) => {
                let reference = id.to_string();
                let filled =
                    self.fill(lang, "moderation.listed_reason", &[("reference", Arg::Text(&reference))]);
                crate::html::to_plain(filled.as_str())
            }
        }
    }

    /// Every key and its template, for tests that check the catalogs: a plural entry once
    /// per form (the same key each time, `other` last).
    pub fn entries(&self, lang: Language) -> impl Iterator<Item = (&str, &str)> {
        self.catalog(lang)
            .entries
            .iter()
            .flat_map(|(key, entry)| entry.texts().into_iter().map(move |text| (key.as_str(), text)))
    }

    /// The `{placeholder}` names `key` uses in `lang`, over every plural form, sorted.
    pub fn placeholders(&self, lang: Language, key: &str) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .entry(lang, key)
            .map(|(entry, _)| entry.texts())
            .unwrap_or_default()
            .into_iter()
            .flat_map(placeholders)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// `n` and the English noun for it, for the command line and audit details, which speak
/// English only: `1 warning`, `2 warnings`, `0 warnings` (CLDR's English cardinal rule:
/// "one" is exactly 1).
pub fn english_count(n: usize, one: &str, other: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { other })
}

/// The built-in texts, for code that has no [`Texts`] at hand (the search index). `None`
/// only if the locale files are broken, which start-up and a test rule out.
static BUILT_IN: std::sync::LazyLock<Option<Texts>> = std::sync::LazyLock::new(|| match Texts::load() {
    Ok(texts) => Some(texts),
    Err(e) => {
        tracing::error!(error = %e, "the built-in locale files cannot be read");
        None
    }
});

/// A scam type's names in every language as plain text, Chinese first (`冒充公检法 Fake
/// police or officials`, from the `scam.*` keys of the locale files): a tip is indexed
/// for search under its scam type's names as well as its own words.
pub fn scam_type_names(kind: crate::domain::ScamType) -> String {
    let Some(texts) = BUILT_IN.as_ref() else { return String::new() };
    let key = format!("scam.{}", kind.as_str());
    Language::ALL
        .iter()
        .filter_map(|lang| texts.lookup(*lang, &key))
        .map(crate::html::to_plain)
        .collect::<Vec<_>>()
        .join(" ")
}

fn substitute(template: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}');
        let name = close.map(|c| &after[..c]);
        match name.and_then(|n| args.iter().find(|(k, _)| *k == n)) {
            Some((_, arg)) => {
                match arg {
                    Arg::Text(s) => out.push_str(&escape(s)),
                    Arg::Html(h) => out.push_str(h.as_str()),
                    Arg::Number(n) => out.push_str(&n.to_string()),
                    Arg::Typed(s) => out.push_str(&escape(&shorten(s, ECHO_LIMIT))),
                }
                rest = &after[close.unwrap_or(0) + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholder}` names a template uses.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    names.sort_unstable();
    names.dedup();
    names
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn both_locales_have_the_same_keys_and_placeholders() {
        let texts = Texts::load().unwrap();
        let keys = |lang| texts.entries(lang).map(|(k, _)| k.to_owned()).collect::<BTreeSet<_>>();
        let (zh, en) = (keys(Language::Zh), keys(Language::En));
        assert_eq!(zh.difference(&en).collect::<Vec<_>>(), Vec::<&String>::new(), "only in zh-CN");
        assert_eq!(en.difference(&zh).collect::<Vec<_>>(), Vec::<&String>::new(), "only in en");
        for key in &zh {
            assert_eq!(
                texts.placeholders(Language::Zh, key),
                texts.placeholders(Language::En, key),
                "placeholders of {key}, over every plural form"
            );
            if let (Some(zh), Some(en)) = (texts.plural(Language::Zh, key), texts.plural(Language::En, key)) {
                assert_eq!(zh.selector(), en.selector(), "the number that picks the form of {key}");
            }
        }
    }

    /// The number that picks a plural form must be one the other language shows too, so
    /// both languages count the same thing.
    #[test]
    fn a_plural_entrys_number_is_a_placeholder_of_both_languages() {
        let texts = Texts::load().unwrap();
        let mut plurals = 0;
        for lang in Language::ALL {
            for (key, _) in texts.entries(lang) {
                if let Some(plural) = texts.plural(lang, key) {
                    plurals += 1;
                    for other in Language::ALL {
                        assert!(texts.placeholders(other, key).contains(&plural.selector()), "{other} {key}");
                    }
                }
            }
        }
        assert!(plurals >= 12, "the English plural entries are found ({plurals} forms)");
    }

    /// Issue 13, part 7: "2 new notice(s)" is written "2 new notices", "1 new notice".
    #[test]
    fn plural_texts_follow_the_number_in_both_languages() {
        let texts = Texts::load().unwrap();
        let filled =
            |lang, key: &str, n: i64| texts.fill(lang, key, &[("count", Arg::Number(n))]).as_str().to_owned();
        let en = [0, 1, 2, 21].map(|n| filled(Language::En, "digest.new_notices", n));
        assert_eq!(
            en,
            [
                "<b>0 new notices since your last digest:</b>",
                "<b>1 new notice since your last digest:</b>",
                "<b>2 new notices since your last digest:</b>",
                "<b>21 new notices since your last digest:</b>",
            ]
        );
        let zh = [0, 1, 2, 21].map(|n| filled(Language::Zh, "digest.new_notices", n));
        assert_eq!(
            zh,
            [
                "<b>自上次摘要以来的 0 条新通告：</b>",
                "<b>自上次摘要以来的 1 条新通告：</b>",
                "<b>自上次摘要以来的 2 条新通告：</b>",
                "<b>自上次摘要以来的 21 条新通告：</b>",
            ]
        );
        let en = [0, 1, 2, 21].map(|n| filled(Language::En, "check.reported", n));
        assert_eq!(
            en,
            [
                "Citizens' reports the bureau accepted name it 0 times.",
                "Citizens' reports the bureau accepted name it once.",
                "Citizens' reports the bureau accepted name it 2 times.",
                "Citizens' reports the bureau accepted name it 21 times.",
            ]
        );
        let zh = [0, 1, 2, 21].map(|n| filled(Language::Zh, "check.reported", n));
        assert_eq!(zh[1], "经市局核实的群众举报中提到它 1 次。");
        assert_eq!(zh[3], "经市局核实的群众举报中提到它 21 次。");
        let week = |n| {
            let breakdown = Html::trusted("Traffic 1".into());
            let args = [("total", Arg::Number(n)), ("by_category", Arg::Html(&breakdown))];
            texts.fill(Language::En, "digest.week_figures", &args).as_str().to_owned()
        };
        assert_eq!(week(1), "<b>This week</b>: 1 notice published (Traffic 1)");
        assert_eq!(week(21), "<b>This week</b>: 21 notices published (Traffic 1)");
    }

    #[test]
    fn a_plural_text_without_its_number_falls_back_to_other() {
        let texts = Texts::load().unwrap();
        let filled = texts.fill(Language::En, "digest.new_notices", &[("count", Arg::Text("1"))]);
        assert_eq!(filled.as_str(), "<b>1 new notices since your last digest:</b>");
        assert_eq!(
            texts.template(Language::En, "digest.new_notices"),
            "<b>{count} new notices since your last digest:</b>"
        );
    }

    #[test]
    fn a_broken_plural_table_stops_the_loader_naming_file_and_key() {
        let e = Catalog::parse("en.toml", Language::En, "[digest]\nnew = { one = \"1 new notice\" }\n")
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "locale file en.toml: `digest.new` has no `other` form; a plural table gives every \
             category of its language (one, other)"
        );
        let e = Catalog::parse(
            "zh-CN.toml",
            Language::Zh,
            "[digest]\nnew = { one = \"1\", other = \"{count}\" }\n",
        )
        .err()
        .unwrap();
        assert!(e.to_string().starts_with("locale file zh-CN.toml: `digest.new` has a `one` form"), "{e}");
        assert!(
            Catalog::parse("zh-CN.toml", Language::Zh, "[d]\nnew = { other = \"{count} 条\" }\n").is_ok()
        );
    }

    #[test]
    fn no_text_is_empty() {
        let texts = Texts::load().unwrap();
        for lang in Language::ALL {
            for (key, text) in texts.entries(lang) {
                assert!(!text.trim().is_empty(), "{lang} {key} is empty");
            }
        }
    }

    #[test]
    fn fill_escapes_text_but_not_html() {
        let filled = substitute(
            "<b>{title}</b> {link} {n} {missing}",
            &[
                ("title", Arg::Text("<script> & co")),
                ("link", Arg::Html(&Html::trusted("<i>ok</i>".into()))),
                ("n", Arg::Number(96110)),
            ],
        );
        assert_eq!(filled, "<b>&lt;script&gt; &amp; co</b> <i>ok</i> 96110 {missing}");
    }

    #[test]
    fn what_a_user_typed_is_echoed_short_and_escaped() {
        let long = format!("<{}>", "x".repeat(4000));
        let filled = substitute("There is no time zone “{typed}”.", &[("typed", Arg::Typed(&long))]);
        assert_eq!(filled, format!("There is no time zone “&lt;{}…”.", "x".repeat(ECHO_LIMIT - 2)));
        assert_eq!(shorten("Asia/Shanghai", ECHO_LIMIT), "Asia/Shanghai");
        assert_eq!(shorten("a\n\nb", ECHO_LIMIT), "a b");
        assert_eq!(shorten("诈骗🚨诈骗", 3), "诈骗…");
    }

    #[test]
    fn placeholders_are_lowercase_names_in_braces() {
        assert_eq!(placeholders("{b} {a} {b} {Not} {} {x_1}"), vec!["a", "b", "x_1"]);
    }
}
