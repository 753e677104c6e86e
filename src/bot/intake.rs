//! From Telegram's updates to the handlers: each chat's updates in order, chats side by
//! side, and the poller never waiting for any of them.
//!
//! teloxide's dispatcher gives each chat a queue too, but *waits* when one is full, so one
//! flooding chat stalls every other. Here a chat's queue that is full sheds the update
//! (telling the chat once that it is sending too fast), a handler that panics is answered
//! with the generic apology and logged with its update id, and the process and the chat's
//! later updates carry on.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use teloxide::dispatching::UpdateHandler;
use teloxide::dptree;
use teloxide::types::{Me, Update, UpdateKind};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

use super::budget::Verdict;
use super::handlers::HandlerError;
use super::schema::schema;
use crate::app::App;
use crate::domain::{ChatId, Language};
use crate::metrics::Shed;
use crate::telegram::outbound::{OutMessage, Outbound, Target};

/// Updates one chat may have waiting; beyond this the chat is flooding.
const QUEUED_PER_CHAT: usize = 32;
/// Handlers at work at once, over all chats.
const RUNNING: usize = 64;
/// A chat's task ends after this long without updates.
const LANE_IDLE: Duration = Duration::from_secs(30);

/// Who an update came from, as much as the intake needs: its chat's lane, and whom to
/// answer when something goes wrong.
#[derive(Clone, Debug)]
struct Addressee {
    chat: ChatId,
    target: Option<Target>,
    user: Option<i64>,
    language: Option<String>,
    callback_id: Option<String>,
}

impl Addressee {
    fn of(update: &Update) -> Addressee {
        let user = update.from();
        let (target, callback_id) = match &update.kind {
            UpdateKind::Message(m) => {
                let thread_id = m.thread_id.filter(|_| m.is_topic_message).map(|t| t.0.0);
                (Some(Target { chat: ChatId(m.chat.id.0), thread_id }), None)
            }
            UpdateKind::CallbackQuery(q) => (None, Some(q.id.0.clone())),
            _ => (None, None),
        };
        let chat = update.chat().map(|c| ChatId(c.id.0)).or_else(|| user.map(|u| ChatId(u.id.0 as i64)));
        Addressee {
            chat: chat.unwrap_or(ChatId(0)),
            target,
            user: user.map(|u| u.id.0 as i64),
            language: user.and_then(|u| u.language_code.clone()),
            callback_id,
        }
    }

    fn language(&self, app: &App) -> Language {
        Language::from_telegram(self.language.as_deref(), app.settings.default_language)
    }

    /// Says `key` to whoever sent the update: in the chat, or on the button pressed.
    async fn tell(&self, app: &App, out: &dyn Outbound, key: &str) {
        let lang = self.language(app);
        let result = match (&self.callback_id, self.target) {
            (Some(id), _) => {
                out.answer_callback(
                    self.chat,
                    id,
                    Some(&crate::html::to_plain(app.texts.template(lang, key))),
                )
                .await
            }
            (None, Some(target)) => out.send(target, OutMessage::html(app.texts.get(lang, key))).await,
            (None, None) => Ok(()),
        };
        if let Err(e) = result {
            tracing::debug!(chat = self.chat.0, error = %e, "could not tell the sender");
        }
    }
}

struct Shared {
    app: Arc<App>,
    out: Arc<dyn Outbound>,
    me: Me,
    handler: UpdateHandler<HandlerError>,
    running: Semaphore,
}

/// One chat's queue, and the signal its task gives when it has ended.
struct Lane {
    updates: mpsc::Sender<Update>,
    ended: Arc<Notify>,
}

/// Hands updates to per-chat lanes.
pub struct Intake {
    shared: Arc<Shared>,
    lanes: HashMap<i64, Lane>,
    tasks: JoinSet<()>,
}

impl Intake {
    pub fn new(app: Arc<App>, out: Arc<dyn Outbound>, me: Me) -> Intake {
        Intake::with_handler(app, out, me, schema())
    }

    fn with_handler(
        app: Arc<App>,
        out: Arc<dyn Outbound>,
        me: Me,
        handler: UpdateHandler<HandlerError>,
    ) -> Intake {
        let shared = Arc::new(Shared { app, out, me, handler, running: Semaphore::new(RUNNING) });
        Intake { shared, lanes: HashMap::new(), tasks: JoinSet::new() }
    }

    /// Hands `update` to its chat's lane, starting one if needed; never waits.
    pub fn route(&mut self, update: Update) {
        while self.tasks.try_join_next().is_some() {}
        if self.lanes.len() > 10_000 {
            self.lanes.retain(|_, lane| !lane.updates.is_closed());
        }
        let who = Addressee::of(&update);
        let (update, before) = match self.lanes.get(&who.chat.0) {
            Some(lane) => match lane.updates.try_send(update) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.overflow(who);
                    return;
                }
                // The lane is ending (idle): a new one starts once it has finished what it
                // still holds, so the chat's updates stay in order.
                Err(mpsc::error::TrySendError::Closed(update)) => (update, Some(lane.ended.clone())),
            },
            None => (update, None),
        };
        let (sender, updates) = mpsc::channel(QUEUED_PER_CHAT);
        // A fresh channel has room for one.
        let _ = sender.try_send(update);
        let ended = Arc::new(Notify::new());
        self.lanes.insert(who.chat.0, Lane { updates: sender, ended: ended.clone() });
        let shared = self.shared.clone();
        self.tasks.spawn(async move {
            if let Some(before) = before {
                before.notified().await;
            }
            run_lane(shared, updates).await;
            // A permit is kept for a successor that starts waiting only later.
            ended.notify_one();
        });
    }

    fn overflow(&self, who: Addressee) {
        let app = &self.shared.app;
        app.metrics.shed(Shed::UpdateOverflow);
        tracing::debug!(chat = who.chat.0, "chat queue full; update dropped");
        if app.budgets.overflow(who.user, who.chat, QUEUED_PER_CHAT as u32) == Verdict::TellOnce {
            tracing::warn!(chat = who.chat.0, "a chat floods the bot; its extra updates are dropped");
            let shared = self.shared.clone();
            tokio::spawn(async move { who.tell(&shared.app, shared.out.as_ref(), "reply.slow_down").await });
        }
    }

    /// Lets the lanes finish what they hold, for at most `grace`.
    pub async fn finish(mut self, grace: Duration) {
        self.lanes.clear();
        let all = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(?grace, "handlers still busy after the grace period; leaving them");
        }
    }
}

/// One chat's updates, one after another, until it falls idle.
async fn run_lane(shared: Arc<Shared>, mut updates: mpsc::Receiver<Update>) {
    loop {
        let update = tokio::select! {
            update = updates.recv() => match update {
                Some(update) => update,
                None => return,
            },
            () = tokio::time::sleep(LANE_IDLE) => {
                updates.close();
                while let Ok(update) = updates.try_recv() {
                    handle(&shared, update).await;
                }
                return;
            }
        };
        handle(&shared, update).await;
    }
}

/// Runs the handler for one update in a task of its own, so that a panic in it is caught
/// here and answered.
async fn handle(shared: &Arc<Shared>, update: Update) {
    let Ok(_running) = shared.running.acquire().await else { return };
    let who = Addressee::of(&update);
    let id = update.id.0;
    let work = {
        let shared = shared.clone();
        async move {
            let deps = dptree::deps![update, shared.me.clone(), shared.app.clone(), shared.out.clone()];
            shared.handler.dispatch(deps).await
        }
    };
    match tokio::spawn(work).await {
        Ok(ControlFlow::Break(Ok(()))) => {}
        Ok(ControlFlow::Break(Err(e))) => tracing::error!(update = id, error = %e, "a handler failed"),
        Ok(ControlFlow::Continue(_)) => tracing::debug!(update = id, "update not handled"),
        Err(e) if e.is_panic() => {
            shared.app.metrics.shed(Shed::Panic);
            let panic = e.into_panic();
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(update = id, chat = who.chat.0, panic = %message, "a handler panicked; answered with an apology");
            who.tell(&shared.app, shared.out.as_ref(), "reply.internal_error").await;
        }
        Err(_) => tracing::warn!(update = id, "a handler was cancelled"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use serde_json::json;
    use teloxide::dispatching::UpdateFilterExt;
    use teloxide::types::Message;

    use super::*;
    use crate::clock::SystemClock;
    use crate::config::Loaded;
    use crate::html::Html;
    use crate::telegram::outbound::{SendError, Sent, Tracked};

    /// Remembers what the handlers said, and to whom.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<(i64, String)>>);

    impl Recorder {
        fn said(&self) -> Vec<(i64, String)> {
            self.0.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl Outbound for Recorder {
        async fn send(&self, to: Target, message: OutMessage) -> Result<(), SendError> {
            self.0.lock().unwrap().push((to.chat.0, message.html.into_string()));
            Ok(())
        }
        async fn send_tracked(&self, to: Target, message: OutMessage) -> Result<Tracked, SendError> {
            self.send(to, message).await?;
            Ok(Tracked::done(Ok(Sent { chat: to.chat, message_id: 1 })))
        }
        async fn send_photo(&self, _: Target, _: Vec<u8>, _: Html) -> Result<(), SendError> {
            Ok(())
        }
        async fn edit(&self, _: Sent, _: OutMessage) -> Result<(), SendError> {
            Ok(())
        }
        async fn answer_callback(&self, _: ChatId, _: &str, _: Option<&str>) -> Result<(), SendError> {
            Ok(())
        }
        async fn is_chat_admin(&self, _: ChatId, _: i64) -> Result<bool, SendError> {
            Ok(false)
        }
    }

    fn update(id: i32, chat: i64, text: &str) -> Update {
        let json = json!({ "update_id": id, "message": {
            "message_id": id, "date": 1_790_000_000,
            "chat": { "id": chat, "type": "private", "first_name": "U" },
            "from": { "id": chat, "is_bot": false, "first_name": "U", "language_code": "en" },
            "text": text,
        }});
        serde_json::from_str(&json.to_string()).unwrap()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_and_its_chat_and_the_others_go_on() {
        let env = |name: &str| (name == "DATABASE_URL").then(|| "sqlite::memory:".to_owned());
        let settings = Loaded::from_sources(None, &env).unwrap().settings;
        let store = crate::store::connect(&settings.database).await.unwrap();
        let app =
            crate::startup::build_app(store, &settings, settings.bot.clone(), Arc::new(SystemClock)).unwrap();
        let recorder = Arc::new(Recorder::default());
        let out: Arc<dyn Outbound> = recorder.clone();
        let me: Me = serde_json::from_value(json!({
            "id": 1, "is_bot": true, "first_name": "Pingan", "username": "pingan_bot",
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false,
        }))
        .unwrap();
        let handler =
            Update::filter_message().endpoint(|message: Message, out: Arc<dyn Outbound>| async move {
                let text = message.text().unwrap_or_default().to_owned();
                assert_ne!(text, "/boom", "a bug in a handler");
                let target = Target { chat: ChatId(message.chat.id.0), thread_id: None };
                out.send(target, OutMessage::html(Html::escape(&text))).await?;
                Ok(())
            });
        let mut intake = Intake::with_handler(app, out, me, handler);
        intake.route(update(1, 7, "/boom"));
        intake.route(update(2, 7, "after"));
        intake.route(update(3, 8, "elsewhere"));
        intake.finish(Duration::from_secs(5)).await;
        let said = recorder.said();
        let to =
            |chat: i64| said.iter().filter(|(c, _)| *c == chat).map(|(_, t)| t.as_str()).collect::<Vec<_>>();
        let seven = to(7);
        assert_eq!(seven.len(), 2, "{said:?}");
        assert!(seven[0].contains("Sorry, something went wrong"), "the apology first: {said:?}");
        assert_eq!(seven[1], "after", "then the chat's next update, handled");
        assert_eq!(to(8), ["elsewhere"], "other chats go on");
    }
}
