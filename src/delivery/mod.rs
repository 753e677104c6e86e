//! Delivery: everything that is not a direct reply goes through the durable outbox.
//! scheduler -> outbox (store) -> sender -> transport (`telegram/`) -> Telegram.
//!
//! The scheduler decides what goes to whom (publications, alerts in every language,
//! digests) and queues it in the transaction that decides it; the sender claims rows with
//! fenced leases and sends them. What "exactly once" and "at least once" mean here is in
//! [`sender`].

pub mod instances;
pub mod leader;
mod recorder;
pub mod scheduler;
pub mod sender;
