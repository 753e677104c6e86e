//! `pingan migrate-data`: moving up from SQLite to PostgreSQL (issue 14, part 5).
//!
//! Copies every table the migrations create from a SQLite file into a PostgreSQL database,
//! keeping ids, in one PostgreSQL transaction: the target is migrated first, must hold no
//! data (unless `--replace-target-data`), and is committed only when every table's count
//! in PostgreSQL equals SQLite's. Column lists are read from both databases, so a column
//! added by a migration is copied without a change here; a table is not, and must be
//! added to [`COPIED`] (a test compares that list with what the migrations create).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::str::FromStr;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, NaiveDate, Utc};
use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteRow};
use sqlx::{Connection, Postgres, QueryBuilder, Row};

use crate::config::{DatabaseSettings, DatabaseUrl, Settings};

/// What `pingan migrate-data --help` says before the options.
pub const LONG_ABOUT: &str = "Copies everything a SQLite Pingan database holds (notices, tips, subscribers, \
    deliveries and fan-outs, reports, indicators, figures, audit, tokens, dialogues, feeds) into a \
    PostgreSQL database, keeping every id, so that several Pingan instances can share it.\n\n\
    Stop the bot first: rows written to the SQLite file after the copy began are not copied.\n\n\
    The PostgreSQL database is migrated first, as `pingan migrate` does. The SQLite database must be \
    at this pingan's schema version: run `pingan migrate` on it first, or pass --migrate-source. \
    The target must hold no data (the rows migrations write themselves, such as data_versions, do \
    not count); --replace-target-data deletes what it holds instead.\n\n\
    Everything is written in one PostgreSQL transaction: each table in batches, in an order that \
    respects foreign keys, then every identity sequence set past the largest id copied (and past \
    ids SQLite handed out before and since deleted), then the rows of every table counted in both \
    databases. The transaction commits only if every count agrees, so a failure at any point \
    leaves the target as it was. It prints the counts, table by table, and exits with 1 on any \
    failure or mismatch. Passwords in the URLs are never printed.";

/// The options of `pingan migrate-data`; [`LONG_ABOUT`] is its `--help`.
#[derive(Debug, clap::Args)]
pub struct MigrateDataArgs {
    /// The SQLite database to copy (sqlite://PATH); it is only read, unless --migrate-source
    #[arg(long, value_name = "URL")]
    from: String,

    /// The PostgreSQL database to copy into (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)
    #[arg(long, value_name = "URL")]
    to: String,

    /// Bring the SQLite database up to this pingan's schema first (as `pingan migrate` would)
    /// instead of refusing when it is behind
    #[arg(long)]
    migrate_source: bool,

    /// Delete every row the target holds in Pingan's tables, in the same transaction, before
    /// copying (nothing is merged) instead of refusing a target that holds data
    #[arg(long)]
    replace_target_data: bool,

    /// Rows per INSERT statement (fewer for wide tables: PostgreSQL takes 65535 values at most)
    #[arg(long, value_name = "ROWS", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch_rows: u32,
}

/// One table the migrations create in both databases, copied row for row.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    /// Where its rows come from in SQLite when that is not the table itself: a query whose
    /// columns are the PostgreSQL table's.
    pub source: Option<&'static str>,
    /// Rows migrating writes by itself (`data_versions`): the target's are replaced by the
    /// source's, which describe the data copied, and do not make the target "not empty".
    pub written_by_migrations: bool,
}

const fn table(name: &'static str) -> Table {
    Table { name, source: None, written_by_migrations: false }
}

/// Every table the migrations create (migrations/sqlite and migrations/postgres), in an
/// order in which each comes after the tables its foreign keys name. A new table is one
/// line here; `copied_tables_are_the_tables_the_migrations_create` fails until it is.
pub const COPIED: &[Table] = &[
    table("notices"),
    table("notice_aliases"), // → notices
    table("tips"),
    // SQLite keeps the tokens in the FTS5 table search_fts under the same rowid;
    // PostgreSQL keeps them in the row and computes its tsvector column itself.
    Table {
        name: "search_documents",
        source: Some(
            "SELECT d.id, d.kind, d.ref_id, COALESCE(f.title, '') AS title, COALESCE(f.body, '') AS body \
             FROM search_documents d LEFT JOIN search_fts f ON f.rowid = d.id",
        ),
        written_by_migrations: false,
    },
    table("search_queries"),
    table("subscribers"),
    table("admins"),
    table("outbox_messages"),
    table("fanouts"),    // → notices, outbox_messages
    table("deliveries"), // → fanouts, outbox_messages
    table("idempotency_keys"),
    table("audit_log"),
    table("api_tokens"),
    table("dialogues"),
    table("indicators"),
    table("reports"),
    table("report_subjects"), // → reports
    table("fraud_figures"),
    Table { name: "data_versions", source: None, written_by_migrations: true },
    table("cap_feeds"),
    table("cap_feed_entries"),
    table("usernames"),
    // Updates stored but not yet handled when the old instance stopped are handled by the
    // new ones (Telegram was already told they arrived).
    table("inbox_updates"),
];

/// Tables the SQLite migrations create that PostgreSQL has not as tables, and why nothing
/// is lost by not copying them.
pub const NOT_COPIED: &[(&str, &str)] = &[
    ("search_fts", "its title and body are copied into search_documents"),
    ("search_vocabulary", "PostgreSQL derives it from search_documents, as a view"),
    ("leader_leases", "who leads the running instances: taken afresh when they start"),
    ("instances", "the running instances' heartbeats: written afresh when they start"),
    ("chat_send_state", "when each chat may next be sent to: seconds ahead at most, rebuilt by sending"),
    ("poll_lease", "who polls and its getUpdates offset: Telegram hands out what was not confirmed"),
];

/// Runs `pingan migrate-data`.
///
/// # Errors
/// A URL of the wrong kind, a source not at this binary's schema, a target holding data
/// (without `--replace-target-data`), a table this binary does not know, a value
/// PostgreSQL refuses, or any count that differs: then nothing was committed.
pub async fn run(args: MigrateDataArgs, settings: &Settings) -> anyhow::Result<()> {
    let from = match DatabaseUrl::check(&args.from) {
        Ok(DatabaseUrl::Sqlite(url)) => url,
        Ok(other) => bail!("--from names {other}; expected the SQLite database, sqlite://PATH"),
        Err(expected) => bail!("--from: expected sqlite://PATH ({expected})"),
    };
    let to = match DatabaseUrl::check(&args.to) {
        Ok(url @ DatabaseUrl::Postgres(_)) => url,
        Ok(other) => {
            bail!("--to names {other}; expected a PostgreSQL database, postgres://USER@HOST/DATABASE")
        }
        Err(expected) => bail!("--to: expected postgres://USER@HOST/DATABASE ({expected})"),
    };
    let shown_from = DatabaseUrl::Sqlite(from.clone()).to_string();

    let mut source = open_source(&from, &shown_from, args.migrate_source, settings).await?;
    let target_version = migrate_target(&to, settings).await?;

    let options = PgConnectOptions::from_str(to.expose())
        .with_context(|| format!("cannot read the URL of {to}"))?
        .application_name("pingan migrate-data");
    let mut target =
        PgConnection::connect_with(&options).await.with_context(|| format!("cannot connect to {to}"))?;
    check_tables(&mut source, &mut target, &shown_from, &to).await?;

    let batch_rows = args.batch_rows as usize;
    // One read transaction on SQLite: every table is read from the same snapshot.
    let mut read = source.begin().await.context("cannot start reading the SQLite database")?;
    let mut write = target.begin().await.with_context(|| format!("cannot start a transaction on {to}"))?;
    if let Err(e) = prepare_target(&mut write, args.replace_target_data, &to).await {
        let _ = write.rollback().await;
        return Err(e);
    }
    println!("Copying {shown_from} into {to} (schema version {target_version}).");
    let copied = copy_all(&mut read, &mut write, batch_rows).await;
    let counts = match copied {
        Ok(counts) => counts,
        Err(e) => {
            let _ = write.rollback().await;
            return Err(e.context(format!("nothing was written to {to}")));
        }
    };
    let _ = read.rollback().await;
    print!("{}", counts.table());
    let differing = counts.differing();
    if !differing.is_empty() {
        write.rollback().await.with_context(|| format!("cannot roll back the copy into {to}"))?;
        bail!("the counts differ in {}: nothing was written to {to}", differing.join(", "));
    }
    write.commit().await.with_context(|| format!("cannot commit the copy into {to}"))?;
    let _ = target.close().await;
    let _ = source.close().await;
    println!(
        "Copied {} rows in {} tables into {to}; every count agrees. The SQLite file was left as it was. \
         Set DATABASE_URL to the PostgreSQL URL and start pingan there.",
        counts.rows_copied(),
        COPIED.len()
    );
    Ok(())
}

/// Opens the SQLite file (never creating it) and checks that its schema is this binary's,
/// migrating it first when the operator asked.
async fn open_source(
    url: &str,
    shown: &str,
    migrate_source: bool,
    settings: &Settings,
) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("cannot read the SQLite URL {shown}"))?
        .create_if_missing(false)
        .busy_timeout(settings.database.busy_timeout);
    if !options.get_filename().exists() {
        bail!("there is no SQLite database at {shown}");
    }
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the SQLite database {shown}"))?;
    let wanted: BTreeSet<i64> = crate::store::sqlite_schema_versions().into_iter().collect();
    let applied = applied_versions(&mut conn).await.with_context(|| format!("cannot read {shown}"))?;
    let newer: Vec<i64> = applied.difference(&wanted).copied().collect();
    if !newer.is_empty() {
        bail!(
            "{shown} has migrations this pingan does not know ({}): copy it with the pingan that wrote it",
            join(&newer)
        );
    }
    let missing: Vec<i64> = wanted.difference(&applied).copied().collect();
    if missing.is_empty() {
        return Ok(conn);
    }
    if !migrate_source {
        bail!(
            "{shown} is at schema version {}, this pingan's is {}: run `pingan migrate` with \
             DATABASE_URL set to it first, or pass --migrate-source (it lacks {})",
            applied.last().map_or_else(|| "none".to_owned(), i64::to_string),
            wanted.last().copied().unwrap_or_default(),
            join(&missing)
        );
    }
    let _ = conn.close().await;
    let database = DatabaseSettings {
        url: DatabaseUrl::Sqlite(url.to_owned()),
        max_connections: 1,
        busy_timeout: settings.database.busy_timeout,
    };
    let store = crate::store::connect(&database).await.with_context(|| format!("cannot open {shown}"))?;
    let report = store.migrate().await.with_context(|| format!("cannot migrate {shown}"));
    store.close().await;
    for (version, description) in &report?.applied_now {
        println!("applied migration {version} ({description}) to {shown}");
    }
    SqliteConnection::connect_with(&options).await.with_context(|| format!("cannot open {shown} again"))
}

async fn applied_versions(conn: &mut SqliteConnection) -> anyhow::Result<BTreeSet<i64>> {
    let (exists,): (bool,) = sqlx::query_as(
        "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !exists {
        return Ok(BTreeSet::new());
    }
    let versions: Vec<(i64,)> =
        sqlx::query_as("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(&mut *conn).await?;
    Ok(versions.into_iter().map(|(v,)| v).collect())
}

/// Migrates the target as `pingan migrate` does; returns its schema version.
async fn migrate_target(to: &DatabaseUrl, settings: &Settings) -> anyhow::Result<i64> {
    let database = DatabaseSettings {
        url: to.clone(),
        max_connections: 2,
        busy_timeout: settings.database.busy_timeout,
    };
    let store = crate::store::connect(&database).await.with_context(|| format!("cannot connect to {to}"))?;
    let report = store.migrate().await.with_context(|| format!("cannot migrate {to}"));
    store.close().await;
    let report = report?;
    for (version, description) in &report.applied_now {
        println!("applied migration {version} ({description}) to {to}");
    }
    report.version.ok_or_else(|| anyhow!("this pingan has no PostgreSQL migrations"))
}

/// The tables each side has must be the ones this binary knows how to copy: a table
/// missing from [`COPIED`] would otherwise be left behind without a word.
async fn check_tables(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    shown_from: &str,
    to: &DatabaseUrl,
) -> anyhow::Result<()> {
    let known: BTreeSet<&str> =
        COPIED.iter().map(|t| t.name).chain(NOT_COPIED.iter().map(|(name, _)| *name)).collect();
    let in_source =
        sqlite_tables(source).await.with_context(|| format!("cannot list the tables of {shown_from}"))?;
    let unknown: Vec<&str> = in_source.iter().map(String::as_str).filter(|t| !known.contains(t)).collect();
    if !unknown.is_empty() {
        bail!("{shown_from} has tables this pingan does not know how to copy: {}", unknown.join(", "));
    }
    let in_target =
        postgres_tables(target).await.with_context(|| format!("cannot list the tables of {to}"))?;
    let copied: BTreeSet<&str> = COPIED.iter().map(|t| t.name).collect();
    // A table left uncopied on purpose may be in PostgreSQL too (the instances' runtime
    // state); any other it has must be one this binary fills.
    let unknown: Vec<&str> = in_target.iter().map(String::as_str).filter(|t| !known.contains(t)).collect();
    let absent: Vec<&str> = copied.iter().copied().filter(|t| !in_target.contains(*t)).collect();
    if !unknown.is_empty() || !absent.is_empty() {
        bail!(
            "{to} does not have the tables this pingan copies: not filled {}; missing {}",
            if unknown.is_empty() { "none".to_owned() } else { unknown.join(", ") },
            if absent.is_empty() { "none".to_owned() } else { absent.join(", ") }
        );
    }
    Ok(())
}

/// The tables (ordinary and virtual) of a SQLite database, without SQLite's own, FTS5's
/// shadow tables and sqlx's migration record.
pub async fn sqlite_tables(conn: &mut SqliteConnection) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type IN ('table', 'virtual') \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(name,)| name).collect())
}

/// The ordinary tables of the PostgreSQL schema the connection works in (its
/// `search_path`'s first), without sqlx's migration record.
pub async fn postgres_tables(conn: &mut PgConnection) -> Result<BTreeSet<String>, sqlx::Error> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::TEXT FROM information_schema.tables WHERE table_schema = current_schema() \
         AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(name,)| name).collect())
}

/// What was counted for one table.
#[derive(Debug, Default)]
struct Count {
    source: i64,
    copied: i64,
    target: i64,
    /// The next id each identity column hands out now.
    next_ids: Vec<(String, i64)>,
}

#[derive(Debug, Default)]
struct Counts {
    tables: Vec<(&'static str, Count)>,
    /// Tables not copied: their row count in SQLite, and why.
    not_copied: Vec<(&'static str, i64, &'static str)>,
}

impl Counts {
    fn differing(&self) -> Vec<&'static str> {
        self.tables
            .iter()
            .filter(|(_, c)| c.source != c.copied || c.source != c.target)
            .map(|(name, _)| *name)
            .collect()
    }

    fn rows_copied(&self) -> i64 {
        self.tables.iter().map(|(_, c)| c.copied).sum()
    }

    /// The counts as a text table: one line per table.
    fn table(&self) -> String {
        let mut out = format!(
            "{:<20} {:>10} {:>10} {:>10}  {}\n",
            "table", "SQLite", "copied", "PostgreSQL", "next id"
        );
        for (name, c) in &self.tables {
            let next =
                c.next_ids.iter().map(|(column, id)| format!("{column} {id}")).collect::<Vec<_>>().join(", ");
            let flag = if c.source != c.copied || c.source != c.target { "  <- differs" } else { "" };
            let _ =
                writeln!(out, "{name:<20} {:>10} {:>10} {:>10}  {next}{flag}", c.source, c.copied, c.target);
        }
        for (name, rows, why) in &self.not_copied {
            let _ = writeln!(out, "{name:<20} {rows:>10} {:>10} {:>10}  ({why})", "-", "-");
        }
        out
    }
}

async fn copy_all(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    batch_rows: usize,
) -> anyhow::Result<Counts> {
    let mut counts = Counts::default();
    for table in COPIED {
        let count = copy_table(source, target, table, batch_rows)
            .await
            .with_context(|| format!("cannot copy the table {}", table.name))?;
        counts.tables.push((table.name, count));
    }
    for (name, why) in NOT_COPIED {
        let (rows,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", quoted(name))).fetch_one(&mut *source).await?;
        counts.not_copied.push((name, rows, why));
    }
    Ok(counts)
}

/// Refuses a target holding data unless told to replace it; empties the tables whose rows
/// migrating wrote (the source's replace them).
async fn prepare_target(target: &mut PgConnection, replace: bool, to: &DatabaseUrl) -> anyhow::Result<()> {
    let mut holding = Vec::new();
    for table in COPIED.iter().filter(|t| !t.written_by_migrations) {
        let (rows,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", quoted(table.name)))
            .fetch_one(&mut *target)
            .await?;
        if rows > 0 {
            let unit = if rows == 1 { "row" } else { "rows" };
            holding.push(format!("{} ({rows} {unit})", table.name));
        }
    }
    if !holding.is_empty() && !replace {
        bail!(
            "{to} already holds data: {}. Nothing was changed. Copy into an empty database, or pass \
             --replace-target-data to delete those rows and copy in their place",
            holding.join(", ")
        );
    }
    if !holding.is_empty() {
        println!("Deleting what {to} holds first: {}.", holding.join(", "));
        let all: Vec<String> = COPIED.iter().map(|t| quoted(t.name)).collect();
        sqlx::query(&format!("TRUNCATE {} RESTART IDENTITY", all.join(", "))).execute(&mut *target).await?;
    }
    for table in COPIED.iter().filter(|t| t.written_by_migrations) {
        sqlx::query(&format!("DELETE FROM {}", quoted(table.name))).execute(&mut *target).await?;
    }
    Ok(())
}

/// How a PostgreSQL column's values are read from SQLite and bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int8,
    Int4,
    Int2,
    Bool,
    Text,
    /// SQLite's RFC 3339 text (as sqlx writes `DateTime<Utc>`) → `timestamptz`.
    Timestamptz,
    /// `YYYY-MM-DD` text → `date`.
    Date,
    Float8,
    Float4,
    Bytea,
    /// JSON text → `json` or `jsonb` (cast by PostgreSQL, which checks it).
    Json(&'static str),
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" => Kind::Int8,
            "integer" => Kind::Int4,
            "smallint" => Kind::Int2,
            "boolean" => Kind::Bool,
            "text" | "character varying" => Kind::Text,
            "timestamp with time zone" => Kind::Timestamptz,
            "date" => Kind::Date,
            "double precision" => Kind::Float8,
            "real" => Kind::Float4,
            "bytea" => Kind::Bytea,
            "json" => Kind::Json("json"),
            "jsonb" => Kind::Json("jsonb"),
            _ => return None,
        })
    }
}

/// One value read from SQLite, typed for PostgreSQL (a NULL keeps its column's type).
#[derive(Debug)]
enum Value {
    Int8(Option<i64>),
    Int4(Option<i32>),
    Int2(Option<i16>),
    Bool(Option<bool>),
    Text(Option<String>),
    Timestamptz(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Float8(Option<f64>),
    Float4(Option<f32>),
    Bytea(Option<Vec<u8>>),
    Json(Option<String>, &'static str),
}

impl Value {
    fn read(row: &SqliteRow, index: usize, kind: Kind) -> Result<Value, sqlx::Error> {
        let narrow = |value: Option<i64>| -> Result<Option<i32>, sqlx::Error> {
            value.map(i32::try_from).transpose().map_err(|e| {
                sqlx::Error::Decode(format!("{value:?} does not fit PostgreSQL's integer: {e}").into())
            })
        };
        Ok(match kind {
            Kind::Int8 => Value::Int8(row.try_get(index)?),
            Kind::Int4 => Value::Int4(narrow(row.try_get(index)?)?),
            Kind::Int2 => {
                let value: Option<i64> = row.try_get(index)?;
                Value::Int2(value.map(i16::try_from).transpose().map_err(|e| {
                    sqlx::Error::Decode(format!("{value:?} does not fit PostgreSQL's smallint: {e}").into())
                })?)
            }
            Kind::Bool => Value::Bool(row.try_get(index)?),
            Kind::Text => Value::Text(row.try_get(index)?),
            Kind::Timestamptz => Value::Timestamptz(row.try_get(index)?),
            Kind::Date => Value::Date(row.try_get(index)?),
            Kind::Float8 => Value::Float8(row.try_get(index)?),
            Kind::Float4 => Value::Float4(row.try_get::<Option<f64>, _>(index)?.map(|v| v as f32)),
            Kind::Bytea => Value::Bytea(row.try_get(index)?),
            Kind::Json(cast) => Value::Json(row.try_get(index)?, cast),
        })
    }

    fn bind(self, builder: &mut sqlx::query_builder::Separated<'_, '_, Postgres, &'static str>) {
        match self {
            Value::Int8(v) => builder.push_bind(v),
            Value::Int4(v) => builder.push_bind(v),
            Value::Int2(v) => builder.push_bind(v),
            Value::Bool(v) => builder.push_bind(v),
            Value::Text(v) => builder.push_bind(v),
            Value::Timestamptz(v) => builder.push_bind(v),
            Value::Date(v) => builder.push_bind(v),
            Value::Float8(v) => builder.push_bind(v),
            Value::Float4(v) => builder.push_bind(v),
            Value::Bytea(v) => builder.push_bind(v),
            Value::Json(v, cast) => {
                builder.push_bind(v).push_unseparated(if cast == "json" { "::json" } else { "::jsonb" })
            }
        };
    }
}

/// A PostgreSQL column the copy writes.
#[derive(Debug)]
struct Column {
    name: String,
    kind: Kind,
    identity: bool,
}

async fn target_columns(target: &mut PgConnection, table: &str) -> anyhow::Result<Vec<Column>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT column_name::TEXT, data_type::TEXT, is_identity::TEXT, is_generated::TEXT \
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 \
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(&mut *target)
    .await?;
    let mut columns = Vec::new();
    for (name, data_type, identity, generated) in rows {
        if generated != "NEVER" {
            continue; // PostgreSQL computes it (search_documents.document)
        }
        let kind = Kind::of(&data_type).ok_or_else(|| {
            anyhow!("its column {name} is of type {data_type}, which this pingan cannot copy into")
        })?;
        columns.push(Column { name, kind, identity: identity == "YES" });
    }
    Ok(columns)
}

async fn copy_table(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &Table,
    batch_rows: usize,
) -> anyhow::Result<Count> {
    let columns = target_columns(target, table.name).await?;
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let from = match table.source {
        Some(query) => format!("({query}) AS t"),
        None => {
            // Every SQLite column must have a place in PostgreSQL, or its values would be lost.
            let info: Vec<(String, i64)> = sqlx::query_as("SELECT name, pk FROM pragma_table_info($1)")
                .bind(table.name)
                .fetch_all(&mut *source)
                .await?;
            let in_target: BTreeSet<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            let in_source: BTreeSet<&str> = info.iter().map(|(name, _)| name.as_str()).collect();
            if in_source != in_target {
                bail!(
                    "its columns differ: only in SQLite {:?}, only in PostgreSQL {:?}",
                    in_source.difference(&in_target).collect::<Vec<_>>(),
                    in_target.difference(&in_source).collect::<Vec<_>>()
                );
            }
            quoted(table.name)
        }
    };
    let (source_rows,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM {from}")).fetch_one(&mut *source).await?;

    // PostgreSQL takes at most 65 535 bound values in one statement.
    let per_batch = batch_rows.min(65_535 / columns.len().max(1)).max(1);
    let overriding = if columns.iter().any(|c| c.identity) { " OVERRIDING SYSTEM VALUE" } else { "" };
    let insert = format!("INSERT INTO {} ({}){overriding} ", quoted(table.name), names.join(", "));
    let select = format!("SELECT {} FROM {from} ORDER BY 1", names.join(", "));
    let mut copied = 0_i64;
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_batch);
    {
        let mut rows = sqlx::query(&select).fetch(&mut *source);
        while let Some(row) = rows.try_next().await? {
            let mut values = Vec::with_capacity(columns.len());
            for (index, column) in columns.iter().enumerate() {
                let value = Value::read(&row, index, column.kind).with_context(|| {
                    format!(
                        "row {} (ordered by its first column), column {}",
                        copied + batch.len() as i64 + 1,
                        column.name
                    )
                })?;
                values.push(value);
            }
            batch.push(values);
            if batch.len() == per_batch {
                copied += write_batch(target, &insert, std::mem::take(&mut batch), copied).await?;
            }
        }
    }
    if !batch.is_empty() {
        copied += write_batch(target, &insert, batch, copied).await?;
    }

    let mut next_ids = Vec::new();
    for column in columns.iter().filter(|c| c.identity) {
        next_ids.push((column.name.clone(), set_sequence(source, target, table.name, &column.name).await?));
    }
    let (target_rows,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", quoted(table.name)))
        .fetch_one(&mut *target)
        .await?;
    Ok(Count { source: source_rows, copied, target: target_rows, next_ids })
}

async fn write_batch(
    target: &mut PgConnection,
    insert: &str,
    batch: Vec<Vec<Value>>,
    before: i64,
) -> anyhow::Result<i64> {
    let rows = batch.len();
    let mut builder: QueryBuilder<'_, Postgres> = QueryBuilder::new(insert);
    builder.push_values(batch, |mut separated, values| {
        for value in values {
            value.bind(&mut separated);
        }
    });
    let written = builder.build().execute(&mut *target).await.with_context(|| match rows {
        1 => format!("PostgreSQL refused row {}", before + 1),
        _ => format!("PostgreSQL refused rows {} to {}", before + 1, before + rows as i64),
    })?;
    Ok(written.rows_affected() as i64)
}

/// Sets the sequence behind an identity column past the largest id copied and past
/// every id SQLite handed out (`sqlite_sequence` remembers those of deleted rows too, so
/// a report's reference is never given to another). Returns the next id it will give.
async fn set_sequence(
    source: &mut SqliteConnection,
    target: &mut PgConnection,
    table: &str,
    column: &str,
) -> anyhow::Result<i64> {
    let (largest,): (Option<i64>,) =
        sqlx::query_as(&format!("SELECT MAX({}) FROM {}", quoted(column), quoted(table)))
            .fetch_one(&mut *target)
            .await?;
    // SQLite creates sqlite_sequence with the first AUTOINCREMENT table (notices).
    let handed_out: Option<(i64,)> = sqlx::query_as("SELECT seq FROM sqlite_sequence WHERE name = $1")
        .bind(table)
        .fetch_optional(&mut *source)
        .await?;
    let next = largest.unwrap_or(0).max(handed_out.map_or(0, |(seq,)| seq)) + 1;
    sqlx::query("SELECT setval(pg_get_serial_sequence($1, $2), $3, false)")
        .bind(quoted(table))
        .bind(column)
        .bind(next)
        .execute(&mut *target)
        .await
        .with_context(|| format!("cannot set the sequence of {table}.{column}"))?;
    Ok(next)
}

/// An SQL identifier, quoted (the names come from the migrations, never from input).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn join(versions: &[i64]) -> String {
    versions.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[tokio::test]
    async fn copied_tables_are_the_tables_the_migrations_create() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("pingan.db").display());
        let database = DatabaseSettings {
            url: DatabaseUrl::Sqlite(url.clone()),
            max_connections: 1,
            busy_timeout: std::time::Duration::from_secs(5),
        };
        let (store, _) = crate::store::open(&database).await.unwrap();
        store.close().await;
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        let created = sqlite_tables(&mut conn).await.unwrap();
        let listed: BTreeSet<String> = COPIED
            .iter()
            .map(|t| t.name.to_owned())
            .chain(NOT_COPIED.iter().map(|(name, _)| (*name).to_owned()))
            .collect();
        assert_eq!(
            created, listed,
            "every table the SQLite migrations create must be in COPIED (or NOT_COPIED, with the reason)"
        );
        let names: Vec<&str> = COPIED.iter().map(|t| t.name).collect();
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "each table once");
    }

    #[tokio::test]
    async fn copied_tables_come_after_the_tables_their_foreign_keys_name() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("pingan.db").display());
        let database = DatabaseSettings {
            url: DatabaseUrl::Sqlite(url.clone()),
            max_connections: 1,
            busy_timeout: std::time::Duration::from_secs(5),
        };
        let (store, _) = crate::store::open(&database).await.unwrap();
        store.close().await;
        let mut conn = SqliteConnection::connect(&url).await.unwrap();
        let position: BTreeMap<&str, usize> = COPIED.iter().enumerate().map(|(i, t)| (t.name, i)).collect();
        for (index, table) in COPIED.iter().enumerate() {
            let parents: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                .bind(table.name)
                .fetch_all(&mut conn)
                .await
                .unwrap();
            for (parent,) in parents {
                assert!(position[parent.as_str()] < index, "{} must come after {parent}", table.name);
            }
        }
    }
}
