//! Turning text into search tokens, the same way for both backends.
//!
//! Chinese is written without spaces, so a Chinese run is indexed as its characters and
//! its overlapping pairs of characters ("电信诈骗" -> 电 信 诈 骗 电信 信诈 诈骗). Any
//! two-character word (诈骗, 刷单, 冒充) is then a token of every text that contains it,
//! without a dictionary. Other words are lower-cased. Both SQLite FTS5 and PostgreSQL
//! index these tokens as they are, so the two backends match the same documents.

/// A search term of a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// The token must occur.
    Exact(String),
    /// A token starting with this must occur (English words, so "fraud" finds "fraudsters").
    Prefix(String),
}

/// The terms of a query, all of which a result must contain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms(Vec<Term>);

impl SearchTerms {
    /// `None` when the query holds nothing searchable (only punctuation, say).
    pub fn parse(query: &str) -> Option<SearchTerms> {
        let mut terms = Vec::new();
        for run in runs(query) {
            match run {
                Run::Han(chars) if chars.len() == 1 => terms.push(Term::Exact(chars[0].to_string())),
                Run::Han(chars) => {
                    terms.extend(chars.windows(2).map(|pair| Term::Exact(pair.iter().collect())));
                }
                Run::Word(word) if word.chars().count() >= 3 && !word.chars().all(|c| c.is_ascii_digit()) => {
                    terms.push(Term::Prefix(word))
                }
                Run::Word(word) => terms.push(Term::Exact(word)),
            }
        }
        terms.dedup();
        (!terms.is_empty()).then_some(SearchTerms(terms))
    }

    pub fn terms(&self) -> &[Term] {
        &self.0
    }
}

/// The space-separated tokens to index for `text`.
pub fn index_tokens(text: &str) -> String {
    let mut tokens: Vec<String> = Vec::new();
    for run in runs(text) {
        match run {
            Run::Han(chars) => {
                tokens.extend(chars.iter().map(char::to_string));
                tokens.extend(chars.windows(2).map(|pair| pair.iter().collect()));
            }
            Run::Word(word) => tokens.push(word),
        }
    }
    tokens.join(" ")
}

enum Run {
    Han(Vec<char>),
    Word(String),
}

/// Splits text into runs of Chinese characters and lower-cased words; everything else
/// (spaces, punctuation, symbols) separates them.
fn runs(text: &str) -> Vec<Run> {
    let mut out = Vec::new();
    let mut han: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush = |out: &mut Vec<Run>, han: &mut Vec<char>, word: &mut String| {
        if !han.is_empty() {
            out.push(Run::Han(std::mem::take(han)));
        }
        if !word.is_empty() {
            out.push(Run::Word(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        if is_han(c) {
            if !word.is_empty() {
                flush(&mut out, &mut han, &mut word);
            }
            han.push(c);
        } else if c.is_alphanumeric() {
            if !han.is_empty() {
                flush(&mut out, &mut han, &mut word);
            }
            word.extend(c.to_lowercase());
        } else {
            flush(&mut out, &mut han, &mut word);
        }
    }
    flush(&mut out, &mut han, &mut word);
    out
}

fn is_han(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_indexed_as_characters_and_pairs() {
        assert_eq!(index_tokens("电信诈骗"), "电 信 诈 骗 电信 信诈 诈骗");
        assert_eq!(index_tokens("警惕“刷单”！"), "警 惕 警惕 刷 单 刷单");
    }

    #[test]
    fn other_words_are_lower_cased_and_punctuation_separates() {
        assert_eq!(index_tokens("Fraud-ALERT: call 96110"), "fraud alert call 96110");
        assert_eq!(index_tokens("QQ群诈骗"), "qq 群 诈 骗 群诈 诈骗");
    }

    #[test]
    fn every_two_character_word_in_a_text_is_one_of_its_tokens() {
        let text = "冒充公检法人员以涉嫌洗钱为由要求转账";
        let index = index_tokens(text);
        let tokens: Vec<&str> = index.split(' ').collect();
        for word in ["冒充", "洗钱", "转账", "涉嫌"] {
            assert!(tokens.contains(&word), "{word}");
        }
    }

    #[test]
    fn queries_become_terms() {
        let terms = |q: &str| SearchTerms::parse(q).map(|t| t.terms().to_vec());
        assert_eq!(terms("诈骗"), Some(vec![Term::Exact("诈骗".into())]));
        assert_eq!(
            terms("刷单返利"),
            Some(vec![Term::Exact("刷单".into()), Term::Exact("单返".into()), Term::Exact("返利".into())])
        );
        assert_eq!(terms("骗"), Some(vec![Term::Exact("骗".into())]));
        assert_eq!(terms("Fraud 110"), Some(vec![Term::Prefix("fraud".into()), Term::Exact("110".into())]));
        assert_eq!(terms("to"), Some(vec![Term::Exact("to".into())]));
        assert_eq!(terms(" ，。!? "), None);
    }
}
