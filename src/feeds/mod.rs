//! CAP feeds, polled (`cap.feeds`): each feed's URL is fetched with a conditional request,
//! read as one CAP document or as an Atom/RSS index of them ([`index`]), and every new
//! alert goes through the same importer as `pingan notices import` — Alert creates, Update
//! corrects, Cancel withdraws, each once (the importer remembers alerts by sender and
//! identifier), under the same authority rules (`cap.trusted_senders`). A feed speaks only
//! for its configured senders: an alert in it from anyone else is refused and reported.
//!
//! Each feed runs in a task of its own, so one that hangs or breaks never holds up the
//! others or the bot. One instance polls a feed at a time: it takes a lease on the feed's
//! row ([`crate::store::FeedStore`]). After a failure the feed waits twice its interval,
//! then four times, and so on up to an hour (or the interval, if longer).

pub mod fetch;
pub mod index;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::sync::watch;
use url::Url;

use crate::cap;
use crate::clock::Clock;
use crate::config::FeedSettings;
use crate::domain::{Actor, AuditAction, AuditEntry};
use crate::i18n::Texts;
use crate::publishing::Desk;
use crate::store::{FeedClaim, PollOutcome, Store, StoreError};
use fetch::{Fetched, Fetcher, Validators, Wanted};
use index::{EntryCap, Index};

/// How long a poll's lease lasts; [`POLL_LIMIT`] ends a poll well before.
const LEASE: Duration = Duration::minutes(5);
/// The longest one poll may take, every entry's file included.
const POLL_LIMIT: std::time::Duration = std::time::Duration::from_secs(240);
/// The longest wait after failures, unless the feed's interval is longer.
const MAX_BACKOFF: Duration = Duration::hours(1);
/// How soon a feed another instance holds, or one not yet due, is looked at again.
const LOOK_AGAIN: Duration = Duration::seconds(30);

/// What one poll of one feed did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    /// The feed answered `304 Not Modified`.
    pub not_modified: bool,
    /// Entries (or the one document) whose alerts were read this time.
    pub documents: usize,
    pub created: usize,
    pub corrected: usize,
    pub retracted: usize,
    /// The importer's reasons for leaving parts alone.
    pub skipped: Vec<String>,
    /// What the alerts got wrong without becoming unusable (see `cap::Prepared::warnings`).
    pub warnings: Vec<String>,
    /// Alerts refused: from a sender the feed does not speak for, or changing notices
    /// their sender has no authority over.
    pub refused: Vec<String>,
    /// What could not be read or imported; non-empty makes the poll a failure.
    pub errors: Vec<String>,
    /// When the feed is due again.
    pub next_poll_at: Option<DateTime<Utc>>,
}

impl PollReport {
    /// Notices created, corrected or withdrawn.
    pub fn imported(&self) -> u64 {
        (self.created + self.corrected + self.retracted) as u64
    }
}

/// Whether a failed entry is worth fetching again at the next poll.
enum EntryError {
    /// The file could not be fetched or stored now; try again.
    Transient(String),
    /// The file is unusable as it is; remember the entry and report it.
    Permanent(String),
}

/// Polls the configured feeds; one per process, shared by the feeds' tasks.
pub struct FeedPoller {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    texts: Texts,
    zone: Tz,
    own_sender: String,
    trusted_senders: Vec<String>,
    fetcher: Fetcher,
    /// The city's districts, matched against each alert's areas.
    districts: crate::domain::Districts,
}

impl FeedPoller {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        texts: Texts,
        zone: Tz,
        own_sender: String,
        trusted_senders: Vec<String>,
        request_timeout: std::time::Duration,
    ) -> anyhow::Result<FeedPoller> {
        let fetcher = Fetcher::new(request_timeout)
            .map_err(|e| anyhow::anyhow!("cannot set up the feeds' HTTP client: {e}"))?;
        Ok(FeedPoller {
            store,
            clock,
            texts,
            zone,
            own_sender,
            trusted_senders,
            fetcher,
            districts: crate::domain::Districts::default(),
        })
    }

    /// Imported alerts name the districts their areas concern (`bot.districts`).
    pub fn with_districts(self, districts: crate::domain::Districts) -> FeedPoller {
        FeedPoller { districts, ..self }
    }

    /// Polls each of `feeds` whenever it is due, each in a task of its own, until `stop`
    /// turns true.
    pub async fn run(self: Arc<Self>, feeds: Vec<FeedSettings>, stop: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        for feed in feeds {
            tasks.spawn(self.clone().run_feed(feed, stop.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn run_feed(self: Arc<Self>, feed: FeedSettings, mut stop: watch::Receiver<bool>) {
        let feed = Arc::new(feed);
        let mut next_check = self.clock.now();
        loop {
            let now = self.clock.now();
            if now >= next_check {
                // Its own task, so that a panic in a parser ends this poll, not the feed.
                let (poller, this) = (self.clone(), feed.clone());
                let polled = tokio::spawn(async move { poller.poll(&this, false).await }).await;
                next_check = match polled {
                    Ok(Ok(Some(report))) => {
                        log(&feed, &report);
                        report.next_poll_at.unwrap_or(now + LOOK_AGAIN)
                    }
                    Ok(Ok(None)) => now + LOOK_AGAIN.min(interval(&feed)),
                    Ok(Err(e)) => {
                        tracing::warn!(feed = %feed.name, error = %e, "feed: database error; trying again");
                        now + LOOK_AGAIN
                    }
                    Err(e) => {
                        tracing::error!(feed = %feed.name, error = %e, "feed: the poll panicked");
                        now + interval(&feed)
                    }
                };
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }

    /// Polls `feed` once if it is due (or `force`) and no other instance is polling it:
    /// `None` if not. Store errors around the poll are returned; everything that goes
    /// wrong inside it is in the report and the feed's state.
    pub async fn poll(&self, feed: &FeedSettings, force: bool) -> Result<Option<PollReport>, StoreError> {
        let now = self.clock.now();
        let Some(claim) =
            self.store.claim_feed(&feed.name, feed.url.as_str(), now, now + LEASE, force).await?
        else {
            return Ok(None);
        };
        let mut report = PollReport::default();
        let fetched =
            tokio::time::timeout(POLL_LIMIT, self.poll_claimed(feed, &claim, force, &mut report)).await;
        let validators = match fetched {
            Ok(Ok(validators)) => validators,
            Ok(Err(error)) => {
                report.errors.push(error);
                None
            }
            Err(_) => {
                report.errors.push(format!("the poll took longer than {} seconds", POLL_LIMIT.as_secs()));
                None
            }
        };
        let at = self.clock.now();
        let outcome = match (report.errors.is_empty(), validators) {
            (true, validators) => {
                let Validators { etag, last_modified } = validators.unwrap_or_default();
                PollOutcome::Success {
                    etag,
                    last_modified,
                    not_modified: report.not_modified,
                    imported: report.imported(),
                }
            }
            (false, _) => {
                PollOutcome::Failure { error: report.errors.join("; "), imported: report.imported() }
            }
        };
        let next = match &outcome {
            PollOutcome::Success { .. } => at + interval(feed),
            PollOutcome::Failure { .. } => at + backoff(interval(feed), claim.failures + 1),
        };
        report.next_poll_at = Some(next);
        if !self.store.finish_feed_poll(&feed.name, claim.token, at, next, &outcome).await? {
            tracing::warn!(feed = %feed.name, "feed: the poll outlived its lease; another instance polls it now");
        }
        Ok(Some(report))
    }

    /// Fetches the feed and imports what is new. `Ok(None)`: not modified (the stored
    /// validators stay); `Err`: the feed itself could not be read. A forced poll (an
    /// operator's `pingan feeds poll`) asks unconditionally, so that it reads the feed in
    /// full — after its senders changed, say.
    async fn poll_claimed(
        &self,
        feed: &FeedSettings,
        claim: &FeedClaim,
        force: bool,
        report: &mut PollReport,
    ) -> Result<Option<Validators>, String> {
        let validators = match force {
            true => Validators::default(),
            false => Validators { etag: claim.etag.clone(), last_modified: claim.last_modified.clone() },
        };
        let (bytes, validators) = match self.fetcher.get(&feed.url, Wanted::Index, &validators).await {
            Ok(Fetched::NotModified) => {
                report.not_modified = true;
                return Ok(None);
            }
            Ok(Fetched::Body { bytes, validators }) => (bytes, validators),
            Err(e) => return Err(format!("{} {e}", shown(&feed.url))),
        };
        match index::read(&bytes, &feed.url).map_err(|e| format!("{} {e}", shown(&feed.url)))? {
            Index::Cap => match self.import(feed, &bytes, &shown(&feed.url), report).await {
                Ok(()) => {}
                Err(EntryError::Transient(e) | EntryError::Permanent(e)) => report.errors.push(e),
            },
            Index::Entries(entries) => {
                // An entry is read once under the senders the feed speaks for: after the
                // operator changes them, every entry is read again (the importer skips
                // alerts it already has).
                let senders = feed.senders.join(",");
                let keyed: Vec<(String, index::Entry)> =
                    entries.into_iter().map(|e| (format!("{} for {senders}", e.key), e)).collect();
                let keys: Vec<String> = keyed.iter().map(|(key, _)| key.clone()).collect();
                let seen =
                    self.store.seen_feed_entries(&feed.name, &keys).await.map_err(|e| e.to_string())?;
                for (key, entry) in keyed.into_iter().filter(|(key, _)| !seen.contains(key)) {
                    let outcome = match &entry.cap {
                        EntryCap::Missing(why) => Err(EntryError::Permanent(why.clone())),
                        EntryCap::Inline(text) => {
                            self.import(feed, text.as_bytes(), &format!("entry {}", entry.key), report).await
                        }
                        EntryCap::Link(url) => {
                            match self.fetcher.get(url, Wanted::Cap, &Validators::default()).await {
                                Ok(Fetched::Body { bytes, .. }) => {
                                    self.import(feed, &bytes, &shown(url), report).await
                                }
                                Ok(Fetched::NotModified) => {
                                    Err(EntryError::Transient(format!("{} answered 304", shown(url))))
                                }
                                Err(e) => Err(EntryError::Transient(format!("{} {e}", shown(url)))),
                            }
                        }
                    };
                    let remember = match outcome {
                        Ok(()) => true,
                        Err(EntryError::Permanent(e)) => {
                            report.errors.push(e);
                            true
                        }
                        Err(EntryError::Transient(e)) => {
                            report.errors.push(e);
                            false
                        }
                    };
                    if remember {
                        let at = self.clock.now();
                        self.store
                            .record_feed_entry(&feed.name, &key, at)
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
        }
        Ok(Some(validators))
    }

    /// Imports one CAP document (`from` names it in reports), refusing alerts from
    /// senders the feed does not speak for.
    async fn import(
        &self,
        feed: &FeedSettings,
        bytes: &[u8],
        from: &str,
        report: &mut PollReport,
    ) -> Result<(), EntryError> {
        let alerts = cap::parse_document(bytes).map_err(|e| EntryError::Permanent(format!("{from}: {e}")))?;
        let mut prepared = Vec::new();
        let mut refused = Vec::new();
        for mut alert in alerts {
            if !feed.senders.contains(&alert.sender) {
                refused.push(format!(
                    "{from}: alert {} from {}: feed {} speaks for {} only",
                    alert.identifier,
                    alert.sender,
                    feed.name,
                    feed.senders.join(", ")
                ));
                continue;
            }
            if let Some(category) = feed.category {
                cap::set_default_category(&mut alert, category);
            }
            let mut one = cap::prepare(&alert).map_err(|e| EntryError::Permanent(format!("{from}: {e}")))?;
            one.match_districts(&self.districts);
            prepared.push(one);
        }
        report.documents += 1;
        let actor = Actor::Feed(feed.name.clone());
        let desk = Desk {
            store: self.store.as_ref(),
            texts: &self.texts,
            zone: self.zone,
            clock: self.clock.as_ref(),
        };
        let authority =
            cap::Authority { own_sender: &self.own_sender, trusted_senders: &self.trusted_senders };
        let imported = cap::import_prepared(&prepared, &desk, &actor, authority)
            .await
            .map_err(|e| EntryError::Transient(format!("{from}: {e}")))?;
        refused.extend(imported.refused.iter().cloned());
        let changed = imported.created.len() + imported.corrected.len() + imported.retracted.len();
        if changed > 0 || !refused.is_empty() {
            let detail = format!(
                "{} created, {} corrected, {} withdrawn, {} skipped, {} refused, {}",
                imported.created.len(),
                imported.corrected.len(),
                imported.retracted.len(),
                imported.skipped.len(),
                refused.len(),
                crate::i18n::english_count(imported.warnings.len(), "warning", "warnings")
            );
            let entry = AuditEntry {
                at: self.clock.now(),
                actor,
                action: AuditAction::Imported,
                subject: from.to_owned(),
                detail,
            };
            self.store
                .record_audit(&entry)
                .await
                .map_err(|e| EntryError::Transient(format!("{from}: {e}")))?;
        }
        report.created += imported.created.len();
        report.corrected += imported.corrected.len();
        report.retracted += imported.retracted.len();
        report.skipped.extend(imported.skipped);
        report.warnings.extend(imported.warnings);
        report.refused.extend(refused);
        Ok(())
    }
}

fn interval(feed: &FeedSettings) -> Duration {
    Duration::from_std(feed.interval).unwrap_or(Duration::minutes(5))
}

/// The wait after the `failures`-th failure in a row: twice the interval, four times, …,
/// at most an hour or the interval if that is longer.
pub fn backoff(interval: Duration, failures: i64) -> Duration {
    let cap = MAX_BACKOFF.max(interval);
    let factor = 1i32 << failures.clamp(1, 16);
    (interval * factor).min(cap)
}

/// A URL as reports show it: without its query or fragment, which may carry keys.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

fn log(feed: &FeedSettings, report: &PollReport) {
    if !report.errors.is_empty() {
        tracing::warn!(feed = %feed.name, errors = ?report.errors, next = ?report.next_poll_at, "feed poll failed");
    } else if report.imported() > 0 || !report.refused.is_empty() {
        tracing::info!(
            feed = %feed.name,
            created = report.created,
            corrected = report.corrected,
            withdrawn = report.retracted,
            refused = report.refused.len(),
            "feed imported"
        );
    } else {
        tracing::debug!(feed = %feed.name, not_modified = report.not_modified, "feed polled");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour_or_the_interval() {
        let five = Duration::minutes(5);
        let waits: Vec<i64> = (1..=6).map(|n| backoff(five, n).num_minutes()).collect();
        assert_eq!(waits, vec![10, 20, 40, 60, 60, 60]);
        assert_eq!(backoff(Duration::hours(2), 3), Duration::hours(2));
        assert_eq!(backoff(Duration::seconds(10), 100), Duration::hours(1));
    }

    #[test]
    fn shown_urls_lose_their_query() {
        let url = Url::parse("https://alerts.example.org/feed.xml?key=secret#top").unwrap();
        assert_eq!(shown(&url), "https://alerts.example.org/feed.xml");
    }
}
