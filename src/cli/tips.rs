//! `pingan tips export|import`: the tips library as a TOML file editors can work on.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{Actor, AuditAction, AuditEntry, Language, NewTip, ScamType, TipBody, TipId, TipTitle};
use crate::startup;
use crate::store::{TipChange, TipQuery};

#[derive(Debug, Subcommand)]
pub enum TipsCommand {
    /// Write every tip, retired ones marked, as TOML to FILE (`-` for standard output)
    Export {
        /// Where to write
        file: PathBuf,
    },
    /// Change and add tips from a TOML file like the one `export` writes: a tip with an
    /// `id` replaces that tip's title, text and `retired`; one without is added. Every
    /// tip is checked first; if any is wrong, nothing changes
    Import {
        /// The file (UTF-8)
        file: PathBuf,
    },
}

#[derive(Serialize, Deserialize)]
struct File {
    tip: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    scam_type: ScamType,
    language: Language,
    #[serde(default)]
    retired: bool,
    title: String,
    body: String,
}

pub async fn run(command: TipsCommand, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let result = async {
        match command {
            TipsCommand::Export { file } => {
                let tips = store.tips(&TipQuery { include_retired: true, ..TipQuery::default() }).await?;
                let entries = tips
                    .into_iter()
                    .map(|t| Entry {
                        id: Some(t.id.0),
                        scam_type: t.scam_type,
                        language: t.language,
                        retired: t.retired,
                        title: t.title.as_str().to_owned(),
                        body: t.body.as_str().to_owned(),
                    })
                    .collect::<Vec<_>>();
                let count = entries.len();
                let text = format!(
                    "# Pingan's anti-fraud tips. Edit and load back with `pingan tips import FILE`.\n\n{}",
                    toml::to_string(&File { tip: entries })?
                );
                if file.as_os_str() == "-" {
                    std::io::stdout().write_all(text.as_bytes())?;
                } else {
                    std::fs::write(&file, text)
                        .with_context(|| format!("cannot write {}", file.display()))?;
                    eprintln!("{count} tips written to {}.", file.display());
                }
            }
            TipsCommand::Import { file } => {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?;
                let parsed: File = match toml::from_str(&text) {
                    Ok(parsed) => parsed,
                    Err(e) => bail!("{}: nothing imported: {e}", file.display()),
                };
                let me = Actor::current_cli_user();
                let mut changes = Vec::new();
                let mut problems = Vec::new();
                for (i, entry) in parsed.tip.into_iter().enumerate() {
                    let at = format!("tip {}", i + 1);
                    let (title, body) = match (TipTitle::parse(&entry.title), TipBody::parse(&entry.body)) {
                        (Ok(title), Ok(body)) => (title, body),
                        (Err(e), _) | (_, Err(e)) => {
                            problems.push(format!("{at}: {e}"));
                            continue;
                        }
                    };
                    match entry.id {
                        Some(id) => match store.tip(TipId(id)).await? {
                            Some(existing)
                                if (existing.scam_type, existing.language)
                                    == (entry.scam_type, entry.language) =>
                            {
                                changes.push(TipChange::Update {
                                    id: TipId(id),
                                    title,
                                    body,
                                    retired: entry.retired,
                                });
                            }
                            Some(_) => {
                                problems.push(format!("{at}: tip {id} has another scam type or language"))
                            }
                            None => problems.push(format!("{at}: there is no tip {id}")),
                        },
                        None => changes.push(TipChange::Add {
                            tip: NewTip {
                                scam_type: entry.scam_type,
                                language: entry.language,
                                title,
                                body,
                                builtin_key: None,
                                author: me.clone(),
                            },
                            retired: entry.retired,
                        }),
                    }
                }
                if !problems.is_empty() {
                    bail!("{}: nothing imported:\n{}", file.display(), problems.join("\n"));
                }
                let audit = AuditEntry {
                    at: clock.now(),
                    actor: me.clone(),
                    action: AuditAction::Imported,
                    subject: file.display().to_string(),
                    detail: "tips".to_owned(),
                };
                let done = store
                    .import_tips(&changes, &me, &audit)
                    .await
                    .with_context(|| format!("{}: nothing imported", file.display()))?;
                let summary = format!("{} added, {} changed", done.added, done.changed);
                println!("{}: {summary}.", file.display());
            }
        }
        Ok(())
    }
    .await;
    store.close().await;
    result
}
