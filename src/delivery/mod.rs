//! Delivery: everything that is not a direct reply goes through the durable outbox.
//! scheduler -> outbox (store) -> sender -> Telegram.

pub mod scheduler;
pub mod sender;
