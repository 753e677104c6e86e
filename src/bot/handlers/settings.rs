//! `/settings` (a screen with buttons, or `/settings <what> <value>`) and `/lang`.

use std::collections::BTreeSet;

use chrono::Weekday;
use chrono_tz::Tz;

use super::subscription::subscribed;
use super::{ButtonResult, Ctx, HandlerError, HandlerResult};
use crate::domain::{
    Category, DigestTime, Frequency, Keyword, Language, Subscriber, SubscriberStatus, UnknownZone,
    parse_time_zone,
};
use crate::html::Html;
use crate::i18n::Arg;
use crate::render::callback::{Callback, SettingsAction, SettingsMenu};
use crate::render::keyboard::{Button, Keyboard};
use crate::telegram::outbound::{OutMessage, Sent};

/// At most this many keywords to include, and as many to exclude.
const MAX_KEYWORDS: usize = 10;

const TIMES: [&str; 9] = ["06:00", "07:00", "07:30", "08:00", "09:00", "12:00", "18:00", "20:00", "21:00"];

const ZONES: [Tz; 10] = [
    chrono_tz::Asia::Shanghai,
    chrono_tz::Asia::Hong_Kong,
    chrono_tz::Asia::Taipei,
    chrono_tz::Asia::Singapore,
    chrono_tz::Asia::Tokyo,
    chrono_tz::Europe::London,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::America::Los_Angeles,
    chrono_tz::Australia::Sydney,
];

const WEEKDAYS: [Weekday; 7] =
    [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat, Weekday::Sun];

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
    Ok(settings)
}

// --- What the screen shows ---------------------------------------------------------------

fn weekday_label(ctx: &Ctx<'_>, day: Weekday) -> String {
    ctx.label(&format!("weekday.{}", day.num_days_from_monday()))
}

fn language_label(ctx: &Ctx<'_>, lang: Language) -> String {
    ctx.label(&format!("language.{}", lang.code()))
}

fn frequency_text(ctx: &Ctx<'_>, s: &Subscriber) -> Html {
    let time = s.digest_time.to_string();
    let zone = s.time_zone.name();
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
    let status = match s.status {
        SubscriberStatus::Paused { reason, .. } if s.subscribed => {
            let reason = ctx.label(&format!("pause.{}", reason.as_str()));
            ctx.fill("settings.status_paused", &[("reason", (&reason).into())])
        }
        _ => ctx.text(if s.subscribed { "settings.status_on" } else { "settings.status_off" }),
    };
    ctx.fill(
        "settings.screen",
        &[
            ("status", (&status).into()),
            ("digest", (&digest).into()),
            ("categories", (&categories).into()),
            ("include", (&include).into()),
            ("exclude", (&exclude).into()),
            ("language", (&language).into()),
        ],
    )
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
        ])
        .row(vec![subscription]);
    OutMessage::with_keyboard(text, keyboard)
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
            let buttons = ZONES
                .iter()
                .map(|z| choice(z.name().to_owned(), s.time_zone == *z, SettingsAction::Zone(*z)))
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
    Zone(Tz),
    Language(Language),
    Categories(BTreeSet<Category>),
    ToggleCategory(Category),
    Include(Keyword),
    Exclude(Keyword),
    ClearKeywords,
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
    Keyword,
}

pub(super) fn parse_change(args: &str) -> Result<Change, Unreadable> {
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
            parse_time_zone(&v).map(Change::Zone).map_err(Unreadable::Zone)
        }
        "frequency" | "freq" | "频率" => {
            let v = value_or_usage(value)?;
            parse_frequency(&v).map(Change::Frequency).ok_or(Unreadable::Frequency(v))
        }
        "lang" | "language" | "语言" => {
            let v = value_or_usage(value)?;
            v.parse().map(Change::Language).map_err(|_| Unreadable::Language(v))
        }
        "categories" | "category" | "分类" => {
            let v = value_or_usage(value)?;
            if matches!(v.to_lowercase().as_str(), "all" | "全部") {
                return Ok(Change::Categories(BTreeSet::new()));
            }
            v.split([',', '，', ' ', '、'])
                .filter(|part| !part.is_empty())
                .map(|part| part.parse::<Category>().map_err(|_| Unreadable::Category(part.to_owned())))
                .collect::<Result<BTreeSet<_>, _>>()
                .map(Change::Categories)
        }
        "include" | "关注" => {
            Keyword::parse(&value_or_usage(value)?).map(Change::Include).map_err(|_| Unreadable::Keyword)
        }
        "exclude" | "屏蔽" => {
            Keyword::parse(&value_or_usage(value)?).map(Change::Exclude).map_err(|_| Unreadable::Keyword)
        }
        "keywords" | "关键词" if matches!(value.to_lowercase().as_str(), "clear" | "清空") => {
            Ok(Change::ClearKeywords)
        }
        _ => Err(Unreadable::Usage),
    }
}

/// `daily`, `off`, or `weekly` with an optional weekday (Monday if none).
fn parse_frequency(text: &str) -> Option<Frequency> {
    let mut words = text.split_whitespace();
    let first = words.next()?.to_lowercase();
    let frequency = match first.as_str() {
        "daily" | "每天" | "每日" => Frequency::Daily,
        "off" | "none" | "关闭" | "不要" => Frequency::Off,
        "weekly" | "每周" => Frequency::Weekly(words.next().map_or(Some(Weekday::Mon), parse_weekday)?),
        _ => return None,
    };
    words.next().is_none().then_some(frequency)
}

fn parse_weekday(text: &str) -> Option<Weekday> {
    let text = text.to_lowercase();
    let chinese = ["一", "二", "三", "四", "五", "六", "日"];
    if let Some(i) = chinese.iter().position(|c| {
        text == *c || text == format!("周{c}") || text == format!("星期{c}") || (*c == "日" && text == "周天")
    }) {
        return WEEKDAYS.get(i).copied();
    }
    text.parse::<Weekday>().ok()
}

/// Applies a change; false when it was refused (too many keywords).
fn apply(s: &mut Subscriber, change: Change) -> bool {
    match change {
        Change::Frequency(f) => s.frequency = f,
        Change::Time(t) => s.digest_time = t,
        Change::Zone(z) => s.time_zone = z,
        Change::Language(l) => s.language = l,
        Change::Categories(c) => s.categories = c,
        Change::ToggleCategory(c) => {
            if !s.categories.remove(&c) {
                s.categories.insert(c);
            }
        }
        Change::Include(word) => return add_keyword(&mut s.include_keywords, word),
        Change::Exclude(word) => return add_keyword(&mut s.exclude_keywords, word),
        Change::ClearKeywords => {
            s.include_keywords.clear();
            s.exclude_keywords.clear();
        }
    }
    true
}

fn add_keyword(list: &mut Vec<Keyword>, word: Keyword) -> bool {
    if list.iter().any(|w| w.as_str().eq_ignore_ascii_case(word.as_str())) {
        return true;
    }
    if list.len() >= MAX_KEYWORDS {
        return false;
    }
    list.push(word);
    true
}

pub(super) async fn settings(ctx: &Ctx<'_>, args: &str) -> HandlerResult {
    let current = chat_settings(ctx);
    if args.trim().is_empty() {
        ctx.send(main_view(ctx, &current)).await?;
        return Ok(());
    }
    let change = match parse_change(args.trim()) {
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
    if !apply(&mut updated, change) {
        ctx.reply(ctx.fill("settings.too_many_keywords", &[("max", Arg::Number(MAX_KEYWORDS as i64))]))
            .await?;
        return Ok(());
    }
    let saved = save(ctx, updated).await?;
    // Answer in the chat's language as it is now: a language change shows at once.
    let after = Ctx { lang: saved.language, zone: saved.time_zone, chat: Some(saved.clone()), ..*ctx };
    let mut text = after.text("settings.saved");
    text.push(&Html::trusted("\n\n".into()));
    text.push(&screen(&after, &saved));
    after.reply(text).await?;
    Ok(())
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
            let all = Category::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
            ctx.fill("settings.bad_category", &[("typed", Arg::Typed(&typed)), ("all", (&all).into())])
        }
        Unreadable::Keyword => ctx.text("settings.bad_keyword"),
    }
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
        SettingsAction::Zone(z) => (Change::Zone(z), None),
        SettingsAction::Language(l) => (Change::Language(l), None),
        SettingsAction::ToggleCategory(c) => (Change::ToggleCategory(c), Some(SettingsMenu::Categories)),
        SettingsAction::AllCategories => {
            (Change::Categories(BTreeSet::new()), Some(SettingsMenu::Categories))
        }
        SettingsAction::ClearKeywords => (Change::ClearKeywords, None),
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
    use super::*;

    #[test]
    fn changes_are_read_in_english_and_chinese() {
        assert_eq!(parse_change("time 07:30"), Ok(Change::Time("07:30".parse().unwrap())));
        assert_eq!(parse_change("时区 Europe/Berlin"), Ok(Change::Zone(chrono_tz::Europe::Berlin)));
        assert_eq!(
            parse_change("frequency weekly fri"),
            Ok(Change::Frequency(Frequency::Weekly(Weekday::Fri)))
        );
        assert_eq!(parse_change("频率 每周 周日"), Ok(Change::Frequency(Frequency::Weekly(Weekday::Sun))));
        assert_eq!(parse_change("freq weekly"), Ok(Change::Frequency(Frequency::Weekly(Weekday::Mon))));
        assert_eq!(parse_change("frequency off"), Ok(Change::Frequency(Frequency::Off)));
        assert_eq!(
            parse_change("categories fraud, traffic"),
            Ok(Change::Categories(BTreeSet::from([Category::Fraud, Category::Traffic])))
        );
        assert_eq!(parse_change("categories all"), Ok(Change::Categories(BTreeSet::new())));
        assert_eq!(parse_change("include 刷单"), Ok(Change::Include(Keyword::parse("刷单").unwrap())));
        assert_eq!(parse_change("keywords clear"), Ok(Change::ClearKeywords));
        assert_eq!(parse_change("lang en"), Ok(Change::Language(Language::En)));
    }

    #[test]
    fn bad_values_say_what_was_wrong() {
        assert_eq!(parse_change("time 25:00"), Err(Unreadable::Time("25:00".into())));
        assert!(matches!(
            parse_change("tz Asia/Shangai"),
            Err(Unreadable::Zone(UnknownZone { suggestion: Some(chrono_tz::Asia::Shanghai), .. }))
        ));
        assert_eq!(parse_change("frequency hourly"), Err(Unreadable::Frequency("hourly".into())));
        assert_eq!(parse_change("categories weather"), Err(Unreadable::Category("weather".into())));
        assert_eq!(parse_change("colour blue"), Err(Unreadable::Usage));
        assert_eq!(parse_change("time"), Err(Unreadable::Usage));
    }

    #[test]
    fn keyword_lists_are_bounded_and_free_of_repeats() {
        let mut list = Vec::new();
        assert!(add_keyword(&mut list, Keyword::parse("Fraud").unwrap()));
        assert!(add_keyword(&mut list, Keyword::parse("fraud").unwrap()));
        assert_eq!(list.len(), 1);
        for i in 1..MAX_KEYWORDS {
            assert!(add_keyword(&mut list, Keyword::parse(&format!("w{i}")).unwrap()));
        }
        assert!(!add_keyword(&mut list, Keyword::parse("one too many").unwrap()));
    }
}
