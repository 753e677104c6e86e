//! `pingan admin …` and `pingan audit`: roles, API tokens and the audit log.

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::{Actor, Role};
use crate::startup;
use crate::store::{Store, StoreError};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List who has which role (owners from the configuration first)
    List,
    /// Give a Telegram user a role: owner, editor or moderator
    Grant {
        /// The Telegram user id
        user_id: i64,
        /// owner (manages admins), editor (publishes) or moderator (reviews reports)
        role: Role,
    },
    /// Take a Telegram user's role away
    Revoke {
        /// The Telegram user id
        user_id: i64,
    },
    /// Bearer tokens for the HTTP admin API
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is stored
    Create {
        /// A name to know it by, such as the system that uses it
        name: String,
        /// What it may do: editor (read and publish), moderator (read) or owner
        #[arg(long, default_value = "editor")]
        role: Role,
    },
    /// Revoke a token: requests bearing it are refused from now on
    Revoke {
        /// The token's name
        name: String,
    },
    /// List tokens (never the tokens themselves)
    List,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only what this actor did, such as telegram:12345, cli:alice or api:cms
    #[arg(long)]
    actor: Option<Actor>,

    /// At most this many entries, newest first
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,
}

/// Said after a grant or revocation here: only the bot talks to Telegram.
const MENU_NOTE: &str = "Their command menu in Telegram changes when `pingan run` next starts \
                         (a grant or revocation made with /admins in Telegram changes it at once).";

pub async fn run(command: AdminCommand, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let result = execute(command, store.as_ref(), settings, clock.as_ref()).await;
    store.close().await;
    result
}

async fn execute(
    command: AdminCommand,
    store: &dyn Store,
    settings: &Settings,
    clock: &dyn Clock,
) -> anyhow::Result<()> {
    let me = Actor::current_cli_user();
    let now = clock.now();
    match command {
        AdminCommand::List => {
            for owner in &settings.bot.owners {
                println!("{owner:>12}  owner      (configuration: bot.owners)");
            }
            let admins = store.admins().await?;
            if admins.is_empty() && settings.bot.owners.is_empty() {
                println!("No one has a role. Grant one with `pingan admin grant USER_ID owner`.");
            }
            for admin in admins {
                println!(
                    "{:>12}  {:<9}  granted by {} on {}",
                    admin.user_id,
                    admin.role.as_str(),
                    admin.granted_by,
                    admin.granted_at.format("%Y-%m-%d")
                );
            }
        }
        AdminCommand::Grant { user_id, role } => {
            if user_id <= 0 {
                bail!("a Telegram user id is a positive number, not {user_id}");
            }
            // Granted and audited in one transaction.
            store.grant(user_id, role, &me, now).await?;
            println!("User {user_id} is now {role}.");
            eprintln!("{MENU_NOTE}");
        }
        AdminCommand::Revoke { user_id } => {
            if store.revoke(user_id, &me, now).await? {
                println!("User {user_id} no longer has a role.");
                eprintln!("{MENU_NOTE}");
            } else {
                println!("User {user_id} had no role.");
            }
        }
        AdminCommand::Token(TokenCommand::Create { name, role }) => {
            let token =
                crate::tokens::new_token().context("cannot get random bytes from the operating system")?;
            // Created and audited in one transaction.
            match store.create_token(name.trim(), &crate::tokens::hash(&token), role, &me, now).await {
                Err(StoreError::Conflict(_)) => bail!("there is already a token named {name:?}"),
                other => other?,
            };
            println!("{token}");
            eprintln!("Token {name:?} ({role}) created. It is shown only now: store it safely.");
        }
        AdminCommand::Token(TokenCommand::Revoke { name }) => {
            if !store.revoke_token(&name, &me, now).await? {
                bail!("there is no live token named {name:?}");
            }
            println!("Token {name:?} revoked.");
        }
        AdminCommand::Token(TokenCommand::List) => {
            let tokens = store.tokens().await?;
            if tokens.is_empty() {
                println!("No tokens. Create one with `pingan admin token create NAME`.");
            }
            for t in tokens {
                let state = match (t.revoked_at, t.last_used_at) {
                    (Some(at), _) => format!("revoked {}", at.format("%Y-%m-%d")),
                    (None, Some(at)) => format!("last used {}", at.format("%Y-%m-%d %H:%M")),
                    (None, None) => "never used".to_owned(),
                };
                println!(
                    "{:<20}  {:<9}  created by {} on {}  {state}",
                    t.name,
                    t.role.as_str(),
                    t.created_by,
                    t.created_at.format("%Y-%m-%d")
                );
            }
        }
    }
    Ok(())
}

pub async fn audit(args: AuditArgs, settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<()> {
    let store = startup::open_store(settings, clock.as_ref()).await?;
    let entries = store.audit_log(args.actor.as_ref(), args.limit).await;
    store.close().await;
    let entries = entries?;
    if entries.is_empty() {
        println!("The audit log is empty{}.", if args.actor.is_some() { " for that actor" } else { "" });
    }
    let zone = settings.bot.time_zone;
    for e in entries {
        println!(
            "{}  {:<20}  {:<13}  {:<14}  {}",
            e.at.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S"),
            e.actor.to_string(),
            e.action.as_str(),
            e.subject,
            e.detail
        );
    }
    Ok(())
}
