//! `/settings` (a screen with buttons, or `/settings <what> <value>`) and `/lang`.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc, Weekday};
use chrono_tz::Tz;

use super::subscription::subscribed;
use super::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::domain::typed::{fold_label, split_list};
use crate::domain::{
    Category, DigestTime, DistrictSet, Districts, Frequency, Keyword, Language, SearchTerms, Subscriber,
    SubscriberStatus, UnknownZone, ZoneReading, parse_time_zone, utc_offset_label, utc_offset_seconds,
};
use crate::html::Html;
use crate::i18n::{Arg, Texts, WEEKDAYS, category_key, language_key, weekday_key};
use crate::render::callback::{Callback, SettingsAction, SettingsMenu};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

/// At most this many keywords to include, and as many to exclude.
const MAX_KEYWORDS: usize = 10;

const TIMES: [&str; 9] = ["06:00", "07:00", "07:30", "08:00", "09:00", "12:00", "18:00", "20:00", "21:00"];

/// The zones offered as buttons, east to west, after the bureau's own: one button per
/// offset at the moment the menu is drawn (the first zone of an offset is kept).
const ZONES: [Tz; 14] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::Asia::Tokyo,
    chrono_tz::Australia::Sydney,
    chrono_tz::Pacific::Auckland,
    chrono_tz::Asia::Bangkok,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Asia::Dubai,
    chrono_tz::Europe::Moscow,
    chrono_tz::Europe::Athens,
    chrono_tz::Europe::Berlin,
    chrono_tz::Europe::London,
    chrono_tz::America::Sao_Paulo,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
];

/// The zone buttons for a chat in `current`: the bureau's zone first, the chat's own next
/// if it is another, then [`ZONES`]; one per UTC offset at `now`.
pub(super) fn zone_choices(home: Tz, current: Tz, now: DateTime<Utc>) -> Vec<Tz> {
    let mut offsets = Vec::new();
    let mut zones = Vec::new();
    for zone in [home, current].into_iter().chain(ZONES) {
        let offset = utc_offset_seconds(zone, now);
        if !offsets.contains(&offset) {
            offsets.push(offset);
            zones.push(zone);
        }
    }
    zones
}

/// A zone as the settings show it: its name in the chat's language (`zone.<IANA name>` in
/// the locale files, else the IANA name) and its offset now, as in `北京时间 UTC+8`; a
/// fixed `Etc/` zone by its offset alone (`UTC-12`).
pub(super) fn zone_label(ctx: &Ctx<'_>, zone: Tz) -> String {
    let offset = utc_offset_label(utc_offset_seconds(zone, ctx.now()));
    // IANA's fixed zones are named with the sign reversed (Etc/GMT+12 is UTC-12): the
    // offset alone says what they are.
    if zone.name().starts_with("Etc/") {
        return offset;
    }
    let name = ctx
        .app
        .texts
        .lookup(ctx.lang, &format!("zone.{}", zone.name()))
        .map_or_else(|| zone.name().to_owned(), crate::html::to_plain);
    format!("{name} {offset}")
}

/// The chat's settings: stored ones, or the defaults of a chat that has none (not subscribed).
pub(super) fn chat_settings(ctx: &Ctx<'_>) -> Subscriber {
    ctx.chat.clone().unwrap_or_else(|| {
        let mut fresh =
            Subscriber::new(ctx.origin.target.chat, ctx.lang, ctx.app.settings.time_zone, ctx.now());
        fresh.subscribed = false;
        fresh.thread_id = ctx.origin.target.thread_id;
        fresh.user_id = ctx.origin.sender.as_ref().map(|s| s.id);
        fresh
    })
}

/// Saves what the person changed — and only that: the digest schedule stays the
/// scheduler's and the chat's state the outcome recorder's, whatever they wrote since
/// this update read the settings.
pub(super) async fn save(ctx: &Ctx<'_>, settings: Subscriber) -> Result<Subscriber, HandlerError> {
    save_as(ctx, settings, false).await
}

/// [`save`] for `/subscribe`: the chat is active again, in the topic it was asked in.
pub(super) async fn save_subscription(
    ctx: &Ctx<'_>,
    settings: Subscriber,
) -> Result<Subscriber, HandlerError> {
    save_as(ctx, settings, true).await
}

async fn save_as(ctx: &Ctx<'_>, mut settings: Subscriber, revive: bool) -> Result<Subscriber, HandlerError> {
    settings.updated_at = ctx.now();
    ctx.app.store.save_settings(&settings, revive).await?;
    // Someone with a role who changes their language gets their command menu in it.
    if ctx.origin.is_private() && settings.language != ctx.lang {
        let user = settings.chat_id.0;
        if ctx.app.role_of(user).await?.is_some() {
            if let Err(e) = crate::bot::menu::refresh_person(ctx.app, ctx.out.as_ref(), user).await {
                tracing::warn!(user, error = %e, "could not queue a command menu change");
            }
        }
    }
    Ok(settings)
}

// --- What the screen shows ---------------------------------------------------------------

fn weekday_label(ctx: &Ctx<'_>, day: Weekday) -> String {
    ctx.label(&weekday_key(day))
}

fn language_label(ctx: &Ctx<'_>, lang: Language) -> String {
    ctx.label(&language_key(lang))
}

fn frequency_text(ctx: &Ctx<'_>, s: &Subscriber) -> Html {
    let time = s.digest_time.to_string();
    let zone = zone_label(ctx, s.time_zone);
    let zone = zone.as_str();
    match s.frequency {
        Frequency::Off => ctx.text("settings.digest_off"),
        Frequency::Daily => {
            ctx.fill("settings.digest_daily", &[("time", (&time).into()), ("zone", zone.into())])
        }
        Frequency::Weekly(day) => ctx.fill(
            "settings.digest_weekly",
            &[
                ("weekday", (&weekday_label(ctx, day)).into()),
                ("time", (&time).into()),
                ("zone", zone.into()),
            ],
        ),
    }
}

fn keyword_list(ctx: &Ctx<'_>, words: &[Keyword]) -> String {
    if words.is_empty() {
        return ctx.label("settings.none");
    }
    words.iter().map(Keyword::as_str).collect::<Vec<_>>().join(ctx.label("settings.list_separator").as_str())
}

/// The settings as text: status, digest, categories, keywords, language.
pub(super) fn screen(ctx: &Ctx<'_>, s: &Subscriber) -> Html {
    let style = ctx.style();
    let categories = if s.categories.is_empty() {
        ctx.label("settings.all_categories")
    } else {
        let names: Vec<String> = s.categories.iter().map(|c| style.category(*c)).collect();
        names.join(ctx.label("settings.list_separator").as_str())
    };
    let include = keyword_list(ctx, &s.include_keywords);
    let exclude = keyword_list(ctx, &s.exclude_keywords);
    let language = language_label(ctx, s.language);
    let digest = frequency_text(ctx, s);
    let districts = district_list(ctx, &s.districts);
    let status = match s.status {
        SubscriberStatus::Paused { reason, .. } if s.subscribed => {
            let reason = ctx.label(&format!("pause.{}", reason.as_str()));
            ctx.fill("settings.status_paused", &[("reason", (&reason).into())])
        }
        _ => ctx.text(if s.subscribed { "settings.status_on" } else { "settings.status_off" }),
    };
    let text = ctx.fill(
        "settings.screen",
        &[
            ("status", (&status).into()),
            ("digest", (&digest).into()),
            ("categories", (&categories).into()),
            ("include", (&include).into()),
            ("exclude", (&exclude).into()),
            ("language", (&language).into()),
        ],
    );
    let mut text = text;
    if !ctx.app.settings.districts.is_empty() {
        text.push(&Html::trusted("\n".into()));
        text.push(&ctx.fill("settings.districts_line", &[("districts", (&districts).into())]));
    }
    text
}

/// The districts a chat follows, named in its language; "all districts" for none.
pub(super) fn district_list(ctx: &Ctx<'_>, set: &DistrictSet) -> String {
    if set.is_empty() {
        return ctx.label("settings.all_districts");
    }
    ctx.app.settings.districts.names(set, ctx.lang, ctx.label("settings.list_separator").as_str())
}

fn to_menu(ctx: &Ctx<'_>, key: &str, menu: SettingsMenu) -> Button {
    Button::callback(ctx.label(key), Callback::Settings(SettingsAction::Menu(menu)))
}

fn back(ctx: &Ctx<'_>) -> Vec<Button> {
    vec![Button::callback(ctx.label("settings.button.back"), Callback::Settings(SettingsAction::Show))]
}

/// A button that sets something, ticked when it is the current choice.
fn choice(label: String, current: bool, action: SettingsAction) -> Button {
    let label = if current { format!("✓ {label}") } else { label };
    Button::callback(label, Callback::Settings(action))
}

fn main_view(ctx: &Ctx<'_>, s: &Subscriber) -> OutMessage {
    let mut text = screen(ctx, s);
    text.push(&Html::trusted("\n\n".into()));
    text.push(&ctx.text("settings.hint"));
    let subscription = if s.subscribed {
        Button::callback(
            ctx.label("settings.button.unsubscribe"),
            Callback::Settings(SettingsAction::Subscribed(false)),
        )
    } else {
        Button::callback(
            ctx.label("settings.button.subscribe"),
            Callback::Settings(SettingsAction::Subscribed(true)),
        )
    };
    let keyboard = Keyboard::new()
        .row(vec![
            to_menu(ctx, "settings.button.frequency", SettingsMenu::Frequency),
            to_menu(ctx, "settings.button.time", SettingsMenu::Time),
        ])
        .row(vec![
            to_menu(ctx, "settings.button.zone", SettingsMenu::Zone),
            to_menu(ctx, "settings.button.language", SettingsMenu::Language),
        ])
        .row(vec![
            to_menu(ctx, "settings.button.categories", SettingsMenu::Categories),
            to_menu(ctx, "settings.button.keywords", SettingsMenu::Keywords),
        ]);
    let keyboard = if ctx.app.settings.districts.is_empty() {
        keyboard
    } else {
        keyboard.row(vec![to_menu(ctx, "settings.button.districts", SettingsMenu::Districts)])
    };
    OutMessage::with_keyboard(text, keyboard.row(vec![subscription]))
}

fn menu_view(ctx: &Ctx<'_>, s: &Subscriber, menu: SettingsMenu) -> OutMessage {
    let style = ctx.style();
    let (text, keyboard) = match menu {
        SettingsMenu::Frequency => {
            let buttons = vec![
                choice(
                    ctx.label("frequency.daily"),
                    s.frequency == Frequency::Daily,
                    SettingsAction::Frequency(Frequency::Daily),
                ),
                Button::callback(
                    ctx.label("frequency.weekly"),
                    Callback::Settings(SettingsAction::Menu(SettingsMenu::Weekday)),
                ),
                choice(
                    ctx.label("frequency.off"),
                    s.frequency == Frequency::Off,
                    SettingsAction::Frequency(Frequency::Off),
                ),
            ];
            (ctx.text("settings.menu.frequency"), Keyboard::new().row(buttons))
        }
        SettingsMenu::Weekday => {
            let buttons = WEEKDAYS
                .iter()
                .map(|d| {
                    let current = s.frequency == Frequency::Weekly(*d);
                    choice(weekday_label(ctx, *d), current, SettingsAction::Frequency(Frequency::Weekly(*d)))
                })
                .collect();
            (ctx.text("settings.menu.weekday"), Keyboard::new().grid(buttons, 4))
        }
        SettingsMenu::Time => {
            let buttons = TIMES
                .iter()
                .filter_map(|t| t.parse::<DigestTime>().ok())
                .map(|t| choice(t.to_string(), s.digest_time == t, SettingsAction::Time(t)))
                .collect();
            (ctx.text("settings.menu.time"), Keyboard::new().grid(buttons, 3))
        }
        SettingsMenu::Zone => {
            let buttons = zone_choices(ctx.app.settings.time_zone, s.time_zone, ctx.now())
                .into_iter()
                .map(|z| choice(zone_label(ctx, z), s.time_zone == z, SettingsAction::Zone(z)))
                .collect();
            (ctx.text("settings.menu.zone"), Keyboard::new().grid(buttons, 2))
        }
        SettingsMenu::Language => {
            let buttons = Language::ALL
                .iter()
                .map(|l| choice(language_label(ctx, *l), s.language == *l, SettingsAction::Language(*l)))
                .collect();
            (ctx.text("settings.menu.language"), Keyboard::new().row(buttons))
        }
        SettingsMenu::Categories => {
            let buttons = Category::ALL
                .iter()
                .map(|c| {
                    let mark = if s.categories.contains(c) { "✅" } else { "⬜" };
                    let label = format!("{mark} {}", style.category(*c));
                    Button::callback(label, Callback::Settings(SettingsAction::ToggleCategory(*c)))
                })
                .collect();
            let all = choice(
                ctx.label("settings.all_categories"),
                s.categories.is_empty(),
                SettingsAction::AllCategories,
            );
            (ctx.text("settings.menu.categories"), Keyboard::new().grid(buttons, 2).row(vec![all]))
        }
        SettingsMenu::Districts => {
            let buttons = ctx
                .app
                .settings
                .districts
                .all()
                .iter()
                .map(|d| {
                    let mark = if s.districts.contains(&d.key) { "✅" } else { "⬜" };
                    let label = format!("{mark} {}", d.name(ctx.lang));
                    Button::callback(label, Callback::Settings(SettingsAction::ToggleDistrict(d.key.clone())))
                })
                .collect();
            let all = choice(
                ctx.label("settings.all_districts"),
                s.districts.is_empty(),
                SettingsAction::AllDistricts,
            );
            (ctx.text("settings.menu.districts"), Keyboard::new().grid(buttons, 2).row(vec![all]))
        }
        SettingsMenu::Keywords => {
            let include = keyword_list(ctx, &s.include_keywords);
            let exclude = keyword_list(ctx, &s.exclude_keywords);
            let text = ctx.fill(
                "settings.menu.keywords",
                &[("include", (&include).into()), ("exclude", (&exclude).into())],
            );
            let clear = Button::callback(
                ctx.label("settings.button.clear_keywords"),
                Callback::Settings(SettingsAction::ClearKeywords),
            );
            (text, Keyboard::new().row(vec![clear]))
        }
    };
    OutMessage::with_keyboard(text, keyboard.row(back(ctx)))
}

// --- Changing settings -------------------------------------------------------------------

/// A change to a chat's settings, from a button or from `/settings <what> <value>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Change {
    Frequency(Frequency),
    Time(DigestTime),
    Zone(ZoneReading),
    Language(Language),
    Categories(BTreeSet<Category>),
    ToggleCategory(Category),
    /// Keywords to add, in the order typed.
    Include(Vec<Keyword>),
    Exclude(Vec<Keyword>),
    ClearKeywords,
    /// The districts to follow (empty: all).
    Districts(DistrictSet),
    ToggleDistrict(crate::domain::DistrictKey),
}

/// Why `/settings <what> <value>` could not be read; each has its own answer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Unreadable {
    Usage,
    Time(String),
    Zone(UnknownZone),
    Frequency(String),
    Language(String),
    Category(String),
    /// Empty, too long or on several lines.
    Keyword,
    /// A keyword search could never match: nothing in it is a word (`!!!`).
    Unsearchable(String),
    /// Not one of the configured districts (or the city has none).
    District(String),
}

/// What `/settings <what> <value>` is read with: the locale texts (whose labels are
/// values too), the bureau's zone (preferred for an offset it has), and the time.
#[derive(Clone, Copy)]
pub(super) struct Reading<'a> {
    pub texts: &'a Texts,
    pub home: Tz,
    pub now: DateTime<Utc>,
    /// The city's districts (`bot.districts`).
    pub districts: &'a Districts,
}

impl<'a> Reading<'a> {
    fn of(ctx: &Ctx<'a>) -> Reading<'a> {
        Reading {
            texts: &ctx.app.texts,
            home: ctx.app.settings.time_zone,
            now: ctx.now(),
            districts: &ctx.app.settings.districts,
        }
    }
}

/// The keywords of a typed list (split on `,` `，` `、` and spaces), each one a keyword
/// search could match.
fn keywords(typed: &str) -> Result<Vec<Keyword>, Unreadable> {
    let items = split_list(typed);
    if items.is_empty() {
        return Err(Unreadable::Usage);
    }
    items
        .iter()
        .map(|item| {
            let word = Keyword::parse(item).map_err(|_| Unreadable::Keyword)?;
            SearchTerms::parse(word.as_str()).ok_or_else(|| Unreadable::Unsearchable(item.clone()))?;
            Ok(word)
        })
        .collect()
}

pub(super) fn parse_change(args: &str, reading: Reading<'_>) -> Result<Change, Unreadable> {
    let (what, value) = args.split_once(char::is_whitespace).map_or((args, ""), |(w, v)| (w, v.trim()));
    let value_or_usage = |v: &str| {
        if v.is_empty() { Err(Unreadable::Usage) } else { Ok(v.to_owned()) }
    };
    match what.to_lowercase().as_str() {
        "time" | "时间" => {
            let v = value_or_usage(value)?;
            v.parse().map(Change::Time).map_err(|_| Unreadable::Time(v))
        }
        "tz" | "zone" | "timezone" | "时区" => {
            let v = value_or_usage(value)?;
            parse_time_zone(&v, reading.home, reading.now).map(Change::Zone).map_err(Unreadable::Zone)
        }
        "frequency" | "freq" | "频率" => {
            let v = value_or_usage(value)?;
            reading.texts.read_frequency(&v).map(Change::Frequency).ok_or(Unreadable::Frequency(v))
        }
        "lang" | "language" | "语言" => {
            let v = value_or_usage(value)?;
            reading.texts.read_language(&v).map(Change::Language).ok_or(Unreadable::Language(v))
        }
        "categories" | "category" | "分类" => {
            let v = value_or_usage(value)?;
            let all_categories =
                |lang| reading.texts.lookup(lang, "settings.all_categories").map(crate::html::to_plain);
            let folded = fold_label(&v);
            if ["all", "全部"].contains(&folded.as_str())
                || Language::ALL.iter().any(|l| all_categories(*l).is_some_and(|a| fold_label(&a) == folded))
            {
                return Ok(Change::Categories(BTreeSet::new()));
            }
            split_list(&v)
                .into_iter()
                .map(|part| reading.texts.read_category(&part).ok_or(Unreadable::Category(part)))
                .collect::<Result<BTreeSet<_>, _>>()
                .map(Change::Categories)
        }
        "include" | "关注" => keywords(&value_or_usage(value)?).map(Change::Include),
        "exclude" | "屏蔽" => keywords(&value_or_usage(value)?).map(Change::Exclude),
        "districts" | "district" | "区域" | "地区" | "辖区" => {
            let v = value_or_usage(value)?;
            if reading.districts.is_empty() {
                return Err(Unreadable::District(v));
            }
            reading.districts.parse_list(&v).map(Change::Districts).map_err(|e| Unreadable::District(e.0))
        }
        "keywords" | "关键词" if matches!(value.to_lowercase().as_str(), "clear" | "清空") => {
            Ok(Change::ClearKeywords)
        }
        _ => Err(Unreadable::Usage),
    }
}

/// Applies a change; false when it was refused (too many keywords).
fn apply(s: &mut Subscriber, change: Change) -> bool {
    match change {
        Change::Frequency(f) => s.frequency = f,
        Change::Time(t) => s.digest_time = t,
        Change::Zone(z) => s.time_zone = z.zone(),
        Change::Language(l) => s.language = l,
        Change::Categories(c) => s.categories = c,
        Change::ToggleCategory(c) => {
            if !s.categories.remove(&c) {
                s.categories.insert(c);
            }
        }
        Change::Include(words) => return add_keywords(&mut s.include_keywords, words),
        Change::Exclude(words) => return add_keywords(&mut s.exclude_keywords, words),
        Change::ClearKeywords => {
            s.include_keywords.clear();
            s.exclude_keywords.clear();
        }
        Change::Districts(d) => s.districts = d,
        Change::ToggleDistrict(d) => {
            if !s.districts.remove(&d) {
                s.districts.insert(d);
            }
        }
    }
    true
}

/// Adds the words not already in `list` (compared as [`fold_label`] does: case, width and
/// script), all or none: false when they would make more than [`MAX_KEYWORDS`].
fn add_keywords(list: &mut Vec<Keyword>, words: Vec<Keyword>) -> bool {
    let mut added = list.clone();
    for word in words {
        if !added.iter().any(|w| fold_label(w.as_str()) == fold_label(word.as_str())) {
            added.push(word);
        }
    }
    if added.len() > MAX_KEYWORDS && added.len() > list.len() {
        return false;
    }
    *list = added;
    true
}

pub(super) async fn settings(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let current = chat_settings(ctx);
    if args.trim().is_empty() {
        ctx.send(main_view(ctx, &current)).await?;
        return Ok(());
    }
    let change = match parse_change(args.trim(), Reading::of(ctx)) {
        Ok(change) => change,
        Err(unreadable) => {
            ctx.reply(explain(ctx, unreadable)).await?;
            return Ok(());
        }
    };
    if !ctx.may_manage_chat().await? {
        ctx.reply(ctx.text("group.admins_only")).await?;
        return Ok(());
    }
    let mut updated = current;
    let change_made = change.clone();
    if !apply(&mut updated, change) {
        ctx.reply(ctx.fill("settings.too_many_keywords", &[("max", Arg::Number(MAX_KEYWORDS as i64))]))
            .await?;
        return Ok(());
    }
    let saved = save(ctx, updated).await?;
    // Answer in the chat's language as it is now: a language change shows at once.
    let after = Ctx { lang: saved.language, zone: saved.time_zone, chat: Some(saved.clone()), ..*ctx };
    let mut text = after.text("settings.saved");
    if let Change::Zone(ZoneReading::Offset { seconds, zone }) = change_made {
        text.push(&Html::trusted("\n".into()));
        text.push(&offset_note(&after, seconds, zone));
    }
    text.push(&Html::trusted("\n\n".into()));
    text.push(&screen(&after, &saved));
    after.reply(text).await?;
    Ok(())
}

/// What an offset was taken as: its usual zone, or a fixed offset under IANA's name for it.
fn offset_note(ctx: &Ctx<'_>, seconds: i32, zone: Tz) -> Html {
    let offset = utc_offset_label(seconds);
    let args = [("offset", offset.as_str().into()), ("zone", zone.name().into())];
    if zone.name().starts_with("Etc/") {
        ctx.fill("settings.zone_fixed_offset", &args)
    } else {
        let label = zone_label(ctx, zone);
        ctx.fill("settings.zone_from_offset", &[args[0], args[1], ("label", label.as_str().into())])
    }
}

fn explain(ctx: &Ctx<'_>, unreadable: Unreadable) -> Html {
    match unreadable {
        Unreadable::Usage => ctx.text("settings.usage"),
        Unreadable::Time(typed) => ctx.fill("settings.bad_time", &[("typed", Arg::Typed(&typed))]),
        Unreadable::Zone(UnknownZone { typed, suggestion: Some(zone) }) => ctx.fill(
            "settings.bad_zone_suggest",
            &[("typed", Arg::Typed(&typed)), ("suggestion", zone.name().into())],
        ),
        Unreadable::Zone(UnknownZone { typed, suggestion: None }) => {
            ctx.fill("settings.bad_zone", &[("typed", Arg::Typed(&typed))])
        }
        Unreadable::Frequency(typed) => ctx.fill("settings.bad_frequency", &[("typed", Arg::Typed(&typed))]),
        Unreadable::Language(typed) => ctx.fill("settings.bad_language", &[("typed", Arg::Typed(&typed))]),
        Unreadable::Category(typed) => {
            let all = ctx.app.texts.choices(ctx.lang, Category::ALL, category_key);
            ctx.fill("settings.bad_category", &[("typed", Arg::Typed(&typed)), ("all", (&all).into())])
        }
        Unreadable::Keyword => ctx.text("settings.bad_keyword"),
        Unreadable::Unsearchable(typed) => {
            ctx.fill("settings.unsearchable_keyword", &[("typed", (&typed).into())])
        }
        Unreadable::District(typed) => unknown_district(ctx, &typed),
    }
}

/// The answer to a district name that is none of the city's: the districts there are,
/// or that the city has none configured.
pub(in crate::bot::handlers) fn unknown_district(ctx: &Ctx<'_>, typed: &str) -> Html {
    let districts = &ctx.app.settings.districts;
    if districts.is_empty() {
        return ctx.text("settings.no_districts");
    }
    let all: Vec<&str> = districts.all().iter().map(|d| d.name(ctx.lang)).collect();
    let all = all.join(ctx.label("settings.list_separator").as_str());
    ctx.fill("settings.bad_district", &[("typed", Arg::Typed(typed)), ("all", (&all).into())])
}

pub(super) async fn lang(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    if args.trim().is_empty() {
        ctx.send(menu_view(ctx, &chat_settings(ctx), SettingsMenu::Language)).await?;
        return Ok(());
    }
    settings(ctx, &format!("lang {}", args.trim())).await
}

pub(super) async fn button(ctx: &Ctx<'_>, at: Sent, action: SettingsAction) -> ButtonResult {
    let current = chat_settings(ctx);
    let (change, stay_in) = match action {
        SettingsAction::Show => {
            ctx.out.edit(at, main_view(ctx, &current)).await?;
            return Ok(None);
        }
        SettingsAction::Menu(menu) => {
            ctx.out.edit(at, menu_view(ctx, &current, menu)).await?;
            return Ok(None);
        }
        SettingsAction::Subscribed(on) => {
            if !ctx.may_manage_chat().await? {
                return Ok(Some(ctx.label("group.admins_only")));
            }
            let saved = if on {
                save_subscription(ctx, subscribed(ctx)).await?
            } else {
                save(ctx, Subscriber { subscribed: false, ..current }).await?
            };
            ctx.out.edit(at, main_view(ctx, &saved)).await?;
            return Ok(Some(ctx.label("settings.saved")));
        }
        SettingsAction::Frequency(f) => (Change::Frequency(f), None),
        SettingsAction::Time(t) => (Change::Time(t), None),
        SettingsAction::Zone(z) => (Change::Zone(ZoneReading::Named(z)), None),
        SettingsAction::Language(l) => (Change::Language(l), None),
        SettingsAction::ToggleCategory(c) => (Change::ToggleCategory(c), Some(SettingsMenu::Categories)),
        SettingsAction::AllCategories => {
            (Change::Categories(BTreeSet::new()), Some(SettingsMenu::Categories))
        }
        SettingsAction::ClearKeywords => (Change::ClearKeywords, None),
        SettingsAction::ToggleDistrict(d) => (Change::ToggleDistrict(d), Some(SettingsMenu::Districts)),
        SettingsAction::AllDistricts => {
            (Change::Districts(DistrictSet::new()), Some(SettingsMenu::Districts))
        }
    };
    if !ctx.may_manage_chat().await? {
        return Ok(Some(ctx.label("group.admins_only")));
    }
    let mut updated = current;
    apply(&mut updated, change);
    let saved = save(ctx, updated).await?;
    let after = Ctx { lang: saved.language, zone: saved.time_zone, chat: Some(saved.clone()), ..*ctx };
    let view = match stay_in {
        Some(menu) => menu_view(&after, &saved, menu),
        None => main_view(&after, &saved),
    };
    ctx.out.edit(at, view).await?;
    Ok(Some(after.label("settings.saved")))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn parse(args: &str) -> Result<Change, Unreadable> {
        let texts = Texts::load().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        parse_change(
            args,
            Reading { texts: &texts, home: chrono_tz::Asia::Shanghai, now, districts: &Districts::default() },
        )
    }

    fn words(list: &[&str]) -> Vec<Keyword> {
        list.iter().map(|w| Keyword::parse(w).unwrap()).collect()
    }

    #[test]
    fn changes_are_read_in_english_and_chinese() {
        assert_eq!(parse("time 07:30"), Ok(Change::Time("07:30".parse().unwrap())));
        assert_eq!(parse("时间 7点半"), Ok(Change::Time("07:30".parse().unwrap())));
        assert_eq!(
            parse("时区 Europe/Berlin"),
            Ok(Change::Zone(ZoneReading::Named(chrono_tz::Europe::Berlin)))
        );
        assert_eq!(
            parse("tz GMT+8"),
            Ok(Change::Zone(ZoneReading::Offset { seconds: 8 * 3600, zone: chrono_tz::Asia::Shanghai }))
        );
        assert_eq!(parse("frequency weekly fri"), Ok(Change::Frequency(Frequency::Weekly(Weekday::Fri))));
        assert_eq!(parse("频率 每周 周日"), Ok(Change::Frequency(Frequency::Weekly(Weekday::Sun))));
        assert_eq!(parse("频率 每周五"), Ok(Change::Frequency(Frequency::Weekly(Weekday::Fri))));
        assert_eq!(parse("freq weekly"), Ok(Change::Frequency(Frequency::Weekly(Weekday::Mon))));
        assert_eq!(parse("frequency off"), Ok(Change::Frequency(Frequency::Off)));
        assert_eq!(parse("frequency 关闭摘要"), Ok(Change::Frequency(Frequency::Off)));
        let fraud_traffic = Ok(Change::Categories(BTreeSet::from([Category::Fraud, Category::Traffic])));
        assert_eq!(parse("categories fraud, traffic"), fraud_traffic);
        assert_eq!(parse("categories 反诈,交通"), fraud_traffic);
        assert_eq!(parse("分类 反诈、交通"), fraud_traffic);
        assert_eq!(parse("categories Fraud，Traffic"), fraud_traffic);
        assert_eq!(parse("categories all"), Ok(Change::Categories(BTreeSet::new())));
        assert_eq!(parse("分类 全部分类"), Ok(Change::Categories(BTreeSet::new())));
        assert_eq!(parse("include 刷单"), Ok(Change::Include(words(&["刷单"]))));
        assert_eq!(parse("keywords clear"), Ok(Change::ClearKeywords));
        assert_eq!(parse("lang en"), Ok(Change::Language(Language::En)));
        assert_eq!(parse("语言 English"), Ok(Change::Language(Language::En)));
    }

    #[test]
    fn keyword_lists_split_on_commas_and_spaces() {
        for typed in ["刷单,贷款", "刷单，贷款", "刷单、贷款", "刷单 贷款"] {
            assert_eq!(
                parse(&format!("include {typed}")),
                Ok(Change::Include(words(&["刷单", "贷款"]))),
                "{typed}"
            );
            assert_eq!(
                parse(&format!("屏蔽 {typed}")),
                Ok(Change::Exclude(words(&["刷单", "贷款"]))),
                "{typed}"
            );
        }
        assert_eq!(parse("include 刷单,!!!"), Err(Unreadable::Unsearchable("!!!".into())));
        assert_eq!(parse("include ，、"), Err(Unreadable::Usage));
        assert_eq!(parse(&format!("include {}", "长".repeat(51))), Err(Unreadable::Keyword));
    }

    #[test]
    fn bad_values_say_what_was_wrong() {
        assert_eq!(parse("time 25:00"), Err(Unreadable::Time("25:00".into())));
        assert!(matches!(
            parse("tz Asia/Shangai"),
            Err(Unreadable::Zone(UnknownZone { suggestion: Some(chrono_tz::Asia::Shanghai), .. }))
        ));
        assert_eq!(parse("frequency hourly"), Err(Unreadable::Frequency("hourly".into())));
        assert_eq!(parse("categories weather"), Err(Unreadable::Category("weather".into())));
        assert_eq!(parse("colour blue"), Err(Unreadable::Usage));
        assert_eq!(parse("time"), Err(Unreadable::Usage));
    }

    #[test]
    fn keyword_lists_are_bounded_and_free_of_repeats() {
        let mut list = Vec::new();
        assert!(add_keywords(&mut list, words(&["Fraud", "fraud", "ＦＲＡＵＤ"])));
        assert_eq!(list.len(), 1);
        let more: Vec<String> = (1..MAX_KEYWORDS).map(|i| format!("w{i}")).collect();
        assert!(add_keywords(&mut list, more.iter().map(|w| Keyword::parse(w).unwrap()).collect()));
        assert!(!add_keywords(&mut list, words(&["one", "more"])));
        assert_eq!(list.len(), MAX_KEYWORDS, "all or none");
    }

    #[test]
    fn every_zone_name_shown_is_read_back_as_its_zone() {
        let texts = Texts::load().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        for lang in Language::ALL {
            let names: Vec<(&str, &str)> =
                texts.entries(lang).filter(|(k, _)| k.starts_with("zone.")).collect();
            assert!(names.len() >= ZONES.len(), "{lang}");
            for (key, name) in names {
                let zone: Tz = key["zone.".len()..].parse().unwrap();
                let read = parse_time_zone(&crate::html::to_plain(name), chrono_tz::Asia::Shanghai, now);
                assert_eq!(read.map(ZoneReading::zone), Ok(zone), "{lang} {key} = {name}");
            }
            for zone in ZONES {
                assert!(texts.lookup(lang, &format!("zone.{}", zone.name())).is_some(), "{lang} {zone}");
            }
            // And as the card and the buttons show them, with the offset.
            for zone in zone_choices(chrono_tz::Asia::Shanghai, chrono_tz::America::Bogota, now) {
                let name = texts.lookup(lang, &format!("zone.{}", zone.name())).unwrap_or(zone.name());
                let shown = format!("{name} {}", utc_offset_label(utc_offset_seconds(zone, now)));
                let read = parse_time_zone(&shown, chrono_tz::Asia::Shanghai, now).map(ZoneReading::zone);
                assert_eq!(read, Ok(zone), "{lang} {shown}");
            }
        }
    }

    #[test]
    fn zone_buttons_have_one_zone_per_offset_and_the_bureaus_first() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let zones = zone_choices(chrono_tz::Asia::Hong_Kong, chrono_tz::Asia::Hong_Kong, now);
        assert_eq!(zones[0], chrono_tz::Asia::Hong_Kong);
        assert!(!zones.contains(&chrono_tz::Asia::Shanghai), "Shanghai has Hong Kong's offset");
        let offsets: BTreeSet<i32> = zones.iter().map(|z| utc_offset_seconds(*z, now)).collect();
        assert_eq!(offsets.len(), zones.len());
        let with_own = zone_choices(chrono_tz::Asia::Shanghai, chrono_tz::America::Bogota, now);
        assert_eq!(&with_own[..2], [chrono_tz::Asia::Shanghai, chrono_tz::America::Bogota]);
        assert!(!with_own.contains(&chrono_tz::America::New_York), "Bogotá has New York's winter offset");
    }
}
