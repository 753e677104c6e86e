//! Why a request to Telegram failed, sorted by what to do next. The sorting follows the
//! Bot API's documented answers (`parameters.retry_after`, `parameters.migrate_to_chat_id`)
//! and the descriptions Telegram gives for chat-level refusals; anything Telegram does not
//! document as a problem of one message is treated as a problem of the whole bot.

use std::time::Duration;

use crate::domain::{ChatId, GoneReason, PauseReason};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429: this chat may not be sent to for this long.
    #[error("rate limited: retry after {0:?}")]
    RetryAfter(Duration),
    /// 403 and the like: the chat cannot be reached again; never retry.
    #[error("the chat is gone ({0})")]
    Gone(GoneReason),
    /// The group became a supergroup with a new id; send there instead.
    #[error("the chat moved to {0}")]
    Migrated(ChatId),
    /// A 400 about the message itself (can't parse entities, message too long, …):
    /// sending it again will not help.
    #[error("Telegram rejected the message: {0}")]
    Rejected(String),
    /// A 400 about the chat: the bot may not send there for now.
    #[error("the chat refuses messages for now ({0})")]
    ChatPaused(PauseReason),
    /// 400 "message thread not found": the forum topic is gone; the chat itself is not.
    #[error("the forum topic is gone")]
    TopicGone,
    /// 5xx, a timeout or a network failure: worth trying again later.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// 401, 404, a 4xx Telegram does not document, an answer that is not Telegram's JSON:
    /// the bot as a whole cannot send (a revoked token, a misrouted API server). Sending
    /// pauses and every message waits.
    #[error("Telegram refuses the bot: {0}")]
    SystemFault(String),
    /// Pingan held the message back without asking Telegram: the chat's reply queue is
    /// full, or sending is paused after a system fault.
    #[error("not sent: {0}")]
    NotSent(String),
}

/// Sorts Telegram's answer `code` with `description` (no `retry_after` or
/// `migrate_to_chat_id` in it) by what to do next.
pub fn classify(code: u16, description: &str) -> SendError {
    let lower = description.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(needle);
    match code {
        500.. => SendError::Transient(description.to_owned()),
        429 => SendError::Transient(description.to_owned()),
        400 | 403 => {
            if has("message thread not found") || has("topic_deleted") {
                SendError::TopicGone
            } else if has("topic_closed") {
                SendError::ChatPaused(PauseReason::TopicClosed)
            } else if has("not enough rights")
                || has("have no rights to send")
                || has("need administrator rights")
                || has("chat_write_forbidden")
                || has("chat_restricted")
            {
                SendError::ChatPaused(PauseReason::NoRights)
            } else if has("blocked by the user") || has("can't initiate conversation") {
                SendError::Gone(GoneReason::Blocked)
            } else if has("user is deactivated") {
                SendError::Gone(GoneReason::Deactivated)
            } else if has("chat not found")
                || has("peer_id_invalid")
                || has("user not found")
                || has("chat was deactivated")
            {
                SendError::Gone(GoneReason::ChatNotFound)
            } else if code == 403 || has("kicked") || has("not a member") {
                SendError::Gone(GoneReason::Kicked)
            } else {
                SendError::Rejected(description.to_owned())
            }
        }
        _ => SendError::SystemFault(format!("{code} {description}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_level_refusals_are_not_message_faults() {
        assert_eq!(classify(400, "Bad Request: message thread not found"), SendError::TopicGone);
        assert_eq!(
            classify(400, "Bad Request: TOPIC_CLOSED"),
            SendError::ChatPaused(PauseReason::TopicClosed)
        );
        assert_eq!(
            classify(400, "Bad Request: not enough rights to send text messages to the chat"),
            SendError::ChatPaused(PauseReason::NoRights)
        );
        assert_eq!(
            classify(403, "Forbidden: bot have no rights to send messages"),
            SendError::ChatPaused(PauseReason::NoRights)
        );
        assert_eq!(
            classify(400, "Bad Request: need administrator rights in the channel chat"),
            SendError::ChatPaused(PauseReason::NoRights)
        );
    }

    #[test]
    fn faults_of_the_whole_bot_are_told_apart_from_faults_of_a_message() {
        assert!(matches!(classify(401, "Unauthorized"), SendError::SystemFault(_)));
        assert!(matches!(classify(404, "Not Found"), SendError::SystemFault(_)));
        assert!(matches!(classify(409, "Conflict"), SendError::SystemFault(_)));
        assert!(matches!(classify(400, "Bad Request: can't parse entities"), SendError::Rejected(_)));
        assert!(matches!(classify(400, "Bad Request: message is too long"), SendError::Rejected(_)));
        assert!(matches!(classify(502, "Bad Gateway"), SendError::Transient(_)));
    }

    #[test]
    fn unreachable_chats_are_gone() {
        assert_eq!(
            classify(403, "Forbidden: bot was blocked by the user"),
            SendError::Gone(GoneReason::Blocked)
        );
        assert_eq!(classify(403, "Forbidden: user is deactivated"), SendError::Gone(GoneReason::Deactivated));
        assert_eq!(
            classify(403, "Forbidden: bot was kicked from the supergroup chat"),
            SendError::Gone(GoneReason::Kicked)
        );
        assert_eq!(classify(400, "Bad Request: chat not found"), SendError::Gone(GoneReason::ChatNotFound));
    }

    /// A basic group Telegram deactivated: no message will reach it again, so its
    /// subscription ends, rather than every broadcast to it failing as a bad message.
    #[test]
    fn a_deactivated_group_is_gone_not_a_bad_message() {
        assert_eq!(
            classify(400, "Bad Request: group chat was deactivated"),
            SendError::Gone(GoneReason::ChatNotFound)
        );
    }
}
