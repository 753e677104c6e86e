//! Deep links into the bot: `https://t.me/<bot>?start=<payload>` opens the private chat
//! and sends `/start <payload>` (Bot API, "Deep linking": a payload is 1–64 characters of
//! `A–Z a–z 0–9 _ -`). Pingan's payloads, both ways:
//!
//! - `n42`: notice 42, the card `/notice 42` gives;
//! - `tip_<scam type key>` (`tip_order_brushing`): that type's anti-fraud tips;
//! - `check`: the risk check's prompt.

use crate::domain::{NoticeId, ScamType, TipId};
use crate::html::{Html, escape};

/// The most characters a start payload may have (Bot API, "Deep linking").
pub const PAYLOAD_LIMIT: usize = 64;

/// What a `/start` payload asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartPayload {
    /// `n<id>`: one notice.
    Notice(NoticeId),
    /// `tip_<key>`: one scam type's tips.
    Tips(ScamType),
    /// `check`: the risk check.
    Check,
}

impl StartPayload {
    /// Reads a payload; `None` for anything Pingan does not link to (an old or mistyped
    /// link, or text longer or other than Telegram lets a payload be).
    pub fn parse(payload: &str) -> Option<StartPayload> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        if payload.is_empty() || payload.len() > PAYLOAD_LIMIT || !payload.bytes().all(allowed) {
            return None;
        }
        if payload == "check" {
            return Some(StartPayload::Check);
        }
        if let Some(key) = payload.strip_prefix("tip_") {
            return key.parse().ok().map(StartPayload::Tips);
        }
        let digits = payload.strip_prefix('n')?;
        // `n042` is not the link Pingan draws for notice 42: one spelling per notice.
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<i64>().ok().filter(|id| *id > 0).map(|id| StartPayload::Notice(NoticeId(id)))
    }

    /// The payload as the link carries it.
    pub fn encode(self) -> String {
        match self {
            StartPayload::Notice(id) => format!("n{}", id.0),
            StartPayload::Tips(kind) => format!("tip_{}", kind.as_str()),
            StartPayload::Check => "check".to_owned(),
        }
    }
}

/// `https://t.me/<bot>?start=<payload>` for the bot whose @username (without the @) is `bot`.
pub fn deep_link(bot: &str, payload: StartPayload) -> String {
    format!("https://t.me/{bot}?start={}", payload.encode())
}

/// `inner` (markup already) as a link to `payload`, or `inner` alone when the bot's
/// username is not known (`bot` is `None`: nothing to link to).
pub fn linked(bot: Option<&str>, payload: StartPayload, inner: &Html) -> Html {
    match bot {
        Some(bot) => {
            let href = escape(&deep_link(bot, payload));
            Html::trusted(format!("<a href=\"{href}\">{}</a>", inner.as_str()))
        }
        None => inner.clone(),
    }
}

/// What a Share button (`switch_inline_query`) types after the bot's @username, and the
/// inline mode reads back to offer that item first: `tip:<id>` for a tip, `n<id>` for a
/// notice (the start payload's spelling, so both kinds of link read alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedItem {
    Tip(TipId),
    Notice(NoticeId),
}

impl SharedItem {
    /// The inline query that brings this item first.
    pub fn query(self) -> String {
        match self {
            SharedItem::Tip(id) => format!("tip:{}", id.0),
            SharedItem::Notice(id) => StartPayload::Notice(id).encode(),
        }
    }

    /// Reads an inline query (spaces around it ignored); `None` for any other text,
    /// which is searched instead.
    pub fn parse(query: &str) -> Option<SharedItem> {
        let query = query.trim();
        if let Some(digits) = query.strip_prefix("tip:") {
            let ok =
                !digits.starts_with('0') && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            return ok.then(|| digits.parse::<i64>().ok()).flatten().map(|id| SharedItem::Tip(TipId(id)));
        }
        match StartPayload::parse(query)? {
            StartPayload::Notice(id) => Some(SharedItem::Notice(id)),
            StartPayload::Tips(_) | StartPayload::Check => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_back_what_links_carry() {
        let all = [StartPayload::Notice(NoticeId(42)), StartPayload::Check]
            .into_iter()
            .chain(ScamType::ALL.iter().map(|k| StartPayload::Tips(*k)));
        for payload in all {
            let encoded = payload.encode();
            assert!(encoded.len() <= PAYLOAD_LIMIT, "{encoded}");
            assert_eq!(StartPayload::parse(&encoded), Some(payload), "{encoded}");
        }
        assert_eq!(StartPayload::parse("n7"), Some(StartPayload::Notice(NoticeId(7))));
        assert_eq!(
            StartPayload::parse("tip_order_brushing"),
            Some(StartPayload::Tips(ScamType::OrderBrushing))
        );
    }

    #[test]
    fn anything_else_is_no_payload_of_pingan() {
        let long = format!("n{}", "1".repeat(64));
        for bad in
            ["", "n", "n0", "n042", "n-3", "n4x", "tip_", "tip_nope", "CHECK", "notice-12", "n 4", &long]
        {
            assert_eq!(StartPayload::parse(bad), None, "{bad}");
        }
        assert_eq!(StartPayload::parse("n99999999999999999999"), None, "past i64");
    }

    #[test]
    fn shared_items_read_back_what_share_buttons_type() {
        for item in [SharedItem::Tip(TipId(12)), SharedItem::Notice(NoticeId(42))] {
            assert_eq!(SharedItem::parse(&item.query()), Some(item), "{}", item.query());
        }
        assert_eq!(SharedItem::parse(" n42 "), Some(SharedItem::Notice(NoticeId(42))));
        for other in ["", "刷单", "tip:", "tip:0", "tip:07", "tip:x", "n042", "check", "tip_loan", "n4 2"] {
            assert_eq!(SharedItem::parse(other), None, "{other}");
        }
    }

    #[test]
    fn a_link_wraps_its_text_only_when_the_bot_is_known() {
        let title = Html::escape("A & B");
        let html = linked(Some("pingan_bot"), StartPayload::Notice(NoticeId(42)), &title);
        assert_eq!(html.as_str(), "<a href=\"https://t.me/pingan_bot?start=n42\">A &amp; B</a>");
        assert_eq!(linked(None, StartPayload::Check, &title), title);
    }
}
