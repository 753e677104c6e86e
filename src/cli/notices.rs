//! `pingan notices add|list`: the editor's command-line path.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{
    Actor, Area, Body, Category, Language, NewNotice, Notice, NoticeContent, NoticeStatus, Publication,
    Severity, Source, Title, parse_local_time,
};
use crate::startup;
use crate::store::{NoticeQuery, Store};

#[derive(Debug, Subcommand)]
pub enum NoticesCommand {
    /// Add a notice: published now, at --publish-at, or kept as a draft
    Add(AddArgs),
    /// List notices, newest first
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// One line, at most 200 characters
    #[arg(long)]
    title: String,

    /// The full text (or use --body-file)
    #[arg(long, conflicts_with = "body_file", required_unless_present = "body_file")]
    body: Option<String>,

    /// Read the full text from FILE; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,

    /// fraud, public_order, traffic, appeal, disaster, fire or general
    #[arg(long, default_value = "general")]
    category: Category,

    /// CAP severity: Extreme, Severe, Moderate, Minor or Unknown. Extreme and Severe are urgent
    #[arg(long, default_value = "Unknown")]
    severity: Severity,

    /// Where it applies, such as 全市 or "Pudong District"
    #[arg(long)]
    area: Option<String>,

    /// zh or en (default: bot.default_language)
    #[arg(long)]
    language: Option<Language>,

    /// Who issued it, such as 市公安局反诈中心
    #[arg(long)]
    source: Option<String>,

    /// When to publish: YYYY-MM-DD HH:MM in bot.time_zone, or RFC 3339 (default: now)
    #[arg(long, value_name = "TIME", conflicts_with = "draft")]
    publish_at: Option<String>,

    /// When it stops being shown, in the same formats as --publish-at
    #[arg(long, value_name = "TIME")]
    expires_at: Option<String>,

    /// Keep it as a draft; nothing is published
    #[arg(long)]
    draft: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this status: draft, scheduled, published, retracted or expired
    #[arg(long)]
    status: Option<NoticeStatus>,

    /// Only this language: zh or en
    #[arg(long)]
    language: Option<Language>,

    /// At most this many
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,
}

pub async fn run(command: NoticesCommand, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let zone = settings.bot.time_zone;
    let result = match command {
        NoticesCommand::Add(args) => add(args, store.as_ref(), settings, clock.as_ref()).await,
        NoticesCommand::List(args) => list(args, store.as_ref(), zone).await,
    };
    store.close().await;
    result
}

async fn add(args: AddArgs, store: &dyn Store, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<()> {
    let zone = settings.bot.time_zone;
    let body = match (&args.body, &args.body_file) {
        (Some(text), _) => text.clone(),
        (None, Some(path)) => read_body(path)?,
        (None, None) => bail!("give the notice's text with --body TEXT or --body-file FILE"),
    };
    let content = NoticeContent {
        title: Title::parse(&args.title)?,
        body: Body::parse(&body)?,
        category: args.category,
        severity: args.severity,
        area: args.area.as_deref().map(Area::parse).transpose()?,
        language: args.language.unwrap_or(settings.bot.default_language),
        source: args.source.as_deref().map(Source::parse).transpose()?,
    };
    let time = |flag: &str, text: &Option<String>| -> anyhow::Result<Option<DateTime<Utc>>> {
        text.as_deref().map(|t| parse_local_time(t, zone)).transpose().with_context(|| format!("--{flag}"))
    };
    let publication = match (args.draft, time("publish-at", &args.publish_at)?) {
        (true, _) => Publication::Draft,
        (false, Some(at)) => Publication::At(at),
        (false, None) => Publication::Now,
    };
    let expires_at = time("expires-at", &args.expires_at)?;
    let notice = NewNotice::new(content, publication, expires_at, Actor::current_cli_user(), clock.now())?;
    let stored = store.insert_notice(&notice).await.context("cannot store the notice")?;
    println!("{}", summary(&stored, zone));
    Ok(())
}

fn read_body(path: &std::path::Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the body from standard input")?;
        Ok(text)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read the body from {}", path.display()))
    }
}

/// One line saying what happened to a newly added notice.
fn summary(n: &Notice, zone: Tz) -> String {
    let when = n.publish_at.map(|t| local(t, zone)).unwrap_or_default();
    match n.status {
        NoticeStatus::Scheduled => {
            format!("Notice {} scheduled for {when} ({zone}): {}", n.id, n.content.title)
        }
        NoticeStatus::Draft => format!("Notice {} saved as a draft: {}", n.id, n.content.title),
        _ => format!("Notice {} published {when} ({zone}): {}", n.id, n.content.title),
    }
}

async fn list(args: ListArgs, store: &dyn Store, zone: Tz) -> anyhow::Result<()> {
    let query = NoticeQuery {
        status: args.status,
        language: args.language,
        limit: args.limit,
        ..NoticeQuery::default()
    };
    let notices = store.list_notices(&query).await.context("cannot list notices")?;
    if notices.is_empty() {
        println!("No notices.");
        return Ok(());
    }
    println!(
        "{:>5}  {:<9}  {:<8}  {:<12}  {:<4}  {:<16}  {:<16}  TITLE",
        "ID", "STATUS", "SEVERITY", "CATEGORY", "LANG", "PUBLISH", "EXPIRES"
    );
    for n in &notices {
        let c = &n.content;
        println!(
            "{:>5}  {:<9}  {:<8}  {:<12}  {:<4}  {:<16}  {:<16}  {}",
            n.id.0,
            n.status.as_str(),
            c.severity.as_str(),
            c.category.as_str(),
            c.language.code(),
            n.publish_at.map(|t| local(t, zone)).unwrap_or_else(|| "-".into()),
            n.expires_at.map(|t| local(t, zone)).unwrap_or_else(|| "-".into()),
            c.title,
        );
    }
    println!("(times in {zone})");
    Ok(())
}

fn local(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}
