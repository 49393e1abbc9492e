//! The durable run store: runs, their event log, answers and cancel requests, in SQLite
//! through sqlx (one file by default; the SQL is plain enough to serve PostgreSQL later).
//!
//! Writes go through one journal task that owns a connection and commits whatever has queued
//! up in one transaction (group commit): with a thousand runs in flight, a thousand events cost
//! one commit. The engine calls [`Journal::append`] for every transition and
//! [`Journal::flush`] before anything that acts on the world (a command, a question to a
//! person), so the log always holds what is about to happen before it happens. A transition that
//! only changes the engine's own state (a condition evaluated, a pure step ended) may still be in
//! the queue when the process dies; it is recomputed on resume from the same inputs.
//!
//! The database runs in WAL mode with `synchronous=NORMAL` by default: a killed process loses
//! nothing that was committed; a power cut may lose the last commits ([`Durability::Full`]
//! syncs every commit instead).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::connector::manual::Answer;
use super::event::{Event, RunStatus};

/// Most messages committed in one transaction.
const MAX_BATCH: usize = 4096;
/// Rows per INSERT statement (SQLite allows 32,766 bound values; 7 per row).
const ROWS_PER_INSERT: usize = 64;
/// Messages the journal queues before `append` waits (back-pressure on a slow disk).
const JOURNAL_QUEUE: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("run store {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("run store: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("run store: stored {what} is not valid JSON: {source}")]
    Corrupt { what: String, source: serde_json::Error },
    #[error("no run `{0}` in the store")]
    NoSuchRun(String),
    #[error("the run store's journal stopped: {0}")]
    JournalStopped(String),
}

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// WAL + synchronous=NORMAL: survives a killed process.
    #[default]
    Normal,
    /// WAL + synchronous=FULL: also survives a power cut.
    Full,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub playbook_id: String,
    pub playbook_name: String,
    /// The playbook and the sub-playbooks it calls, as started (a resume runs these, not what
    /// the files say now).
    pub bundle: serde_json::Value,
    /// The options the run was started with (policy, variables).
    pub options: serde_json::Value,
    pub status: RunStatus,
    pub started_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// The process running it (for resume's "is it still alive" check).
    pub owner_pid: Option<i64>,
    pub owner_host: Option<String>,
    pub cancel_requested: bool,
}

/// An event as stored: its place in the run's log and when it was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub seq: i64,
    pub at: String,
    pub event: Event,
}

/// The run store. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    journal: Journal,
}

/// The write side of the event log.
#[derive(Debug, Clone)]
pub struct Journal {
    tx: mpsc::Sender<JournalMsg>,
}

#[derive(Debug)]
enum JournalMsg {
    Event { run_id: String, seq: i64, at: String, kind: &'static str, instance: Option<String>, body: String },
    Status { run_id: String, status: RunStatus, at: String },
    Flush(oneshot::Sender<Result<(), String>>),
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS runs (
        run_id TEXT PRIMARY KEY,
        playbook_id TEXT NOT NULL,
        playbook_name TEXT NOT NULL,
        bundle TEXT NOT NULL,
        options TEXT NOT NULL,
        status TEXT NOT NULL,
        started_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        owner_pid INTEGER,
        owner_host TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS events (
        run_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        instance TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (run_id, seq))",
    "CREATE TABLE IF NOT EXISTS answers (
        run_id TEXT NOT NULL,
        key TEXT NOT NULL,
        answer TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (run_id, key))",
    "CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, updated_at)",
];

/// Now, as stored (RFC 3339, milliseconds, UTC).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub async fn open(path: &Path, durability: Durability) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open { path: path.display().to_string(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Open { path: path.display().to_string(), source: sqlx::Error::Io(e) })?;
        }
        let sync = match durability {
            Durability::Normal => SqliteSynchronous::Normal,
            Durability::Full => SqliteSynchronous::Full,
        };
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(sync)
            .busy_timeout(Duration::from_secs(30));
        Store::with_options(opts).await.map_err(|e| match e {
            StoreError::Sql(source) => open_err(source),
            other => other,
        })
    }

    /// A store in memory, gone with the process (tests, dry runs that want an audit in memory).
    pub async fn memory() -> Result<Store, StoreError> {
        // A named shared-cache database, so the journal's connection and the pool see one database.
        let name = format!("file:cacao-forge-{}?mode=memory&cache=shared", uuid::Uuid::new_v4());
        let opts = SqliteConnectOptions::from_str(&name)?.journal_mode(SqliteJournalMode::Memory);
        Store::with_options(opts).await
    }

    async fn with_options(opts: SqliteConnectOptions) -> Result<Store, StoreError> {
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts.clone()).await?;
        for stmt in SCHEMA {
            sqlx::query(*stmt).execute(&pool).await?;
        }
        let conn = SqliteConnection::connect_with(&opts).await?;
        let (tx, rx) = mpsc::channel(JOURNAL_QUEUE);
        tokio::spawn(journal_writer(conn, rx));
        Ok(Store { pool, journal: Journal { tx } })
    }

    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    /// Records a new run (committed before this returns).
    pub async fn create_run(&self, run: &RunRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO runs (run_id, playbook_id, playbook_name, bundle, options, status, started_by,
                               created_at, updated_at, owner_pid, owner_host, cancel_requested)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
        )
        .bind(run.run_id.clone())
        .bind(run.playbook_id.clone())
        .bind(run.playbook_name.clone())
        .bind(run.bundle.to_string())
        .bind(run.options.to_string())
        .bind(run.status.as_str())
        .bind(run.started_by.clone())
        .bind(run.created_at.clone())
        .bind(run.updated_at.clone())
        .bind(run.owner_pid)
        .bind(run.owner_host.clone())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks `run_id` as run by this process.
    pub async fn claim(&self, run_id: &str, pid: u32, host: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE runs SET owner_pid = ?, owner_host = ?, updated_at = ? WHERE run_id = ?")
            .bind(i64::from(pid))
            .bind(host.to_owned())
            .bind(now())
            .bind(run_id.to_owned())
            .execute(&self.pool)
            .await?;
        touched_run(&done, run_id)
    }

    /// The run `run_id`.
    pub async fn run(&self, run_id: &str) -> Result<RunRecord, StoreError> {
        let row = sqlx::query("SELECT * FROM runs WHERE run_id = ?")
            .bind(run_id.to_owned())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NoSuchRun(run_id.to_owned()))?;
        run_from_row(&row)
    }

    /// The newest runs first, at most `limit`, optionally only those in `status`.
    pub async fn runs(&self, status: Option<RunStatus>, limit: u32) -> Result<Vec<RunRecord>, StoreError> {
        let rows = match status {
            Some(s) => {
                sqlx::query("SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, run_id LIMIT ?")
                    .bind(s.as_str())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM runs ORDER BY created_at DESC, run_id LIMIT ?")
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(run_from_row).collect()
    }

    /// The events of `run_id`, in order.
    pub async fn events(&self, run_id: &str) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query("SELECT seq, at, body FROM events WHERE run_id = ? ORDER BY seq")
            .bind(run_id.to_owned())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("seq")?;
                let body: String = row.try_get("body")?;
                let event = serde_json::from_str(&body)
                    .map_err(|source| StoreError::Corrupt { what: format!("event {seq} of run {run_id}"), source })?;
                Ok(StoredEvent { seq, at: row.try_get("at")?, event })
            })
            .collect()
    }

    /// Asks the process running `run_id` to stop it.
    pub async fn request_cancel(&self, run_id: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE run_id = ?")
            .bind(now())
            .bind(run_id.to_owned())
            .execute(&self.pool)
            .await?;
        touched_run(&done, run_id)
    }

    /// Of the runs not ended, those asked to stop.
    pub async fn cancel_requests(&self) -> Result<Vec<String>, StoreError> {
        let rows =
            sqlx::query("SELECT run_id FROM runs WHERE cancel_requested = 1 AND status IN ('running', 'waiting')")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| r.try_get::<String, _>("run_id").map_err(StoreError::from)).collect()
    }

    /// Records a person's answer to question `key` of `run_id`. The first answer stands; a
    /// later one for the same question is refused (returns false).
    pub async fn put_answer(&self, run_id: &str, key: &str, answer: &Answer) -> Result<bool, StoreError> {
        self.run(run_id).await?;
        let body =
            serde_json::to_string(answer).map_err(|source| StoreError::Corrupt { what: "answer".into(), source })?;
        let done = sqlx::query("INSERT OR IGNORE INTO answers (run_id, key, answer, at) VALUES (?, ?, ?, ?)")
            .bind(run_id.to_owned())
            .bind(key.to_owned())
            .bind(body)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The answer to question `key` of `run_id`, if given.
    pub async fn answer(&self, run_id: &str, key: &str) -> Result<Option<Answer>, StoreError> {
        let row = sqlx::query("SELECT answer FROM answers WHERE run_id = ? AND key = ?")
            .bind(run_id.to_owned())
            .bind(key.to_owned())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            let body: String = r.try_get("answer")?;
            serde_json::from_str(&body).map_err(|source| StoreError::Corrupt { what: format!("answer {key}"), source })
        })
        .transpose()
    }
}

/// Answers questions from the store: waits for an answer written by `cacao-forge runs answer`
/// (or the API) for the question's key. The caller bounds the wait.
#[derive(Debug, Clone)]
pub struct StoreOperator {
    pub store: Store,
    /// How often the store is read while waiting.
    pub poll: Duration,
}

impl super::connector::manual::Operator for StoreOperator {
    fn ask<'a>(
        &'a self,
        question: &'a super::connector::manual::Question,
    ) -> super::connector::BoxFuture<'a, Result<Answer, super::connector::ConnectorError>> {
        Box::pin(async move {
            loop {
                match self.store.answer(&question.run_id, &question.key).await {
                    Ok(Some(a)) => return Ok(a),
                    Ok(None) => {}
                    Err(e) => return Err(super::connector::ConnectorError::Unavailable(e.to_string())),
                }
                tokio::time::sleep(self.poll).await;
            }
        })
    }
}

/// An update of one run: `NoSuchRun` when it touched none.
fn touched_run(done: &sqlx::sqlite::SqliteQueryResult, run_id: &str) -> Result<(), StoreError> {
    if done.rows_affected() == 0 {
        return Err(StoreError::NoSuchRun(run_id.to_owned()));
    }
    Ok(())
}

fn run_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<RunRecord, StoreError> {
    let run_id: String = row.try_get("run_id")?;
    let json = |col: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = row.try_get(col)?;
        serde_json::from_str(&text)
            .map_err(|source| StoreError::Corrupt { what: format!("{col} of run {run_id}"), source })
    };
    let status: String = row.try_get("status")?;
    let status = RunStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
        what: format!("status of run {run_id}"),
        source: serde::de::Error::custom(format!("unknown status `{status}`")),
    })?;
    Ok(RunRecord {
        bundle: json("bundle")?,
        options: json("options")?,
        playbook_id: row.try_get("playbook_id")?,
        playbook_name: row.try_get("playbook_name")?,
        status,
        started_by: row.try_get("started_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        owner_pid: row.try_get("owner_pid")?,
        owner_host: row.try_get("owner_host")?,
        cancel_requested: row.try_get::<i64, _>("cancel_requested")? != 0,
        run_id,
    })
}

impl Journal {
    /// Queues `event` as number `seq` of `run_id` (waits only when the queue is full).
    pub async fn append(&self, run_id: &str, seq: i64, event: &Event) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(event).map_err(|source| StoreError::Corrupt { what: "event".into(), source })?;
        let msg = JournalMsg::Event {
            run_id: run_id.to_owned(),
            seq,
            at: now(),
            kind: event.kind(),
            instance: event.instance().map(str::to_owned),
            body,
        };
        self.tx.send(msg).await.map_err(|_| StoreError::JournalStopped("the writer is gone".into()))
    }

    /// Queues a status change of `run_id`.
    pub async fn set_status(&self, run_id: &str, status: RunStatus) -> Result<(), StoreError> {
        let msg = JournalMsg::Status { run_id: run_id.to_owned(), status, at: now() };
        self.tx.send(msg).await.map_err(|_| StoreError::JournalStopped("the writer is gone".into()))
    }

    /// Waits until everything queued before this call is committed.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        self.tx
            .send(JournalMsg::Flush(done))
            .await
            .map_err(|_| StoreError::JournalStopped("the writer is gone".into()))?;
        wait.await
            .map_err(|_| StoreError::JournalStopped("the writer is gone".into()))?
            .map_err(StoreError::JournalStopped)
    }
}

/// The journal task: commits what has queued up, in order, one transaction per batch.
async fn journal_writer(mut conn: SqliteConnection, mut rx: mpsc::Receiver<JournalMsg>) {
    let mut failed: Option<String> = None;
    let mut batch: Vec<JournalMsg> = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let mut waiters = Vec::new();
        let mut events = Vec::new();
        let mut statuses = Vec::new();
        for m in batch.drain(..) {
            match m {
                JournalMsg::Flush(w) => waiters.push(w),
                JournalMsg::Event { run_id, seq, at, kind, instance, body } => {
                    events.push((run_id, seq, at, kind, instance, body))
                }
                JournalMsg::Status { run_id, status, at } => statuses.push((run_id, status, at)),
            }
        }
        if failed.is_none() && (!events.is_empty() || !statuses.is_empty()) {
            if let Err(e) = commit(&mut conn, &events, &statuses).await {
                // Nothing after a failed commit may be acknowledged: the log would have a hole.
                tracing::error!("run store journal: {e}");
                failed = Some(e.to_string());
            }
        }
        for w in waiters {
            let _ = w.send(failed.clone().map_or(Ok(()), Err));
        }
    }
}

type EventRow = (String, i64, String, &'static str, Option<String>, String);

async fn commit(
    conn: &mut SqliteConnection,
    events: &[EventRow],
    statuses: &[(String, RunStatus, String)],
) -> Result<(), sqlx::Error> {
    let mut tx = conn.begin().await?;
    for chunk in events.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from("INSERT INTO events (run_id, seq, at, kind, instance, body) VALUES ");
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 { "(?, ?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?, ?)" });
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (run_id, seq, at, kind, instance, body) in chunk {
            q = q
                .bind(run_id.clone())
                .bind(*seq)
                .bind(at.clone())
                .bind(*kind)
                .bind(instance.clone())
                .bind(body.clone());
        }
        q.execute(&mut *tx).await?;
    }
    for (run_id, status, at) in statuses {
        sqlx::query("UPDATE runs SET status = ?, updated_at = ? WHERE run_id = ?")
            .bind(status.as_str())
            .bind(at.clone())
            .bind(run_id.clone())
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(run_id: &str) -> RunRecord {
        RunRecord {
            run_id: run_id.into(),
            playbook_id: "playbook--1".into(),
            playbook_name: "Test".into(),
            bundle: serde_json::json!({"playbook": {}}),
            options: serde_json::json!({}),
            status: RunStatus::Running,
            started_by: "tester".into(),
            created_at: now(),
            updated_at: now(),
            owner_pid: Some(1),
            owner_host: Some("here".into()),
            cancel_requested: false,
        }
    }

    #[tokio::test]
    async fn events_statuses_answers_and_cancels_persist_in_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.db");
        {
            let store = Store::open(&path, Durability::Normal).await.unwrap();
            store.create_run(&record("run-a")).await.unwrap();
            let j = store.journal();
            for seq in 0..200 {
                let e = Event::StepSkipped { instance: format!("s{seq}"), step_id: "x".into(), reason: "test".into() };
                j.append("run-a", seq, &e).await.unwrap();
            }
            j.set_status("run-a", RunStatus::Waiting).await.unwrap();
            j.flush().await.unwrap();
            let a =
                Answer { decision: super::super::connector::manual::Decision::Approve, by: "alice".into(), note: None };
            assert!(store.put_answer("run-a", "q1", &a).await.unwrap());
            assert!(!store.put_answer("run-a", "q1", &a).await.unwrap(), "the first answer stands");
            store.request_cancel("run-a").await.unwrap();
        }
        let store = Store::open(&path, Durability::Normal).await.unwrap();
        let run = store.run("run-a").await.unwrap();
        assert_eq!(run.status, RunStatus::Waiting);
        assert!(run.cancel_requested);
        let events = store.events("run-a").await.unwrap();
        assert_eq!(events.len(), 200);
        assert_eq!(events[199].event.instance(), Some("s199"));
        assert_eq!(store.answer("run-a", "q1").await.unwrap().unwrap().by, "alice");
        assert_eq!(store.cancel_requests().await.unwrap(), ["run-a"]);
        assert!(matches!(store.run("nope").await, Err(StoreError::NoSuchRun(_))));
        assert!(matches!(store.put_answer("nope", "q", &run_answer()).await, Err(StoreError::NoSuchRun(_))));
    }

    fn run_answer() -> Answer {
        Answer { decision: super::super::connector::manual::Decision::Deny, by: "bob".into(), note: None }
    }

    #[tokio::test]
    async fn a_duplicate_event_number_fails_the_flush_and_every_later_one() {
        let store = Store::memory().await.unwrap();
        store.create_run(&record("run-b")).await.unwrap();
        let e = Event::RunFinished { status: RunStatus::Succeeded, detail: String::new() };
        let j = store.journal();
        j.append("run-b", 1, &e).await.unwrap();
        j.flush().await.unwrap();
        j.append("run-b", 1, &e).await.unwrap();
        assert!(j.flush().await.is_err());
        j.append("run-b", 2, &e).await.unwrap();
        assert!(j.flush().await.is_err(), "nothing after a hole is acknowledged");
    }
}
