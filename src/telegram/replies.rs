//! The Telegram side of [`Outbound`]: a bounded queue of replies per chat, each sent in
//! order by the chat's own task through the one [`Transport`]. A handler hands its
//! messages over and returns at once; waiting for a slot, for a chat Telegram holds after a
//! 429, or between tries after a 5xx happens in the chat's task, so a slow or flooding
//! chat holds up nobody else. Every message passes through the splitter first
//! ([`split::fit`]): one longer than Telegram takes goes in parts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::api::HtmlMessage;
use super::outbound::{
    InlineAnswer, MenuChange, MenuReport, MenuScope, MenusQueued, OutMessage, Outbound, SendError, Sent,
    SharedTurns, Target, Tracked,
};
use super::rate::Class;
use super::transport::{Hold, Transport};
use crate::domain::ChatId;
use crate::html::Html;
use crate::metrics::{Metrics, Shed, Traffic};
use crate::render::keyboard::reply_markup;
use crate::render::split;

/// Messages one chat may have waiting. A private chat gets one a second, a group one every
/// three: more than this is a flood, and what comes beyond it is refused.
const QUEUED_PER_CHAT: usize = 20;
/// Tries of one message: after a 429 the next try waits for its chat; after a passing
/// failure (5xx, a timeout) for a backoff that doubles.
const ATTEMPTS: u32 = 6;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// A reply still not sent after this long is dropped: an answer minutes late confuses more
/// than it helps.
const MAX_AGE: Duration = Duration::from_secs(120);
/// How long an inline query's answer is tried: Telegram refuses one given later ("query is
/// too old and response timeout expired"; its clients give up after about ten seconds).
const INLINE_MAX_AGE: Duration = Duration::from_secs(8);

enum Request {
    Message {
        thread_id: Option<i32>,
        html: String,
        markup: Option<Value>,
    },
    Photo {
        thread_id: Option<i32>,
        png: Vec<u8>,
        caption: String,
    },
    Edit {
        message_id: i32,
        html: String,
        markup: Option<Value>,
    },
    /// A button answer: not a message, so it takes no slot, but it waits for the chat's
    /// messages before it.
    AnswerCallback {
        params: Value,
    },
}

struct Job {
    request: Request,
    done: Option<oneshot::Sender<Result<Sent, SendError>>>,
    queued: Instant,
}

struct Inner {
    transport: Arc<Transport>,
    metrics: Arc<Metrics>,
    /// Chats with messages waiting; a chat is here exactly while its task runs.
    chats: Mutex<HashMap<i64, VecDeque<Job>>>,
    /// Batches of menu changes waiting; `Some` exactly while the menus' task runs.
    menus: Mutex<Option<VecDeque<MenuBatch>>>,
    /// Chats' turns shared with the other instances, once startup sets them.
    shared: std::sync::OnceLock<Arc<dyn SharedTurns>>,
}

/// Menu changes handed over together, and who waits to hear how they went.
struct MenuBatch {
    changes: Vec<MenuChange>,
    done: oneshot::Sender<MenuReport>,
}

/// Replies, edits and button answers through the shared [`Transport`].
#[derive(Clone)]
pub struct TelegramOutbound {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TelegramOutbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TelegramOutbound")
    }
}

impl TelegramOutbound {
    pub fn new(transport: Arc<Transport>, metrics: Arc<Metrics>) -> Self {
        let inner = Inner {
            transport,
            metrics,
            chats: Mutex::new(HashMap::new()),
            menus: Mutex::new(None),
            shared: std::sync::OnceLock::new(),
        };
        TelegramOutbound { inner: Arc::new(inner) }
    }

    /// From now on, new messages take their chat's turn shared by every instance too
    /// ([`SharedTurns`]), and a 429 holds the chat for all of them. Set once; a second
    /// call changes nothing.
    pub fn share_turns(&self, shared: Arc<dyn SharedTurns>) {
        let _ = self.inner.shared.set(shared);
    }

    /// Queues `request` for `chat`, starting the chat's task if it has none.
    fn enqueue(
        &self,
        chat: ChatId,
        request: Request,
        done: Option<oneshot::Sender<Result<Sent, SendError>>>,
    ) -> Result<(), SendError> {
        let job = Job { request, done, queued: Instant::now() };
        let mut chats = self.inner.lock();
        match chats.get_mut(&chat.0) {
            Some(queue) if queue.len() >= QUEUED_PER_CHAT => {
                drop(chats);
                self.inner.metrics.shed(Shed::Reply);
                tracing::warn!(chat = chat.0, "reply queue full; a reply was not sent");
                Err(SendError::NotSent("the chat's reply queue is full".into()))
            }
            Some(queue) => {
                queue.push_back(job);
                Ok(())
            }
            None => {
                chats.insert(chat.0, VecDeque::from([job]));
                drop(chats);
                tokio::spawn(self.inner.clone().work(chat));
                Ok(())
            }
        }
    }
}

impl TelegramOutbound {
    /// Passes `message` through the splitter ([`split::fit`]): queues every part but the
    /// last, and returns the last, which carries the keyboard. A message that fits is one
    /// part, so nothing is queued here.
    fn enqueue_leading_parts(&self, to: Target, message: OutMessage) -> Result<Request, SendError> {
        let markup = message.keyboard.as_ref().map(reply_markup);
        let mut parts = split::fit(message.html);
        let last = parts.pop().unwrap_or_default();
        if !parts.is_empty() {
            tracing::warn!(
                chat = to.chat.0,
                parts = parts.len() + 1,
                "a reply longer than a message was split"
            );
        }
        for part in parts {
            let request =
                Request::Message { thread_id: to.thread_id, html: part.into_string(), markup: None };
            self.enqueue(to.chat, request, None)?;
        }
        Ok(Request::Message { thread_id: to.thread_id, html: last.into_string(), markup })
    }
}

impl Inner {
    fn lock_menus(&self) -> std::sync::MutexGuard<'_, Option<VecDeque<MenuBatch>>> {
        self.menus.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes the queued menu changes one at a time, batch after batch, until none is
    /// left: one request in flight at most, so a bureau's tens of staff menus never
    /// come near Telegram's limits, and a 429 is waited out here, holding no chat.
    async fn work_menus(self: Arc<Self>) {
        loop {
            let batch = {
                let mut menus = self.lock_menus();
                match menus.as_mut().and_then(VecDeque::pop_front) {
                    Some(batch) => batch,
                    None => {
                        *menus = None;
                        return;
                    }
                }
            };
            let mut report = MenuReport::default();
            for change in &batch.changes {
                match self.change_menu(change).await {
                    Ok(()) => report.applied += 1,
                    Err(e) => {
                        report.failed += 1;
                        tracing::warn!(scope = ?change.scope, error = %e, "a command menu could not be changed");
                    }
                }
            }
            let _ = batch.done.send(report);
        }
    }

    /// One `setMyCommands` or `deleteMyCommands`, tried like a reply: after a 429 again
    /// once Telegram's wait is over, after a passing failure after a backoff.
    async fn change_menu(&self, change: &MenuChange) -> Result<(), SendError> {
        let (method, params) = menu_request(change);
        let mut backoff = FIRST_BACKOFF;
        let mut last = SendError::NotSent("not tried".into());
        for _ in 0..ATTEMPTS {
            match self.transport.call_setting::<Value>(method, &params).await {
                Ok(_) => return Ok(()),
                Err(SendError::RetryAfter(wait)) => {
                    tokio::time::sleep(wait).await;
                    last = SendError::RetryAfter(wait);
                }
                Err(SendError::Transient(reason)) => {
                    tokio::time::sleep(backoff.mul_f64(0.5 + fastrand::f64())).await;
                    backoff *= 2;
                    last = SendError::Transient(reason);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// One `answerInlineQuery`, tried until it is taken, refused, or the query is too old
    /// to answer ([`INLINE_MAX_AGE`]): a 429 is waited out only if the wait ends in time.
    async fn answer_inline(self: Arc<Self>, params: Value) {
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        loop {
            let error = match self.transport.call_setting::<Value>("answerInlineQuery", &params).await {
                Ok(_) => return,
                Err(e) => e,
            };
            let wait = match &error {
                SendError::RetryAfter(wait) => *wait,
                SendError::Transient(_) => {
                    let wait = backoff.mul_f64(0.5 + fastrand::f64());
                    backoff *= 2;
                    wait
                }
                _ => Duration::MAX,
            };
            if started.elapsed().saturating_add(wait) > INLINE_MAX_AGE {
                self.metrics.shed(Shed::Reply);
                tracing::warn!(error = %error, "an inline query could not be answered");
                return;
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, VecDeque<Job>>> {
        self.chats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the chat's messages in order until none is left.
    async fn work(self: Arc<Self>, chat: ChatId) {
        loop {
            let job = {
                let mut chats = self.lock();
                match chats.get_mut(&chat.0).and_then(VecDeque::pop_front) {
                    Some(job) => job,
                    None => {
                        chats.remove(&chat.0);
                        return;
                    }
                }
            };
            let result = self.perform(chat, &job).await;
            if let Err(e) = &result {
                self.metrics.shed(Shed::Reply);
                tracing::warn!(chat = chat.0, error = %e, "a reply could not be sent");
            }
            if let Some(done) = job.done {
                let _ = done.send(result);
            }
        }
    }

    /// Tries `job` until it is sent, refused for good, too old, or out of tries.
    async fn perform(&self, chat: ChatId, job: &Job) -> Result<Sent, SendError> {
        let mut backoff = FIRST_BACKOFF;
        let mut last = SendError::NotSent("not tried".into());
        for _ in 0..ATTEMPTS {
            if job.queued.elapsed() > MAX_AGE {
                return Err(SendError::NotSent(format!("still not sent after {MAX_AGE:?}: {last}")));
            }
            match self.attempt(chat, job).await {
                Ok(message_id) => return Ok(Sent { chat, message_id }),
                Err(SendError::RetryAfter(wait)) => {
                    // A message's next turn waits for its chat; a button answer takes no turn.
                    if matches!(job.request, Request::AnswerCallback { .. }) {
                        tokio::time::sleep(wait).await;
                    } else if let Some(shared) = self.shared.get() {
                        shared.hold(chat, wait).await;
                    }
                    last = SendError::RetryAfter(wait);
                }
                Err(SendError::Transient(reason)) => {
                    tokio::time::sleep(backoff.mul_f64(0.5 + fastrand::f64())).await;
                    backoff *= 2;
                    last = SendError::Transient(reason);
                }
                Err(e) => return Err(e),
            }
        }
        Err(last)
    }

    /// One try: a turn from the pacer (a button answer needs none), then the request.
    /// Returns the message's id (an edit's own; 0 for a button answer).
    async fn attempt(&self, chat: ChatId, job: &Job) -> Result<i32, SendError> {
        let request = &job.request;
        if let Request::AnswerCallback { params } = request {
            return self
                .transport
                .call_unpaced::<Value>(chat, "answerCallbackQuery", params)
                .await
                .map(|_| 0);
        }
        // A new message also takes its chat's turn among all instances (when several are
        // live); while another has it, this instance's pacer waits for it too.
        let shares_turn = matches!(request, Request::Message { .. } | Request::Photo { .. });
        let turn = loop {
            // A reply waits for its chat at most until it is too old to be worth sending.
            let left = MAX_AGE.saturating_sub(job.queued.elapsed());
            let turn = match self.transport.turn(chat, Class::Reply, Some(left)).await {
                Ok(turn) => turn,
                Err(Hold::Paused { reason, .. }) => {
                    return Err(SendError::NotSent(format!("sending is paused: {reason}")));
                }
                Err(Hold::Chat { until }) => {
                    let held = until.saturating_duration_since(Instant::now());
                    return Err(SendError::NotSent(format!(
                        "Telegram holds the chat for {held:?} more, past the age replies are dropped at"
                    )));
                }
            };
            let shared = self.shared.get().filter(|_| shares_turn);
            match shared {
                Some(shared) => match shared.claim(chat).await {
                    None => break turn,
                    Some(wait) => {
                        drop(turn);
                        self.transport.limiter().hold_chat(chat, wait);
                    }
                },
                None => break turn,
            }
        };
        match request {
            Request::Message { thread_id, html, markup } => {
                let message = HtmlMessage {
                    chat,
                    thread_id: *thread_id,
                    html,
                    reply_markup: markup.as_ref(),
                    paid_broadcast: false,
                    reply_to: None,
                };
                self.transport.send_html(turn, Traffic::Reply, &message).await
            }
            Request::Photo { thread_id, png, caption } => {
                self.transport.send_photo(turn, chat, *thread_id, png.clone(), caption).await
            }
            Request::Edit { message_id, html, markup } => {
                let mut params = json!({
                    "chat_id": chat.0,
                    "message_id": message_id,
                    "text": html,
                    "parse_mode": "HTML",
                    "link_preview_options": { "is_disabled": true },
                });
                if let Some(markup) = markup {
                    params["reply_markup"] = markup.clone();
                }
                match self.transport.call::<Value>(turn, chat, "editMessageText", &params).await {
                    Ok(_) => Ok(*message_id),
                    // Pressing the button for the page already shown asks for no change.
                    Err(SendError::Rejected(reason)) if reason.contains("message is not modified") => {
                        Ok(*message_id)
                    }
                    Err(e) => Err(e),
                }
            }
            // Answered above, without a turn.
            Request::AnswerCallback { .. } => Ok(0),
        }
    }
}

#[async_trait]
impl Outbound for TelegramOutbound {
    async fn send(&self, to: Target, message: OutMessage) -> Result<(), SendError> {
        let last = self.enqueue_leading_parts(to, message)?;
        self.enqueue(to.chat, last, None)
    }

    async fn send_tracked(&self, to: Target, message: OutMessage) -> Result<Tracked, SendError> {
        let last = self.enqueue_leading_parts(to, message)?;
        let (done, tracked) = Tracked::channel();
        self.enqueue(to.chat, last, Some(done))?;
        Ok(tracked)
    }

    /// A caption longer than Telegram takes goes on in messages after the photo
    /// ([`split::fit_caption`]).
    async fn send_photo(&self, to: Target, png: Vec<u8>, caption: Html) -> Result<(), SendError> {
        let (caption, rest) = split::fit_caption(caption);
        let request = Request::Photo { thread_id: to.thread_id, png, caption: caption.into_string() };
        self.enqueue(to.chat, request, None)?;
        for part in rest {
            let request =
                Request::Message { thread_id: to.thread_id, html: part.into_string(), markup: None };
            self.enqueue(to.chat, request, None)?;
        }
        Ok(())
    }

    /// New content longer than a message ([`split::fit`]): the message becomes the first
    /// part, and the others follow as new messages, the last with the keyboard (in the
    /// chat's main thread: a [`Sent`] does not know its topic; edits that grow past a
    /// message are menus and cards in private chats).
    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError> {
        let markup = content.keyboard.as_ref().map(reply_markup);
        let mut parts = split::fit(content.html).into_iter();
        let first = parts.next().unwrap_or_default();
        let rest: Vec<Html> = parts.collect();
        let (first_markup, last_markup) = if rest.is_empty() { (markup, None) } else { (None, markup) };
        let request =
            Request::Edit { message_id: message.message_id, html: first.into_string(), markup: first_markup };
        self.enqueue(message.chat, request, None)?;
        let count = rest.len();
        let mut last_markup = last_markup;
        for (i, part) in rest.into_iter().enumerate() {
            let markup = if i + 1 == count { last_markup.take() } else { None };
            let request = Request::Message { thread_id: None, html: part.into_string(), markup };
            self.enqueue(message.chat, request, None)?;
        }
        Ok(())
    }

    async fn answer_callback(
        &self,
        chat: ChatId,
        callback_id: &str,
        text: Option<&str>,
    ) -> Result<(), SendError> {
        let mut params = json!({ "callback_query_id": callback_id });
        if let Some(text) = text {
            params["text"] = text.into();
        }
        self.enqueue(chat, Request::AnswerCallback { params }, None)
    }

    async fn is_chat_admin(&self, chat: ChatId, user_id: i64) -> Result<bool, SendError> {
        let params = json!({ "chat_id": chat.0, "user_id": user_id });
        let member: Value = self.inner.transport.call_unpaced(chat, "getChatMember", &params).await?;
        Ok(matches!(member["status"].as_str(), Some("creator" | "administrator")))
    }

    async fn answer_inline(&self, answer: InlineAnswer) -> Result<(), SendError> {
        let params = inline_request(&answer);
        tokio::spawn(self.inner.clone().answer_inline(params));
        Ok(())
    }

    async fn change_menus(&self, changes: Vec<MenuChange>) -> Result<MenusQueued, SendError> {
        let (done, queued) = MenusQueued::channel();
        let batch = MenuBatch { changes, done };
        let mut menus = self.inner.lock_menus();
        match menus.as_mut() {
            Some(waiting) => waiting.push_back(batch),
            None => {
                *menus = Some(VecDeque::from([batch]));
                drop(menus);
                tokio::spawn(self.inner.clone().work_menus());
            }
        }
        Ok(queued)
    }
}

/// `answerInlineQuery`'s parameters: each article an `InlineQueryResultArticle` whose
/// `InputTextMessageContent` is HTML without link previews.
fn inline_request(answer: &InlineAnswer) -> Value {
    let results: Vec<Value> = answer
        .results
        .iter()
        .map(|article| {
            let mut result = json!({
                "type": "article",
                "id": article.id,
                "title": article.title,
                "description": article.description,
                "input_message_content": {
                    "message_text": article.html.as_str(),
                    "parse_mode": "HTML",
                    "link_preview_options": { "is_disabled": true },
                },
            });
            if !article.keyboard.is_empty() {
                result["reply_markup"] = reply_markup(&article.keyboard);
            }
            result
        })
        .collect();
    json!({
        "inline_query_id": answer.query_id,
        "results": results,
        "cache_time": answer.cache_time,
        "is_personal": answer.is_personal,
        "next_offset": answer.next_offset,
    })
}

/// The Bot API method and parameters of a menu change.
fn menu_request(change: &MenuChange) -> (&'static str, Value) {
    let scope = match change.scope {
        MenuScope::Default => json!({ "type": "default" }),
        MenuScope::AllGroupChats => json!({ "type": "all_group_chats" }),
        MenuScope::Chat(chat) => json!({ "type": "chat", "chat_id": chat.0 }),
    };
    let mut params = json!({ "scope": scope });
    if let Some(language) = change.language {
        params["language_code"] = language.code().into();
    }
    match &change.commands {
        Some(commands) => {
            let list: Vec<Value> = commands
                .iter()
                .map(|c| json!({ "command": c.command, "description": c.description }))
                .collect();
            params["commands"] = list.into();
            ("setMyCommands", params)
        }
        None => ("deleteMyCommands", params),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use crate::config::BotToken;
    use crate::html::Html;
    use crate::telegram::api::BotApi;
    use crate::telegram::breaker::Breaker;
    use crate::telegram::outbound::OutMessage;
    use crate::telegram::rate::{Pacing, RateLimiter};

    /// Telegram holds a chat for five minutes (a 429): a reply to it would be minutes late,
    /// past the age at which replies are dropped. It is dropped at once, not sent stale
    /// after the hold while the chat's later replies wait behind it.
    #[tokio::test(start_paused = true)]
    async fn a_reply_to_a_chat_held_past_its_age_is_dropped_not_sent_late() {
        let metrics = Arc::new(Metrics::default());
        let token = BotToken::parse("123:SECRET").unwrap();
        let api =
            BotApi::new(&"http://127.0.0.1:9".parse().unwrap(), &token, Duration::from_secs(1)).unwrap();
        let limiter =
            RateLimiter::new(Pacing { per_second: 30, paid_per_second: None, broadcast_share: 0.2 });
        let chat = ChatId(7);
        limiter.rate_limited(chat, Duration::from_secs(300));
        let breaker = Breaker::new(Arc::new(SystemClock), metrics.clone());
        let transport = Arc::new(Transport::new(api, limiter, breaker, metrics.clone()));
        let out = TelegramOutbound::new(transport, metrics);
        let target = Target { chat, thread_id: None };
        let tracked = out.send_tracked(target, OutMessage::html(Html::escape("hello"))).await.unwrap();
        let answer = tokio::time::timeout(MAX_AGE, tracked.sent()).await;
        assert!(
            matches!(answer, Ok(Err(SendError::NotSent(_)))),
            "still waiting past the age replies are dropped at: {answer:?}"
        );
    }
}
