//! `pingan console`: chat with the bot in a terminal, or through a pipe.
//!
//! Each line typed becomes the Telegram update a private chat would send, and goes
//! through the same dptree schema and handlers as `pingan run`; replies are shown as the
//! plain text a Telegram client would display. Inline buttons are numbered `[1 …]`;
//! typing `#1` presses one.
//!
//! A message may span several lines, as one typed in Telegram may ([`Message`]): a line
//! ending in `\` goes on on the next line, and a line ending in `"""` opens a block that a
//! line of only `"""` closes, blank lines and all:
//!
//! ```text
//! > /post """
//! title: 道路结冰提示
//! category: 交通
//!
//! 早晚桥面易结冰，请慢行。
//! """
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use teloxide::types::{Me, Update};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::app::App;
use crate::bot::incoming::Target;
use crate::bot::schema::schema;
use crate::domain::{ChatId, Language};
use crate::html::Html;
use crate::html::to_plain;
use crate::render::keyboard::{ButtonAction, Keyboard};
use crate::telegram::outbound::{OutMessage, Outbound, SendError, Sent, Tracked};

/// The bot's username in the console, for `/command@pingan_bot`.
pub const CONSOLE_BOT_USERNAME: &str = "pingan_bot";

/// Who the console user is.
#[derive(Clone, Debug)]
pub struct ConsoleUser {
    /// The private chat's id, which is also the user's id.
    pub chat_id: i64,
    /// The language the user's "Telegram client" reports; `None` reports none.
    pub language: Option<Language>,
}

/// The terminal, and the buttons shown on it so far.
struct Screen {
    output: Box<dyn Write + Send>,
    next_message_id: i32,
    /// Button number -> (message it is on, its callback data).
    buttons: HashMap<usize, (i32, String)>,
    /// Message id -> its text, for the updates a button press sends.
    texts: HashMap<i32, String>,
}

impl Screen {
    fn show(&mut self, message_id: i32, heading: Option<&str>, content: &OutMessage) -> std::io::Result<()> {
        let text = to_plain(content.html.as_str());
        if let Some(heading) = heading {
            writeln!(self.output, "{heading}")?;
        }
        writeln!(self.output, "{text}")?;
        if let Some(keyboard) = &content.keyboard {
            self.show_keyboard(message_id, keyboard)?;
        }
        writeln!(self.output)?;
        self.output.flush()?;
        self.texts.insert(message_id, text);
        Ok(())
    }

    fn show_keyboard(&mut self, message_id: i32, keyboard: &Keyboard) -> std::io::Result<()> {
        for row in keyboard.rows() {
            let mut line = String::new();
            for button in row {
                let number = self.buttons.len() + 1;
                match &button.action {
                    ButtonAction::Callback(callback) => {
                        self.buttons.insert(number, (message_id, callback.encode()));
                        line.push_str(&format!("[{number} {}] ", button.label));
                    }
                    ButtonAction::Url(url) => line.push_str(&format!("[{} {url}] ", button.label)),
                    ButtonAction::SwitchInline(query) => {
                        line.push_str(&format!("[{} @bot {query}] ", button.label))
                    }
                }
            }
            writeln!(self.output, "  {}", line.trim_end())?;
        }
        Ok(())
    }

    fn note(&mut self, text: &str) -> std::io::Result<()> {
        write!(self.output, "{text}")?;
        self.output.flush()
    }
}

type SharedScreen = Arc<Mutex<Screen>>;

fn lock(screen: &SharedScreen) -> std::sync::MutexGuard<'_, Screen> {
    screen.lock().unwrap_or_else(|p| p.into_inner())
}

fn io_error(e: std::io::Error) -> SendError {
    SendError::Transient(e.to_string())
}

/// Writes the bot's messages to the terminal as they are sent.
struct ConsoleOutbound {
    screen: SharedScreen,
}

impl ConsoleOutbound {
    fn show(&self, to: Target, message: OutMessage) -> Result<Sent, SendError> {
        let mut screen = lock(&self.screen);
        screen.next_message_id += 1;
        let message_id = screen.next_message_id;
        screen.show(message_id, None, &message).map_err(io_error)?;
        Ok(Sent { chat: to.chat, message_id })
    }
}

#[async_trait]
impl Outbound for ConsoleOutbound {
    async fn send(&self, to: Target, message: OutMessage) -> Result<(), SendError> {
        self.show(to, message).map(|_| ())
    }

    async fn send_tracked(&self, to: Target, message: OutMessage) -> Result<Tracked, SendError> {
        Ok(Tracked::done(self.show(to, message)))
    }

    async fn send_photo(&self, _to: Target, png: Vec<u8>, caption: Html) -> Result<(), SendError> {
        let mut screen = lock(&self.screen);
        screen.next_message_id += 1;
        let message_id = screen.next_message_id;
        // A terminal shows no images: the chart goes to a file the user can open.
        let path = std::env::temp_dir().join(format!("pingan-chart-{}-{message_id}.png", std::process::id()));
        std::fs::write(&path, &png).map_err(io_error)?;
        let heading = format!("[image: {}]", path.display());
        screen.show(message_id, Some(&heading), &OutMessage::html(caption)).map_err(io_error)
    }

    async fn edit(&self, message: Sent, content: OutMessage) -> Result<(), SendError> {
        let heading = format!("(message {} changed)", message.message_id);
        lock(&self.screen).show(message.message_id, Some(&heading), &content).map_err(io_error)
    }

    async fn answer_callback(
        &self,
        _chat: ChatId,
        _callback_id: &str,
        text: Option<&str>,
    ) -> Result<(), SendError> {
        match text {
            Some(text) => lock(&self.screen).note(&format!("({text})\n\n")).map_err(io_error),
            None => Ok(()),
        }
    }

    async fn is_chat_admin(&self, _chat: ChatId, _user_id: i64) -> Result<bool, SendError> {
        // The console is a private chat, where the user decides for themselves.
        Ok(true)
    }

    /// A terminal has no command menu to change: nothing is made, nothing fails.
    async fn change_menus(
        &self,
        _changes: Vec<crate::telegram::outbound::MenuChange>,
    ) -> Result<crate::telegram::outbound::MenusQueued, SendError> {
        Ok(crate::telegram::outbound::MenusQueued::done(crate::telegram::outbound::MenuReport::default()))
    }
}

/// Puts typed lines together into messages: a line ending in `\` continues on the next
/// (the `\` becomes a line break); a line ending in `"""` opens a block, kept line for
/// line (blank lines too) until a line that is only `"""`; any other line is a message
/// of its own. Lines are pushed one at a time; a message comes out when it is complete.
#[derive(Debug, Default)]
pub struct Message {
    lines: Vec<String>,
    /// Inside a `"""` block.
    block: bool,
}

/// The marker that opens and closes a block.
const BLOCK: &str = "\"\"\"";

impl Message {
    /// Takes the next typed line; returns the message it completes, if it does.
    pub fn push(&mut self, line: &str) -> Option<String> {
        let line = line.trim_end_matches(['\r', '\n']);
        if self.block {
            if line.trim() == BLOCK {
                self.block = false;
                return self.take();
            }
            self.lines.push(line.trim_end().to_owned());
            return None;
        }
        let line = line.trim_end();
        if let Some(first) = line.strip_suffix(BLOCK) {
            self.block = true;
            if !first.trim().is_empty() {
                self.lines.push(first.trim_end().to_owned());
            }
            return None;
        }
        if let Some(start) = line.strip_suffix('\\') {
            self.lines.push(start.to_owned());
            return None;
        }
        self.lines.push(line.to_owned());
        self.take()
    }

    /// Whether a message is under way (lines taken, not yet complete).
    pub fn is_open(&self) -> bool {
        self.block || !self.lines.is_empty()
    }

    /// What is left when the input ends: an unfinished message is sent as it stands.
    pub fn finish(&mut self) -> Option<String> {
        self.block = false;
        self.take()
    }

    fn take(&mut self) -> Option<String> {
        let text = std::mem::take(&mut self.lines).join("\n");
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_owned())
    }
}

/// Reads lines from `input` until it ends, answering each message (see [`Message`]).
pub async fn run_console(
    app: Arc<App>,
    user: ConsoleUser,
    input: impl AsyncBufRead + Unpin,
    output: Box<dyn Write + Send>,
    interactive: bool,
) -> anyhow::Result<()> {
    let screen = Arc::new(Mutex::new(Screen {
        output,
        next_message_id: 0,
        buttons: HashMap::new(),
        texts: HashMap::new(),
    }));
    let outbound: Arc<dyn Outbound> = Arc::new(ConsoleOutbound { screen: screen.clone() });
    let handler = schema();
    let me = console_me()?;
    let mut lines = input.lines();
    let mut update_id = 0;

    if interactive {
        lock(&screen).note(&format!(
            "Pingan console: a private chat as user {} ({}). Type /help; #N presses button N; \
             end a line with \\ to go on on the next, or with \"\"\" to write lines until a \
             line of \"\"\"; Ctrl-D quits.\n\n",
            user.chat_id,
            user.language.map_or("no client language", Language::code),
        ))?;
    }
    let mut message = Message::default();
    loop {
        if interactive {
            lock(&screen).note(if message.is_open() { "… " } else { "> " })?;
        }
        let typed = match lines.next_line().await? {
            Some(line) => message.push(&line),
            None => match message.finish() {
                Some(last) => Some(last),
                None => break,
            },
        };
        let Some(typed) = typed else { continue };
        let line = typed.as_str();
        if !interactive {
            lock(&screen).note(&format!("> {}\n", line.replace('\n', "\n… ")))?;
        }
        update_id += 1;
        let update = match line.strip_prefix('#').map(str::parse::<usize>) {
            Some(Ok(number)) => {
                let pressed = {
                    let screen = lock(&screen);
                    screen.buttons.get(&number).map(|(message_id, data)| {
                        let text = screen.texts.get(message_id).cloned().unwrap_or_default();
                        (*message_id, data.clone(), text)
                    })
                };
                match pressed {
                    Some((message_id, data, text)) => {
                        button_update(update_id, &user, message_id, &text, &data, &app)?
                    }
                    None => {
                        lock(&screen).note(&format!("(there is no button {number})\n\n"))?;
                        continue;
                    }
                }
            }
            _ => text_update(update_id, &user, line, &app)?,
        };
        let deps = teloxide::dptree::deps![update, me.clone(), app.clone(), outbound.clone()];
        if let std::ops::ControlFlow::Continue(_) = handler.dispatch(deps).await {
            tracing::debug!("console line not handled");
        }
    }
    Ok(())
}

fn console_me() -> anyhow::Result<Me> {
    Ok(serde_json::from_value(json!({
        "id": 1,
        "is_bot": true,
        "first_name": "Pingan",
        "username": CONSOLE_BOT_USERNAME,
        "can_join_groups": true,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false,
    }))?)
}

fn user_json(user: &ConsoleUser) -> serde_json::Value {
    let mut from = json!({ "id": user.chat_id, "is_bot": false, "first_name": "Console" });
    if let Some(lang) = user.language {
        from["language_code"] = json!(lang.code());
    }
    from
}

fn chat_json(user: &ConsoleUser) -> serde_json::Value {
    json!({ "id": user.chat_id, "type": "private", "first_name": "Console" })
}

/// Parsed from text, as updates arrive from Telegram: teloxide's `Update` cannot be read
/// from a `serde_json::Value` (it needs borrowed keys).
fn parse_update(update: serde_json::Value) -> anyhow::Result<Update> {
    Ok(serde_json::from_str(&update.to_string())?)
}

/// The update Telegram would send for `text` typed in the user's private chat.
fn text_update(id: i32, user: &ConsoleUser, text: &str, app: &App) -> anyhow::Result<Update> {
    parse_update(json!({
        "update_id": id,
        "message": {
            "message_id": 100_000 + id,
            "date": app.clock.now().timestamp(),
            "chat": chat_json(user),
            "from": user_json(user),
            "text": text,
        }
    }))
}

/// The update Telegram would send when the user presses a button on `message_id`.
fn button_update(
    id: i32,
    user: &ConsoleUser,
    message_id: i32,
    text: &str,
    data: &str,
    app: &App,
) -> anyhow::Result<Update> {
    parse_update(json!({
        "update_id": id,
        "callback_query": {
            "id": format!("console-{id}"),
            "from": user_json(user),
            "chat_instance": "console",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": app.clock.now().timestamp(),
                "chat": chat_json(user),
                "from": { "id": 1, "is_bot": true, "first_name": "Pingan", "username": CONSOLE_BOT_USERNAME },
                "text": text,
            },
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(typed: &str) -> Vec<String> {
        let mut message = Message::default();
        let mut out: Vec<String> = typed.lines().filter_map(|line| message.push(line)).collect();
        out.extend(message.finish());
        out
    }

    #[test]
    fn each_line_is_a_message_and_blank_lines_are_none() {
        assert_eq!(messages("/help\n\n  \n/start\n"), ["/help", "/start"]);
    }

    #[test]
    fn a_backslash_at_the_end_goes_on_on_the_next_line() {
        assert_eq!(
            messages("/post \\\ntitle: x\\\ncategory: 交通\n/help"),
            ["/post \ntitle: x\ncategory: 交通", "/help"]
        );
    }

    #[test]
    fn a_block_keeps_its_lines_and_blank_lines_until_the_closing_quotes() {
        let typed = "/post \"\"\"\ntitle: x\n\nbody, first line\\\n  indented\n\"\"\"\n/help";
        assert_eq!(messages(typed), ["/post\ntitle: x\n\nbody, first line\\\n  indented", "/help"]);
        assert_eq!(messages("\"\"\"\n/edit 3\nNew title\n\"\"\""), ["/edit 3\nNew title"]);
    }

    #[test]
    fn an_unfinished_message_is_sent_when_the_input_ends() {
        assert_eq!(messages("/post \"\"\"\ntitle: x"), ["/post\ntitle: x"]);
        assert_eq!(messages("/help \\"), ["/help"]);
    }
}
