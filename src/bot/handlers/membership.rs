//! `my_chat_member`: Telegram saying the bot was blocked, removed, or welcomed back.

use std::sync::Arc;

use teloxide::types::{ChatMemberKind, ChatMemberUpdated};

use super::HandlerResult;
use crate::app::App;
use crate::domain::{ChatId, GoneReason};

/// A user who blocks the bot, or a group that removes it, is gone at once, not only at
/// the next failed send; one who comes back is active again.
pub async fn on_membership(app: Arc<App>, update: ChatMemberUpdated) -> HandlerResult {
    app.metrics.update();
    let chat = ChatId(update.chat.id.0);
    let now = app.clock.now();
    match update.new_chat_member.kind {
        ChatMemberKind::Banned(_) | ChatMemberKind::Left => {
            let reason = if update.chat.is_private() { GoneReason::Blocked } else { GoneReason::Kicked };
            if app.store.mark_gone(chat, reason, now).await? {
                tracing::info!(chat = chat.0, %reason, "the bot was blocked or removed; subscriber marked gone");
            }
        }
        ChatMemberKind::Member(_) | ChatMemberKind::Administrator(_) | ChatMemberKind::Owner(_) => {
            if app.store.mark_active(chat, now).await? {
                tracing::info!(chat = chat.0, "the bot is back in the chat; subscriber active again");
            }
        }
        ChatMemberKind::Restricted(_) => {}
    }
    Ok(())
}
