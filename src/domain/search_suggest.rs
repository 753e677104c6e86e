//! "Did you mean": queries one typo away from a query, made from the search index's own
//! vocabulary.
//!
//! A query word the index does not know is replaced by a near one it does:
//! - another word (`frud`) by an indexed word at the smallest edit distance, optimal string
//!   alignment as [`strsim::osa_distance`] counts it (a swap of two neighbours is one edit),
//!   at most 1 edit for words of up to 4 letters and 2 for longer ones; numbers are left
//!   as typed (a phone number is not a typo);
//! - a Chinese run (`刷丹`) by the run with one character changed whose pairs touching that
//!   character are all indexed, then whose every required pair ([`super::SearchTerms`]) is.
//!
//! Candidates rank by fewer edits, then by how many documents hold the new tokens (the
//! rarest of them), then alphabetically, so the answer does not depend on hash order.
//! The caller keeps only a suggestion that finds something.

use std::collections::HashMap;

use super::hanzi::is_han;
use super::search_text::{Run, spanned_runs};

/// The tokens of the search index and how many documents hold each.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
    docs: HashMap<String, u64>,
    /// Two-character Chinese tokens by their first character: (second, documents).
    pairs_after: HashMap<char, Vec<(char, u64)>>,
    /// The same by their second character: (first, documents).
    pairs_before: HashMap<char, Vec<(char, u64)>>,
}

impl Vocabulary {
    /// From `(token, documents holding it)` rows, as the index lists them.
    pub fn new(rows: impl IntoIterator<Item = (String, u64)>) -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for (token, docs) in rows {
            let mut chars = token.chars();
            if let (Some(a), Some(b), None) = (chars.next(), chars.next(), chars.next())
                && is_han(a)
                && is_han(b)
            {
                vocabulary.pairs_after.entry(a).or_default().push((b, docs));
                vocabulary.pairs_before.entry(b).or_default().push((a, docs));
            }
            *vocabulary.docs.entry(token).or_default() += docs;
        }
        vocabulary
    }

    /// Documents holding `token` (0 for a token the index does not know).
    fn docs(&self, token: &str) -> u64 {
        self.docs.get(token).copied().unwrap_or(0)
    }

    /// Whether a query word finds anything by itself: its token, or for a word of three or
    /// more letters (searched as a prefix) a token it starts.
    fn knows_word(&self, word: &str) -> bool {
        self.docs(word) > 0
            || (word.chars().count() >= 3 && self.docs.keys().any(|token| token.starts_with(word)))
    }

    fn knows_run(&self, chars: &[char]) -> bool {
        match chars {
            [one] => self.docs(&one.to_string()) > 0,
            _ => cover(chars.len()).all(|i| self.docs(&pair(chars, i)) > 0),
        }
    }
}

/// Up to `max` queries close to `query`, best first: each is `query` with every word the
/// vocabulary does not know replaced by a near one it does. Empty when every word is known
/// (a "did you mean" cannot help) or no unknown word has a near one.
pub fn suggestions(query: &str, vocabulary: &Vocabulary, max: usize) -> Vec<String> {
    // For each unknown run: its byte range in `query` and its replacements, best first.
    let mut fixes: Vec<(std::ops::Range<usize>, Vec<String>)> = Vec::new();
    for (run, span) in spanned_runs(query) {
        let replacements = match run {
            Run::Word(word) if word.chars().all(|c| c.is_ascii_digit()) || vocabulary.knows_word(&word) => {
                continue;
            }
            Run::Word(word) => near_words(&word, vocabulary),
            Run::Han(chars) if chars.len() < 2 || vocabulary.knows_run(&chars) => continue,
            Run::Han(chars) => near_runs(&chars, vocabulary),
        };
        if replacements.is_empty() {
            return Vec::new();
        }
        fixes.push((span, replacements));
    }
    if fixes.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for k in 0..max {
        if fixes.iter().all(|(_, r)| r.len() <= k) {
            break;
        }
        let mut text = String::new();
        let mut at = 0;
        for (span, replacements) in &fixes {
            text.push_str(&query[at..span.start]);
            text.push_str(&replacements[k.min(replacements.len() - 1)]);
            at = span.end;
        }
        text.push_str(&query[at..]);
        let text = text.trim().to_owned();
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// Indexed words near `word`, best first.
fn near_words(word: &str, vocabulary: &Vocabulary) -> Vec<String> {
    let length = word.chars().count();
    let most = if length <= 4 { 1 } else { 2 };
    let mut found: Vec<(usize, u64, &str)> = vocabulary
        .docs
        .iter()
        .filter(|(token, _)| token.chars().all(|c| c.is_alphanumeric() && !is_han(c)))
        .filter(|(token, _)| token.chars().count().abs_diff(length) <= most)
        .filter_map(|(token, docs)| {
            let distance = strsim::osa_distance(word, token);
            (distance <= most).then_some((distance, *docs, token.as_str()))
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
    found.into_iter().map(|(_, _, token)| token.to_owned()).collect()
}

/// Chinese runs one character away from `chars` whose required pairs are all indexed, best
/// first.
fn near_runs(chars: &[char], vocabulary: &Vocabulary) -> Vec<String> {
    let mut found: Vec<(u64, String)> = Vec::new();
    for at in 0..chars.len() {
        // The characters that make an indexed pair with a neighbour of `at`.
        let candidates = if at > 0 {
            vocabulary.pairs_after.get(&chars[at - 1])
        } else {
            vocabulary.pairs_before.get(&chars[1])
        };
        for &(c, _) in candidates.into_iter().flatten() {
            if c == chars[at] {
                continue;
            }
            let mut changed = chars.to_vec();
            changed[at] = c;
            let touching = [at.checked_sub(1), (at + 1 < chars.len()).then_some(at)];
            let rarest = touching.into_iter().flatten().map(|i| vocabulary.docs(&pair(&changed, i))).min();
            if let Some(docs) = rarest.filter(|docs| *docs > 0)
                && vocabulary.knows_run(&changed)
            {
                found.push((docs, changed.into_iter().collect()));
            }
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found.dedup_by(|a, b| a.1 == b.1);
    found.into_iter().map(|(_, run)| run).collect()
}

/// The pair of characters starting at `i`.
fn pair(chars: &[char], i: usize) -> String {
    chars[i..i + 2].iter().collect()
}

/// Where the pairs a query requires of a run of `len` (≥ 2) characters start: every other
/// character, and the last pair for an odd run (as [`super::SearchTerms::parse`] does).
fn cover(len: usize) -> impl Iterator<Item = usize> {
    (0..len - 1).step_by(2).chain((len % 2 == 1).then_some(len - 2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::index_tokens;

    /// The vocabulary of these texts, as the index would count it.
    fn vocabulary(texts: &[&str]) -> Vocabulary {
        let mut docs: HashMap<String, u64> = HashMap::new();
        for text in texts {
            let tokens: std::collections::HashSet<String> =
                index_tokens(text).split(' ').map(str::to_owned).collect();
            for token in tokens {
                *docs.entry(token).or_default() += 1;
            }
        }
        Vocabulary::new(docs)
    }

    const TEXTS: &[&str] = &[
        "刷单返利都是诈骗 Order brushing is fraud",
        "网上刷单兼职，先垫付就是骗局",
        "刷卡消费请当心",
        "Fake refund calls: hang up, call 96110",
        "冒充客服退款诈骗 Fake customer service",
    ];

    #[test]
    fn a_mistyped_word_gets_the_nearest_indexed_word() {
        let v = vocabulary(TEXTS);
        assert_eq!(suggestions("frud", &v, 3), vec!["fraud"]);
        assert_eq!(suggestions("Fake refnud", &v, 3), vec!["Fake refund"]);
        assert_eq!(suggestions("costumer service", &v, 3)[0], "customer service");
    }

    #[test]
    fn a_mistyped_chinese_character_gets_the_run_the_index_holds() {
        let v = vocabulary(TEXTS);
        // 刷单 is in two texts, 刷卡 in one: 刷单 first.
        assert_eq!(suggestions("刷丹", &v, 3), vec!["刷单", "刷卡"]);
        assert_eq!(suggestions("刷丹返利", &v, 3), vec!["刷单返利"]);
        assert_eq!(suggestions("冒充客腹", &v, 3), vec!["冒充客服"]);
        // What the query said around the word stays as typed.
        assert_eq!(suggestions("“刷丹” frud!", &v, 1), vec!["“刷单” fraud!"]);
    }

    #[test]
    fn nothing_is_suggested_for_known_words_numbers_or_words_with_nothing_near() {
        let v = vocabulary(TEXTS);
        assert!(suggestions("刷单 fraud", &v, 3).is_empty());
        assert!(suggestions("frau", &v, 3).is_empty(), "a prefix of an indexed word is known");
        assert!(suggestions("96111", &v, 3).is_empty());
        assert!(suggestions("earthquake", &v, 3).is_empty());
        assert!(suggestions("地震", &v, 3).is_empty());
        assert!(suggestions("frud 地震", &v, 3).is_empty(), "one word past help spoils the query");
    }
}
