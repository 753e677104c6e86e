//! What every handler needs: storage, texts, the clock and the bot's settings.

use std::sync::Arc;

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
}

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
        App { store, texts, clock, settings, delivery, retention, budgets, metrics: Arc::default() }
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
