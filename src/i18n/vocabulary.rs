//! Reading back the words the interface shows: a category, severity, frequency, weekday
//! or language is accepted as its stored keyword (`traffic`) or as its label in either
//! locale file (`交通`, `Traffic`), so a value a button or a settings card shows is
//! always one a person may type. The labels are read from the same `locales/` entries
//! the screens are drawn from (`category.*`, `severity.*`, `frequency.*`, `weekday.*`,
//! `language.*`, `role.*`), so the two cannot drift apart. A role and a notice's status
//! are shown by their labels too (`role.*`, `notice_status.*`), never by the stored
//! keyword (issue 13, part 7).
//!
//! Typed text and labels are compared after [`fold_label`]: NFKC width folding, lower
//! case, single spaces, traditional characters as simplified (`交通`, `ＴＲＡＦＦＩＣ`,
//! `詐騙` all read).

use chrono::Weekday;

use super::Texts;
use crate::domain::typed::fold_label;
use crate::domain::{Category, Frequency, Language, NoticeStatus, Role, Severity};

/// The weekdays, Monday first, as `weekday.0` … `weekday.6` number them.
pub const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

impl Texts {
    /// A label of `key` in `lang` as plain text, if the locale has it.
    fn plain_label(&self, lang: Language, key: &str) -> Option<String> {
        self.lookup(lang, key).map(crate::html::to_plain)
    }

    /// The value among `all` whose keyword or label (in either language) is `typed`.
    fn read_labelled<T: Copy>(
        &self,
        typed: &str,
        all: &[T],
        keyword: impl Fn(T) -> String,
        label_key: impl Fn(T) -> String,
    ) -> Option<T> {
        let wanted = fold_label(typed);
        if wanted.is_empty() {
            return None;
        }
        all.iter().copied().find(|value| {
            fold_label(&keyword(*value).replace('_', " ")) == wanted.replace(['_', '-'], " ")
                || Language::ALL.iter().any(|lang| {
                    self.plain_label(*lang, &label_key(*value))
                        .is_some_and(|label| fold_label(&label) == wanted)
                })
        })
    }

    /// The labels of `all` in `lang`, joined by the locale's list separator: what an
    /// answer offers when a value was not understood.
    pub fn choices<T: Copy>(&self, lang: Language, all: &[T], label_key: impl Fn(T) -> String) -> String {
        let separator = self.plain_label(lang, "settings.list_separator").unwrap_or_else(|| ", ".to_owned());
        all.iter()
            .filter_map(|value| self.plain_label(lang, &label_key(*value)))
            .collect::<Vec<_>>()
            .join(&separator)
    }

    /// A category by keyword (`public_order`, `public-order`) or label (`治安`, `Public order`).
    pub fn read_category(&self, typed: &str) -> Option<Category> {
        self.read_labelled(typed, Category::ALL, |c| c.as_str().to_owned(), category_key)
    }

    /// A severity by CAP keyword (`Minor`) or label (`一般`, `Not graded`).
    pub fn read_severity(&self, typed: &str) -> Option<Severity> {
        self.read_labelled(typed, Severity::ALL, |s| s.as_str().to_owned(), severity_key)
    }

    /// A bureau role by keyword (`moderator`) or label (`审核员`, `Moderator`), or the
    /// other Chinese word for a moderator people use (`版主`).
    pub fn read_role(&self, typed: &str) -> Option<Role> {
        const OTHER_WORDS: [(&str, Role); 1] = [("版主", Role::Moderator)];
        let folded = fold_label(typed);
        self.read_labelled(typed, Role::ALL, |r| r.as_str().to_owned(), role_key)
            .or_else(|| OTHER_WORDS.iter().find(|(word, _)| *word == folded).map(|(_, role)| *role))
    }

    /// A language by code or name ([`Language`]'s `FromStr`: `zh`, `en`, `chinese`) or label
    /// (`中文`, `English`).
    pub fn read_language(&self, typed: &str) -> Option<Language> {
        typed
            .trim()
            .parse()
            .ok()
            .or_else(|| self.read_labelled(typed, &Language::ALL, |l| l.code().to_owned(), language_key))
    }

    /// A weekday by label (`周五`, `Friday`), English name or abbreviation (`fri`), or
    /// the other Chinese ways of writing it (`星期五`, `礼拜五`, `周天`, `星期日`).
    pub fn read_weekday(&self, typed: &str) -> Option<Weekday> {
        let folded = fold_label(typed);
        let folded = ["星期", "礼拜"]
            .iter()
            .find_map(|prefix| folded.strip_prefix(prefix).map(|rest| format!("周{rest}")))
            .unwrap_or(folded);
        let folded = if folded == "周天" { "周日".to_owned() } else { folded };
        self.read_labelled(&folded, &WEEKDAYS, |d| d.to_string(), weekday_key)
            .or_else(|| folded.parse::<Weekday>().ok())
    }

    /// A digest frequency: `daily`/`weekly`/`off` or their labels (`每天`, `每周`,
    /// `关闭摘要`, `No digest`), the usual other words (`每日`, `关闭`, `none`), and a
    /// weekly digest's day as the settings card writes it (`每周五`, `every Friday`) or
    /// after the word (`weekly fri`, `每周 周五`). A weekly digest without a day is on Monday.
    pub fn read_frequency(&self, typed: &str) -> Option<Frequency> {
        let folded = fold_label(typed);
        let plain = |value: Frequency| {
            let keyword = value.keyword();
            fold_label(keyword) == folded
                || Language::ALL.iter().any(|lang| {
                    self.plain_label(*lang, &format!("frequency.{keyword}"))
                        .is_some_and(|label| fold_label(&label) == folded)
                })
        };
        const OTHER_WORDS: [(&str, Frequency); 6] = [
            ("每日", Frequency::Daily),
            ("关闭", Frequency::Off),
            ("不要", Frequency::Off),
            ("none", Frequency::Off),
            ("no", Frequency::Off),
            ("周报", Frequency::Weekly(Weekday::Mon)),
        ];
        for value in [Frequency::Daily, Frequency::Off, Frequency::Weekly(Weekday::Mon)] {
            if plain(value) {
                return Some(value);
            }
        }
        if let Some((_, value)) = OTHER_WORDS.iter().find(|(word, _)| *word == folded) {
            return Some(*value);
        }
        // "weekly fri", "每周 周五", "每周五", "every friday".
        let day = |rest: &str| {
            let rest = rest.trim();
            (!rest.is_empty()).then(|| self.read_weekday(rest)).flatten().map(Frequency::Weekly)
        };
        if let Some((first, rest)) = folded.split_once(' ') {
            let weekly_word = fold_label(first) == "weekly"
                || Language::ALL.iter().any(|lang| {
                    self.plain_label(*lang, "frequency.weekly")
                        .is_some_and(|label| fold_label(&label) == first)
                });
            if weekly_word || first == "every" {
                return day(rest);
            }
        }
        folded.strip_prefix('每').and_then(day)
    }
}

/// The locale key of a category's label.
pub fn category_key(c: Category) -> String {
    format!("category.{}", c.as_str())
}

/// The locale key of a severity's label.
pub fn severity_key(s: Severity) -> String {
    format!("severity.{}", s.as_str())
}

/// The locale key of a role's label (`role.moderator`: 审核员, moderator).
pub fn role_key(r: Role) -> String {
    format!("role.{}", r.as_str())
}

/// The locale key of a notice status's label (`notice_status.retracted`: 已撤回, withdrawn).
pub fn notice_status_key(s: NoticeStatus) -> String {
    format!("notice_status.{}", s.as_str())
}

/// The locale key of a weekday's label.
pub fn weekday_key(d: Weekday) -> String {
    format!("weekday.{}", d.num_days_from_monday())
}

/// The locale key of a language's name.
pub fn language_key(l: Language) -> String {
    format!("language.{}", l.code())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn texts() -> Texts {
        Texts::load().unwrap()
    }

    #[test]
    fn every_label_shown_is_read_back_in_both_languages() {
        let t = texts();
        for lang in Language::ALL {
            for c in Category::ALL {
                let label = t.plain_label(lang, &category_key(*c)).unwrap();
                assert_eq!(t.read_category(&label), Some(*c), "{lang} {label}");
                assert_eq!(t.read_category(c.as_str()), Some(*c));
            }
            for s in Severity::ALL {
                let label = t.plain_label(lang, &severity_key(*s)).unwrap();
                assert_eq!(t.read_severity(&label), Some(*s), "{lang} {label}");
            }
            for d in WEEKDAYS {
                let label = t.plain_label(lang, &weekday_key(d)).unwrap();
                assert_eq!(t.read_weekday(&label), Some(d), "{lang} {label}");
            }
            for r in Role::ALL {
                let label = t.plain_label(lang, &role_key(*r)).unwrap();
                assert_eq!(t.read_role(&label), Some(*r), "{lang} {label}");
                assert_eq!(t.read_role(r.as_str()), Some(*r));
            }
            for s in NoticeStatus::ALL {
                assert!(t.plain_label(lang, &notice_status_key(*s)).is_some(), "{lang} {s}");
            }
            for l in Language::ALL {
                let label = t.plain_label(lang, &language_key(l)).unwrap();
                assert_eq!(t.read_language(&label), Some(l), "{lang} {label}");
            }
            for f in [Frequency::Daily, Frequency::Off, Frequency::Weekly(Weekday::Mon)] {
                let label = t.plain_label(lang, &format!("frequency.{}", f.keyword())).unwrap();
                assert_eq!(t.read_frequency(&label), Some(f), "{lang} {label}");
            }
        }
    }

    #[test]
    fn no_two_values_share_a_label() {
        let t = texts();
        let mut seen = HashSet::new();
        for lang in Language::ALL {
            for c in Category::ALL {
                assert!(seen.insert(fold_label(&t.plain_label(lang, &category_key(*c)).unwrap())), "{c}");
            }
        }
        let mut seen = HashSet::new();
        for lang in Language::ALL {
            for s in Severity::ALL {
                let label = fold_label(&t.plain_label(lang, &severity_key(*s)).unwrap());
                // "Extreme" is both the keyword and the English label of one value.
                assert!(seen.insert(label.clone()) || fold_label(s.as_str()) == label, "{s}");
            }
        }
    }

    #[test]
    fn values_are_read_in_any_width_case_and_script() {
        let t = texts();
        assert_eq!(t.read_category("交通"), Some(Category::Traffic));
        assert_eq!(t.read_category("反诈"), Some(Category::Fraud));
        assert_eq!(t.read_category("反詐"), Some(Category::Fraud));
        assert_eq!(t.read_category("public order"), Some(Category::PublicOrder));
        assert_eq!(t.read_category("Public-Order"), Some(Category::PublicOrder));
        assert_eq!(t.read_category("Weather & hazards"), Some(Category::Disaster));
        assert_eq!(t.read_category("weather"), None);
        assert_eq!(t.read_severity("一般"), Some(Severity::Minor));
        assert_eq!(t.read_severity("moderate"), Some(Severity::Moderate));
        assert_eq!(t.read_severity("loud"), None);
        assert_eq!(t.read_weekday("星期五"), Some(Weekday::Fri));
        assert_eq!(t.read_weekday("周天"), Some(Weekday::Sun));
        assert_eq!(t.read_weekday("fri"), Some(Weekday::Fri));
        assert_eq!(t.read_language("English"), Some(Language::En));
        assert_eq!(t.read_role("版主"), Some(Role::Moderator));
        assert_eq!(t.read_role("编辑"), Some(Role::Editor));
        assert_eq!(t.read_role("OWNER"), Some(Role::Owner));
        assert_eq!(t.read_role("admin"), None);
        assert_eq!(t.read_language("中文"), Some(Language::Zh));
    }

    #[test]
    fn frequencies_with_and_without_a_day() {
        let t = texts();
        for (typed, expected) in [
            ("daily", Frequency::Daily),
            ("每天", Frequency::Daily),
            ("每日", Frequency::Daily),
            ("off", Frequency::Off),
            ("关闭摘要", Frequency::Off),
            ("No digest", Frequency::Off),
            ("weekly", Frequency::Weekly(Weekday::Mon)),
            ("weekly fri", Frequency::Weekly(Weekday::Fri)),
            ("Weekly Friday", Frequency::Weekly(Weekday::Fri)),
            ("每周 周日", Frequency::Weekly(Weekday::Sun)),
            ("每周五", Frequency::Weekly(Weekday::Fri)),
            ("每星期五", Frequency::Weekly(Weekday::Fri)),
            ("every Friday", Frequency::Weekly(Weekday::Fri)),
        ] {
            assert_eq!(t.read_frequency(typed), Some(expected), "{typed}");
        }
        for bad in ["hourly", "weekly someday", "每周八", ""] {
            assert_eq!(t.read_frequency(bad), None, "{bad}");
        }
    }
}
