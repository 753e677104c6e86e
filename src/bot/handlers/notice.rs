//! `/notice <id>` and the buttons that open a notice: the whole text, in as many
//! messages as it takes.

use super::{ButtonResult, Ctx, HandlerResult};
use crate::domain::{NoticeId, NoticeStatus};
use crate::render::keyboard::Keyboard;
use crate::render::link::SharedItem;
use crate::render::{notice_messages, share_button};

pub(super) async fn notice(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    match parse_id(args) {
        Some(id) => show(ctx, id).await,
        None => {
            ctx.reply(ctx.text("notice.usage")).await?;
            Ok(())
        }
    }
}

pub(super) async fn open(ctx: &Ctx<'_>, id: NoticeId) -> ButtonResult {
    show(ctx, id).await?;
    Ok(None)
}

/// Notice `id` as `/notice` shows it, or why it cannot be shown: withdrawn, expired, or
/// no such public notice (drafts and scheduled ones are not told apart from those).
pub(super) async fn show(ctx: &Ctx<'_>, id: NoticeId) -> HandlerResult {
    let now = ctx.now();
    let number = id.0.to_string();
    let unavailable = match ctx.app.store.notice(id).await? {
        Some(notice) if notice.is_public_at(now) => {
            let style = ctx.style();
            let share = Keyboard::new().row(vec![share_button(&style, SharedItem::Notice(id).query())]);
            ctx.send_parts(notice_messages(&style, &notice), share).await?;
            return Ok(());
        }
        Some(notice) if notice.status == NoticeStatus::Retracted => "notice.retracted",
        Some(notice) if matches!(notice.status, NoticeStatus::Published | NoticeStatus::Expired) => {
            "notice.expired"
        }
        // Drafts and scheduled notices are not public yet; citizens learn nothing of them.
        _ => "notice.not_found",
    };
    ctx.reply(ctx.fill(unavailable, &[("id", (&number).into())])).await?;
    Ok(())
}

/// `12`, `#12` or `＃12`.
pub(super) fn parse_id(args: &str) -> Option<NoticeId> {
    let digits = args.trim().trim_start_matches(['#', '＃']);
    digits.parse::<i64>().ok().filter(|id| *id > 0).map(NoticeId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_with_or_without_a_hash() {
        assert_eq!(parse_id("12"), Some(NoticeId(12)));
        assert_eq!(parse_id(" #12 "), Some(NoticeId(12)));
        assert_eq!(parse_id("＃7"), Some(NoticeId(7)));
        for bad in ["", "abc", "-3", "0", "1 2"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
