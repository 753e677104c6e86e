//! The bodies of the fuzz targets in `fuzz/` (see `fuzz/README.md`), kept in the library so
//! that the stable test `tests/fuzz_corpus.rs` replays every corpus and regression input
//! through the same code, and so that they reach readers private to their modules.
//!
//! Each takes the fuzzer's bytes, runs what Pingan runs on text from outside (a citizen's
//! message, a button's `callback_data`, a partner's CAP file, a notice's body, a typed time)
//! and panics when a property fails. Bytes that are not UTF-8 are what Telegram never
//! delivers (its text is UTF-8), so they are skipped; CAP files get read as bytes are.

use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::{TZ_VARIANTS, Tz};

use crate::bot::command::{self, Parsed};
use crate::cap;
use crate::domain::{
    DigestTime, Frequency, SearchTerms, Subject, Term, index_tokens, next_digest_after, parse_local_time,
    parse_time_zone,
};
use crate::html::{self, Html};
use crate::render::callback::{Callback, MAX_CALLBACK_BYTES};
use crate::render::split::{Block, into_messages, shown};

/// A fixed "now" for readers that need one: inputs, not the clock, should vary.
fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 4, 0, 0).unwrap()
}

/// The locale texts, loaded once: their labels are values the readers accept.
static TEXTS: std::sync::LazyLock<crate::i18n::Texts> =
    std::sync::LazyLock::new(|| crate::i18n::Texts::load().expect("the built-in locale files"));

/// Picks a time zone from one byte, so every input names one of chrono-tz's zones.
fn zone_of(byte: u8) -> Tz {
    TZ_VARIANTS[usize::from(byte) * TZ_VARIANTS.len() / 256]
}

/// A message's text as a command (`/name@bot args`), then each argument reader the handler
/// of that command uses; also the risk check's search for numbers and links in free text
/// (messages typed or forwarded, reports), its reading of `/check`'s arguments, and the
/// search index's tokenizer.
///
/// Properties: nothing panics, the look-alike rules of a link found included; the key of a
/// subject found in text (what the list is looked up by) reads as the same key again; the
/// text folded to simplified characters keeps its length and its search tokens, and read
/// as a search query it finds itself.
pub fn command(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Parsed::Command(command) = command::parse(text, "pingan_bot") {
        crate::bot::handlers::read_arguments(&command, &TEXTS, Tz::Asia__Shanghai, fixed_now());
    }
    let officials = ["alipay.com", "icbc.com.cn", "12306.cn", "工商银行.中国"];
    // The text as /check's arguments too: several values, words around them, misspelt Os.
    let as_check = Subject::read_check(text).unwrap_or_default().into_iter().map(|f| f.into_subject());
    for subject in Subject::find_all(text).into_iter().chain(as_check) {
        if let Subject::Link(domain) = &subject {
            let _ = domain.imitates(officials);
            let _ = domain.script_note();
        }
        let key = subject.key();
        let again = Subject::of_kind(subject.kind(), &key).unwrap_or_else(|e| {
            panic!("{subject} was found in {text:?} but its key {key:?} does not read: {e}")
        });
        assert_eq!(again.key(), key, "{subject} found in {text:?}");
    }
    let tokens = index_tokens(text);
    // Search reads traditional characters as simplified ones, one character at a time: the
    // text in simplified characters is as long and makes the same tokens, and every term of
    // the text read as a query is one of its own tokens (a text finds itself).
    let simple = crate::domain::hanzi::to_simplified(text);
    assert_eq!(simple.chars().count(), text.chars().count(), "{text:?} folded to {simple:?}");
    assert_eq!(index_tokens(&simple), tokens, "{text:?} folded to {simple:?}");
    if let Some(terms) = SearchTerms::parse(text) {
        let tokens: std::collections::HashSet<&str> = tokens.split(' ').collect();
        for term in terms.terms() {
            let (Term::Exact(token) | Term::Prefix(token)) = term;
            assert!(tokens.contains(token.as_str()), "{token:?} of {text:?} is not among its tokens");
        }
    }
}

/// `callback_data` as anyone may send it (a stale button, or forged).
///
/// Properties: nothing panics; what decodes encodes back to the same data's meaning, within
/// Telegram's 64 bytes.
pub fn callback(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(callback) = Callback::decode(text) else { return };
    let encoded = callback.encode();
    assert!(encoded.len() <= MAX_CALLBACK_BYTES, "{callback:?} encodes to {} bytes", encoded.len());
    assert_eq!(Callback::decode(&encoded).as_ref(), Some(&callback), "{text:?} encoded as {encoded:?}");
}

/// A CAP file's bytes, XML (in whatever encoding it names) or JSON, as the importer reads it, then checked and turned into notice
/// content as an import would (storing nothing).
///
/// Properties: nothing panics; an alert Pingan accepts, written back as CAP XML, reads as
/// the same alert.
pub fn cap(data: &[u8]) {
    // The bytes as a file or a feed delivers them, in the encoding they name.
    let alerts = cap::parse_document(data).unwrap_or_default();
    for alert in alerts {
        let _ = cap::prepare(&alert);
        for info in &alert.info {
            let _ = cap::photo_of(info);
        }
        let written = cap::to_xml(&alert);
        let read = cap::parse_xml(&written)
            .unwrap_or_else(|e| panic!("{alert:?} was accepted, but its XML {written:?} is refused: {e}"));
        assert_eq!(read, alert, "written as {written:?}");
    }
}

/// A message of blocks (a title in Pingan's markup, then texts from editors) split into
/// Telegram-sized parts. The first two bytes choose the limit (1 to 4 096 UTF-16 units);
/// the rest is the blocks, separated by NUL, every third one markup.
///
/// Properties: no part is over the limit; every part is well-formed (tags balanced, no bare
/// `<`, `>` or `&`); the parts' text together is the blocks' text (up to the whitespace at
/// the cuts); escaping reads back as the text.
pub fn split(data: &[u8]) {
    let [a, b, rest @ ..] = data else { return };
    let limit = usize::from(u16::from_le_bytes([*a, *b])) % crate::render::split::MESSAGE_LIMIT + 1;
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let mut blocks = Vec::new();
    for (i, piece) in text.split('\0').enumerate() {
        assert_eq!(html::to_plain(&html::escape(piece)), piece, "escaping {piece:?} does not read back");
        blocks.push(if i % 3 == 0 {
            Block::Markup(Html::trusted(format!("<b>{}</b>", html::escape(piece))))
        } else {
            Block::Text(piece.to_owned())
        });
    }
    let parts = into_messages(blocks, limit);
    for part in &parts {
        let units = shown(part).encode_utf16().count();
        assert!(units <= limit.max(2), "a part of {units} units over the limit {limit}: {part:?}");
        assert_well_formed(part.as_str());
    }
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let joined: String = parts.iter().map(shown).collect();
    assert_eq!(squeeze(&joined), squeeze(&text.replace('\0', "")), "parts lose or add text");
}

/// Tags only `<b>` and `</b>`, balanced; `&` only in the four entities Pingan writes.
pub(crate) fn assert_well_formed(html: &str) {
    let mut open = false;
    let mut rest = html;
    while let Some(i) = rest.find(['<', '>', '&']) {
        let tail = &rest[i..];
        let taken = if tail.starts_with("<b>") {
            assert!(!open, "<b> inside <b> in {html:?}");
            open = true;
            3
        } else if tail.starts_with("</b>") {
            assert!(open, "</b> without <b> in {html:?}");
            open = false;
            4
        } else if let Some(entity) =
            ["&lt;", "&gt;", "&amp;", "&quot;"].iter().find(|e| tail.starts_with(**e))
        {
            entity.len()
        } else {
            panic!("a bare {:?} in {html:?}", &tail[..1]);
        };
        rest = &tail[taken..];
    }
    assert!(!open, "<b> left open in {html:?}");
}

/// Times and zones as people type them: `/settings time`, `/settings tz`, a `/post` form's
/// publish time, CAP's dateTime; then the digest schedule over the zone the first byte names.
///
/// Properties: nothing panics; a CAP time written back (in UTC, or at the zone's offset,
/// never as `+00:00`) reads as the same moment; the next
/// digest is after the moment asked about and within 15 days of it.
pub fn time(data: &[u8]) {
    let [zone_byte, rest @ ..] = data else { return };
    let zone = zone_of(*zone_byte);
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let _ = parse_time_zone(text, zone, fixed_now());
    let _ = parse_local_time(text, zone);
    let _ = crate::bot::handlers::typed_expiry(text, zone, fixed_now());
    if let Some(t) = cap::parse_time(text) {
        let whole = t - Duration::nanoseconds(i64::from(t.timestamp_subsec_nanos()));
        assert_eq!(cap::parse_time(&cap::format_time(whole)), Some(whole), "{text:?}");
        // Exports write the bureau's offset: the same moment at any zone's.
        let local = cap::format_time_in(whole, zone);
        assert_eq!(cap::parse_time(&local), Some(whole), "{text:?} written as {local:?} in {zone}");
        assert!(!local.ends_with("+00:00") && !local.ends_with('Z'), "{local:?}");
    }
    if let Ok(digest_time) = text.parse::<DigestTime>() {
        // Any moment in four centuries around now, from the text's own bytes.
        let seed = rest.iter().fold(0i64, |acc, b| acc.wrapping_mul(31).wrapping_add(i64::from(*b)));
        let after = fixed_now() + Duration::seconds(seed.rem_euclid(400 * 365 * 86_400) - 200 * 365 * 86_400);
        for frequency in [Frequency::Daily, Frequency::Weekly(chrono::Weekday::Sun)] {
            let next = next_digest_after(frequency, digest_time, zone, after).unwrap_or_else(|| {
                panic!("no {frequency:?} digest at {digest_time} in {zone} after {after}")
            });
            assert!(next > after && next - after <= Duration::days(15), "{next} for {after} in {zone}");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every input under `fuzz/corpus/<target>` and `fuzz/regressions/<target>` (the inputs
    /// that once failed, kept after the fix), replayed on the stable toolchain.
    fn replay(target: &str, run: fn(&[u8])) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
        let mut count = 0;
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
            for entry in entries {
                let path = entry.unwrap().path();
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| run(&data));
                assert!(outcome.is_ok(), "{} fails", path.display());
                count += 1;
            }
        }
        assert!(count > 0, "no corpus for {target}");
    }

    #[test]
    fn the_command_corpus_passes() {
        replay("command", super::command);
    }

    #[test]
    fn the_callback_corpus_passes() {
        replay("callback", super::callback);
    }

    #[test]
    fn the_cap_corpus_passes() {
        replay("cap", super::cap);
    }

    #[test]
    fn the_split_corpus_passes() {
        replay("split", super::split);
    }

    #[test]
    fn the_time_corpus_passes() {
        replay("time", super::time);
    }
}
