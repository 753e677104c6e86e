//! The one transport every message leaves through, and the layer that alone talks to
//! Telegram. The chat handlers (`bot/`) and the delivery engine (`delivery/`) both sit
//! above it; neither sends any other way.
//!
//! - [`api`]: Pingan's Bot API client; it returns Telegram's answer (status,
//!   `retry_after`, `migrate_to_chat_id`) and never sleeps inside a request.
//! - [`error`]: what an answer means for the next step — wait for the chat, retry later,
//!   give up on the message, pause or move the subscription, or pause the whole bot.
//! - [`rate`]: the pacer every message takes a slot from (global rate, per-chat and
//!   per-group spacing, replies first with a guaranteed share for broadcasts).
//! - [`breaker`]: faults of the whole bot (401, 404, unknown 4xx, not Telegram's JSON)
//!   pause all sending until a probe gets a normal answer.
//! - [`transport`]: a turn (breaker, then pacer), a request, and the lessons of its
//!   answer, for replies and broadcasts alike.
//! - [`replies`] and [`outbound`]: what handlers hand their messages to — a bounded queue
//!   per chat, sent in order by the chat's own task, so no handler sleeps for Telegram.

pub mod api;
pub mod breaker;
pub mod error;
pub mod outbound;
pub mod rate;
pub mod replies;
pub mod transport;
