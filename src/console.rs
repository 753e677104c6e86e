//! `pingan console`: chat with the bot in a terminal, or through a pipe.
//!
//! Each line typed becomes the Telegram update a private chat would send, and goes
//! through the same dptree schema and handlers as `pingan run`; replies are shown as the
//! plain text a Telegram client would display.

use std::io::Write;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::json;
use teloxide::types::{Me, Update};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};

use crate::app::App;
use crate::bot::incoming::Target;
use crate::bot::outbound::{OutMessage, Outbound, SendError, Sent};
use crate::bot::schema::schema;
use crate::domain::Language;
use crate::html::to_plain;

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

type SharedOutput = Arc<Mutex<Box<dyn Write + Send>>>;

/// Writes the bot's messages to the terminal as they are sent.
struct ConsoleOutbound {
    output: SharedOutput,
    next_message_id: AtomicI32,
}

#[async_trait]
impl Outbound for ConsoleOutbound {
    async fn send(&self, to: Target, message: OutMessage) -> Result<Sent, SendError> {
        let text = to_plain(message.html.as_str());
        let mut out = self.output.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(out, "{text}\n").map_err(|e| SendError::Transient(e.to_string()))?;
        out.flush()
            .map_err(|e| SendError::Transient(e.to_string()))?;
        Ok(Sent {
            chat: to.chat,
            message_id: self.next_message_id.fetch_add(1, Ordering::Relaxed),
        })
    }
}

/// Reads lines from `input` until it ends, answering each.
pub async fn run_console(
    app: Arc<App>,
    user: ConsoleUser,
    input: impl AsyncBufRead + Unpin,
    output: Box<dyn Write + Send>,
    interactive: bool,
) -> anyhow::Result<()> {
    let output: SharedOutput = Arc::new(Mutex::new(output));
    let outbound: Arc<dyn Outbound> = Arc::new(ConsoleOutbound {
        output: output.clone(),
        next_message_id: AtomicI32::new(1),
    });
    let handler = schema();
    let me = console_me()?;
    let mut lines = input.lines();
    let mut update_id = 0;
    let write = |text: &str| -> anyhow::Result<()> {
        let mut out = output.lock().unwrap_or_else(|p| p.into_inner());
        write!(out, "{text}")?;
        out.flush()?;
        Ok(())
    };

    if interactive {
        write(&format!(
            "Pingan console: a private chat as user {} ({}). Type /help; Ctrl-D quits.\n\n",
            user.chat_id,
            user.language.map_or("no client language", Language::code),
        ))?;
    }
    loop {
        if interactive {
            write("> ")?;
        }
        let Some(line) = lines.next_line().await? else {
            break;
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !interactive {
            write(&format!("> {line}\n"))?;
        }
        update_id += 1;
        let update = text_update(update_id, &user, line, &app)?;
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

/// The update Telegram would send for `text` typed in the user's private chat.
fn text_update(id: i32, user: &ConsoleUser, text: &str, app: &App) -> anyhow::Result<Update> {
    let date = app.clock.now().timestamp();
    let mut from = json!({ "id": user.chat_id, "is_bot": false, "first_name": "Console" });
    if let Some(lang) = user.language {
        from["language_code"] = json!(lang.code());
    }
    // Parsed from text, as updates arrive from Telegram: teloxide's `Update` cannot be read
    // from a `serde_json::Value` (it needs borrowed keys).
    let update = json!({
        "update_id": id,
        "message": {
            "message_id": id,
            "date": date,
            "chat": { "id": user.chat_id, "type": "private", "first_name": "Console" },
            "from": from,
            "text": text,
        }
    });
    Ok(serde_json::from_str(&update.to_string())?)
}
