//! Splitting long messages into Telegram-sized parts.
//!
//! A message is a list of blocks: short markup (headers, footers), never split, and
//! plain text (a notice's body), split where a reader would pause — a blank line, then a
//! line break, then the end of a sentence, then a space — and escaped only afterwards,
//! so no part ends inside a tag, an entity or a character.

use crate::html::{Html, to_plain};

/// Telegram's limit on a message's text, in UTF-16 code units after entity parsing.
pub const MESSAGE_LIMIT: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    /// Pingan's own markup; kept whole.
    Markup(Html),
    /// Plain text from an editor or the database; escaped when rendered.
    Text(String),
}

/// Shown length as Telegram counts it.
fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Joins the blocks with blank lines into as few messages of at most `limit` units as
/// the break rules allow.
pub fn into_messages(blocks: Vec<Block>, limit: usize) -> Vec<Html> {
    let mut parts = Vec::new();
    let mut current = Html::default();
    let mut used = 0;
    let add = |current: &mut Html, used: &mut usize, html: &Html, len: usize| {
        if *used > 0 {
            current.push(&Html::trusted("\n\n".into()));
            *used += 2;
        }
        current.push(html);
        *used += len;
    };
    for block in blocks {
        let text = match block {
            Block::Markup(html) => {
                let len = units(&to_plain(html.as_str()));
                if len <= limit {
                    if used > 0 && used + 2 + len > limit {
                        parts.push(std::mem::take(&mut current));
                        used = 0;
                    }
                    add(&mut current, &mut used, &html, len);
                    continue;
                }
                // Markup longer than a message is a bug upstream; its text still goes out.
                tracing::warn!(len, "markup block longer than a message; sending it as text");
                to_plain(html.as_str())
            }
            Block::Text(text) => text,
        };
        let mut rest = text.trim();
        while !rest.is_empty() {
            let room = if used == 0 { limit } else { limit.saturating_sub(used + 2) };
            let cut = if units(rest) <= room {
                rest.len()
            } else {
                match cut_point(rest, room) {
                    // Not one character fits even an empty part (a limit under 2 units and
                    // a character of 2): it goes alone, over the limit, rather than never.
                    0 if used == 0 => rest.chars().next().map_or(0, char::len_utf8),
                    cut => cut,
                }
            };
            if cut == 0 {
                parts.push(std::mem::take(&mut current));
                used = 0;
                continue;
            }
            let piece = rest[..cut].trim_end();
            add(&mut current, &mut used, &Html::escape(piece), units(piece));
            rest = rest[cut..].trim_start();
            if !rest.is_empty() {
                parts.push(std::mem::take(&mut current));
                used = 0;
            }
        }
    }
    if used > 0 {
        parts.push(current);
    }
    parts
}

/// A message as Telegram takes it: itself when its text fits in [`MESSAGE_LIMIT`], else
/// parts that each do (never empty: an empty message gives one empty part). Every reply
/// passes through this on its way out (`src/telegram/replies.rs`), so that no input a user
/// typed can make one Telegram refuses (issue 13, part 8); markup longer than a message is
/// sent as its plain text, split, rather than refused.
pub fn fit(html: Html) -> Vec<Html> {
    if units(&to_plain(html.as_str())) <= MESSAGE_LIMIT {
        return vec![html];
    }
    let parts = into_messages(vec![Block::Markup(html)], MESSAGE_LIMIT);
    if parts.is_empty() { vec![Html::default()] } else { parts }
}

/// Telegram's limit on a photo's caption, in UTF-16 code units after entity parsing (Bot
/// API, `sendPhoto`: "0-1024 characters after entities parsing").
pub const CAPTION_LIMIT: usize = 1024;

/// A caption as Telegram takes it: `(caption, rest)`, the caption itself when it fits in
/// [`CAPTION_LIMIT`], else its first part as plain text and the rest in parts that each
/// fit a caption too, to be sent as messages after the photo. Nothing is cut away.
pub fn fit_caption(html: Html) -> (Html, Vec<Html>) {
    let plain = to_plain(html.as_str());
    if units(&plain) <= CAPTION_LIMIT {
        return (html, Vec::new());
    }
    let mut parts = into_messages(vec![Block::Text(plain)], CAPTION_LIMIT).into_iter();
    let caption = parts.next().unwrap_or_default();
    (caption, parts.collect())
}

/// Where to cut `text` so that the first piece fits in `room` units: the last blank line,
/// line break, sentence end or space that keeps the piece at least half full, else as
/// much as fits. Returns a byte offset on a character boundary (0 if nothing fits).
fn cut_point(text: &str, room: usize) -> usize {
    let mut fits = 0;
    let mut used = 0;
    let mut best: [Option<usize>; 4] = [None; 4];
    let mut previous = '\0';
    for (i, c) in text.char_indices() {
        used += c.len_utf16();
        if used > room {
            break;
        }
        let end = i + c.len_utf8();
        fits = end;
        let level = match c {
            '\n' if previous == '\n' => Some(0),
            '\n' => Some(1),
            '。' | '！' | '？' | '；' | '!' | '?' | ';' => Some(2),
            '.' => Some(2),
            ' ' | '，' | '、' | ',' | '\t' => Some(3),
            _ => None,
        };
        if let Some(level) = level {
            best[level] = Some(end);
        }
        previous = c;
    }
    let half = text[..fits].len() / 2;
    best.iter().flatten().copied().find(|&end| end >= half).unwrap_or(fits)
}

/// The text a part shows, for tests and the console.
pub fn shown(part: &Html) -> String {
    to_plain(part.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown_units(part: &Html) -> usize {
        units(&shown(part))
    }

    fn squeeze(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn a_caption_over_1024_units_goes_on_in_messages_with_nothing_lost() {
        let short = Html::trusted("<b>诈骗案件</b> 1–10 月".into());
        assert_eq!(fit_caption(short.clone()), (short, Vec::new()));

        // 700 emoji are 1 400 UTF-16 units though only 700 characters.
        let long = format!("<b>图例</b> {}。{}", "🚨".repeat(700), "说明文字。".repeat(100));
        let (caption, rest) = fit_caption(Html::trusted(long.clone()));
        assert!(shown_units(&caption) <= CAPTION_LIMIT, "{}", shown_units(&caption));
        assert!(!rest.is_empty());
        assert!(rest.iter().all(|p| shown_units(p) <= CAPTION_LIMIT));
        let all: String = std::iter::once(&caption).chain(&rest).map(shown).collect();
        assert_eq!(squeeze(&all), squeeze(&to_plain(&long)));
    }

    #[test]
    fn short_messages_stay_whole() {
        let parts = into_messages(
            vec![Block::Markup(Html::trusted("<b>标题</b>".into())), Block::Text("正文 & <more>".into())],
            MESSAGE_LIMIT,
        );
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].as_str(), "<b>标题</b>\n\n正文 &amp; &lt;more&gt;");
    }

    #[test]
    fn a_long_body_is_split_at_paragraphs_and_nothing_is_lost() {
        let paragraph = format!("{}。", "电信网络诈骗".repeat(100));
        let body = vec![paragraph.as_str(); 20].join("\n\n");
        let header = Html::trusted("<b>标题</b>".into());
        let parts = into_messages(vec![Block::Markup(header), Block::Text(body.clone())], MESSAGE_LIMIT);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(shown_units(part) <= MESSAGE_LIMIT);
            assert!(shown(part).trim_end().ends_with('。'), "parts end at a paragraph");
        }
        let joined: String = parts.iter().map(shown).collect();
        assert_eq!(squeeze(&joined), squeeze(&format!("标题{body}")));
    }

    #[test]
    fn a_paragraph_longer_than_a_message_is_split_at_sentences() {
        let body = "This sentence is about fraud. ".repeat(300);
        let parts = into_messages(vec![Block::Text(body.clone())], MESSAGE_LIMIT);
        assert!(parts.len() >= 2);
        for part in &parts[..parts.len() - 1] {
            assert!(shown(part).ends_with("fraud."), "{}", shown(part));
            assert!(shown_units(part) <= MESSAGE_LIMIT);
        }
        let joined: String = parts.iter().map(shown).collect::<Vec<_>>().join(" ");
        assert_eq!(joined, body.trim());
    }

    #[test]
    fn text_without_any_break_is_cut_between_characters_never_inside_one() {
        let body = "诈🚨".repeat(3000);
        let parts = into_messages(vec![Block::Text(body.clone())], 100);
        for part in &parts {
            assert!(shown_units(part) <= 100);
        }
        assert_eq!(parts.iter().map(shown).collect::<String>(), body);
    }

    #[test]
    fn escaping_never_splits_an_entity() {
        let body = "&<>\"".repeat(2000);
        let parts = into_messages(vec![Block::Text(body.clone())], 4096);
        for part in &parts {
            assert!(!part.as_str().ends_with('&'));
            assert!(shown_units(part) <= 4096);
        }
        assert_eq!(parts.iter().map(shown).collect::<String>(), body);
    }

    /// Found while writing the `split` fuzz target: with a limit of 1 unit, a character of 2 never fit,
    /// and the loop pushed empty parts until memory ran out.
    #[test]
    fn a_character_wider_than_the_limit_goes_alone_instead_of_looping() {
        let parts = into_messages(vec![Block::Text("a🚨b".into())], 1);
        assert_eq!(parts.iter().map(shown).collect::<Vec<_>>(), ["a", "🚨", "b"]);
    }

    #[test]
    fn a_reply_that_fits_goes_as_it_is_and_one_that_does_not_in_parts_that_fit() {
        let short = Html::trusted("<b>🔴</b> 13800138000".into());
        assert_eq!(fit(short.clone()), [short]);
        let long =
            Html::trusted(format!("<b>No time zone</b> “{}”", crate::html::escape(&"<x>".repeat(2000))));
        let parts = fit(long.clone());
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(shown_units(part) <= MESSAGE_LIMIT, "{}", shown_units(part));
            crate::fuzz_targets::assert_well_formed(part.as_str());
        }
        assert_eq!(squeeze(&parts.iter().map(shown).collect::<String>()), squeeze(&shown(&long)));
    }

    #[test]
    fn markup_that_does_not_fit_beside_text_starts_a_new_part() {
        let parts = into_messages(
            vec![Block::Text("x".repeat(95)), Block::Markup(Html::trusted("<i>footer</i>".into()))],
            100,
        );
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].as_str(), "<i>footer</i>");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::fuzz_targets::assert_well_formed;

        /// Editors' text with what makes splitting hard: sentence ends and commas of both
        /// scripts, line breaks, characters of 2 UTF-16 units, and the characters escaping
        /// turns into entities; or a bold title in Pingan's markup.
        fn block() -> impl Strategy<Value = Block> {
            prop_oneof![
                3 => "[a-z 。，、！?.\n&<>\"'🚨诈骗]{0,400}".prop_map(Block::Text),
                1 => "[a-z诈 &<]{0,40}".prop_map(|t| Block::Markup(Html::trusted(format!("<b>{}</b>", crate::html::escape(&t))))),
            ]
        }

        proptest! {
            #[test]
            fn parts_fit_are_whole_and_keep_every_character(
                blocks in prop::collection::vec(block(), 0..6),
                limit in 2usize..700,
            ) {
                let original: String = blocks
                    .iter()
                    .map(|b| match b {
                        Block::Markup(html) => to_plain(html.as_str()),
                        Block::Text(text) => text.clone(),
                    })
                    .collect();
                let parts = into_messages(blocks, limit);
                for part in &parts {
                    prop_assert!(shown_units(part) <= limit, "{} units over {limit}: {part:?}", shown_units(part));
                    prop_assert!(!part.is_empty());
                    assert_well_formed(part.as_str());
                }
                let joined: String = parts.iter().map(shown).collect();
                prop_assert_eq!(squeeze(&joined), squeeze(&original));
            }
        }
    }
}
