//! `pingan indicators …` and `pingan stats …`: the bureau's list of fraud numbers and
//! sites, and its anti-fraud figures, from files.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{
    Actor, AuditAction, AuditEntry, IndicatorKind, IndicatorReason, NewIndicator, Risk, Subject,
};
use crate::startup;

#[derive(Debug, Subcommand)]
pub enum IndicatorsCommand {
    /// Add or update entries from a file: one per line, `VALUE,RISK,REASON` (RISK is
    /// fraud, suspicious or official; a line starting with # is a comment). Every line
    /// is checked first; if any is wrong, nothing is imported
    Import {
        /// The file (UTF-8)
        file: PathBuf,
    },
    /// List the entries, newest first
    List {
        /// Only phone, domain or account entries
        #[arg(long)]
        kind: Option<IndicatorKind>,
        /// At most this many
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Load the bureau's anti-fraud figures from a TOML file (the format of
    /// locales/demo-figures.toml); figures already there for a period are replaced
    Import {
        /// The file (UTF-8)
        file: PathBuf,
    },
    /// List the figures, oldest period first
    List,
}

pub async fn indicators(
    command: IndicatorsCommand,
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let result = async {
        match command {
            IndicatorsCommand::Import { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let me = Actor::current_cli_user();
                let entries = parse_indicators(&text, &me).map_err(|problems| {
                    anyhow::anyhow!("{}: nothing imported:\n{}", file.display(), problems.join("\n"))
                })?;
                let audit = AuditEntry {
                    at: clock.now(),
                    actor: me,
                    action: AuditAction::Imported,
                    subject: file.display().to_string(),
                    detail: "indicators".to_owned(),
                };
                let created = store
                    .import_indicators(&entries, &audit)
                    .await
                    .with_context(|| format!("{}: nothing imported", file.display()))?;
                let summary =
                    format!("{} entries: {created} new, {} updated", entries.len(), entries.len() - created);
                println!("{}: {summary}.", file.display());
            }
            IndicatorsCommand::List { kind, limit } => {
                let entries = store.indicators(kind, limit, 0).await?;
                if entries.is_empty() {
                    println!("The list is empty.");
                }
                for i in entries {
                    let shown =
                        Subject::of_kind(i.kind, &i.value).map(|s| s.to_string()).unwrap_or(i.value.clone());
                    println!(
                        "{:<10} {:<8} {shown:<28} {}  ({} {})",
                        i.risk,
                        i.kind,
                        i.reason,
                        i.added_by,
                        i.added_at.format("%Y-%m-%d")
                    );
                }
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

/// Reads `VALUE,RISK,REASON` lines; every problem, with its line number.
fn parse_indicators(text: &str, by: &Actor) -> Result<Vec<NewIndicator>, Vec<String>> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.splitn(3, ',').map(str::trim);
        let (Some(value), Some(risk), Some(reason)) = (fields.next(), fields.next(), fields.next()) else {
            problems.push(format!("line {}: expected VALUE,RISK,REASON", i + 1));
            continue;
        };
        let parsed = (|| -> Result<NewIndicator, String> {
            Ok(NewIndicator {
                subject: Subject::parse(value).map_err(|e| e.to_string())?,
                risk: risk.parse::<Risk>().map_err(|e| e.to_string())?,
                reason: IndicatorReason::parse(reason).map_err(|e| e.to_string())?.into(),
                added_by: by.clone(),
            })
        })();
        match parsed {
            Ok(entry) => entries.push(entry),
            Err(reason) => problems.push(format!("line {}: {reason}", i + 1)),
        }
    }
    if problems.is_empty() { Ok(entries) } else { Err(problems) }
}

pub async fn stats(command: StatsCommand, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let result = async {
        match command {
            StatsCommand::Import { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let figures = match crate::content::figures::parse(&text) {
                    Ok(figures) => figures,
                    Err(e) => bail!("{}: nothing imported: {e}", file.display()),
                };
                let stored = store.put_figures(&figures, clock.now()).await?;
                store
                    .record_audit(&AuditEntry {
                        at: clock.now(),
                        actor: Actor::current_cli_user(),
                        action: AuditAction::Imported,
                        subject: file.display().to_string(),
                        detail: format!("{stored} figures"),
                    })
                    .await?;
                println!("{}: {stored} figures stored.", file.display());
            }
            StatsCommand::List => {
                let figures = store.figures().await?;
                if figures.is_empty() {
                    println!("No figures.");
                }
                for f in &figures {
                    let change = crate::domain::year_on_year(f, &figures)
                        .map(|c| format!("{c:+.2}%"))
                        .unwrap_or_default();
                    println!("{}  {:<9} {:>14} {change:>9}  {}", f.period, f.metric, f.value, f.source);
                }
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicator_files_are_read_line_by_line_and_every_problem_named() {
        let text = "# the bureau's list\n138-0013-8000, fraud, 冒充客服，退款诈骗\nalipay-refund.top,suspicious,仿冒退款页面\n";
        let entries = parse_indicators(text, &Actor::System).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].subject.key(), "+8613800138000");
        assert_eq!(entries[0].reason.to_string(), "冒充客服，退款诈骗");
        let bad = "13800138000,fraud\n8123456,fraud,x\nexample.com,evil,x\n";
        let problems = parse_indicators(bad, &Actor::System).unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("line 1:") && problems[2].starts_with("line 3:"));
    }
}
