//! From Telegram's updates to the handlers, through the inbox: an update is stored
//! first (by the webhook route, or by the instance that polls), then any instance's
//! workers claim it and handle it — each chat's updates one at a time and in order, chats
//! side by side.
//!
//! A chat can hold at most one worker (only its oldest open update can be claimed), so
//! one flooding chat never stalls the others; and an update that arrives while its chat
//! already has [`QUEUED_PER_CHAT`] waiting is shed (the chat is told once that it sends
//! too fast). A handler that panics is answered with the generic apology and logged with
//! its update id, its update is marked handled, and the process and the chat's later
//! updates carry on.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use teloxide::dispatching::UpdateHandler;
use teloxide::dptree;
use teloxide::types::{Me, Update, UpdateKind};
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::budget::Verdict;
use super::handlers::HandlerError;
use super::schema::schema;
use crate::app::App;
use crate::domain::{ChatId, Language};
use crate::html::Html;
use crate::metrics::Shed;
use crate::store::{ClaimedUpdate, NewUpdate, Received, StoreError};
use crate::telegram::outbound::{
    InlineAnswer, MenuChange, MenusQueued, OutMessage, Outbound, SendError, Sent, Target, Tracked,
};

/// Updates one chat may have waiting (or being handled); beyond this the chat is flooding.
pub const QUEUED_PER_CHAT: u32 = 32;
/// Handlers at work at once in one instance, over all chats.
const RUNNING: usize = 64;
/// How long a handled update waits for its replies to go out before it is marked handled
/// anyway (a reply queue gives a message up after two minutes).
const SETTLE: Duration = Duration::from_secs(60);
/// How often workers with nothing to do look in the inbox for updates another instance
/// stored (updates this instance stores wake them at once).
const IDLE: Duration = Duration::from_millis(200);

/// Who an update came from, as much as the intake needs: its chat, and whom to answer
/// when something goes wrong.
#[derive(Clone, Debug)]
pub struct Addressee {
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
        // An update without a chat (an inline query) is keyed by its sender, whose private
        // chat has the same id: one person's inline queries are handled one at a time, in
        // order, with their private chat's updates, and count against its backlog.
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

/// An update the inbox cannot take: not JSON, or without an `update_id`.
#[derive(Debug, thiserror::Error)]
#[error("not a Telegram update: {0}")]
pub struct Unreadable(String);

/// Why an update was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    /// The database did not take it: Telegram should send it again.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An update read for the inbox: what is stored, and who sent it.
pub struct Arrived {
    pub update: NewUpdate,
    pub who: Addressee,
}

impl Arrived {
    /// Reads an update's JSON as Telegram sends it (one webhook body, or one element of
    /// getUpdates' result).
    pub fn read(raw: &str) -> Result<Arrived, Unreadable> {
        let update: Update = serde_json::from_str(raw).map_err(|e| Unreadable(e.to_string()))?;
        let who = Addressee::of(&update);
        let update = NewUpdate { update_id: i64::from(update.id.0), chat: who.chat, payload: raw.to_owned() };
        Ok(Arrived { update, who })
    }
}

/// Stores updates in the inbox and wakes this instance's workers: the webhook route and
/// the poller both hand updates in here. Cheap to clone.
#[derive(Clone)]
pub struct Receiver {
    app: Arc<App>,
    out: Arc<dyn Outbound>,
    wake: Arc<Notify>,
}

impl Receiver {
    pub fn new(app: Arc<App>, out: Arc<dyn Outbound>) -> Receiver {
        Receiver { app, out, wake: Arc::new(Notify::new()) }
    }

    /// Where the handlers' messages (and the command menus) go.
    pub fn outbound(&self) -> &dyn Outbound {
        self.out.as_ref()
    }

    /// Stores one update (committed when this returns Ok). A repeated `update_id` stores
    /// nothing and is not an error.
    pub async fn receive(&self, raw: &str) -> Result<Received, ReceiveError> {
        let arrived = Arrived::read(raw)?;
        let now = self.app.clock.now();
        let received = self.app.store.receive_update(&arrived.update, QUEUED_PER_CHAT, now).await?;
        self.stored(&arrived.who, received);
        Ok(received)
    }

    /// What follows the storing of an update: workers are woken, a shed update is
    /// counted and its chat told once that it sends too fast.
    pub fn stored(&self, who: &Addressee, received: Received) {
        match received {
            Received::New => self.wake.notify_one(),
            Received::Repeated => {
                tracing::debug!(chat = who.chat.0, "an update arrived again; stored before")
            }
            Received::Shed => self.overflow(who.clone()),
        }
    }

    fn overflow(&self, who: Addressee) {
        let app = &self.app;
        app.metrics.shed(Shed::UpdateOverflow);
        tracing::debug!(chat = who.chat.0, "chat backlog full; update shed");
        if app.budgets.overflow(who.user, who.chat, QUEUED_PER_CHAT) == Verdict::TellOnce {
            tracing::warn!(chat = who.chat.0, "a chat floods the bot; its extra updates are shed");
            let (app, out) = (self.app.clone(), self.out.clone());
            tokio::spawn(async move { who.tell(&app, out.as_ref(), "reply.slow_down").await });
        }
    }
}

struct Shared {
    app: Arc<App>,
    out: Arc<dyn Outbound>,
    me: Me,
    handler: UpdateHandler<HandlerError>,
    worker: String,
    lease: Duration,
    /// Updates this instance's workers hold now, for the heartbeat.
    held: Mutex<HashSet<i64>>,
}

/// This instance's workers: claim updates from the inbox (any instance's) and handle them.
pub struct Workers {
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl Workers {
    /// `worker` names this instance's claims (unique per process start); `lease` is how
    /// long a claim lasts without renewal (renewed every quarter of it while a handler
    /// works), after which another instance handles the update.
    pub fn new(receiver: &Receiver, me: Me, worker: String, lease: Duration) -> Workers {
        Workers::with_handler(receiver, me, worker, lease, schema())
    }

    fn with_handler(
        receiver: &Receiver,
        me: Me,
        worker: String,
        lease: Duration,
        handler: UpdateHandler<HandlerError>,
    ) -> Workers {
        let shared = Arc::new(Shared {
            app: receiver.app.clone(),
            out: receiver.out.clone(),
            me,
            handler,
            worker,
            lease,
            held: Mutex::new(HashSet::new()),
        });
        Workers { shared, wake: receiver.wake.clone() }
    }

    /// Claims and handles updates until `stop`, then lets the handlers at work finish for
    /// at most `grace`; updates still held after that are handled again elsewhere once
    /// their lease runs out.
    pub async fn run(self, stop: watch::Receiver<bool>, grace: Duration) {
        let heartbeat = async {
            loop {
                tokio::time::sleep(self.shared.lease / 4).await;
                self.shared.renew().await;
            }
        };
        tokio::select! {
            () = self.dispatch(stop, grace) => {}
            () = heartbeat => {}
        }
    }

    async fn dispatch(&self, mut stop: watch::Receiver<bool>, grace: Duration) {
        let store = &self.shared.app.store;
        let mut in_flight = JoinSet::new();
        while !*stop.borrow() {
            while in_flight.try_join_next().is_some() {}
            let free = RUNNING.saturating_sub(in_flight.len());
            if free == 0 {
                tokio::select! {
                    _ = in_flight.join_next() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let claimed = match store.claim_updates(&self.shared.worker, self.shared.lease, free as u32).await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim updates from the inbox; trying again shortly");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => {}
                    }
                    continue;
                }
            };
            if claimed.is_empty() {
                // A handler that ends may free its chat's next update.
                tokio::select! {
                    () = self.wake.notified() => {}
                    () = tokio::time::sleep(IDLE) => {}
                    Some(_) = in_flight.join_next() => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            for update in claimed {
                self.shared.hold(update.update_id);
                in_flight.spawn(handle(self.shared.clone(), update));
            }
        }
        let all = async { while in_flight.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!(?grace, "handlers still busy after the grace period; leaving them");
        }
    }
}

impl Shared {
    fn hold(&self, id: i64) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(id);
    }

    fn release(&self, id: i64) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }

    /// Renews the leases of the updates in hand.
    async fn renew(&self) {
        let ids: Vec<i64> = self.held.lock().unwrap_or_else(|p| p.into_inner()).iter().copied().collect();
        if ids.is_empty() {
            return;
        }
        match self.app.store.renew_update_leases(&self.worker, &ids, self.lease).await {
            Ok(held) if held.len() < ids.len() => {
                tracing::warn!(
                    lost = ids.len() - held.len(),
                    "another instance took updates this one was handling"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot renew the leases of updates in hand"),
        }
    }
}

/// Handles one claimed update, catching a panic in its handler (answered with the
/// apology), then marks it handled — only if the claim still holds.
async fn handle(shared: Arc<Shared>, claimed: ClaimedUpdate) {
    let id = claimed.update_id;
    match serde_json::from_str::<Update>(&claimed.payload) {
        Ok(update) => run_handler(&shared, update).await,
        Err(e) => tracing::error!(update = id, error = %e, "an update in the inbox cannot be read; skipped"),
    }
    match shared.app.store.finish_update(&claimed, shared.app.clock.now()).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(update = id, "another instance claimed this update meanwhile"),
        Err(e) => {
            tracing::warn!(update = id, error = %e, "cannot mark an update handled; it will be handled again")
        }
    }
    shared.release(id);
}

async fn run_handler(shared: &Arc<Shared>, update: Update) {
    let settling = Arc::new(Settling { inner: shared.out.clone(), queued: Mutex::new(Vec::new()) });
    handle_update(shared, update, settling.clone()).await;
    settling.settle().await;
}

async fn handle_update(shared: &Arc<Shared>, update: Update, out: Arc<Settling>) {
    let who = Addressee::of(&update);
    let id = update.id.0;
    let out: Arc<dyn Outbound> = out;
    let deps = dptree::deps![update, shared.me.clone(), shared.app.clone(), out.clone()];
    let work = std::panic::AssertUnwindSafe(shared.handler.dispatch(deps)).catch_unwind();
    match work.await {
        Ok(ControlFlow::Break(Ok(()))) => {}
        Ok(ControlFlow::Break(Err(e))) => tracing::error!(update = id, error = %e, "a handler failed"),
        Ok(ControlFlow::Continue(_)) => tracing::debug!(update = id, "update not handled"),
        Err(panic) => {
            shared.app.metrics.shed(Shed::Panic);
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(update = id, chat = who.chat.0, panic = %message, "a handler panicked; answered with an apology");
            who.tell(&shared.app, out.as_ref(), "reply.internal_error").await;
        }
    }
}

/// The outbound one update's handler gets: everything passes on to the instance's reply
/// queues, and the messages it queues are followed, so that the update is marked handled
/// — and its chat's next update, which may go to another instance, can be claimed — only
/// once they are out. An instance that dies before that has its update handled again
/// rather than its replies lost, and one chat's replies keep their order across instances.
/// (Edits, photos and button answers pass on unfollowed; they come after the messages
/// queued before them.)
struct Settling {
    inner: Arc<dyn Outbound>,
    queued: Mutex<Vec<Tracked>>,
}

impl Settling {
    fn follow(&self, tracked: Tracked) {
        self.queued.lock().unwrap_or_else(|p| p.into_inner()).push(tracked);
    }

    /// Waits (at most [`SETTLE`]) until every message followed is sent or given up.
    async fn settle(&self) {
        let queued = std::mem::take(&mut *self.queued.lock().unwrap_or_else(|p| p.into_inner()));
        let all = futures::future::join_all(queued.into_iter().map(Tracked::sent));
        if tokio::time::timeout(SETTLE, all).await.is_err() {
            tracing::warn!(?SETTLE, "replies still queued; the update is marked handled anyway");
        }
    }
}

#[async_trait::async_trait]
impl Outbound for Settling {
    async fn send(&self, to: Target, message: OutMessage) -> Result<(), SendError> {
        let tracked = self.inner.send_tracked(to, message).await?;
        self.follow(tracked);
        Ok(())
    }

    async fn send_tracked(&self, to: Target, message: OutMessage) -> Result<Tracked, SendError> {
        let tracked = self.inner.send_tracked(to, message).await?;
        // The handler's copy of the outcome, and this one's.
        let (tell_handler, for_handler) = Tracked::channel();
        let (tell_here, here) = Tracked::channel();
        tokio::spawn(async move {
            let sent = tracked.sent().await;
            let _ = tell_here.send(sent.clone());
            let _ = tell_handler.send(sent);
        });
        self.follow(here);
        Ok(for_handler)
    }

    async fn send_photo(&self, to: Target, png: Vec<u8>, caption: Html) -> Result<(), SendError> {
        self.inner.send_photo(to, png, caption).await
    }

    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError> {
        self.inner.edit(message, content).await
    }

    async fn answer_callback(
        &self,
        chat: ChatId,
        callback_id: &str,
        text: Option<&str>,
    ) -> Result<(), SendError> {
        self.inner.answer_callback(chat, callback_id, text).await
    }

    async fn is_chat_admin(&self, chat: ChatId, user_id: i64) -> Result<bool, SendError> {
        self.inner.is_chat_admin(chat, user_id).await
    }

    async fn answer_inline(&self, answer: InlineAnswer) -> Result<(), SendError> {
        self.inner.answer_inline(answer).await
    }

    async fn change_menus(&self, changes: Vec<MenuChange>) -> Result<MenusQueued, SendError> {
        self.inner.change_menus(changes).await
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

        async fn change_menus(
            &self,
            _: Vec<crate::telegram::outbound::MenuChange>,
        ) -> Result<crate::telegram::outbound::MenusQueued, SendError> {
            Ok(crate::telegram::outbound::MenusQueued::done(Default::default()))
        }
    }

    fn update(id: i32, chat: i64, text: &str) -> String {
        json!({ "update_id": id, "message": {
            "message_id": id, "date": 1_790_000_000,
            "chat": { "id": chat, "type": "private", "first_name": "U" },
            "from": { "id": chat, "is_bot": false, "first_name": "U", "language_code": "en" },
            "text": text,
        }})
        .to_string()
    }

    async fn app() -> Arc<App> {
        let env = |name: &str| (name == "DATABASE_URL").then(|| "sqlite::memory:".to_owned());
        let settings = Loaded::from_sources(None, &env).unwrap().settings;
        let store = crate::store::open(&settings.database).await.unwrap().0;
        crate::startup::build_app(store, &settings, settings.bot.clone(), Arc::new(SystemClock)).unwrap()
    }

    fn me() -> Me {
        serde_json::from_value(json!({
            "id": 1, "is_bot": true, "first_name": "Pingan", "username": "pingan_bot",
            "can_join_groups": true, "can_read_all_group_messages": false, "supports_inline_queries": false,
            "can_connect_to_business": false, "has_main_web_app": false,
        }))
        .unwrap()
    }

    /// Echoes each text message; panics on /boom.
    fn echo() -> UpdateHandler<HandlerError> {
        Update::filter_message().endpoint(|message: Message, out: Arc<dyn Outbound>| async move {
            let text = message.text().unwrap_or_default().to_owned();
            assert_ne!(text, "/boom", "a bug in a handler");
            let target = Target { chat: ChatId(message.chat.id.0), thread_id: None };
            out.send(target, OutMessage::html(Html::escape(&text))).await?;
            Ok(())
        })
    }

    /// Runs workers until `handled` updates are marked handled (or shed); then stops them.
    async fn work_until(app: &Arc<App>, receiver: &Receiver, handled: i64) {
        let workers = Workers::with_handler(receiver, me(), "w1".into(), Duration::from_secs(30), echo());
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(workers.run(stopped, Duration::from_secs(5)));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let counts = app.store.inbox_counts().await.unwrap();
            if counts.handled + counts.shed >= handled {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "not all handled: {counts:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.send_replace(true);
        running.await.unwrap();
    }

    fn said_to(recorder: &Recorder, chat: i64) -> Vec<String> {
        recorder.said().into_iter().filter(|(c, _)| *c == chat).map(|(_, t)| t).collect()
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_and_its_chat_and_the_others_go_on() {
        let app = app().await;
        let recorder = Arc::new(Recorder::default());
        let receiver = Receiver::new(app.clone(), recorder.clone());
        for (id, chat, text) in [(1, 7, "/boom"), (2, 7, "after"), (3, 8, "elsewhere")] {
            assert_eq!(receiver.receive(&update(id, chat, text)).await.unwrap(), Received::New);
        }
        work_until(&app, &receiver, 3).await;
        let seven = said_to(&recorder, 7);
        assert_eq!(seven.len(), 2, "{seven:?}");
        assert!(seven[0].contains("Sorry, something went wrong"), "the apology first: {seven:?}");
        assert_eq!(seven[1], "after", "then the chat's next update, handled");
        assert_eq!(said_to(&recorder, 8), ["elsewhere"], "other chats go on");
        let counts = app.store.inbox_counts().await.unwrap();
        assert_eq!((counts.handled, counts.pending, counts.handling), (3, 0, 0), "the panicked one too");
    }

    #[tokio::test]
    async fn a_repeated_update_is_stored_once_and_a_flooding_chat_is_shed_past_its_backlog() {
        let app = app().await;
        let recorder = Arc::new(Recorder::default());
        let receiver = Receiver::new(app.clone(), recorder.clone());
        let mut shed = 0;
        for n in 0..40 {
            match receiver.receive(&update(100 + n, 9, &format!("m{n}"))).await.unwrap() {
                Received::New => {}
                Received::Shed => shed += 1,
                Received::Repeated => panic!("not a repeat"),
            }
        }
        assert_eq!(shed, 40 - QUEUED_PER_CHAT as i32);
        assert_eq!(receiver.receive(&update(100, 9, "m0")).await.unwrap(), Received::Repeated);
        assert_eq!(receiver.receive(&update(200, 10, "calm")).await.unwrap(), Received::New);
        assert!(receiver.receive("{\"message\": {}}").await.is_err(), "no update_id");
        work_until(&app, &receiver, 41).await;
        let expected: Vec<String> = (0..QUEUED_PER_CHAT).map(|n| format!("m{n}")).collect();
        let (echoed, told): (Vec<String>, Vec<String>) =
            said_to(&recorder, 9).into_iter().partition(|t| t.starts_with('m'));
        assert_eq!(echoed, expected, "in order, each once, none of the shed ones");
        assert!(told.len() <= 1, "told once at most that it sends too fast: {told:?}");
        assert_eq!(said_to(&recorder, 10), ["calm"]);
    }
}
