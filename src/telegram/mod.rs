//! The one transport every message leaves through: Pingan's Bot API client and its error
//! classification, the rate limiter, and the reply queue that handlers hand messages to.
//! The chat handlers (`bot/`) and the delivery engine (`delivery/`) both sit above it.

pub mod api;
pub mod breaker;
pub mod error;
pub mod outbound;
pub mod rate;
pub mod replies;
pub mod transport;
