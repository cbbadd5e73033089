//! One order of a model's changes across every process of the app.
//!
//! Each write that sends an event takes the model's next position in its own transaction
//! (`UPDATE sockeye_live_positions SET position = position + 1 .. RETURNING position`). The
//! row stays locked until the write commits, so writers of a model take turns on it,
//! whichever process they run in, and positions follow commit order. A snapshot reads the
//! position in its own transaction: it holds exactly the changes up to it.
//!
//! Events reach a process in any order (its own writes at once, the others' through the
//! broker), so each channel passes them through a [`Sequencer`] that delivers them by
//! position: one order for every client of every process. An event whose position never
//! arrives (its process died between commit and publish, or the broker dropped it) holds
//! the ones after it for about [`GAP_WAIT`] (at most twice that), then is skipped.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value, json};
use sqlx::Row;

use super::{Database, error::LiveError, sql};

/// sockeye's table of positions, one row per model table.
pub(crate) const TABLE: &str = "sockeye_live_positions";

/// sockeye's log of recent changes, from which a client resumes after a position.
pub(crate) const LOG: &str = "sockeye_live_events";

/// The changes the log keeps per model: older ones are deleted as new ones come.
pub const RESUME_WINDOW: u64 = 10_000;

/// The log is trimmed once every this many positions.
const TRIM_EVERY: u64 = 100;

/// How long a missing position holds the events after it.
pub(crate) const GAP_WAIT: Duration = Duration::from_secs(1);

/// Events held for missing positions, at most; beyond, the gap is skipped at once.
const MAX_PENDING: usize = 10_000;

/// Creates the positions table and the model's row when missing; the current position.
pub(crate) async fn prepare(db: &Database, table: &str) -> Result<u64, LiveError> {
    let create = format!("CREATE TABLE IF NOT EXISTS \"{TABLE}\" (name TEXT PRIMARY KEY, position BIGINT NOT NULL)");
    let insert = format!("INSERT INTO \"{TABLE}\" (name, position) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING");
    let log = format!(
        "CREATE TABLE IF NOT EXISTS \"{LOG}\" (name TEXT NOT NULL, position BIGINT NOT NULL, kind TEXT NOT NULL, \
         body TEXT NOT NULL, PRIMARY KEY (name, position))"
    );
    let mut tx = db.pool().begin().await?;
    if db.backend() == sql::Backend::Postgres {
        // Processes starting together take turns (see `Database::ensure_table`).
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(super::db::lock_key(TABLE)).execute(&mut *tx).await?;
    }
    sql::query(create).execute(&mut *tx).await?;
    sql::query(log).execute(&mut *tx).await?;
    sql::query(insert).bind(table.to_string()).execute(&mut *tx).await?;
    tx.commit().await?;
    let mut conn = db.pool().acquire().await?;
    current(&mut conn, table).await
}

/// A change as the log keeps it.
pub(crate) struct Logged {
    pub(crate) position: u64,
    pub(crate) kind: String,
    pub(crate) row: Value,
    pub(crate) before: Option<Value>,
}

/// Takes the model's next position for a change, and logs the change, in the write's
/// transaction.
pub(crate) async fn take(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    (kind, row, before): (&str, &Value, Option<&Value>),
) -> Result<u64, LiveError> {
    let text = format!("UPDATE \"{TABLE}\" SET position = position + 1 WHERE name = $1 RETURNING position");
    let found = sql::query(text).bind(table.to_string()).fetch_one(&mut *conn).await?;
    let position = found.try_get::<i64, _>(0)?;
    let body = json!({"row": row, "before": before}).to_string();
    let insert = format!("INSERT INTO \"{LOG}\" (name, position, kind, body) VALUES ($1, $2, $3, $4)");
    sql::query(insert)
        .bind(table.to_string())
        .bind(position)
        .bind(kind.to_string())
        .bind(body)
        .execute(&mut *conn)
        .await?;
    if (position as u64).is_multiple_of(TRIM_EVERY) {
        let trim = format!("DELETE FROM \"{LOG}\" WHERE name = $1 AND position <= $2");
        sql::query(trim).bind(table.to_string()).bind(position - RESUME_WINDOW as i64).execute(&mut *conn).await?;
    }
    Ok(position as u64)
}

/// The logged changes after `after` up to `upto` (a snapshot's position, in its
/// transaction), in order; `None` when the log no longer reaches back to `after`.
pub(crate) async fn since(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    after: u64,
    upto: u64,
) -> Result<Option<Vec<Logged>>, LiveError> {
    if after > upto {
        return Ok(None); // from another history (a restored database): start again
    }
    if after == upto {
        return Ok(Some(Vec::new()));
    }
    let text = format!(
        "SELECT position, kind, body FROM \"{LOG}\" WHERE name = $1 AND position > $2 AND position <= $3 ORDER BY position"
    );
    let rows = sql::query(text).bind(table.to_string()).bind(after as i64).bind(upto as i64).fetch_all(conn).await?;
    if rows.len() as u64 != upto - after {
        return Ok(None); // trimmed (or from before the log): not every change is there
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let body: Value = serde_json::from_str(&r.try_get::<String, _>(2)?)
            .map_err(|e| LiveError::Database(format!("a logged change does not parse: {e}")))?;
        out.push(Logged {
            position: r.try_get::<i64, _>(0)? as u64,
            kind: r.try_get::<String, _>(1)?,
            row: body["row"].clone(),
            before: Some(body["before"].clone()).filter(|b| !b.is_null()),
        });
    }
    Ok(Some(out))
}

/// The model's current position (in a snapshot's transaction: the last change it holds).
pub(crate) async fn current(conn: &mut sqlx::AnyConnection, table: &str) -> Result<u64, LiveError> {
    let text = format!("SELECT position FROM \"{TABLE}\" WHERE name = $1");
    let row = sql::query(text).bind(table.to_string()).fetch_optional(conn).await?;
    Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?.unwrap_or(0) as u64)
}

/// Something to run at its position.
pub(crate) type Delivery = Box<dyn FnOnce() + Send>;

/// Runs deliveries in position order (see the module documentation).
#[derive(Default)]
pub(crate) struct Sequencer {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The next position to deliver; 0 before the first is known.
    next: u64,
    pending: BTreeMap<u64, Delivery>,
    /// The position the gap timer waits for, if one runs.
    waiting_for: Option<u64>,
    /// The current gap timer's number: an older one that wakes does nothing.
    timer: u64,
}

impl Sequencer {
    /// Starts after `current` (the model's position when the channel opened), unless
    /// positions already came.
    pub(crate) fn start_after(&self, current: u64) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.next == 0 {
            state.next = current + 1;
        }
    }

    /// Runs `deliver` at `position`: now if it is the next (then the held ones that follow),
    /// later if positions before it are missing. An older position runs at once.
    pub(crate) fn submit(self: &Arc<Self>, position: u64, deliver: Delivery) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.next == 0 {
            state.next = position;
        }
        if position < state.next {
            return deliver(); // from before this channel's start, or after its gap was skipped
        }
        state.pending.insert(position, deliver);
        state.drain();
        if state.pending.len() > MAX_PENDING {
            state.skip_gap();
        }
        if state.pending.is_empty() {
            state.waiting_for = None; // no gap: a running timer has nothing to do
        } else if state.waiting_for.is_none() {
            state.waiting_for = Some(state.next);
            state.timer += 1;
            let (this, timer) = (self.clone(), state.timer);
            tokio::spawn(async move { this.gap_timer(timer).await });
        }
    }

    /// Waits for the missing position; skips it if it is still missing, and waits again for
    /// the next gap, if any.
    async fn gap_timer(self: Arc<Self>, timer: u64) {
        loop {
            tokio::time::sleep(GAP_WAIT).await;
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.timer != timer || state.waiting_for.is_none() {
                return; // the gap was filled; a newer timer waits for any later one
            }
            if state.waiting_for == Some(state.next) {
                state.skip_gap();
            }
            if state.pending.is_empty() {
                state.waiting_for = None;
                return;
            }
            state.waiting_for = Some(state.next);
        }
    }
}

impl State {
    /// Runs the held deliveries from `next` on, while they follow each other.
    fn drain(&mut self) {
        while let Some(deliver) = self.pending.remove(&self.next) {
            self.next += 1;
            deliver();
        }
    }

    /// Gives up on the missing positions: on to the first held one.
    fn skip_gap(&mut self) {
        if let Some(&first) = self.pending.keys().next() {
            tracing::warn!(
                from = self.next,
                to = first - 1,
                "live events missing (lost on the broker, or their process stopped): skipped"
            );
            self.next = first;
            self.drain();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorder() -> (Arc<Mutex<Vec<u64>>>, impl Fn(u64) -> Delivery) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        (seen, move |p| {
            let s = s.clone();
            Box::new(move || s.lock().unwrap().push(p)) as Delivery
        })
    }

    #[tokio::test(start_paused = true)]
    async fn deliveries_run_in_position_order_and_gaps_are_skipped_after_a_wait() {
        let sequencer = Arc::new(Sequencer::default());
        sequencer.start_after(10);
        let (seen, at) = recorder();
        for p in [12, 11, 14, 9] {
            sequencer.submit(p, at(p));
        }
        // 12 waits for 11, then both; 14 waits for 13; 9 is from before the start: at once.
        assert_eq!(*seen.lock().unwrap(), vec![11, 12, 9]);
        tokio::time::sleep(GAP_WAIT / 2).await;
        sequencer.submit(13, at(13));
        assert_eq!(*seen.lock().unwrap(), vec![11, 12, 9, 13, 14]);
        // 15 never comes: 16 runs after the wait.
        sequencer.submit(16, at(16));
        tokio::time::sleep(GAP_WAIT / 2).await;
        assert_eq!(seen.lock().unwrap().len(), 5);
        tokio::time::sleep(GAP_WAIT).await;
        assert_eq!(seen.lock().unwrap().last(), Some(&16));
        // A late 15 still arrives.
        sequencer.submit(15, at(15));
        assert_eq!(seen.lock().unwrap().last(), Some(&15));
    }
}
