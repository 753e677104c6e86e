//! `/latest`: the newest public notices, five to a page, paged in place.

use super::{ButtonResult, Ctx, HandlerResult};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, MAX_PAGE};
use crate::render::keyboard::{Button, Keyboard, short_label};
use crate::render::notice_line;
use crate::store::NoticeQuery;
use crate::telegram::outbound::{OutMessage, Sent};

pub(super) const PAGE_SIZE: u32 = 5;

pub(super) async fn latest(ctx: &Ctx<'_>) -> HandlerResult {
    let message = render_page(ctx, 0).await?;
    ctx.send(message).await?;
    Ok(())
}

pub(super) async fn page(ctx: &Ctx<'_>, at: Sent, page: u32) -> ButtonResult {
    let message = render_page(ctx, page).await?;
    ctx.out.edit(at, message).await?;
    Ok(None)
}

/// The notices in the chat's language, or in every language when there are none in it
/// (a bureau may publish in Chinese only).
async fn visible_query(ctx: &Ctx<'_>) -> Result<(NoticeQuery, u64), super::HandlerError> {
    let store = &ctx.app.store;
    let mut query = NoticeQuery::public(ctx.now(), PAGE_SIZE, 0);
    query.language = Some(ctx.lang);
    let in_language = store.count_notices(&query).await?;
    if in_language > 0 {
        return Ok((query, in_language));
    }
    query.language = None;
    let total = store.count_notices(&query).await?;
    Ok((query, total))
}

async fn render_page(ctx: &Ctx<'_>, page: u32) -> Result<OutMessage, super::HandlerError> {
    let (mut query, total) = visible_query(ctx).await?;
    if total == 0 {
        return Ok(OutMessage::html(ctx.text("latest.empty")));
    }
    let pages = page_count(total);
    let page = page.min(pages - 1);
    query.offset = page * PAGE_SIZE;
    let notices = ctx.app.store.list_notices(&query).await?;
    let style = ctx.style();
    let mut text = ctx.fill(
        "latest.header",
        &[("page", Arg::Number(i64::from(page) + 1)), ("pages", Arg::Number(i64::from(pages)))],
    );
    let mut keyboard = Keyboard::new();
    for (i, notice) in notices.iter().enumerate() {
        let number = (page * PAGE_SIZE) as usize + i + 1;
        text.push(&Html::trusted("\n\n".into()));
        text.push(&notice_line(&style, number, notice));
        let label = format!("{number}. {}", short_label(notice.content.title.as_str(), 28));
        keyboard = keyboard.row(vec![Button::callback(label, Callback::OpenNotice(notice.id))]);
    }
    keyboard = keyboard.row(pager(ctx, page, pages, Callback::LatestPage));
    Ok(OutMessage::with_keyboard(text, keyboard))
}

/// How many pages `total` results fill, at least one and at most the pages a button may
/// name ([`MAX_PAGE`] + 1), so `page * PAGE_SIZE` stays small for every page shown.
pub(super) fn page_count(total: u64) -> u32 {
    let pages = total.div_ceil(u64::from(PAGE_SIZE)).clamp(1, u64::from(MAX_PAGE) + 1);
    u32::try_from(pages).unwrap_or(MAX_PAGE)
}

/// ◀ page/pages ▶, each arrow only where there is a page to go to.
pub(super) fn pager(ctx: &Ctx<'_>, page: u32, pages: u32, to: impl Fn(u32) -> Callback) -> Vec<Button> {
    if pages <= 1 {
        return Vec::new();
    }
    let mut row = Vec::new();
    if page > 0 {
        row.push(Button::callback(ctx.label("paging.previous"), to(page - 1)));
    }
    row.push(Button::callback(format!("{}/{pages}", page + 1), Callback::Noop));
    if page + 1 < pages {
        row.push(Button::callback(ctx.label("paging.next"), to(page + 1)));
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_counts_stay_within_what_a_button_may_name() {
        assert_eq!(page_count(1), 1);
        assert_eq!(page_count(5), 1);
        assert_eq!(page_count(6), 2);
        assert_eq!(page_count(u64::MAX), MAX_PAGE + 1);
        assert!((MAX_PAGE + 1).checked_mul(PAGE_SIZE).is_some(), "the last page's offset fits");
    }
}
