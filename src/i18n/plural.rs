//! Plural forms: "1 new notice", "2 new notices" (issue 13, part 7).
//!
//! A locale entry is either one text, used for every number, or a table of texts by CLDR
//! plural category (Unicode TR35, "Language Plural Rules"):
//!
//! ```toml
//! new_notices = { one = "<b>1 new notice:</b>", other = "<b>{count} new notices:</b>" }
//! week_figures = { selector = "total", one = "{total} notice", other = "{total} notices" }
//! ```
//!
//! The number that picks the form is the placeholder `{count}`, or the one `selector`
//! names; the caller passes it as [`Arg::Number`](super::Arg::Number), and the language's
//! cardinal rule maps it to a category (English: `one` for 1, `other` for 0, 2, 21 …;
//! Chinese: `other` for every number). A table must give exactly the categories its
//! language has — English `one` and `other`, Chinese only `other` — so a table in
//! `zh-CN.toml` is never needed (one text serves every number) but is allowed.
//!
//! A table is told from a section of the locale file by its keys: any of `zero`, `one`,
//! `two`, `few`, `many`, `other` or `selector` makes it a plural entry, so those names are
//! never used as text keys. The loader refuses, naming the key, a plural table that
//! lacks `other` or another category of its language, holds a category its language does
//! not have or a key that is no category, has a form that is not text, or whose forms
//! disagree on placeholders (every form has the placeholders of `other`, but a form may
//! leave out the number itself: English `one` may say "once").
//!
//! The rules come from ICU4X's `icu_plurals` (compiled CLDR data; 2.1.1 carries CLDR 48),
//! not from Fluent's `intl_pluralrules`: both are maintained by people who write the
//! standards, but `intl_pluralrules` 7.0.2 still carries CLDR 37 (2020) and brings its own
//! `unic-langid`, while ICU4X (Unicode's own project) releases several times a year and
//! its `icu_provider`, `icu_locale_core` and `zerovec` 2.1 are already in the tree through
//! `idna`, so the rules add only the plural data and `fixed_decimal`.

use std::collections::BTreeSet;

use icu_locale_core::{LanguageIdentifier, langid};
use icu_plurals::{PluralCategory, PluralRules};

use super::placeholders;
use crate::domain::Language;

/// The placeholder that picks a plural form when the table names no `selector`.
pub const DEFAULT_SELECTOR: &str = "count";

/// The key of a plural table that names the number argument picking the form.
const SELECTOR_KEY: &str = "selector";

/// The CLDR cardinal plural rules of `lang` (`zh`: only `other`; `en`: `one`, `other`).
///
/// Errors: none in practice; the data is compiled in, and a test loads both languages.
pub fn rules(lang: Language) -> Result<PluralRules, String> {
    let id: LanguageIdentifier = match lang {
        Language::Zh => langid!("zh"),
        Language::En => langid!("en"),
    };
    PluralRules::try_new_cardinal(id.into()).map_err(|e| format!("no CLDR plural rules for {lang}: {e}"))
}

/// A category's name as CLDR spells it.
pub fn category_name(category: PluralCategory) -> &'static str {
    match category {
        PluralCategory::Zero => "zero",
        PluralCategory::One => "one",
        PluralCategory::Two => "two",
        PluralCategory::Few => "few",
        PluralCategory::Many => "many",
        PluralCategory::Other => "other",
    }
}

/// Whether `table` (a TOML table in a locale file) is a plural entry rather than a section.
pub(super) fn is_plural_table(table: &toml::Table) -> bool {
    table.keys().any(|k| k == SELECTOR_KEY || PluralCategory::get_for_cldr_string(k).is_some())
}

/// One text per plural category, and the number argument that picks among them.
#[derive(Clone, Debug)]
pub struct Plural {
    selector: String,
    /// In CLDR order (zero, one, two, few, many, other); `other` is always there, last.
    forms: Vec<(PluralCategory, String)>,
}

impl Plural {
    /// Reads the plural table at `path` for a language whose rules are `rules`.
    ///
    /// Errors: a sentence naming `path` and what is wrong (see the module's documentation).
    pub(super) fn parse(path: &str, table: &toml::Table, rules: &PluralRules) -> Result<Plural, String> {
        let has: Vec<PluralCategory> = rules.categories().collect();
        let has_names = || has.iter().map(|c| category_name(*c)).collect::<Vec<_>>().join(", ");
        let mut selector = DEFAULT_SELECTOR.to_owned();
        let mut forms = Vec::new();
        for (key, value) in table {
            if key == SELECTOR_KEY {
                match value.as_str() {
                    Some(name) if super::is_name(name) => selector = name.to_owned(),
                    _ => return Err(format!("`{path}.{key}` must name a placeholder, such as \"total\"")),
                }
                continue;
            }
            let Some(category) = PluralCategory::get_for_cldr_string(key) else {
                return Err(format!(
                    "`{path}` is a plural table, and `{key}` is not a CLDR plural category \
                     (zero, one, two, few, many, other) nor `{SELECTOR_KEY}`"
                ));
            };
            if !has.contains(&category) {
                return Err(format!(
                    "`{path}` has a `{key}` form, a plural category this language does not have \
                     (it has: {})",
                    has_names()
                ));
            }
            let Some(text) = value.as_str() else {
                return Err(format!("`{path}.{key}` must be text, not {}", value.type_str()));
            };
            forms.push((category, text.trim_end_matches('\n').to_owned()));
        }
        if let Some(missing) = has.iter().find(|c| !forms.iter().any(|(f, _)| f == *c)) {
            return Err(format!(
                "`{path}` has no `{}` form; a plural table gives every category of its language ({})",
                category_name(*missing),
                has_names()
            ));
        }
        forms.sort_by_key(|(category, _)| *category as u8);
        let plural = Plural { selector, forms };
        plural.check_placeholders(path)?;
        Ok(plural)
    }

    /// Every form uses the placeholders of `other`, except that one may leave out the
    /// number; `other` itself must show the number.
    fn check_placeholders(&self, path: &str) -> Result<(), String> {
        let other: BTreeSet<&str> = placeholders(self.other()).into_iter().collect();
        if !other.contains(self.selector.as_str()) {
            return Err(format!(
                "`{path}.other` does not show {{{}}}, the number that picks the form",
                self.selector
            ));
        }
        for (category, text) in &self.forms {
            let mut names: BTreeSet<&str> = placeholders(text).into_iter().collect();
            names.insert(&self.selector);
            if names != other {
                return Err(format!(
                    "`{path}.{}` has the placeholders {names:?}, but `{path}.other` has {other:?}",
                    category_name(*category)
                ));
            }
        }
        Ok(())
    }

    /// The name of the number argument that picks the form (`count` unless the table says).
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The `other` form: the one for most numbers, and the one used when the number is missing.
    pub fn other(&self) -> &str {
        self.forms.last().map_or("", |(_, text)| text.as_str())
    }

    /// The form for `n` under `rules` (the rules of the language this table was read for).
    pub fn form(&self, rules: &PluralRules, n: i64) -> &str {
        let category = rules.category_for(n);
        self.forms
            .iter()
            .find(|(c, _)| *c == category)
            .map_or_else(|| self.other(), |(_, text)| text.as_str())
    }

    /// Every form, in CLDR order, `other` last.
    pub fn forms(&self) -> impl Iterator<Item = (PluralCategory, &str)> {
        self.forms.iter().map(|(c, text)| (*c, text.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(source: &str) -> toml::Table {
        source.parse::<toml::Table>().unwrap()["x"].as_table().unwrap().clone()
    }

    fn parse(lang: Language, source: &str) -> Result<Plural, String> {
        Plural::parse("sample.x", &table(source), &rules(lang).unwrap())
    }

    #[test]
    fn english_has_one_and_other_and_chinese_only_other() {
        let en = rules(Language::En).unwrap();
        let zh = rules(Language::Zh).unwrap();
        assert_eq!(en.categories().collect::<Vec<_>>(), vec![PluralCategory::One, PluralCategory::Other]);
        assert_eq!(zh.categories().collect::<Vec<_>>(), vec![PluralCategory::Other]);
        let of = |r: &PluralRules| [0_i64, 1, 2, 21].map(|n| category_name(r.category_for(n)));
        assert_eq!(of(&en), ["other", "one", "other", "other"]);
        assert_eq!(of(&zh), ["other", "other", "other", "other"]);
    }

    #[test]
    fn the_form_follows_the_number() {
        let plural = parse(Language::En, r#"x = { one = "1 notice", other = "{count} notices" }"#).unwrap();
        let en = rules(Language::En).unwrap();
        let forms = [0, 1, 2, 21].map(|n| plural.form(&en, n));
        assert_eq!(forms, ["{count} notices", "1 notice", "{count} notices", "{count} notices"]);
        assert_eq!(plural.selector(), "count");
        let zh = parse(Language::Zh, r#"x = { other = "{count} 条通告" }"#).unwrap();
        let rules_zh = rules(Language::Zh).unwrap();
        assert!([0, 1, 2, 21].iter().all(|n| zh.form(&rules_zh, *n) == "{count} 条通告"));
    }

    #[test]
    fn a_table_may_name_its_number() {
        let source = r#"x = { selector = "total", one = "{total} notice ({list})", other = "{total} notices ({list})" }"#;
        let plural = parse(Language::En, source).unwrap();
        assert_eq!(plural.selector(), "total");
        assert_eq!(plural.form(&rules(Language::En).unwrap(), 1), "{total} notice ({list})");
    }

    #[test]
    fn the_loader_refuses_broken_tables_naming_the_key() {
        let refused = |lang, source| parse(lang, source).unwrap_err();
        let e = refused(Language::En, r#"x = { one = "1 notice" }"#);
        assert!(e.contains("`sample.x` has no `other` form"), "{e}");
        let e = refused(Language::Zh, r#"x = { one = "1 条", other = "{count} 条" }"#);
        assert!(
            e.contains("`sample.x` has a `one` form, a plural category this language does not have"),
            "{e}"
        );
        assert!(e.contains("(it has: other)"), "{e}");
        let e = refused(Language::En, r#"x = { zero = "none", one = "1", other = "{count}" }"#);
        assert!(e.contains("`sample.x` has a `zero` form"), "{e}");
        let e = refused(Language::En, r#"x = { other = "{count} notices" }"#);
        assert!(e.contains("`sample.x` has no `one` form"), "{e}");
        let e = refused(Language::En, r#"x = { one = "1", other = "{count}", several = "x" }"#);
        assert!(e.contains("`several` is not a CLDR plural category"), "{e}");
        let e = refused(Language::En, r#"x = { one = "1 notice", other = "many notices" }"#);
        assert!(e.contains("`sample.x.other` does not show {count}"), "{e}");
        let e = refused(Language::En, r#"x = { one = "1 notice", other = "{count} notices in {area}" }"#);
        assert!(e.contains("`sample.x.one` has the placeholders"), "{e}");
        let e = refused(Language::En, r#"x = { selector = "total", one = "1", other = "{count}" }"#);
        assert!(e.contains("does not show {total}"), "{e}");
        let e = refused(Language::En, r#"x = { one = 1, other = "{count}" }"#);
        assert!(e.contains("`sample.x.one` must be text, not integer"), "{e}");
    }

    #[test]
    fn a_table_is_plural_by_its_keys() {
        assert!(is_plural_table(&table(r#"x = { one = "a", other = "b" }"#)));
        assert!(is_plural_table(&table(r#"x = { other = "b" }"#)));
        assert!(!is_plural_table(&table(r#"x = { header = "a", line = "b" }"#)));
    }
}
