//! A fake Telegram Bot API on 127.0.0.1 that speaks the real wire format.
//!
//! It answers `getMe`, `getUpdates` (offsets, long polling, 409 on a competing poll),
//! `sendMessage`, `editMessageText`, `answerCallbackQuery`, `setMyCommands`,
//! `getMyCommands`, `sendPhoto`, `answerInlineQuery` (see `inline`), `deleteWebhook`
//! and a few more; records every call;
//! refuses what Telegram refuses (empty or over-long text, malformed HTML, bad buttons);
//! and on demand answers 429, 403, 400-migrate, 5xx or slowly, 401 and 404 for a while,
//! a proxy's HTML page, chat-level 400s (a closed or deleted topic, no rights), and
//! enforces Telegram's flood limits. In webhook mode (after `setWebhook`) it POSTs updates
//! to the webhook, or round-robin over several targets (see `webhook`), instead of
//! answering `getUpdates`. Tests drive it with updates and wait on what the bot sent — no
//! sleeping.

pub mod html;
mod http;
pub mod inline;
pub mod methods;
pub mod rate;
pub mod state;
pub mod webhook;
pub mod wire;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use inline::{ChosenMessage, InlineAnswer};
pub use state::{Call, Fault, FaultRule, Limits, SentMessage, State};
pub use webhook::{WebhookInfo, WebhookPost};
pub use wire::{ForwardOrigin, TgUser};
use wire::{chat_json, command_entities};

/// How long a test waits for the bot before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

pub(crate) struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify(&self) {
        self.changed.send_modify(|n| *n += 1);
    }
}

pub struct FakeTelegram {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: JoinHandle<()>,
    poster: JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
        self.poster.abort();
    }
}

impl FakeTelegram {
    pub const TOKEN: &'static str = "123456:TEST-fake-token";

    pub async fn start() -> FakeTelegram {
        Self::start_with_token(Self::TOKEN).await
    }

    pub async fn start_with_token(token: &str) -> FakeTelegram {
        let (changed, _) = watch::channel(0);
        let shared = Arc::new(Shared { state: Mutex::new(State::new(token)), changed });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake Bot API");
        let addr = listener.local_addr().expect("fake Bot API address");
        let app = http::router(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Bot API server");
        });
        let poster = tokio::spawn(webhook::post_updates(shared.clone()));
        FakeTelegram { shared, addr, server, poster }
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn bot_username(&self) -> String {
        self.shared.lock().bot_username.clone()
    }

    // --- Updates: what users do -------------------------------------------------------

    /// Queues a raw update (its `update_id` is assigned here) and returns its id.
    pub fn push_update(&self, update: Value) -> i64 {
        let id = self.shared.lock().push_update(update);
        self.shared.notify();
        id
    }

    /// The next update gets id `next` (ids count on from there), as Telegram's go on
    /// from where another bot process's stopped.
    pub fn continue_update_ids_from(&self, next: i64) {
        let mut state = self.shared.lock();
        state.next_update_id = state.next_update_id.max(next);
    }

    /// `user` types `text` in their private chat with the bot; returns the message id.
    pub fn user_sends(&self, user: &TgUser, text: &str) -> i32 {
        self.message_in(user.id, user, text, None)
    }

    /// `user` shares a location (📎 → Location) in their private chat: a message with
    /// Telegram's `location` object (`latitude`, `longitude` in degrees, and the
    /// `horizontal_accuracy` in metres clients add) and no text.
    pub fn user_shares_location(&self, user: &TgUser, latitude: f64, longitude: f64) -> i32 {
        let mut state = self.shared.lock();
        let message_id = state.next_message_id(user.id);
        let message = json!({
            "message_id": message_id,
            "date": 1_790_000_000,
            "chat": chat_json(user.id, false),
            "from": user.json(),
            "location": { "latitude": latitude, "longitude": longitude, "horizontal_accuracy": 12.5 },
        });
        state.push_update(json!({ "message": message }));
        drop(state);
        self.shared.notify();
        message_id
    }

    /// `user` forwards to the bot a message `text` that `from` (a user hiding their
    /// account, as most scammers' messages show) sent them.
    pub fn user_forwards(&self, user: &TgUser, text: &str, from: &str) -> i32 {
        self.forward(user, json!({ "text": text }), &ForwardOrigin::HiddenUser(from.to_owned()))
    }

    /// `user` forwards to the bot a message `text` from `origin` (a person with a linked
    /// account, one who hides it, a group or a channel), as Bot API 7 describes it.
    pub fn user_forwards_from(&self, user: &TgUser, text: &str, origin: &ForwardOrigin) -> i32 {
        self.forward(user, json!({ "text": text }), origin)
    }

    /// `user` forwards a photo with `caption` (a scammer's QR code, say) in their private
    /// chat with the bot.
    pub fn user_forwards_photo(&self, user: &TgUser, caption: &str, from: &str) -> i32 {
        let photo = json!([{ "file_id": "AgADqr", "file_unique_id": "AQADqr", "width": 320, "height": 320 }]);
        self.forward(
            user,
            json!({ "photo": photo, "caption": caption }),
            &ForwardOrigin::HiddenUser(from.to_owned()),
        )
    }

    fn forward(&self, user: &TgUser, content: serde_json::Value, origin: &ForwardOrigin) -> i32 {
        let mut state = self.shared.lock();
        let message_id = state.next_message_id(user.id);
        let mut message = json!({
            "message_id": message_id,
            "date": 1_790_000_000,
            "chat": chat_json(user.id, false),
            "from": user.json(),
            "forward_origin": origin.json(1_789_990_000),
        });
        if let (Some(message), serde_json::Value::Object(content)) = (message.as_object_mut(), content) {
            message.extend(content);
        }
        state.push_update(json!({ "message": message }));
        drop(state);
        self.shared.notify();
        message_id
    }

    /// `user` types `text` in a group (optionally inside a forum topic).
    pub fn group_member_sends(&self, chat_id: i64, user: &TgUser, text: &str, thread_id: Option<i32>) -> i32 {
        self.message_in(chat_id, user, text, thread_id)
    }

    fn message_in(&self, chat_id: i64, user: &TgUser, text: &str, thread_id: Option<i32>) -> i32 {
        let mut state = self.shared.lock();
        let message_id = state.next_message_id(chat_id);
        let channel = state.channels.contains(&chat_id);
        let mut message = json!({
            "message_id": message_id,
            "date": 1_790_000_000,
            "chat": chat_json(chat_id, channel),
            "from": user.json(),
            "text": text,
        });
        if let Some(entities) = command_entities(text) {
            message["entities"] = entities;
        }
        if let Some(thread) = thread_id {
            message["message_thread_id"] = json!(thread);
            message["is_topic_message"] = json!(true);
        }
        state.push_update(json!({ "message": message }));
        drop(state);
        self.shared.notify();
        message_id
    }

    /// A group became a supergroup: the service messages Telegram sends in both, the old
    /// group's (`migrate_to_chat_id`) first.
    pub fn group_migrates(&self, old: i64, new: i64) {
        let mut state = self.shared.lock();
        let (to_id, from_id) = (state.next_message_id(old), state.next_message_id(new));
        state.push_update(json!({ "message": {
            "message_id": to_id, "date": 1_790_000_000, "chat": chat_json(old, false),
            "from": { "id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot" },
            "migrate_to_chat_id": new,
        }}));
        state.push_update(json!({ "message": {
            "message_id": from_id, "date": 1_790_000_000,
            "chat": { "id": new, "type": "supergroup", "title": "Supergroup" },
            "from": { "id": 1087968824, "is_bot": true, "first_name": "Group", "username": "GroupAnonymousBot" },
            "migrate_from_chat_id": old,
        }}));
        drop(state);
        self.shared.notify();
    }

    /// The bot's membership in `chat` changes to `member` (a `ChatMember` object without its
    /// `user`, such as `{"status": "restricted", "can_send_messages": false, …}`).
    pub fn bot_membership(&self, chat_id: i64, member: Value) {
        let mut state = self.shared.lock();
        let bot = wire::bot_user_json(state.bot_id, &state.bot_username);
        let mut new = member;
        new["user"] = bot.clone();
        let chat = chat_json(chat_id, state.channels.contains(&chat_id));
        state.push_update(json!({ "my_chat_member": {
            "chat": chat,
            "from": { "id": 42, "is_bot": false, "first_name": "Admin" },
            "date": 1_790_000_000,
            "old_chat_member": { "status": "member", "user": bot },
            "new_chat_member": new,
        }}));
        drop(state);
        self.shared.notify();
    }

    /// `user` presses the button with callback `data` on `message`; returns the query id.
    pub fn press(&self, user: &TgUser, message: &SentMessage, data: &str) -> String {
        let mut state = self.shared.lock();
        let id = format!("cq{}", state.callback_queries.len() + 1);
        state.callback_queries.insert(id.clone(), false);
        let channel = state.channels.contains(&message.chat_id);
        let mut shown = json!({
            "message_id": message.message_id,
            "date": 1_790_000_000,
            "chat": chat_json(message.chat_id, channel),
            "from": wire::bot_user_json(state.bot_id, &state.bot_username),
            "text": message.text,
        });
        if let Some(thread) = message.thread_id {
            shown["message_thread_id"] = json!(thread);
            shown["is_topic_message"] = json!(true);
        }
        state.push_update(json!({
            "callback_query": {
                "id": id,
                "from": user.json(),
                "chat_instance": format!("ci{}", message.chat_id),
                "message": shown,
                "data": data,
            }
        }));
        drop(state);
        self.shared.notify();
        id
    }

    // --- Inline mode ------------------------------------------------------------------

    /// Turns inline mode on, as @BotFather's `/setinline` does (`getMe` then says
    /// `supports_inline_queries`).
    pub fn enable_inline_mode(&self) {
        self.shared.lock().inline_mode = true;
    }

    /// `user` types `@<bot> query` in a chat of `chat_type` (`sender` for their private
    /// chat with the bot, `private`, `group`, `supergroup`, `channel`); `offset` is the
    /// `next_offset` of the page before (`""` for the first). Returns the query's id.
    /// Fails the test where Telegram would send no such update: inline mode off, or the
    /// bot's `allowed_updates` (by poll or webhook) leaving `inline_query` out.
    pub fn inline_query(&self, user: &TgUser, query: &str, offset: &str, chat_type: &str) -> String {
        let mut state = self.shared.lock();
        assert!(
            state.inline_mode,
            "inline mode is off (@BotFather /setinline): Telegram sends no inline queries"
        );
        let webhook = state.webhooks.registered.as_ref().map(|w| w.allowed_updates.clone());
        let allowed: Option<Vec<String>> = match webhook {
            Some(list) => {
                list.as_array().map(|l| l.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            }
            None => state.polled_updates.clone(),
        };
        if let Some(allowed) = allowed {
            assert!(
                allowed.iter().any(|u| u == "inline_query"),
                "the bot's allowed_updates {allowed:?} leave out inline_query: Telegram would not send it"
            );
        }
        let id = format!("iq{}", state.inline_queries.len() + 1);
        state.inline_queries.insert(id.clone(), None);
        state.push_update(
            json!({ "inline_query": inline::query_json(&id, user.json(), query, offset, chat_type) }),
        );
        drop(state);
        self.shared.notify();
        id
    }

    /// Waits until the bot has answered inline query `id` (and Telegram took the answer).
    pub async fn wait_for_inline_answer(&self, id: &str) -> InlineAnswer {
        self.wait_for(&format!("an answer to inline query {id}"), |s| {
            s.inline_queries.get(id).cloned().flatten()
        })
        .await
    }

    /// `user` chose the result `result_id` of `answer` and sent it in chat `chat_id`: the
    /// message it becomes (via the bot), or Telegram's refusal.
    pub fn choose_inline_result(
        &self,
        user: &TgUser,
        answer: &InlineAnswer,
        result_id: &str,
        chat_id: i64,
    ) -> Result<ChosenMessage, String> {
        let result = answer.result(result_id).clone();
        inline::choose(&mut self.shared.lock(), user.json(), &result, chat_id)
    }

    /// Presses the button whose label contains `label` on `message`; fails the test if
    /// there is none.
    pub fn press_labelled(&self, user: &TgUser, message: &SentMessage, label: &str) -> String {
        let data = message
            .buttons()
            .into_iter()
            .flatten()
            .find(|(text, _)| text.contains(label))
            .and_then(|(_, data)| data)
            .unwrap_or_else(|| panic!("no button {label:?} among {:?}", message.buttons()));
        self.press(user, message, &data)
    }

    /// What the bot sent to `chat_id` (texts as a client shows them, and button labels)
    /// that holds Chinese writing once every `allowed` string is taken out: one line per
    /// message or label, empty if none. "Chinese writing" is Script=Han and CJK
    /// punctuation ([`crate::support::chinese::is_chinese_writing`]).
    pub fn chinese_in_replies(&self, chat_id: i64, allowed: &[&str]) -> Vec<String> {
        let mut found = Vec::new();
        for message in self.sent_to(chat_id) {
            let labels = message.buttons().into_iter().flatten().map(|(label, _)| label);
            for shown in std::iter::once(message.text.clone()).chain(labels) {
                if crate::support::chinese::holds_chinese_outside(&shown, allowed) {
                    found.push(format!("message {}: {shown}", message.message_id));
                }
            }
        }
        found
    }

    /// Every message the bot sent (as it stands now) and every string users put into an
    /// update, for the scan of English replies.
    pub fn sent_and_typed(&self) -> (Vec<SentMessage>, Vec<String>) {
        let state = self.shared.lock();
        (state.sent.clone(), state.typed.clone())
    }

    /// Waits until the bot has answered the callback query `id`; returns the answer's text.
    pub async fn wait_for_answer(&self, id: &str) -> Option<String> {
        self.wait_for(&format!("an answer to callback query {id}"), |s| {
            s.calls
                .iter()
                .find(|c| {
                    c.method == "answerCallbackQuery"
                        && c.params["callback_query_id"] == id
                        && c.status == 200
                })
                .map(|c| c.params["text"].as_str().map(str::to_owned))
        })
        .await
    }

    /// The message as it stands now (after edits).
    pub fn message(&self, chat_id: i64, message_id: i32) -> SentMessage {
        let state = self.shared.lock();
        let found = state.sent.iter().find(|m| m.chat_id == chat_id && m.message_id == message_id);
        found.cloned().unwrap_or_else(|| panic!("no message {message_id} in chat {chat_id}"))
    }

    /// Makes users administrators of a group, for getChatMember.
    pub fn set_admins(&self, chat_id: i64, user_ids: &[i64]) {
        self.shared.lock().admins.insert(chat_id, user_ids.iter().copied().collect());
    }

    // --- What the bot did ------------------------------------------------------------

    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.shared.lock().calls.iter().filter(|c| c.method.eq_ignore_ascii_case(method)).cloned().collect()
    }

    pub fn sent(&self) -> Vec<SentMessage> {
        self.shared.lock().sent.clone()
    }

    pub fn sent_to(&self, chat_id: i64) -> Vec<SentMessage> {
        self.shared.lock().sent.iter().filter(|m| m.chat_id == chat_id).cloned().collect()
    }

    /// The command menu registered for a scope (`default`, `all_group_chats`, `chat:<id>`
    /// for a scope naming a chat) and language code (`""` for all languages).
    pub fn commands(&self, scope: &str, language: &str) -> Option<Vec<(String, String)>> {
        self.shared.lock().commands.get(&(scope.to_owned(), language.to_owned())).cloned()
    }

    /// Waits until `check` finds what it looks for; fails the test after [`WAIT`].
    pub async fn wait_for<T>(&self, what: &str, mut check: impl FnMut(&State) -> Option<T>) -> T {
        let mut changes = self.shared.changed.subscribe();
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = check(&self.shared.lock()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
                let state = self.shared.lock();
                let recent: Vec<String> = state
                    .calls
                    .iter()
                    .rev()
                    .take(10)
                    .map(|c| format!("{} -> {}", c.method, c.status))
                    .collect();
                panic!("timed out after {WAIT:?} waiting for {what}; last calls (newest first): {recent:?}");
            }
        }
    }

    /// Waits until the bot has sent at least `n` messages to `chat_id`; returns them all.
    pub async fn wait_for_sent(&self, chat_id: i64, n: usize) -> Vec<SentMessage> {
        self.wait_for(&format!("{n} message(s) to chat {chat_id}"), |s| {
            let to_chat: Vec<SentMessage> = s.sent.iter().filter(|m| m.chat_id == chat_id).cloned().collect();
            (to_chat.len() >= n).then_some(to_chat)
        })
        .await
    }

    /// Waits until the bot has confirmed (polled past) every update queued so far.
    pub async fn wait_until_consumed(&self) {
        let last = self.shared.lock().next_update_id;
        self.wait_for("the bot to confirm every update", |s| (s.confirmed_below >= last).then_some(())).await
    }

    // --- Faults on demand ------------------------------------------------------------

    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.lock().faults.push(rule);
    }

    pub fn clear_faults(&self) {
        let mut state = self.shared.lock();
        state.faults.clear();
        state.random_errors = None;
    }

    /// Sends fail with 502 at random, at `rate` (0 to 1), reproducibly from `seed`.
    pub fn random_server_errors(&self, rate: f64, seed: u64) {
        self.random_errors(rate, 0.0, seed);
    }

    /// Sends fail at random: a share with 502, a share with 429 (retry after 1 s).
    pub fn random_errors(&self, server_errors: f64, retry_afters: f64, seed: u64) {
        self.shared.lock().random_errors =
            Some((server_errors, retry_afters, fastrand::Rng::with_seed(seed)));
    }

    /// Answers sends that break Telegram's flood limits with 429, as Telegram does.
    pub fn enforce_limits(&self, limits: Limits) {
        self.shared.lock().flood.limits = Some(limits);
    }

    pub fn register_channel(&self, chat_id: i64) {
        self.shared.lock().channels.insert(chat_id);
    }

    // --- Webhook mode ----------------------------------------------------------------

    /// What `setWebhook` registered last, if a webhook is set.
    pub fn webhook(&self) -> Option<WebhookInfo> {
        self.shared.lock().webhooks.registered.clone()
    }

    /// Spreads webhook posts round-robin over `targets`, as a load balancer in front of
    /// several instances does (the registered URL is still required: without a webhook
    /// nothing is posted).
    pub fn balance_over(&self, targets: Vec<String>) {
        self.shared.lock().webhooks.targets = targets;
        self.shared.notify();
    }

    /// Every webhook post so far, in the order they were answered.
    pub fn webhook_posts(&self) -> Vec<WebhookPost> {
        self.shared.lock().webhooks.posts.clone()
    }

    /// Waits until every update queued so far was answered 200 by a webhook.
    pub async fn wait_until_posted(&self) {
        self.wait_for("every update answered 200 by the webhook", |s| s.pending.is_empty().then_some(()))
            .await
    }

    /// `user` typing `text` in their private chat, as an update with the next
    /// `update_id` that is not queued: for a test that posts it itself.
    pub fn user_message_update(&self, user: &TgUser, text: &str) -> Value {
        let mut state = self.shared.lock();
        let id = state.next_update_id;
        state.next_update_id += 1;
        let message_id = state.next_message_id(user.id);
        let mut message = json!({
            "message_id": message_id,
            "date": 1_790_000_000,
            "chat": chat_json(user.id, false),
            "from": user.json(),
            "text": text,
        });
        if let Some(entities) = command_entities(text) {
            message["entities"] = entities;
        }
        json!({ "update_id": id, "message": message })
    }

    /// POSTs `update` to `url` as Telegram would, with `secret` in the header (`None`: no
    /// header); returns the status code, 0 if nothing answered.
    pub async fn post_update(&self, url: &str, secret: Option<&str>, update: &Value) -> u16 {
        webhook::send(&reqwest::Client::new(), url, secret, update).await
    }
}
