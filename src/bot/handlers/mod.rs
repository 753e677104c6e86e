//! Handlers: one update in, replies out through [`Outbound`]. They never build SQL and
//! never talk to Telegram directly, so the console runs exactly the same code.

mod about;
mod check;
mod dialogue;
mod editor;
mod forget;
mod help;
mod inline;
mod latest;
mod location;
mod membership;
mod notice;
mod report;
mod search;
mod settings;
mod start;
mod stats;
mod subscription;
pub(crate) mod tips;

use std::sync::Arc;

/// For the fuzz targets ([`crate::fuzz_targets`]).
pub(crate) use editor::draft::typed_expiry;
pub use inline::on_inline;
pub use membership::{on_membership, on_migration};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use teloxide::types::Me;

use super::budget::{Cost, Verdict};
use super::command::{self, Command, Parsed};
use super::incoming::{ButtonPress, Incoming, Origin};
use crate::app::App;
use crate::domain::{Language, Subscriber};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::Style;
use crate::render::callback::Callback;
use crate::render::keyboard::Keyboard;
use crate::store::StoreError;
use crate::telegram::outbound::{OutMessage, Outbound, SendError};

#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Send(#[from] SendError),
    #[error(transparent)]
    Publish(#[from] crate::publishing::PublishError),
}

pub type HandlerResult = Result<(), HandlerError>;

/// One update being answered: where it came from, and the chat's settings.
pub(crate) struct Ctx<'a> {
    pub app: &'a Arc<App>,
    pub out: &'a Arc<dyn Outbound>,
    pub origin: &'a Origin,
    pub bot_username: &'a str,
    /// The chat's stored settings, if it has any.
    pub chat: Option<Subscriber>,
    pub lang: Language,
    pub zone: Tz,
}

impl<'a> Ctx<'a> {
    async fn load(
        app: &'a Arc<App>,
        out: &'a Arc<dyn Outbound>,
        origin: &'a Origin,
        bot_username: &'a str,
    ) -> Result<Ctx<'a>, StoreError> {
        let chat = app.store.subscriber(origin.target.chat).await?;
        let lang = chat.as_ref().map_or_else(|| app.language_for(origin), |c| c.language);
        let zone = chat.as_ref().map_or(app.settings.time_zone, |c| c.time_zone);
        Ok(Ctx { app, out, origin, bot_username, chat, lang, zone })
    }

    /// A context that only knows the user's language, for apologising when loading failed.
    fn bare(
        app: &'a Arc<App>,
        out: &'a Arc<dyn Outbound>,
        origin: &'a Origin,
        bot_username: &'a str,
    ) -> Ctx<'a> {
        Ctx {
            lang: app.language_for(origin),
            zone: app.settings.time_zone,
            app,
            out,
            origin,
            bot_username,
            chat: None,
        }
    }

    /// The chat's language and zone, with links into this bot.
    pub fn style(&self) -> Style<'a> {
        Style::new(&self.app.texts, self.lang, self.zone).with_bot(Some(self.bot_username))
    }

    pub fn text(&self, key: &str) -> Html {
        self.app.texts.get(self.lang, key)
    }

    pub fn fill(&self, key: &str, args: &[(&str, Arg<'_>)]) -> Html {
        self.app.texts.fill(self.lang, key, args)
    }

    pub fn label(&self, key: &str) -> String {
        self.style().label(key)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.app.clock.now()
    }

    /// Today's date where the chat is.
    pub fn today(&self) -> NaiveDate {
        self.now().with_timezone(&self.zone).date_naive()
    }

    /// Hands a reply to the transport, which sends it in order with the chat's others.
    pub async fn reply(&self, html: Html) -> Result<(), SendError> {
        self.send(OutMessage::html(html)).await
    }

    pub async fn send(&self, message: OutMessage) -> Result<(), SendError> {
        self.out.send(self.origin.target, message).await
    }

    /// Sends the parts of a long message in order, with `keyboard` under the last.
    pub async fn send_parts(&self, parts: Vec<Html>, keyboard: Keyboard) -> Result<(), SendError> {
        let count = parts.len();
        for (i, part) in parts.into_iter().enumerate() {
            let message = if i + 1 == count {
                OutMessage::with_keyboard(part, keyboard.clone())
            } else {
                OutMessage::html(part)
            };
            self.send(message).await?;
        }
        Ok(())
    }

    /// Whether the sender may change this chat's subscription: anyone in a private chat,
    /// only administrators in a group.
    pub async fn may_manage_chat(&self) -> Result<bool, SendError> {
        if self.origin.is_private() {
            return Ok(true);
        }
        match &self.origin.sender {
            Some(sender) if sender.anonymous_admin => Ok(true),
            Some(sender) => self.out.is_chat_admin(self.origin.target.chat, sender.id).await,
            None => Ok(false),
        }
    }

    fn chat_id(&self) -> i64 {
        self.origin.target.chat.0
    }
}

/// The endpoint for text messages. Failures are answered and logged here, so the
/// dispatcher never sees an error.
pub async fn on_message(app: Arc<App>, out: Arc<dyn Outbound>, me: Me, msg: Incoming) -> HandlerResult {
    app.metrics.update();
    let origin = &msg.origin;
    let parsed = command::parse(&msg.text, me.username());
    if let Some(cost) = cost_of(&msg, &parsed) {
        let user = origin.sender.as_ref().map(|s| s.id);
        match app.budgets.spend(user, origin.target.chat, cost) {
            Verdict::Go => {}
            Verdict::TellOnce => {
                app.metrics.shed(crate::metrics::Shed::OverBudget);
                let ctx = Ctx::bare(&app, &out, origin, me.username());
                tracing::info!(chat = ctx.chat_id(), "over the command budget; told once");
                if let Err(e) = ctx.reply(ctx.text("reply.slow_down")).await {
                    tracing::debug!(chat = ctx.chat_id(), error = %e, "could not say so");
                }
                return Ok(());
            }
            Verdict::Quiet => {
                app.metrics.shed(crate::metrics::Shed::OverBudget);
                return Ok(());
            }
        }
    }
    let result = match Ctx::load(&app, &out, origin, me.username()).await {
        Ok(ctx) => match route(&ctx, &msg, parsed).await {
            Ok(()) => return Ok(()),
            Err(error) => (ctx, error),
        },
        Err(error) => (Ctx::bare(&app, &out, origin, me.username()), error.into()),
    };
    let (ctx, error) = result;
    if let Some(apology) = apology_for(&ctx, &error) {
        if let Err(e) = ctx.reply(ctx.text(apology)).await {
            tracing::warn!(chat = ctx.chat_id(), error = %e, "could not send the apology either");
        }
    }
    Ok(())
}

/// Runs every reader the handlers use on `command`'s arguments and keeps nothing, so that
/// the fuzz targets (`fuzz/`, [`crate::fuzz_targets`]) reach them without a chat, a store
/// or Telegram. `texts` are the locale texts (whose labels the readers accept); `zone` and
/// `now` stand for the bureau's zone and clock.
#[doc(hidden)]
pub fn read_arguments(command: &Command, texts: &crate::i18n::Texts, zone: Tz, now: DateTime<Utc>) {
    use crate::domain::{SearchTerms, Subject};
    match command {
        Command::Start(payload) => drop(crate::render::link::StartPayload::parse(payload)),
        Command::Notice(args) => drop(notice::parse_id(args)),
        Command::Edit(args) | Command::Retract(args) => drop(editor::notice_id(args)),
        Command::Search(args) => drop(SearchTerms::parse(args)),
        Command::Settings(args) => {
            let districts = crate::domain::Districts::default();
            drop(settings::parse_change(
                args,
                settings::Reading { texts, home: zone, now, districts: &districts },
            ))
        }
        Command::Lang(args) => drop(texts.read_language(args)),
        Command::Check(args) => drop(Subject::read_check(args)),
        Command::Indicator(args) => editor::read_indicator(args),
        Command::Post(args) => drop(editor::draft::parse_form(
            editor::draft::DraftKind::Post,
            Language::Zh,
            args,
            texts,
            &crate::domain::Districts::default(),
            zone,
            now,
        )),
        Command::Urgent(args) => drop(editor::draft::parse_form(
            editor::draft::DraftKind::Urgent,
            Language::En,
            args,
            texts,
            &crate::domain::Districts::default(),
            zone,
            now,
        )),
        _ => {}
    }
}

/// What a message costs of its sender's budget; `None` for what Pingan does not answer
/// (chatter in groups, other bots' commands).
fn cost_of(msg: &Incoming, parsed: &Parsed) -> Option<Cost> {
    let private = msg.origin.is_private();
    if msg.location.is_some() {
        return Some(Cost::Normal);
    }
    if msg.forwarded_from.is_some() {
        return private.then_some(Cost::Strict);
    }
    match parsed {
        Parsed::Command(Command::Check(_) | Command::Report | Command::Search(_)) => Some(Cost::Strict),
        Parsed::Command(_) => Some(Cost::Normal),
        Parsed::Unknown { addressed, .. } if *addressed || private => Some(Cost::Normal),
        // Plain text with a number or link in it costs what /check costs when it is checked,
        // not when a dialogue takes it (a report's story): `dialogue::continue_with` spends it.
        Parsed::NotACommand if private => Some(Cost::Normal),
        Parsed::Unknown { .. } | Parsed::NotACommand | Parsed::OtherBot => None,
    }
}

async fn route(ctx: &Ctx<'_>, msg: &Incoming, parsed: Parsed) -> HandlerResult {
    let text = msg.text.as_str();
    if ctx.origin.is_private() {
        note_username(ctx).await;
    }
    if let Some(location) = msg.location {
        return location::shared(ctx, location).await;
    }
    // A forwarded message is someone else's words, never a command to Pingan.
    if let Some(from) = &msg.forwarded_from {
        if ctx.origin.is_private() {
            return dialogue::continue_with(ctx, text, Some(from)).await;
        }
        return Ok(());
    }
    match parsed {
        Parsed::Command(command) => {
            tracing::info!(chat = ctx.chat_id(), command = command.name(), "command");
            ctx.app.metrics.command(command.name());
            match command {
                Command::Start(payload) => start::start(ctx, &payload).await,
                Command::Help => help::help(ctx).await,
                Command::Latest => latest::latest(ctx).await,
                Command::Notice(args) => notice::notice(ctx, &args).await,
                Command::Search(query) => search::search(ctx, &query).await,
                Command::Tip => tips::tip_of_the_day(ctx).await,
                Command::Tips => tips::menu(ctx).await,
                Command::Subscribe => subscription::subscribe(ctx).await,
                Command::Unsubscribe => subscription::unsubscribe(ctx).await,
                Command::Settings(args) => settings::settings(ctx, &args).await,
                Command::Lang(args) => settings::lang(ctx, &args).await,
                Command::About => about::about(ctx).await,
                Command::Forget => forget::forget(ctx).await,
                Command::Check(args) => check::check(ctx, &args).await,
                Command::Report => report::report(ctx).await,
                Command::Stats => stats::stats(ctx).await,
                Command::Reports => editor::reports(ctx).await,
                Command::Indicator(args) => editor::indicator(ctx, &args).await,
                Command::Post(args) => editor::post(ctx, &args, editor::draft::DraftKind::Post).await,
                Command::Urgent(args) => editor::post(ctx, &args, editor::draft::DraftKind::Urgent).await,
                Command::Edit(args) => editor::edit(ctx, &args).await,
                Command::Retract(args) => editor::retract(ctx, &args).await,
                Command::Cancel => dialogue::cancel(ctx).await,
                Command::Admins(args) => editor::admins(ctx, &args).await,
            }
        }
        Parsed::Unknown { typed, addressed } if addressed || ctx.origin.is_private() => {
            ctx.app.metrics.command("unknown");
            help::unknown_command(ctx, &typed).await
        }
        Parsed::NotACommand if ctx.origin.is_private() => dialogue::continue_with(ctx, text, None).await,
        // In groups, other people's chatter and other bots' commands are not for us.
        Parsed::Unknown { .. } | Parsed::NotACommand | Parsed::OtherBot => Ok(()),
    }
}

/// Notes the @username Telegram gives with a private message (or that there is none any
/// more), so owners may grant a role by it; skipped when this process noted the same
/// within a few minutes ([`crate::bot::usernames`]). A failure is logged, never the reply's.
async fn note_username(ctx: &Ctx<'_>) {
    let Some(sender) = ctx.origin.sender.as_ref().filter(|s| !s.anonymous_admin) else { return };
    let username = sender.username.as_deref().and_then(|name| crate::domain::Username::parse(name).ok());
    let spelling = username.as_ref().map(crate::domain::Username::as_str);
    if ctx.app.usernames.is_noted(sender.id, spelling) {
        return;
    }
    match ctx.app.store.note_username(sender.id, username.as_ref()).await {
        Ok(()) => ctx.app.usernames.noted(sender.id, spelling),
        Err(e) => tracing::warn!(user = sender.id, error = %e, "could not note a username"),
    }
}

/// What a button handler wants the button's spinner to say, if anything.
pub(crate) type ButtonResult = Result<Option<String>, HandlerError>;

/// The endpoint for inline-button presses. Every press is answered, so the spinner stops.
pub async fn on_button(app: Arc<App>, out: Arc<dyn Outbound>, me: Me, press: ButtonPress) -> HandlerResult {
    app.metrics.update();
    let origin = &press.origin;
    let user = origin.sender.as_ref().map(|s| s.id);
    let verdict = app.budgets.spend(user, origin.target.chat, Cost::Normal);
    if verdict != Verdict::Go {
        app.metrics.shed(crate::metrics::Shed::OverBudget);
        let ctx = Ctx::bare(&app, &out, origin, me.username());
        let text = (verdict == Verdict::TellOnce).then(|| ctx.label("reply.slow_down"));
        if let Err(e) = out.answer_callback(origin.target.chat, &press.id, text.as_deref()).await {
            tracing::debug!(error = %e, "could not answer a button press");
        }
        return Ok(());
    }
    let (ctx, result) = match Ctx::load(&app, &out, origin, me.username()).await {
        Ok(ctx) => {
            let result = route_button(&ctx, &press).await;
            (ctx, result)
        }
        Err(error) => (Ctx::bare(&app, &out, origin, me.username()), Err(error.into())),
    };
    let answer = match result {
        Ok(answer) => answer,
        Err(error) => apology_for(&ctx, &error).map(|key| ctx.label(key)),
    };
    if let Err(e) = ctx.out.answer_callback(origin.target.chat, &press.id, answer.as_deref()).await {
        tracing::warn!(chat = ctx.chat_id(), error = %e, "could not answer a button press");
    }
    Ok(())
}

async fn route_button(ctx: &Ctx<'_>, press: &ButtonPress) -> ButtonResult {
    let Some(callback) = Callback::decode(&press.data) else {
        return Ok(Some(ctx.label("button.outdated")));
    };
    tracing::debug!(chat = ctx.chat_id(), data = %press.data, "button");
    let at = press.message;
    match callback {
        Callback::Noop => Ok(None),
        Callback::LatestPage(page) => latest::page(ctx, at, page).await,
        Callback::OpenNotice(id) => notice::open(ctx, id).await,
        Callback::SearchPage { query, page } => search::page(ctx, at, query, page).await,
        Callback::OpenTip(id) => tips::open(ctx, id).await,
        Callback::TipsMenu => tips::menu_again(ctx, at).await,
        Callback::MoreTips => tips::menu(ctx).await.map(|()| None),
        Callback::TipsOf(kind) => tips::of_kind(ctx, at, kind).await,
        Callback::Settings(action) => settings::button(ctx, at, action).await,
        Callback::Forget(confirmed) => forget::confirmed(ctx, at, confirmed).await,
        Callback::Post { draft, action } => editor::post_button(ctx, at, draft, action).await,
        Callback::Correct { draft, confirm } => editor::confirm_correction(ctx, at, draft, confirm).await,
        Callback::Retract { id, confirm } => editor::confirm_retraction(ctx, at, id, confirm).await,
        Callback::Tip(action) => editor::tips::button(ctx, at, action).await,
        Callback::Report { draft, step } => report::button(ctx, at, draft, step).await,
        Callback::Dialogue { draft, choice } => dialogue::button(ctx, at, draft, choice).await,
        Callback::Listing { draft, confirm } => editor::listing_button(ctx, at, draft, confirm).await,
        Callback::Grant { draft, role } => editor::grant_button(ctx, at, draft, role).await,
        Callback::Moderate { id, decision } => editor::moderate(ctx, at, id, decision).await,
    }
}

/// Logs a failure and picks the locale key of what to tell the user, if anything.
fn apology_for(ctx: &Ctx<'_>, error: &HandlerError) -> Option<&'static str> {
    let chat = ctx.chat_id();
    match error {
        HandlerError::Send(SendError::Gone(reason)) => {
            tracing::info!(chat, %reason, "chat unreachable while answering");
            None
        }
        HandlerError::Store(e) if e.is_busy() => {
            tracing::warn!(chat, error = %e, "database busy while answering");
            Some("reply.busy")
        }
        other => {
            tracing::error!(chat, error = %other, "failed to answer");
            Some("reply.internal_error")
        }
    }
}
