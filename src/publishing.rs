//! Publishing, correcting and retracting notices: the one path every editor tool takes —
//! Telegram, the command line, the HTTP API, CAP imports — so that each is audited and
//! each correction or retraction reaches whoever received the notice.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::clock::Clock;
use crate::domain::{
    Actor, AuditAction, AuditEntry, ChatId, NewNotice, Notice, NoticeCorrection, NoticeId, NoticeStatus,
};
use crate::i18n::Texts;
use crate::render::Style;
use crate::render::broadcast;
use crate::store::{
    ChangeOnce, NewPublication, NoticeChange, Published, Store, StoreError, StoredMessage, change_fingerprint,
};

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("there is no notice {0}")]
    NotFound(NoticeId),
    #[error("notice {0} is {1}; only published or scheduled notices can be changed")]
    NotChangeable(NoticeId, NoticeStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A notice corrected or withdrawn, and who is being told.
#[derive(Clone, Debug)]
pub struct Changed {
    pub notice: Notice,
    /// The follow-ups queued now, one per chat the notice reached.
    pub told: u64,
    /// The fan-out carrying the follow-up (chats the notice reaches later join it).
    pub follow_up: String,
    /// True when the same change had been asked for under the same key before: nothing
    /// was changed or queued now, and `told` is what the first change queued.
    pub repeated: bool,
}

/// The publishing desk: a store, the texts follow-ups are written in, and the clock.
pub struct Desk<'a> {
    pub store: &'a dyn Store,
    pub texts: &'a Texts,
    /// The zone times are shown in, in corrections.
    pub zone: Tz,
    pub clock: &'a dyn Clock,
}

impl Desk<'_> {
    /// An audit entry about `notice`, made at `at`.
    fn entry(
        at: DateTime<Utc>,
        actor: &Actor,
        action: AuditAction,
        notice: NoticeId,
        detail: String,
    ) -> AuditEntry {
        AuditEntry { at, actor: actor.clone(), action, subject: format!("notice {notice}"), detail }
    }

    /// Stores a new notice with its audit entry. The scheduler alerts and mirrors it when
    /// it is published.
    pub async fn publish(&self, notice: &NewNotice, actor: &Actor) -> Result<Notice, PublishError> {
        let publication = NewPublication {
            notices: std::slice::from_ref(notice),
            actor,
            idempotency_key: None,
            ends_dialogue: None,
        };
        Ok(self.publish_once(&publication).await?.notices.remove(0))
    }

    /// Stores the language versions of one alert together, so that the scheduler never
    /// alerts with one before the others exist (and sends readers of the others the wrong
    /// version, with a note).
    pub async fn publish_versions(
        &self,
        notices: &[NewNotice],
        actor: &Actor,
    ) -> Result<Vec<Notice>, PublishError> {
        let publication = NewPublication { notices, actor, idempotency_key: None, ends_dialogue: None };
        Ok(self.publish_once(&publication).await?.notices)
    }

    /// Publishes in one transaction with the audit entries, the idempotency key and the
    /// dialogue it ends: the same key again returns the first result and stores nothing.
    pub async fn publish_once(&self, publication: &NewPublication<'_>) -> Result<Published, PublishError> {
        let published = self.store.publish(publication).await?;
        if published.notices.is_empty() {
            return Err(PublishError::Store(StoreError::NotFound));
        }
        Ok(published)
    }

    async fn changeable(&self, id: NoticeId) -> Result<Notice, PublishError> {
        let notice = self.store.notice(id).await?.ok_or(PublishError::NotFound(id))?;
        if notice.status.is_changeable() {
            Ok(notice)
        } else {
            Err(PublishError::NotChangeable(id, notice.status))
        }
    }

    /// Corrects a notice; everyone its alert or channel post reached gets the corrected
    /// text as a reply to the message they got.
    pub async fn correct(
        &self,
        id: NoticeId,
        correction: &NoticeCorrection,
        actor: &Actor,
    ) -> Result<Changed, PublishError> {
        self.correct_once(id, correction, actor, None, None).await
    }

    /// [`correct`](Self::correct), once: with `idempotency_key`, the same correction asked
    /// for again (a second press, a client's retry) returns the first result and sends
    /// nothing; the key with another correction is a `Conflict`. `ends_dialogue` (chat,
    /// user) is the editor's dialogue, ended in the same transaction.
    pub async fn correct_once(
        &self,
        id: NoticeId,
        correction: &NoticeCorrection,
        actor: &Actor,
        idempotency_key: Option<&str>,
        ends_dialogue: Option<(ChatId, i64)>,
    ) -> Result<Changed, PublishError> {
        let before = self.changeable(id).await?;
        let now = self.clock.now();
        // Rendered from the notice as the correction leaves it, so that the change and
        // the follow-up are stored together.
        let after = correction.applied_to(&before, now);
        let style = Style::new(self.texts, after.content.language, self.zone);
        let key = format!("correction:{id}:{}", now.timestamp_micros());
        let message = StoredMessage {
            content_key: key.clone(),
            parts_json: broadcast::correction(&style, &after).to_json(),
        };
        // The change, its follow-up and its audit entry all happen at `now`.
        let audit = Self::entry(now, actor, AuditAction::Corrected, id, after.content.title.to_string());
        let fingerprint = change_fingerprint(id, correction);
        let once =
            ChangeOnce { idempotency_key: idempotency_key.map(|k| (k, fingerprint.as_str())), ends_dialogue };
        let changed = self.store.change_notice_once(
            id,
            NoticeChange::Correct(correction),
            &key,
            &message,
            &audit,
            once,
        );
        let changed = self.unless_changed_meanwhile(id, changed.await).await?;
        Ok(Changed {
            notice: changed.notice,
            told: changed.told,
            follow_up: changed.follow_up,
            repeated: changed.repeated,
        })
    }

    /// Withdraws a notice; everyone its alert or channel post reached is told, as a reply,
    /// and alerts not yet sent are not sent.
    pub async fn retract(&self, id: NoticeId, actor: &Actor) -> Result<Changed, PublishError> {
        let notice = self.changeable(id).await?;
        let style = Style::new(self.texts, notice.content.language, self.zone);
        let key = format!("retraction:{id}");
        let message = StoredMessage {
            content_key: key.clone(),
            parts_json: broadcast::cancellation(&style, &notice).to_json(),
        };
        let audit = Self::entry(
            self.clock.now(),
            actor,
            AuditAction::Retracted,
            id,
            notice.content.title.to_string(),
        );
        let changed = self.store.change_notice(id, NoticeChange::Retract, &key, &message, &audit);
        let (notice, told) = self.unless_changed_meanwhile(id, changed.await).await?;
        Ok(Changed { notice, told, follow_up: key, repeated: false })
    }

    /// A change the store refused because the notice was withdrawn (or is gone) since
    /// [`changeable`](Self::changeable) read it, said as such.
    async fn unless_changed_meanwhile<T>(
        &self,
        id: NoticeId,
        result: Result<T, StoreError>,
    ) -> Result<T, PublishError> {
        match result {
            Err(StoreError::NotFound) => Err(match self.store.notice(id).await? {
                Some(notice) => PublishError::NotChangeable(id, notice.status),
                None => PublishError::NotFound(id),
            }),
            other => Ok(other?),
        }
    }
}
