//! Group commit of sent deliveries: the sender's tasks hand over each delivery sent in
//! full, and one task records all that arrived meanwhile with one statement
//! ([`ClaimStore::record_sent_together`](crate::store::ClaimStore::record_sent_together)).
//!
//! On SQLite every statement is a round trip to the thread sqlx runs the connection on,
//! and those hand-offs were most of the sender's CPU (`cargo bench --bench fanout`,
//! BENCHMARKS.md). Nothing waits to fill a batch: while one statement runs the next
//! deliveries queue, and the next statement takes them all (at most [`MOST`]), so a
//! single delivery is recorded as soon as it would have been alone.
//!
//! A delivery the statement did not record — its claim was lost, its notice has a
//! correction it lacks, or the database refused the statement — goes back to its task,
//! which records it with `record_outcome` as before; that tells the cases apart and
//! retries the database.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::store::{ClaimedDelivery, SentRecord, Store};

/// The most deliveries one statement records (five parameters each; SQLite allows
/// 32 766).
const MOST: usize = 256;

/// One delivery sent in full, waiting to be recorded.
struct Sent {
    delivery: ClaimedDelivery,
    parts: i32,
    first_message_id: Option<i32>,
    recorded: oneshot::Sender<bool>,
}

/// The handle the sender's tasks record through; the recording task ends once every
/// handle is dropped.
#[derive(Clone)]
pub(crate) struct Recorder {
    queue: mpsc::UnboundedSender<Sent>,
}

impl Recorder {
    /// Starts the recording task for `store`; `None` when the store records each delivery
    /// in a transaction of its own (PostgreSQL).
    pub(crate) fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> Option<(Recorder, tokio::task::JoinHandle<()>)> {
        if !store.records_sent_together() {
            return None;
        }
        let (queue, received) = mpsc::unbounded_channel();
        let task = tokio::spawn(record(store, clock, received));
        Some((Recorder { queue }, task))
    }

    /// Records the delivery as sent together with the others waiting; false if it was
    /// not recorded (see the module's comment: the caller records it alone).
    pub(crate) async fn record_sent(
        &self,
        delivery: &ClaimedDelivery,
        parts: i32,
        first_message_id: Option<i32>,
    ) -> bool {
        let (recorded, answer) = oneshot::channel();
        let sent = Sent { delivery: delivery.clone(), parts, first_message_id, recorded };
        if self.queue.send(sent).is_err() {
            return false;
        }
        answer.await.unwrap_or(false)
    }
}

async fn record(store: Arc<dyn Store>, clock: Arc<dyn Clock>, mut received: mpsc::UnboundedReceiver<Sent>) {
    let mut batch = Vec::with_capacity(MOST);
    while received.recv_many(&mut batch, MOST).await > 0 {
        let records: Vec<SentRecord<'_>> = batch
            .iter()
            .map(|s| SentRecord {
                delivery: &s.delivery,
                parts: s.parts,
                first_message_id: s.first_message_id,
            })
            .collect();
        let recorded: HashSet<i64> = match store.record_sent_together(&records, clock.now()).await {
            Ok(ids) => ids.into_iter().collect(),
            Err(e) => {
                tracing::warn!(error = %e, deliveries = batch.len(), "cannot record sent deliveries together; recording each");
                HashSet::new()
            }
        };
        drop(records);
        for sent in batch.drain(..) {
            let _ = sent.recorded.send(recorded.contains(&sent.delivery.id));
        }
    }
}
