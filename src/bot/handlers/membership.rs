//! What Telegram says about the bot's place in a chat: `my_chat_member` (blocked, removed,
//! welcomed back, its right to post taken or given back) and the service messages of a
//! group that became a supergroup.

use std::sync::Arc;

use teloxide::types::{ChatMemberKind, ChatMemberUpdated, Message};

use super::HandlerResult;
use crate::app::App;
use crate::domain::{ChatId, GoneReason, PauseReason};

/// A user who blocks the bot, or a group that removes it, is gone at once, not only at
/// the next failed send; one who comes back is active again. A group or channel that takes
/// the bot's right to post pauses its subscription; giving it back resumes it.
pub async fn on_membership(app: Arc<App>, update: ChatMemberUpdated) -> HandlerResult {
    app.metrics.update();
    let chat = ChatId(update.chat.id.0);
    let now = app.clock.now();
    let may_post = match &update.new_chat_member.kind {
        ChatMemberKind::Banned(_) | ChatMemberKind::Left => {
            let reason = if update.chat.is_private() { GoneReason::Blocked } else { GoneReason::Kicked };
            if app.store.mark_gone(chat, reason, now).await? {
                tracing::info!(chat = chat.0, %reason, "the bot was blocked or removed; subscriber marked gone");
            }
            return Ok(());
        }
        ChatMemberKind::Restricted(r) => r.is_member && r.can_send_messages,
        // In a channel only an administrator that may post can.
        ChatMemberKind::Administrator(a) if update.chat.is_channel() => a.can_post_messages,
        ChatMemberKind::Member(_) if update.chat.is_channel() => false,
        ChatMemberKind::Member(_) | ChatMemberKind::Administrator(_) | ChatMemberKind::Owner(_) => true,
    };
    if may_post {
        if app.store.mark_active(chat, now).await? {
            tracing::info!(chat = chat.0, "the bot may post in the chat again; subscriber active");
        }
    } else if app.store.mark_paused(chat, PauseReason::NoRights, now).await? {
        tracing::info!(chat = chat.0, "the bot may no longer post in the chat; subscription paused");
    }
    Ok(())
}

/// A group became a supergroup: Telegram says so in both (`migrate_to_chat_id` in the old
/// group, `migrate_from_chat_id` in the new). The subscription and its waiting deliveries
/// move once, whichever comes first.
pub async fn on_migration(app: Arc<App>, message: Message) -> HandlerResult {
    app.metrics.update();
    let (from, to) = match (message.migrate_to_chat_id(), message.migrate_from_chat_id()) {
        (Some(to), _) => (ChatId(message.chat.id.0), ChatId(to.0)),
        (None, Some(from)) => (ChatId(from.0), ChatId(message.chat.id.0)),
        (None, None) => return Ok(()),
    };
    if app.store.move_chat(from, to, app.clock.now()).await? {
        tracing::info!(from = from.0, to = to.0, "group became a supergroup; subscription moved");
    }
    Ok(())
}
