//! The scheduler: on every tick it publishes notices whose time has come, expires old
//! ones, fans out new publications (urgent alerts, the channel post) and queues the
//! digests that are due. One instance ticks at a time, the scheduler leader
//! ([`super::leader`]); every step would still be safe to run in several instances at
//! once (a term's overlap, a tick cut off midway): each claims its work in the same
//! transaction that queues it, as the leader module says step by step.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use tokio::sync::{Notify, watch};

use super::leader::Leadership;
use crate::cap;
use crate::clock::Clock;
use crate::config::{BotSettings, DeliverySettings, EmptyDigest, RetentionSettings};
use crate::domain::{
    DigestTime, Figure, FoldedText, Frequency, Interests, Language, Notice, NoticeId, Severity, Subscriber,
    Tip, digest_period, district_reaches, local_date, next_digest_after, tip_of_the_day,
};
use crate::html::Html;
use crate::i18n::Texts;
use crate::render::Style;
use crate::render::broadcast::{self as render, digest_kind};
use crate::render::payload::Payload;
use crate::store::{
    DueDigests, FanoutKind, NewFanout, NoticeQuery, Recipient, Store, StoreError, StoredMessage, TipQuery,
};
use crate::telegram::api::PhotoSource;

/// Queue order: alerts first, then channel posts, then digests.
pub const ALERT_PRIORITY: i32 = 0;
pub const CHANNEL_PRIORITY: i32 = 1;
pub const DIGEST_PRIORITY: i32 = 2;

/// How often retention runs, by the application's clock.
const PRUNE_EVERY: Duration = Duration::minutes(1);
/// Records of each kind one round of retention removes at most, and the rounds per run.
const PRUNE_BATCH: u32 = 500;
const PRUNE_ROUNDS: usize = 20;

/// Due digests handled per round of a tick: one read, and one transaction that queues
/// them all.
const DIGEST_BATCH: u32 = 1_000;
/// Notices in one digest window that are looked at (a window rarely holds more).
const WINDOW_NOTICES: u32 = 500;
/// Rendered digests a tick keeps for its later rounds. A digest is a few KiB, so this
/// bounds the cache to a few MiB when every chat's settings differ; 50 profiles over
/// 100 000 chats (`cargo bench --bench digests`) need 50.
pub const RENDERED_PER_TICK: usize = 1_000;
/// Digest windows (a language's notices between two moments, up to [`WINDOW_NOTICES`]
/// of them) a tick keeps for its later rounds; chats due at one moment share a few.
const WINDOWS_PER_TICK: usize = 64;

pub struct Scheduler {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    texts: Texts,
    bot: BotSettings,
    delivery: DeliverySettings,
    retention: RetentionSettings,
    /// Woken when work is queued, so the sender starts at once.
    work: Arc<Notify>,
    /// When retention last ran (the application's clock).
    last_pruned: std::sync::Mutex<Option<DateTime<Utc>>>,
}

/// What one tick did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub published: u64,
    pub expired: u64,
    pub fanned_out: u64,
    pub digests: u64,
    /// Digest messages rendered: one per distinct digest (see `DigestGroup`) in the tick,
    /// however many rounds its chats come in, unless more than [`RENDERED_PER_TICK`]
    /// distinct ones are due at once.
    pub rendered: u64,
    /// Records retention removed or made anonymous.
    pub pruned: u64,
}

impl Scheduler {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        texts: Texts,
        bot: BotSettings,
        delivery: DeliverySettings,
        retention: RetentionSettings,
        work: Arc<Notify>,
    ) -> Scheduler {
        Scheduler {
            store,
            clock,
            texts,
            bot,
            delivery,
            retention,
            work,
            last_pruned: std::sync::Mutex::new(None),
        }
    }

    /// Ticks while this instance leads (see [`super::leader`]), until `stop` turns true.
    /// An instance that does not lead only waits: its term may begin at any renewal.
    pub async fn run(self, leadership: Arc<Leadership>, mut stop: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(self.delivery.tick);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut terms = leadership.subscribe();
        let mut led = false;
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    if !leadership.is_leader() {
                        continue;
                    }
                    match self.tick().await {
                        Ok(report) if report != TickReport::default() => tracing::info!(?report, "scheduler"),
                        Ok(_) => {}
                        Err(e) if e.is_busy() => tracing::warn!(error = %e, "scheduler: database busy; next tick"),
                        Err(e) => tracing::error!(error = %e, "scheduler tick failed"),
                    }
                }
                // A term just begun ticks at once, not a tick later.
                changed = terms.changed() => {
                    let leads = changed.is_ok() && leadership.is_leader();
                    if leads && !led {
                        ticks.reset_immediately();
                    }
                    led = leads;
                }
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }

    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let now = self.clock.now();
        let mut report = TickReport {
            published: self.store.publish_due(now).await?,
            expired: self.store.expire_due(now).await?,
            ..TickReport::default()
        };
        for notice in self.store.publications_to_fan_out(now, 50).await? {
            report.fanned_out += self.fan_out(&notice, now).await?;
        }
        for subscriber in self.store.unscheduled_subscribers(DIGEST_BATCH).await? {
            // Settings changed (or saved before schedules existed): the next digest, from
            // them and the last one sent — unless they changed again meanwhile.
            let next = subscriber.next_digest_at();
            self.store.schedule_digest(subscriber.chat_id, next, subscriber.updated_at).await?;
        }
        // What the tick's rounds read and render for their digests, kept across rounds: a
        // profile many chats share comes due in every round of 1 000.
        let mut cache = DigestCache::default();
        loop {
            let due = self.store.due_digests(now, DIGEST_BATCH).await?;
            let full = due.len() as u32 == DIGEST_BATCH;
            report.digests += self.queue_digests(due, now, &mut cache).await?;
            if !full {
                break;
            }
        }
        report.rendered = cache.rendered;
        if report.fanned_out + report.digests > 0 {
            self.work.notify_one();
        }
        report.pruned = self.prune(now).await?;
        Ok(report)
    }

    /// Retention, at most once a minute: a few small batches of each kind, each in a short
    /// transaction, so that neither the database nor the tick is held for long.
    async fn prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        {
            let mut last = self.last_pruned.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| now - at < PRUNE_EVERY) {
                return Ok(0);
            }
            *last = Some(now);
        }
        let cutoffs = self.retention.cutoffs(now);
        let mut pruned = 0;
        for _ in 0..PRUNE_ROUNDS {
            let round = self.store.prune(&cutoffs, PRUNE_BATCH).await?;
            pruned += round.total();
            if round.total() == 0 {
                break;
            }
        }
        Ok(pruned)
    }

    fn style(&self, lang: Language, zone: Tz) -> Style<'_> {
        Style::new(&self.texts, lang, zone).with_bot(self.bot.username.as_deref())
    }

    /// The image the notice's CAP alert carried (see [`cap::photo_of`]), as a photo and
    /// its caption: sent before the text of its alert and channel post. A notice written
    /// in Pingan has none.
    async fn photo(&self, notice: &Notice) -> Result<Option<(PhotoSource, Html)>, StoreError> {
        if notice.cap.is_none() {
            return Ok(None);
        }
        let Some(json) = self.store.cap_detail(notice.id).await? else { return Ok(None) };
        let alert: cap::Alert = match serde_json::from_str(&json) {
            Ok(alert) => alert,
            Err(e) => {
                tracing::warn!(notice = notice.id.0, error = %e, "unreadable CAP detail; no photo");
                return Ok(None);
            }
        };
        let Some((source, description)) = alert.info.first().and_then(cap::photo_of) else { return Ok(None) };
        // A caption holds 1024 UTF-16 units; a resource's description is seldom near that,
        // and the alert's text follows the photo, so a longer one keeps its first part.
        let (caption, _rest) = crate::render::split::fit_caption(Html::escape(&description));
        Ok(Some((source, caption)))
    }

    /// Queues a new publication's alert (if urgent) and channel post (if a channel is set).
    async fn fan_out(&self, notice: &Notice, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let published = notice.publish_at.unwrap_or(now);
        let max_age = Duration::from_std(self.delivery.max_publication_age).unwrap_or(Duration::hours(1));
        let mut fanouts = Vec::new();
        if now - published > max_age {
            tracing::info!(notice = notice.id.0, "publication too old to alert or mirror; marking it done");
        } else {
            let style = self.style(notice.content.language, self.bot.time_zone);
            let photo = self.photo(notice).await?;
            let with_photo = |payload: Payload| match &photo {
                Some((source, caption)) => payload.with_photo_first(source.clone(), caption.clone()),
                None => payload,
            };
            if let Some(channel) = self.delivery.channel {
                fanouts.push(NewFanout {
                    key: format!("channel:{}", notice.id),
                    kind: FanoutKind::Channel,
                    notice_id: Some(notice.id),
                    message: stored(
                        format!("channel:{}", notice.id),
                        &with_photo(render::channel_post(&style, notice)),
                    ),
                    priority: CHANNEL_PRIORITY,
                    recipients: vec![Recipient {
                        chat_id: channel,
                        thread_id: None,
                        dedupe_key: format!("channel:{}", notice.id),
                    }],
                });
            }
            if notice.content.severity.is_urgent() {
                fanouts.extend(self.alert_fanouts(notice, &style, &with_photo).await?);
            }
        }
        let queued = self.store.enqueue_publication(notice, &fanouts, now).await?;
        if let Some(queued) = queued.filter(|q| *q > 0) {
            tracing::info!(notice = notice.id.0, deliveries = queued, "publication fanned out");
        }
        Ok(queued.unwrap_or(0))
    }

    /// An urgent notice's alerts: one fan-out to the subscribers in its language, and one
    /// per other language whose subscribers have no published version of it in their own
    /// (a version scheduled for later does not hold an urgent alert back). Extreme
    /// reaches every subscriber its districts reach (a whole-city one: everyone); Severe
    /// respects their filters too. A chat gets one version of
    /// an alert at most (the dedupe key names the language group, not the notice).
    async fn alert_fanouts(
        &self,
        notice: &Notice,
        style: &Style<'_>,
        with_photo: &(dyn Fn(Payload) -> Payload + Sync),
    ) -> Result<Vec<NewFanout>, StoreError> {
        let language = notice.content.language;
        let mut versions: HashSet<Language> = HashSet::from([language]);
        if let Some(group) = &notice.language_group {
            versions.extend(self.store.group_languages(group).await?);
        }
        let alert_key = match &notice.language_group {
            Some(group) => format!("alert:{group}"),
            None => format!("alert:{}", notice.id),
        };
        let text = FoldedText::of_notice(&notice.content.title, &notice.content.body);
        let mut by_language: HashMap<Language, Vec<Recipient>> = HashMap::new();
        // Each profile of settings is filtered once, for all the chats that share it.
        for audience in self.store.alert_audiences().await? {
            let reader = audience.language;
            // Districts first: a notice for the whole city reaches every district, one for
            // 城东区 those who chose it or chose none — Extreme ones too (they skip only the
            // category and keyword filters).
            let wanted = district_reaches(&notice.content.districts, &audience.interests.districts)
                && (notice.content.severity == Severity::Extreme
                    || audience.interests.follows_folded(notice.content.category, &text));
            // Readers of another version get that one from its own fan-out.
            if !wanted || (reader != language && versions.contains(&reader)) {
                continue;
            }
            by_language.entry(reader).or_default().extend(audience.chats.into_iter().map(
                |(chat_id, thread_id)| Recipient {
                    chat_id,
                    thread_id,
                    dedupe_key: format!("{alert_key}:{chat_id}"),
                },
            ));
        }
        let mut fanouts = Vec::new();
        for (reader, mut recipients) in by_language {
            // Queued in the order of the chats' ids, whatever order the profiles came in.
            recipients.sort_unstable_by_key(|r| r.chat_id.0);
            let (key, payload) = if reader == language {
                (format!("alert:{}", notice.id), render::alert(style, notice))
            } else {
                let reader_style = self.style(reader, self.bot.time_zone);
                (
                    format!("alert:{}:{}", notice.id, reader.code()),
                    render::alert_for_other_language(&reader_style, notice),
                )
            };
            fanouts.push(NewFanout {
                message: stored(key.clone(), &with_photo(payload)),
                key,
                kind: FanoutKind::Alert,
                notice_id: Some(notice.id),
                priority: ALERT_PRIORITY,
                recipients,
            });
        }
        // The notice's own language first, for a stable order.
        fanouts.sort_by_key(|f| f.key.len());
        Ok(fanouts)
    }

    /// Groups due subscribers by everything their digest depends on, renders each
    /// group's digest once in the tick (`cache` keeps it for the later rounds), and queues
    /// the round in one transaction.
    async fn queue_digests(
        &self,
        due: Vec<(Subscriber, DateTime<Utc>)>,
        now: DateTime<Utc>,
        cache: &mut DigestCache,
    ) -> Result<u64, StoreError> {
        let mut groups: HashMap<DigestGroup, Vec<Recipient>> = HashMap::new();
        for (s, at) in due {
            let since = s.last_digest_at.unwrap_or(at - digest_period(s.frequency));
            let group = DigestGroup {
                language: s.language,
                zone: s.time_zone,
                time: s.digest_time,
                frequency: s.frequency,
                interests: s.interests(),
                since,
                due: at,
            };
            let dedupe_key = format!("digest:{}:{}", s.chat_id, at.timestamp());
            groups.entry(group).or_default().push(Recipient {
                chat_id: s.chat_id,
                thread_id: s.thread_id,
                dedupe_key,
            });
        }
        let mut round = Vec::with_capacity(groups.len());
        for (group, recipients) in groups {
            let next = next_digest_after(group.frequency, group.time, group.zone, group.due);
            // Down past the next digest too (a long outage): send only the latest, which
            // then covers the whole time since the last one sent.
            let stale = next.is_some_and(|next| next <= now);
            let message = if stale { None } else { self.digest_of(&group, cache).await? };
            round.push(DueDigests {
                fanout_key: format!("digest:{}", group.due.to_rfc3339()),
                message,
                due: group.due,
                next,
                window_start: if stale { group.since } else { group.due },
                recipients,
                priority: DIGEST_PRIORITY,
            });
        }
        self.store.enqueue_digest_groups(&round, now).await
    }

    /// The group's digest: rendered the first time the tick meets the group, from then on
    /// the same message (its content key names the group, so the outbox keeps the first
    /// rendering of it anyway).
    async fn digest_of(
        &self,
        group: &DigestGroup,
        cache: &mut DigestCache,
    ) -> Result<Option<StoredMessage>, StoreError> {
        if let Some(message) = cache.digests.get(group) {
            return Ok(message.clone());
        }
        let window_key = (group.language, group.since, group.due);
        if !cache.windows.contains_key(&window_key) {
            if cache.windows.len() >= WINDOWS_PER_TICK {
                cache.windows.clear();
                cache.folded.clear();
            }
            let query = NoticeQuery {
                language: Some(group.language),
                visible_at: Some(group.due),
                published_since: Some(group.since),
                published_before: Some(group.due),
                limit: WINDOW_NOTICES,
                ..NoticeQuery::default()
            };
            let notices = self.store.list_notices(&query).await?;
            // Each window's notices folded once for every group's filter.
            for n in &notices {
                cache
                    .folded
                    .entry(n.id)
                    .or_insert_with(|| FoldedText::of_notice(&n.content.title, &n.content.body));
            }
            cache.windows.insert(window_key, notices);
        }
        if let Entry::Vacant(slot) = cache.tips.entry(group.language) {
            let query = TipQuery { language: Some(group.language), ..TipQuery::default() };
            slot.insert(self.store.tips(&query).await?);
        }
        // The bureau's figures, read once for every weekly digest of the tick.
        if matches!(group.frequency, Frequency::Weekly(_)) && cache.figures.is_none() {
            cache.figures = Some(self.store.figures().await?);
        }
        let figures = cache.figures.as_deref().unwrap_or_default();
        let message = self.render_digest(
            group,
            &cache.windows[&window_key],
            &cache.folded,
            &cache.tips[&group.language],
            figures,
        );
        cache.rendered += 1;
        if cache.digests.len() >= RENDERED_PER_TICK {
            cache.digests.clear();
        }
        cache.digests.insert(group.clone(), message.clone());
        Ok(message)
    }

    fn render_digest(
        &self,
        group: &DigestGroup,
        window: &[Notice],
        folded: &HashMap<NoticeId, FoldedText>,
        tips: &[Tip],
        figures: &[Figure],
    ) -> Option<StoredMessage> {
        let follows = |n: &&Notice| {
            group.interests.reaches(&n.content.districts)
                && match folded.get(&n.id) {
                    Some(text) => group.interests.follows_folded(n.content.category, text),
                    None => group
                        .interests
                        .follows(n.content.category, &format!("{} {}", n.content.title, n.content.body)),
                }
        };
        let matching: Vec<&Notice> = window.iter().filter(follows).collect();
        if matching.is_empty() && self.delivery.empty_digest == EmptyDigest::Skip {
            return None;
        }
        let style = self.style(group.language, group.zone);
        let weekly = matches!(group.frequency, Frequency::Weekly(_));
        let all: Vec<&Notice> = window.iter().collect();
        let tip = tip_of_the_day(tips, local_date(group.due, group.zone));
        let kind = digest_kind(weekly, group.since, group.due, &style);
        let payload = render::digest(&style, kind, &matching, if weekly { &all } else { &[] }, figures, tip);
        Some(stored(format!("digest:{}", group.content_hash()), &payload))
    }
}

fn stored(content_key: String, payload: &Payload) -> StoredMessage {
    StoredMessage { content_key, parts_json: payload.to_json() }
}

/// What one tick has read and rendered for its digests, for its later rounds. Bounded
/// ([`RENDERED_PER_TICK`], [`WINDOWS_PER_TICK`]): when full it starts again, which costs
/// renderings, never correctness.
#[derive(Default)]
struct DigestCache {
    /// Each group's digest (`None`: nothing to send, and the policy is to skip).
    digests: HashMap<DigestGroup, Option<StoredMessage>>,
    /// The notices of each window: (language, since, due).
    windows: HashMap<(Language, DateTime<Utc>, DateTime<Utc>), Vec<Notice>>,
    /// The windows' notices folded for the filters.
    folded: HashMap<NoticeId, FoldedText>,
    tips: HashMap<Language, Vec<Tip>>,
    figures: Option<Vec<Figure>>,
    /// Digests rendered in the tick so far.
    rendered: u64,
}

/// Everything a digest's content depends on: subscribers who share it share one message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct DigestGroup {
    language: Language,
    zone: Tz,
    time: DigestTime,
    frequency: Frequency,
    interests: Interests,
    since: DateTime<Utc>,
    due: DateTime<Utc>,
}

impl DigestGroup {
    /// A key for the rendered digest that is the same in every instance and every build
    /// (FNV-1a over the group's description; Rust's own hasher may change between builds).
    fn content_hash(&self) -> String {
        let description = format!("{self:?}");
        let hash = description
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        format!("{}:{hash:016x}", self.due.timestamp())
    }
}
