//! Turning text into search tokens, the same way for both backends.
//!
//! Chinese is written without spaces, so a Chinese run is indexed as its characters and
//! its overlapping pairs of characters ("电信诈骗" -> 电 信 诈 骗 电信 信诈 诈骗). Any
//! two-character word (诈骗, 刷单, 冒充) is then a token of every text that contains it,
//! without a dictionary. Other words are lower-cased. Both SQLite FTS5 and PostgreSQL
//! index these tokens as they are, so the two backends match the same documents.
//!
//! Chinese characters are tokenised in their simplified form ([`super::hanzi`], OpenCC's
//! table, one character at a time), in texts and in queries alike: `刷單` and `刷单` are
//! one token, and a traditional query finds a simplified text and the other way round.
//! Texts are stored and shown as written; only their tokens fold.

use super::hanzi::{is_han, simplified};

/// A search term of a query.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Term {
    /// The token must occur.
    Exact(String),
    /// A token starting with this must occur (English words, so "fraud" finds "fraudsters").
    Prefix(String),
}

/// The terms of a query: every word of it must occur in a result, anywhere; words written
/// next to each other make a phrase that ranks a result higher when it holds them so.
///
/// A Chinese run is covered by its pairs taken two characters at a time (`冒充客服` ->
/// 冒充 客服; an odd run ends on its last pair: `冒充公检法` -> 冒充 公检 检法), so a text
/// holding the words apart ("冒充电商物流客服") is found. Chinese runs one after another
/// (`冒充客服`, `退款 客服`) make a phrase of their every overlapping pair in order (the
/// way a text holding them together is indexed); consecutive other words (`fake refund`)
/// make a phrase of their own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchTerms {
    required: Vec<Term>,
    phrases: Vec<Vec<Term>>,
}

impl SearchTerms {
    /// `None` when the query holds nothing searchable (only punctuation, say).
    pub fn parse(query: &str) -> Option<SearchTerms> {
        let mut required: Vec<Term> = Vec::new();
        let mut phrases: Vec<Vec<Term>> = Vec::new();
        // The consecutive other words, or Chinese runs (joined), being gathered into a phrase.
        let mut words: Vec<Term> = Vec::new();
        let mut han: Vec<char> = Vec::new();
        let end_words = |words: &mut Vec<Term>, phrases: &mut Vec<Vec<Term>>| {
            if words.len() >= 2 {
                phrases.push(std::mem::take(words));
            }
            words.clear();
        };
        let end_han = |han: &mut Vec<char>, phrases: &mut Vec<Vec<Term>>| {
            if han.len() >= 3 {
                phrases.push(han.windows(2).map(|pair| Term::Exact(pair.iter().collect())).collect());
            }
            han.clear();
        };
        for run in runs(query) {
            match run {
                Run::Han(chars) => {
                    end_words(&mut words, &mut phrases);
                    han.extend(&chars);
                    if chars.len() == 1 {
                        required.push(Term::Exact(chars[0].to_string()));
                        continue;
                    }
                    let pair = |i: usize| Term::Exact(chars[i..i + 2].iter().collect());
                    let mut cover: Vec<usize> = (0..chars.len() - 1).step_by(2).collect();
                    if chars.len() % 2 == 1 {
                        cover.push(chars.len() - 2);
                    }
                    required.extend(cover.into_iter().map(pair));
                }
                Run::Word(word) => {
                    end_han(&mut han, &mut phrases);
                    let term = if word.chars().count() >= 3 && !word.chars().all(|c| c.is_ascii_digit()) {
                        Term::Prefix(word)
                    } else {
                        Term::Exact(word)
                    };
                    required.push(term.clone());
                    words.push(term);
                }
            }
        }
        end_words(&mut words, &mut phrases);
        end_han(&mut han, &mut phrases);
        let mut seen = std::collections::HashSet::new();
        required.retain(|t| seen.insert(t.clone()));
        (!required.is_empty()).then_some(SearchTerms { required, phrases })
    }

    /// The terms every result contains, each once, in the query's order.
    pub fn terms(&self) -> &[Term] {
        &self.required
    }

    /// The query's phrases (each two or more terms in order, found next to each other in a
    /// text's tokens): a result holding them ranks above one holding the words apart.
    pub fn phrases(&self) -> &[Vec<Term>] {
        &self.phrases
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

pub(super) enum Run {
    Han(Vec<char>),
    Word(String),
}

/// Splits text into runs of Chinese characters (in their simplified forms) and lower-cased
/// words; everything else (spaces, punctuation, symbols) separates them.
fn runs(text: &str) -> Vec<Run> {
    spanned_runs(text).into_iter().map(|(run, _)| run).collect()
}

/// [`runs`], each with the byte range of `text` it was read from.
pub(super) fn spanned_runs(text: &str) -> Vec<(Run, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut han: Vec<char> = Vec::new();
    let mut word = String::new();
    let mut start = 0;
    let flush = |out: &mut Vec<(Run, std::ops::Range<usize>)>,
                 han: &mut Vec<char>,
                 word: &mut String,
                 start: usize,
                 end: usize| {
        if !han.is_empty() {
            out.push((Run::Han(std::mem::take(han)), start..end));
        }
        if !word.is_empty() {
            out.push((Run::Word(std::mem::take(word)), start..end));
        }
    };
    for (at, c) in text.char_indices() {
        if is_han(c) {
            if !word.is_empty() {
                flush(&mut out, &mut han, &mut word, start, at);
            }
            if han.is_empty() {
                start = at;
            }
            han.push(simplified(c));
        } else if c.is_alphanumeric() {
            if !han.is_empty() {
                flush(&mut out, &mut han, &mut word, start, at);
            }
            if word.is_empty() {
                start = at;
            }
            word.extend(c.to_lowercase());
        } else {
            flush(&mut out, &mut han, &mut word, start, at);
        }
    }
    flush(&mut out, &mut han, &mut word, start, text.len());
    out
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
        assert_eq!(terms("刷单返利"), Some(vec![Term::Exact("刷单".into()), Term::Exact("返利".into())]));
        assert_eq!(
            terms("冒充公检法"),
            Some(vec![Term::Exact("冒充".into()), Term::Exact("公检".into()), Term::Exact("检法".into())])
        );
        assert_eq!(terms("骗"), Some(vec![Term::Exact("骗".into())]));
        assert_eq!(terms("Fraud 110"), Some(vec![Term::Prefix("fraud".into()), Term::Exact("110".into())]));
        assert_eq!(terms("to"), Some(vec![Term::Exact("to".into())]));
        assert_eq!(terms(" ，。!? "), None);
        assert_eq!(terms("诈骗 诈骗"), Some(vec![Term::Exact("诈骗".into())]));
    }

    #[test]
    fn words_next_to_each_other_make_phrases_that_rank_but_are_not_required() {
        let phrases = |q: &str| SearchTerms::parse(q).unwrap().phrases().to_vec();
        let exact = |t: &str| Term::Exact(t.into());
        assert_eq!(phrases("冒充客服"), vec![vec![exact("冒充"), exact("充客"), exact("客服")]]);
        assert_eq!(phrases("刷单"), Vec::<Vec<Term>>::new());
        assert_eq!(phrases("退款 客服"), vec![vec![exact("退款"), exact("款客"), exact("客服")]]);
        assert_eq!(
            phrases("fake refund 退款 客服 of it"),
            vec![
                vec![Term::Prefix("fake".into()), Term::Prefix("refund".into())],
                vec![exact("退款"), exact("款客"), exact("客服")],
                vec![exact("of"), exact("it")]
            ]
        );
        assert_eq!(phrases("fake"), Vec::<Vec<Term>>::new());
        // The text's pairs of one run are its tokens in order: the phrase is found there.
        let index = index_tokens("谨防冒充客服来电");
        assert!(index.contains("冒充 充客 客服"), "{index}");
    }

    /// The query and more of its kind, each with its simplified spelling: both make
    /// the same terms, and those are tokens of a text written either way.
    const SCRIPTS: &[(&str, &str)] = &[
        ("刷單", "刷单"),
        ("刷單返利", "刷单返利"),
        ("電信詐騙", "电信诈骗"),
        ("發財", "发财"),
        ("頭髮", "头发"),
        ("乾淨", "干净"),
        ("幹部", "干部"),
        ("後來", "后来"),
        ("颱風", "台风"),
        ("QQ群刷單", "qq群刷单"),
        ("刷單 APP 96110", "刷单 app 96110"),
        ("iPhone12退款詐騙", "iphone12退款诈骗"),
        ("單", "单"),
    ];

    #[test]
    fn traditional_and_simplified_queries_make_the_same_terms() {
        for (traditional, simple) in SCRIPTS {
            assert_eq!(SearchTerms::parse(traditional), SearchTerms::parse(simple), "{traditional}");
        }
        let terms = |q: &str| SearchTerms::parse(q).map(|t| t.terms().to_vec());
        assert_eq!(
            terms("QQ群刷單 96110"),
            Some(vec![
                Term::Exact("qq".into()),
                Term::Exact("群刷".into()),
                Term::Exact("刷单".into()),
                Term::Exact("96110".into())
            ])
        );
    }

    #[test]
    fn texts_in_either_script_are_indexed_alike() {
        assert_eq!(index_tokens("警惕「刷單」！"), "警 惕 警惕 刷 单 刷单");
        assert_eq!(index_tokens("頭髮 and 發財 2024"), "头 发 头发 and 发 财 发财 2024");
        assert_eq!(index_tokens("乾淨的幹部"), index_tokens("干净的干部"));
        for (traditional, simple) in SCRIPTS {
            let tokens = index_tokens(&format!("通知：{traditional}。"));
            let tokens: Vec<&str> = tokens.split(' ').collect();
            for term in SearchTerms::parse(simple).unwrap().terms() {
                let (Term::Exact(token) | Term::Prefix(token)) = term;
                assert!(tokens.contains(&token.as_str()), "{simple} in {traditional}: {tokens:?}");
            }
        }
    }

    proptest::proptest! {
        /// Whatever part of a text a query is, in whichever script either is written, every
        /// term of the query is a token of the text: folding one character at a time keeps
        /// what a text contains.
        #[test]
        fn a_query_taken_from_a_text_finds_it_in_either_script(
            text in "[刷單单發髮发乾幹干後后詐诈騙骗a-z0-9 ]{1,24}",
            from in 0usize..24,
            len in 1usize..8,
        ) {
            let chars: Vec<char> = text.chars().collect();
            let from = from.min(chars.len() - 1);
            let query: String = chars[from..(from + len).min(chars.len())].iter().collect();
            // A word cut at the query's edge is a prefix of the text's word, not the word.
            let cut = |i: usize| i > 0 && i < chars.len() && chars[i - 1].is_ascii_alphanumeric()
                && chars[i].is_ascii_alphanumeric();
            proptest::prop_assume!(!cut(from) && !cut((from + len).min(chars.len())));
            let tokens = index_tokens(&text);
            let tokens: Vec<&str> = tokens.split(' ').collect();
            for (q, _) in [(query.clone(), ()), (crate::domain::hanzi::to_simplified(&query).into_owned(), ())] {
                if let Some(terms) = SearchTerms::parse(&q) {
                    for term in terms.terms() {
                        match term {
                            Term::Exact(t) => proptest::prop_assert!(tokens.contains(&t.as_str()), "{t} of {q} in {text}"),
                            Term::Prefix(t) => proptest::prop_assert!(
                                tokens.iter().any(|token| token.starts_with(t.as_str())),
                                "{t}* of {q} in {text}"
                            ),
                        }
                    }
                }
            }
        }
    }
}
