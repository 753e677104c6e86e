//! Inline mode (issue 16, part 2): typing `@<bot> 刷单` in any chat offers matching
//! anti-fraud tips and recent notices as ready-made messages to send there, each with a
//! button that opens the bot. Operators enable it with @BotFather's `/setinline`.
//!
//! What a query offers, best first:
//! - nothing typed: the tip of the day, then the latest notices;
//! - `tip:<id>` or `n<id>` (what a Share button types, [`SharedItem`]): that tip (then the
//!   rest of its type's) or that notice;
//! - words: tips whose scam type's name holds them (or is held by them), in either
//!   language's names; then tips and notices that search finds. Tips come in the asker's
//!   language (`from.language_code`), or in the other language when none in theirs match.
//!
//! At most [`PAGE`] articles an answer, with `next_offset` for the next page. Every query
//! counts against its sender's command budget ([`crate::bot::budget`]); one over it is
//! answered with no results, cached by no one.

use std::sync::Arc;

use teloxide::types::Me;

use super::HandlerResult;
use crate::app::App;
use crate::bot::budget::{Cost, Verdict};
use crate::bot::incoming::InlineAsk;
use crate::domain::{ChatId, Language, Notice, ScamType, SearchTerms, Tip, tip_of_the_day};
use crate::html::{Html, to_plain};
use crate::render::keyboard::{Button, Keyboard};
use crate::render::link::{SharedItem, StartPayload, deep_link};
use crate::render::{Style, notice_messages, severity_marker, tip_messages};
use crate::store::{Found, NoticeQuery, StoreError, TipQuery};
use crate::telegram::outbound::{InlineAnswer, InlineArticle, Outbound};

/// Articles in one answer (Telegram takes up to 50; a phone shows about a screenful).
pub const PAGE: usize = 20;
/// Characters of a query read; the rest is ignored.
const MAX_QUERY_CHARS: usize = 100;
/// The most items one query's pages reach, and the most search results read for them.
const MOST: usize = 100;
/// How long Telegram may keep an answer of tips only: tips change when an editor edits
/// them, rarely and never urgently, and a query typed letter by letter repeats the same
/// prefixes, so five minutes spares the bot most of them.
pub const TIPS_CACHE_SECONDS: u32 = 300;
/// How long Telegram may keep an answer holding notices: a withdrawn or corrected notice
/// must stop being offered soon, so one minute.
pub const NOTICES_CACHE_SECONDS: u32 = 60;

/// One thing an answer offers.
enum Item {
    Tip(Tip),
    Notice(Notice),
}

/// The endpoint for inline queries. Failures are logged and answered with no results, so
/// the asker's client stops waiting.
pub async fn on_inline(app: Arc<App>, out: Arc<dyn Outbound>, me: Me, ask: InlineAsk) -> HandlerResult {
    app.metrics.update();
    let user = ask.sender.id;
    // The inbox keys inline queries by their sender's private chat, and so does the budget.
    if app.budgets.spend(Some(user), ChatId(user), Cost::Normal) != Verdict::Go {
        app.metrics.shed(crate::metrics::Shed::OverBudget);
        tracing::info!(user, "an inline query over the command budget; answered with nothing");
        return answer(&out, empty(&ask)).await;
    }
    let lang = Language::from_telegram(ask.sender.language_code.as_deref(), app.settings.default_language);
    let style = Style::new(&app.texts, lang, app.settings.time_zone).with_bot(Some(me.username()));
    let items = match offered(&app, &style, &ask.query).await {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(user, error = %e, "failed to answer an inline query");
            return answer(&out, empty(&ask)).await;
        }
    };
    let from = ask.offset.parse::<usize>().unwrap_or(0).min(items.len());
    let page: Vec<&Item> = items.iter().skip(from).take(PAGE).collect();
    let next = from + page.len();
    let holds_notices = page.iter().any(|item| matches!(item, Item::Notice(_)));
    let results = page.into_iter().map(|item| article(&style, item)).collect();
    let reply = InlineAnswer {
        query_id: ask.id.clone(),
        results,
        cache_time: if holds_notices { NOTICES_CACHE_SECONDS } else { TIPS_CACHE_SECONDS },
        // The answer is in the asker's language (their client's), which the query text
        // does not carry: cached for everyone, an English reader could be handed the
        // Chinese answer to the same query. So each person's answers are cached for them.
        is_personal: true,
        next_offset: if next < items.len() { next.to_string() } else { String::new() },
    };
    answer(&out, reply).await
}

fn empty(ask: &InlineAsk) -> InlineAnswer {
    InlineAnswer {
        query_id: ask.id.clone(),
        results: Vec::new(),
        cache_time: 0,
        is_personal: true,
        next_offset: String::new(),
    }
}

async fn answer(out: &Arc<dyn Outbound>, answer: InlineAnswer) -> HandlerResult {
    if let Err(e) = out.answer_inline(answer).await {
        tracing::warn!(error = %e, "could not answer an inline query");
    }
    Ok(())
}

/// Everything the query offers, best first, at most [`MOST`].
async fn offered(app: &App, style: &Style<'_>, query: &str) -> Result<Vec<Item>, StoreError> {
    // As `/search` does, a query is read up to its first hundred characters (Telegram
    // allows 512).
    let query: String = query.trim().chars().take(MAX_QUERY_CHARS).collect();
    let query = query.as_str();
    let mut items = if query.is_empty() {
        everyday(app, style).await?
    } else {
        match SharedItem::parse(query) {
            Some(SharedItem::Tip(id)) => match app.store.tip(id).await? {
                Some(tip) if !tip.retired => {
                    let kin = tips_in(app, Some(tip.scam_type), tip.language).await?;
                    let first = tip.id;
                    let rest = kin.into_iter().filter(move |t| t.id != first).map(Item::Tip);
                    std::iter::once(Item::Tip(tip)).chain(rest).collect()
                }
                _ => Vec::new(),
            },
            Some(SharedItem::Notice(id)) => match app.store.notice(id).await? {
                Some(notice) if notice.is_public_at(app.clock.now()) => vec![Item::Notice(notice)],
                _ => Vec::new(),
            },
            None => matching(app, style, query).await?,
        }
    };
    items.truncate(MOST);
    Ok(items)
}

async fn tips_in(app: &App, kind: Option<ScamType>, lang: Language) -> Result<Vec<Tip>, StoreError> {
    let query = TipQuery { scam_type: kind, language: Some(lang), include_retired: false };
    app.store.tips(&query).await
}

fn other(lang: Language) -> Language {
    match lang {
        Language::Zh => Language::En,
        Language::En => Language::Zh,
    }
}

/// The tip of the day (in the reader's language, else the other), then the newest
/// notices (in the reader's language, else in any).
async fn everyday(app: &App, style: &Style<'_>) -> Result<Vec<Item>, StoreError> {
    let now = app.clock.now();
    let mut items = Vec::new();
    let mut tips = tips_in(app, None, style.lang).await?;
    if tips.is_empty() {
        tips = tips_in(app, None, other(style.lang)).await?;
    }
    let today = now.with_timezone(&style.zone).date_naive();
    if let Some(tip) = tip_of_the_day(&tips, today) {
        items.push(Item::Tip(tip.clone()));
    }
    let mut query = NoticeQuery::public(now, MOST as u32, 0);
    query.language = Some(style.lang);
    if app.store.count_notices(&query).await? == 0 {
        query.language = None;
    }
    items.extend(app.store.list_notices(&query).await?.into_iter().map(Item::Notice));
    Ok(items)
}

/// Whether a scam type's name and the query hold one another, letter case aside.
/// A query of one letter matches nothing this way (it would match nearly every name).
fn names_match(name: &str, query: &str) -> bool {
    let (name, query) = (name.to_lowercase(), query.to_lowercase());
    query.chars().count() >= 2 && (name.contains(&query) || query.contains(&name))
}

/// Tips by scam type name, then tips and notices by search (see the module's docs).
async fn matching(app: &App, style: &Style<'_>, query: &str) -> Result<Vec<Item>, StoreError> {
    let kinds: Vec<ScamType> = ScamType::ALL
        .iter()
        .copied()
        .filter(|kind| {
            Language::ALL.iter().any(|lang| {
                let name = Style { lang: *lang, ..*style }.scam_type(*kind);
                names_match(&name, query)
            })
        })
        .collect();
    let found = match SearchTerms::parse(query) {
        Some(terms) => app.store.search(&terms, style.lang, app.clock.now(), MOST as u32, 0).await?.hits,
        None => Vec::new(),
    };
    let mut searched_tips = Vec::new();
    let mut notices = Vec::new();
    for hit in found {
        match hit {
            Found::Tip(tip) => searched_tips.push(tip),
            Found::Notice(notice) => notices.push(notice),
        }
    }
    let mut tips = tips_for(app, &kinds, &searched_tips, style.lang).await?;
    if tips.is_empty() {
        tips = tips_for(app, &kinds, &searched_tips, other(style.lang)).await?;
    }
    Ok(tips.into_iter().map(Item::Tip).chain(notices.into_iter().map(Item::Notice)).collect())
}

/// The tips of `kinds`, then the searched tips, those in `lang` only, each once.
async fn tips_for(
    app: &App,
    kinds: &[ScamType],
    searched: &[Tip],
    lang: Language,
) -> Result<Vec<Tip>, StoreError> {
    let mut tips = Vec::new();
    for kind in kinds {
        tips.extend(tips_in(app, Some(*kind), lang).await?);
    }
    for tip in searched.iter().filter(|t| t.language == lang) {
        if !tips.iter().any(|t: &Tip| t.id == tip.id) {
            tips.push(tip.clone());
        }
    }
    Ok(tips)
}

/// An item as an article: the card `/tip` or `/notice` shows (its first message, should
/// it take more), under it a button that opens the item in the bot.
fn article(style: &Style<'_>, item: &Item) -> InlineArticle {
    let bot = style.bot.unwrap_or_default();
    let (id, title, description, parts, payload) = match item {
        Item::Tip(tip) => {
            let kind = style.scam_type(tip.scam_type);
            (
                format!("tip-{}", tip.id.0),
                tip.title.as_str().to_owned(),
                style.fill("inline.tip_description", &[("kind", (&kind).into())]),
                tip_messages(style, "tip.heading", tip),
                StartPayload::Tips(tip.scam_type),
            )
        }
        Item::Notice(notice) => {
            let c = &notice.content;
            let date = notice.publish_at.map(|t| style.date(t)).unwrap_or_default();
            let area = c
                .area
                .as_ref()
                .map(|a| a.as_str().to_owned())
                .unwrap_or_else(|| style.label("notice.citywide"));
            (
                format!("notice-{}", notice.id.0),
                format!("{} {}", severity_marker(c.severity), c.title.as_str()),
                style
                    .fill("inline.notice_description", &[("date", (&date).into()), ("area", (&area).into())]),
                notice_messages(style, notice),
                StartPayload::Notice(notice.id),
            )
        }
    };
    let html = parts.into_iter().next().unwrap_or_else(|| Html::escape(&title));
    let keyboard = Keyboard::new()
        .row(vec![Button::url(style.label("inline.open_bot_button"), deep_link(bot, payload))]);
    InlineArticle { id, title, description: to_plain(description.as_str()), html, keyboard }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_name_and_a_query_match_either_way_round_and_in_any_case() {
        assert!(names_match("刷单返利", "刷单"));
        assert!(names_match("刷单返利", "刷单返利诈骗"));
        assert!(names_match("Order brushing", "order"));
        assert!(!names_match("Fake loans", "刷单"));
        assert!(!names_match("Fake loans", "a"));
    }
}
