//! `/search <words>`: notices and tips holding every word, in the chat's language first,
//! best first, five to a page; a word found in more than [`RANKED_MATCHES`] documents
//! lists the newest that many, and the header says so. A search that finds nothing offers
//! a near query that does ("did you mean", [`crate::domain::suggestions`]) with a button
//! that runs it.

use super::latest::{PAGE_SIZE, page_count, pager};
use super::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::domain::{SearchTerms, suggestions};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, MAX_PAGE};
use crate::render::keyboard::{Button, Keyboard, short_label};
use crate::render::{notice_line, tip_line};
use crate::store::{Found, Matches, RANKED_MATCHES};
use crate::telegram::outbound::{OutMessage, Sent};

/// Longer queries are cut to this many characters before they are searched and kept.
const MAX_QUERY_CHARS: usize = 100;

/// How many near queries a search that found nothing tries, best first, before it says
/// only that nothing was found.
const SUGGESTIONS_TRIED: usize = 3;

pub(super) async fn search(ctx: &Ctx<'_>, query: &str) -> HandlerResult {
    let query: String = query.trim().chars().take(MAX_QUERY_CHARS).collect();
    if query.is_empty() {
        ctx.reply(ctx.text("search.usage")).await?;
        return Ok(());
    }
    let Some(terms) = SearchTerms::parse(&query) else {
        ctx.reply(ctx.fill("search.nothing_to_search", &[("query", Arg::Typed(&query))])).await?;
        return Ok(());
    };
    let remembered = ctx.app.store.remember_query(&query, ctx.now()).await?;
    let message = render_page(ctx, &query, &terms, remembered, 0).await?;
    ctx.send(message).await?;
    Ok(())
}

pub(super) async fn page(ctx: &Ctx<'_>, at: Sent, remembered: i64, page: u32) -> ButtonResult {
    let Some(query) = ctx.app.store.remembered_query(remembered).await? else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    let Some(terms) = SearchTerms::parse(&query) else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    let message = render_page(ctx, &query, &terms, remembered, page).await?;
    ctx.out.edit(at, message).await?;
    Ok(None)
}

async fn render_page(
    ctx: &Ctx<'_>,
    query: &str,
    terms: &SearchTerms,
    remembered: i64,
    page: u32,
) -> Result<OutMessage, HandlerError> {
    let now = ctx.now();
    let page = page.min(MAX_PAGE);
    let first = ctx.app.store.search(terms, ctx.lang, now, PAGE_SIZE, page * PAGE_SIZE).await?;
    if first.matches.is_empty() {
        return did_you_mean(ctx, query).await;
    }
    let pages = page_count(first.matches.ranked());
    // A page past the end (results expired meanwhile) shows the last one instead.
    let (results, page) = if page >= pages {
        let last = pages - 1;
        (ctx.app.store.search(terms, ctx.lang, now, PAGE_SIZE, last * PAGE_SIZE).await?, last)
    } else {
        (first, page)
    };
    let style = ctx.style();
    let mut text = match results.matches {
        Matches::All(total) => {
            ctx.fill("search.header", &[("query", Arg::Typed(query)), ("total", Arg::Number(total as i64))])
        }
        Matches::MoreThanRanked => ctx.fill(
            "search.header_more",
            &[("query", Arg::Typed(query)), ("ranked", Arg::Number(i64::from(RANKED_MATCHES)))],
        ),
    };
    let mut keyboard = Keyboard::new();
    for (i, hit) in results.hits.iter().enumerate() {
        let number = (page * PAGE_SIZE) as usize + i + 1;
        text.push(&Html::trusted("\n\n".into()));
        let (line, title, open) = match hit {
            Found::Notice(n) => {
                (notice_line(&style, number, n), n.content.title.as_str(), Callback::OpenNotice(n.id))
            }
            Found::Tip(t) => (tip_line(&style, number, t), t.title.as_str(), Callback::OpenTip(t.id)),
        };
        text.push(&line);
        keyboard =
            keyboard.row(vec![Button::callback(format!("{number}. {}", short_label(title, 28)), open)]);
    }
    keyboard = keyboard.row(pager(ctx, page, pages, |page| Callback::SearchPage { query: remembered, page }));
    Ok(OutMessage::with_keyboard(text, keyboard))
}

/// "Nothing found", with the first near query that finds something, if any, and a button
/// that searches it.
async fn did_you_mean(ctx: &Ctx<'_>, query: &str) -> Result<OutMessage, HandlerError> {
    let vocabulary = ctx.app.vocabulary(ctx.now()).await?;
    for suggestion in suggestions(query, &vocabulary, SUGGESTIONS_TRIED) {
        let Some(terms) = SearchTerms::parse(&suggestion) else { continue };
        if ctx.app.store.search(&terms, ctx.lang, ctx.now(), 1, 0).await?.matches.is_empty() {
            continue;
        }
        let remembered = ctx.app.store.remember_query(&suggestion, ctx.now()).await?;
        let args = [("query", Arg::Typed(query)), ("suggestion", (&suggestion).into())];
        let button = crate::html::to_plain(ctx.fill("search.did_you_mean_button", &args[1..]).as_str());
        let keyboard = Keyboard::new().row(vec![Button::callback(
            short_label(&button, 40),
            Callback::SearchPage { query: remembered, page: 0 },
        )]);
        return Ok(OutMessage::with_keyboard(ctx.fill("search.did_you_mean", &args), keyboard));
    }
    Ok(OutMessage::html(ctx.fill("search.no_results", &[("query", Arg::Typed(query))])))
}
