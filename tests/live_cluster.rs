//! One order of a live model's changes across processes: two Apps of one program (each with
//! its own connection pool and Hub, as two processes have) on one real PostgreSQL, joined by
//! a real Redis, with writes going to both while clients subscribe and take snapshots. Needs
//! PostgreSQL (`SOCKEYE_TEST_DATABASE_URL`, default postgres://postgres@127.0.0.1:5432/test)
//! and Redis (`SOCKEYE_TEST_REDIS_URL`, default redis://127.0.0.1:6379).

#[path = "common/pg.rs"]
mod pg;

use std::{collections::BTreeMap, time::Duration};

use serde_json::{Value, json};
use sockeye::{
    broker::Broker,
    live::{Access, Database, Live, Model},
    prelude::*,
};

#[derive(Model, Serialize, Deserialize, Clone, Debug, PartialEq)]
#[model(table = "counters")]
struct Counter {
    id: i64,
    name: String,
    value: i64,
}

const ROWS: i64 = 10;
const WRITES_PER_PROCESS: i64 = 150;

fn redis_url() -> String {
    std::env::var("SOCKEYE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

async fn process(db: &Database, channel: &str) -> TestClient {
    let mut ws = sockeye::ws::WsConfig::default();
    ws.max_queue = 4096; // a test client reads its sockets one after the other
    let broker = Broker::from_url(&redis_url()).unwrap().channel(channel);
    let app = App::new().websocket(ws).broker(broker).database(db.clone()).register_with::<Counter>(Access::public());
    let client = TestClient::new(app);
    assert!(client.hub().wait_for_broker(Duration::from_secs(10)).await, "Redis not reachable");
    client
}

/// A client of `/ws/counters` and what it saw: the rows of its snapshot (if it took one)
/// and the positions of the events after it, the rows as it keeps them.
struct Watcher {
    ws: TestSocket,
    start: u64,
    positions: Vec<u64>,
    rows: BTreeMap<i64, Value>,
}

impl Watcher {
    async fn new(client: &TestClient, snapshot: bool) -> Self {
        let mut ws = client.websocket_connect("/ws/counters").await.unwrap();
        let hello: Value = ws.receive_json().await.unwrap();
        assert_eq!(hello["type"], "connection");
        ws.set_timeout(Duration::from_secs(10));
        let mut watcher = Self { ws, start: 0, positions: Vec::new(), rows: BTreeMap::new() };
        if snapshot {
            watcher.ws.send_json(&json!({"action": "snapshot"})).await.unwrap();
            loop {
                let page: Value = watcher.ws.receive_json().await.unwrap();
                if page["type"] != "snapshot" {
                    watcher.apply(page); // an event before the snapshot: of the plain subscription
                    continue;
                }
                watcher.start = page["position"].as_u64().unwrap();
                for row in page["data"].as_array().unwrap() {
                    watcher.rows.insert(row["id"].as_i64().unwrap(), row.clone());
                }
                if page["last"] == true {
                    break;
                }
            }
            watcher.positions.clear();
        }
        watcher
    }

    fn apply(&mut self, event: Value) {
        let position = event["position"].as_u64().unwrap_or_else(|| panic!("no position: {event}"));
        self.positions.push(position);
        let id = event["data"]["id"].as_i64().unwrap();
        match event["type"].as_str() {
            Some("deleted") => self.rows.remove(&id),
            _ => self.rows.insert(id, event["data"].clone()),
        };
    }

    /// Reads events until the one at `last`.
    async fn until(&mut self, last: u64) {
        while self.positions.last().copied().unwrap_or(self.start) < last {
            let event: Value = self
                .ws
                .receive_json()
                .await
                .unwrap_or_else(|e| panic!("waiting for position {last} after {:?}: {e}", self.positions.last()));
            self.apply(event);
        }
    }
}

/// The positions after the setup's creates (1 to `ROWS`). A subscriber that joined right
/// after them may still get the last few: they reach its process through the broker, maybe
/// after it subscribed. Those it gets are the last ones, in order.
fn after_setup<'p>(positions: &'p [u64], name: &str) -> &'p [u64] {
    let setup = positions.iter().take_while(|p| **p <= ROWS as u64).count();
    let first = (ROWS as u64 + 1).checked_sub(setup as u64).expect("no more setup events than creates");
    assert_eq!(positions[..setup], (first..=ROWS as u64).collect::<Vec<_>>(), "{name}: setup events out of order");
    &positions[setup..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_have_one_order_and_snapshots_no_gap_across_processes_postgres_redis() {
    let schema = pg::PgSchema::new().await;
    let channel = format!("order-{}", uuid::Uuid::new_v4().simple());
    let (db_a, db_b) = (schema.db.clone(), schema.connect().await);
    let (a, b) = (process(&db_a, &channel).await, process(&db_b, &channel).await);
    let (live_a, live_b) = (Live::<Counter>::new(&db_a, &a.hub()), Live::<Counter>::new(&db_b, &b.hub()));
    for i in 0..ROWS {
        live_a.create(&Counter { id: 0, name: format!("c{i}"), value: 0 }).await.unwrap();
    }
    // Plain subscribers on both processes, from the start of the writes.
    let (mut seen_a, mut seen_b) = (Watcher::new(&a, false).await, Watcher::new(&b, false).await);

    // Both processes write at once: updates, and now and then a row created or deleted.
    let writer = |live: Live<Counter>, who: i64| {
        tokio::spawn(async move {
            for n in 0..WRITES_PER_PROCESS {
                let id = 1 + (n * 7 + who * 3) % ROWS;
                match n % 25 {
                    24 => {
                        drop(live.create(&Counter { id: 0, name: format!("extra-{who}-{n}"), value: n }).await.unwrap())
                    }
                    12 => {
                        let extras = live.list(&Default::default(), 1000, 0).await.unwrap();
                        if let Some(extra) = extras.iter().find(|c| c.id > ROWS) {
                            let _ = live.delete(extra.id).await; // the other process may have deleted it first
                        }
                    }
                    _ => drop(live.patch(id, json!({"value": who * 1000 + n})).await.unwrap()),
                }
                if n % 10 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let (wa, wb) = (writer(live_a.clone(), 1), writer(live_b.clone(), 2));
    // Snapshots taken on each process while both write.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut snap_a = Watcher::new(&a, true).await;
    let mut snap_b = Watcher::new(&b, true).await;
    wa.await.unwrap();
    wb.await.unwrap();

    // Every write is in the database; its last position is the end of the stream.
    let last: i64 = sqlx::query_scalar("SELECT position FROM sockeye_live_positions WHERE name = 'counters'")
        .fetch_one(schema.db.pool())
        .await
        .unwrap();
    let last = last as u64;
    let mut final_rows: Vec<Value> = live_a
        .list(&Default::default(), 1000, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    final_rows.sort_by_key(|r| r["id"].as_i64());
    for (name, watcher) in
        [("A", &mut seen_a), ("B", &mut seen_b), ("snapshot on A", &mut snap_a), ("snapshot on B", &mut snap_b)]
    {
        watcher.until(last).await;
        // One order: every position after the start once, in order, on both processes.
        let expected: Vec<u64> = (watcher.start.max(ROWS as u64) + 1..=last).collect();
        if watcher.start > 0 {
            assert_eq!(
                watcher.positions,
                (watcher.start + 1..=last).collect::<Vec<_>>(),
                "{name}: gap or duplicate after its snapshot"
            );
        } else {
            assert_eq!(after_setup(&watcher.positions, name), expected, "{name}: not every position once, in order");
        }
        let rows: Vec<Value> = watcher.rows.values().cloned().collect();
        if watcher.start > 0 {
            assert_eq!(rows, final_rows, "{name}: the snapshot and its events do not add up to the table");
        }
    }
    assert!(snap_a.start > ROWS as u64 && snap_a.start < last, "the snapshot on A was taken during the writes");
    assert_eq!(
        after_setup(&seen_a.positions, "A"),
        after_setup(&seen_b.positions, "B"),
        "both processes delivered the same order"
    );
    // A client of A that left halfway resumes on B: exactly the rest.
    let mid = seen_a.positions[seen_a.positions.len() / 2];
    let mut back = Watcher::new(&b, false).await;
    back.ws.send_json(&json!({"action": "subscribe", "since": mid})).await.unwrap();
    back.start = mid;
    back.until(last).await;
    assert_eq!(back.positions, (mid + 1..=last).collect::<Vec<_>>(), "resumed on the other process");
    schema.drop().await;
}
