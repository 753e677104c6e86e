//! `pingan notices add|list`: the editor's command-line path.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};

use crate::cap;
use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{
    Actor, Area, AuditAction, AuditEntry, Body, Category, Language, NewNotice, Notice, NoticeContent,
    NoticeId, NoticeStatus, Publication, Severity, Source, Title, parse_local_time,
};
use crate::i18n::Texts;
use crate::publishing::Desk;
use crate::startup;
use crate::store::{NoticeQuery, Store};

#[derive(Debug, Subcommand)]
pub enum NoticesCommand {
    /// Add a notice: published now, at --publish-at, or kept as a draft
    Add(AddArgs),
    /// List notices, newest first
    List(ListArgs),
    /// Withdraw a notice; everyone its alert or channel post reached is told
    Retract {
        /// The notice's number
        id: i64,
    },
    /// Import CAP alerts (XML 1.2, 1.1 or 1.0 in the encoding it names, or JSON); a bad file imports nothing
    Import(ImportArgs),
    /// Write notices as CAP 1.2 alerts: one as XML, several (or with --json) as a JSON list
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files with one alert each (XML), or JSON with one alert or a list
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The notices' numbers
    #[arg(required = true, value_name = "ID")]
    ids: Vec<i64>,

    /// Write JSON (CAP's element names) instead of XML
    #[arg(long)]
    json: bool,
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

    /// The districts it concerns, by key, name or alias from bot.districts, comma-separated
    /// (城东区,城西区); default and `all`/全市: the whole city
    #[arg(long, value_name = "NAMES")]
    district: Option<String>,

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
        NoticesCommand::Retract { id } => retract(id, store.as_ref(), settings, clock.as_ref()).await,
        NoticesCommand::Import(args) => import(args, store.as_ref(), settings, clock.as_ref()).await,
        NoticesCommand::Export(args) => export(args, store.as_ref(), settings).await,
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
    let districts = match args.district.as_deref() {
        None => Default::default(),
        Some(_) if settings.bot.districts.is_empty() => {
            bail!("--district: bot.districts lists no districts (see config/default.toml)")
        }
        Some(names) => settings.bot.districts.parse_list(names).map_err(|e| {
            let known: Vec<String> =
                settings.bot.districts.all().iter().map(|d| format!("{} ({})", d.name_zh, d.key)).collect();
            anyhow::anyhow!("--district: {e}; the districts are {}", known.join(", "))
        })?,
    };
    let content = NoticeContent {
        districts,
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
    let me = Actor::current_cli_user();
    let notice = NewNotice::new(content, publication, expires_at, me.clone(), clock.now())?;
    let texts = Texts::load()?;
    let stored = desk(store, &texts, settings, clock)
        .publish(&notice, &me)
        .await
        .context("cannot store the notice")?;
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

fn desk<'a>(store: &'a dyn Store, texts: &'a Texts, settings: &Settings, clock: &'a dyn Clock) -> Desk<'a> {
    Desk { store, texts, zone: settings.bot.time_zone, clock }
}

async fn retract(id: i64, store: &dyn Store, settings: &Settings, clock: &dyn Clock) -> anyhow::Result<()> {
    let texts = Texts::load()?;
    let changed =
        desk(store, &texts, settings, clock).retract(NoticeId(id), &Actor::current_cli_user()).await?;
    let (notice, told) = (changed.notice, changed.told);
    let told = crate::i18n::english_count(told as usize, "recipient", "recipients");
    println!("Notice {} withdrawn: {}; {told} will be told.", notice.id, notice.content.title);
    Ok(())
}

async fn import(
    args: ImportArgs,
    store: &dyn Store,
    settings: &Settings,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    // Every file is read and checked before anything is stored.
    let mut batches = Vec::new();
    let mut problems = Vec::new();
    for path in &args.files {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                problems.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        // The document names its own encoding; JSON is told by its first character.
        let parsed = cap::parse_document(&bytes);
        match parsed.and_then(|alerts| alerts.iter().map(cap::prepare).collect::<Result<Vec<_>, _>>()) {
            Ok(mut alerts) => {
                alerts.iter_mut().for_each(|a| a.match_districts(&settings.bot.districts));
                batches.push((path, alerts))
            }
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    if !problems.is_empty() {
        bail!("nothing imported:\n{}", problems.join("\n"));
    }
    let texts = Texts::load()?;
    let desk = desk(store, &texts, settings, clock);
    let me = Actor::current_cli_user();
    for (path, alerts) in batches {
        let authority = cap::Authority {
            own_sender: &settings.bot.cap_sender,
            trusted_senders: &settings.cap.trusted_senders,
        };
        let report = cap::import_prepared(&alerts, &desk, &me, authority)
            .await
            .with_context(|| format!("{}", path.display()))?;
        let mut summary = format!(
            "{} created, {} corrected, {} withdrawn, {} skipped",
            report.created.len(),
            report.corrected.len(),
            report.retracted.len(),
            report.skipped.len()
        );
        if !report.refused.is_empty() {
            summary.push_str(&format!(", {} refused", report.refused.len()));
        }
        if !report.warnings.is_empty() {
            summary.push_str(&format!(
                ", {}",
                crate::i18n::english_count(report.warnings.len(), "warning", "warnings")
            ));
        }
        let entry = AuditEntry {
            at: clock.now(),
            actor: me.clone(),
            action: AuditAction::Imported,
            subject: path.display().to_string(),
            detail: summary.clone(),
        };
        store.record_audit(&entry).await?;
        println!("{}: {summary}", path.display());
        for reason in &report.skipped {
            println!("  skipped: {reason}");
        }
        for reason in &report.refused {
            println!("  refused: {reason}");
        }
        for warning in &report.warnings {
            println!("  warning: {warning}");
        }
    }
    Ok(())
}

async fn export(args: ExportArgs, store: &dyn Store, settings: &Settings) -> anyhow::Result<()> {
    let mut alerts = Vec::new();
    for id in &args.ids {
        let notice =
            store.notice(NoticeId(*id)).await?.ok_or_else(|| anyhow::anyhow!("there is no notice {id}"))?;
        alerts.push(
            cap::alert_from_store(store, &notice, &settings.bot.cap_sender, settings.bot.time_zone).await?,
        );
    }
    match (args.json, alerts.as_slice()) {
        (false, [alert]) => print!("{}", cap::to_xml(alert)),
        (false, _) => bail!("a CAP XML document holds one alert; give one id, or --json for several"),
        (true, _) => println!("{}", serde_json::to_string_pretty(&alerts)?),
    }
    Ok(())
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
