//! What every handler needs: storage, texts, the clock and the bot's settings.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::bot::incoming::Origin;
use crate::clock::Clock;
use crate::config::{BotSettings, DeliverySettings, RetentionSettings};
use crate::domain::{Language, Role};
use crate::i18n::Texts;
use crate::store::{Store, StoreError};

#[derive(Debug)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub texts: Texts,
    pub clock: Arc<dyn Clock>,
    pub settings: BotSettings,
    pub delivery: DeliverySettings,
    /// How long what is no longer needed is kept (`/about` tells citizens).
    pub retention: RetentionSettings,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// How much each person and group may ask in a minute.
    pub budgets: crate::bot::budget::Budgets,
    /// The @usernames this process last noted, so an unchanged one costs no read.
    pub usernames: crate::bot::usernames::NotedUsernames,
    /// The search index's vocabulary for "did you mean", and when it was read.
    vocabulary: std::sync::Mutex<Option<(DateTime<Utc>, Arc<crate::domain::Vocabulary>)>>,
}

/// How long a vocabulary read for "did you mean" is used again. A word indexed since is
/// not suggested until then; a suggestion is searched before it is offered, so a stale
/// vocabulary never offers one that finds nothing.
pub const VOCABULARY_FRESH_SECS: i64 = 60;

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        texts: Texts,
        clock: Arc<dyn Clock>,
        settings: BotSettings,
        delivery: DeliverySettings,
        retention: RetentionSettings,
    ) -> App {
        let budgets = crate::bot::budget::Budgets::new(settings.budgets);
        App {
            store,
            texts,
            clock,
            settings,
            delivery,
            retention,
            budgets,
            metrics: Arc::default(),
            usernames: Default::default(),
            vocabulary: Default::default(),
        }
    }

    /// The search index's vocabulary, read from the store at most once a
    /// [`VOCABULARY_FRESH_SECS`] (building it costs a read of every indexed token).
    pub async fn vocabulary(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Arc<crate::domain::Vocabulary>, crate::store::StoreError> {
        let cached = self.vocabulary.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((at, vocabulary)) = cached
            && (now - at).num_seconds().abs() < VOCABULARY_FRESH_SECS
        {
            return Ok(vocabulary);
        }
        let vocabulary = Arc::new(self.store.search_vocabulary().await?);
        *self.vocabulary.lock().unwrap_or_else(|p| p.into_inner()) = Some((now, vocabulary.clone()));
        Ok(vocabulary)
    }

    /// The publishing desk, for editors' changes.
    pub fn desk(&self) -> crate::publishing::Desk<'_> {
        crate::publishing::Desk {
            store: self.store.as_ref(),
            texts: &self.texts,
            zone: self.settings.time_zone,
            clock: self.clock.as_ref(),
        }
    }

    /// The language of a chat without settings of its own: its sender's client language.
    pub fn language_for(&self, origin: &Origin) -> Language {
        let code = origin.sender.as_ref().and_then(|s| s.language_code.as_deref());
        Language::from_telegram(code, self.settings.default_language)
    }

    /// Who publishes Pingan, as said in `lang`.
    pub fn publisher(&self, lang: Language) -> &str {
        match lang {
            Language::Zh => &self.settings.publisher_zh,
            Language::En => &self.settings.publisher_en,
        }
    }

    /// The user's role: owners named in the configuration, then the admins table.
    pub async fn role_of(&self, user_id: i64) -> Result<Option<Role>, StoreError> {
        if self.settings.owners.contains(&user_id) {
            return Ok(Some(Role::Owner));
        }
        Ok(self.store.admin(user_id).await?.map(|admin| admin.role))
    }
}
