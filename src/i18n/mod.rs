//! Every sentence Pingan says, in Chinese and English.
//!
//! The texts live in `locales/zh-CN.toml` and `locales/en.toml` (built into the binary).
//! Each is an HTML template for Telegram's HTML parse mode; `{name}` placeholders are
//! filled by [`Texts::fill`], which escapes every value that is not already [`Html`].

mod vocabulary;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::domain::Language;
use crate::html::{Html, escape};

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

/// The texts of one language, by dotted key (`help.header`).
#[derive(Clone)]
struct Catalog(HashMap<String, String>);

impl Catalog {
    fn parse(file: &'static str, source: &str) -> Result<Catalog, LocaleError> {
        let table: toml::Table = source
            .parse()
            .map_err(|e: toml::de::Error| LocaleError { file, reason: e.message().to_owned() })?;
        let mut map = HashMap::new();
        flatten("", &table, &mut map).map_err(|reason| LocaleError { file, reason })?;
        Ok(Catalog(map))
    }
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) -> Result<(), String> {
    for (key, value) in table {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match value {
            toml::Value::String(s) => {
                out.insert(path, s.trim_end_matches('\n').to_owned());
            }
            toml::Value::Table(inner) => flatten(&path, inner, out)?,
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
        write!(f, "Texts({} zh, {} en)", self.zh.0.len(), self.en.0.len())
    }
}

impl Texts {
    /// Loads the built-in locale files.
    pub fn load() -> Result<Texts, LocaleError> {
        Ok(Texts { zh: Catalog::parse("zh-CN.toml", ZH)?, en: Catalog::parse("en.toml", EN)? })
    }

    fn catalog(&self, lang: Language) -> &Catalog {
        match lang {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }

    /// The raw template for `key`. A missing key is a bug that a test catches; should one
    /// slip through, the user sees the key rather than nothing, and the log says which.
    pub fn template(&self, lang: Language, key: &str) -> &str {
        match self.catalog(lang).0.get(key) {
            Some(text) => text,
            None => {
                tracing::error!(key, language = %lang, "missing locale text");
                self.en.0.get(key).map_or("", String::as_str)
            }
        }
    }

    /// The raw template for `key`, or `None` when the locale has none (for texts that are
    /// optional, such as a zone's name: nothing is logged).
    pub fn lookup(&self, lang: Language, key: &str) -> Option<&str> {
        self.catalog(lang).0.get(key).map(String::as_str)
    }

    /// The text for `key` without placeholders, as HTML.
    pub fn get(&self, lang: Language, key: &str) -> Html {
        self.fill(lang, key, &[])
    }

    /// The text for `key` with its `{placeholders}` filled.
    pub fn fill(&self, lang: Language, key: &str, args: &[(&str, Arg<'_>)]) -> Html {
        Html::trusted(substitute(self.template(lang, key), args))
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

    /// Every key and its template, for tests that check the catalogs.
    pub fn entries(&self, lang: Language) -> impl Iterator<Item = (&str, &str)> {
        self.catalog(lang).0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
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
                placeholders(texts.template(Language::Zh, key)),
                placeholders(texts.template(Language::En, key)),
                "placeholders of {key}"
            );
        }
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
