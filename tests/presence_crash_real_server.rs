//! A process of the app killed with SIGKILL says no goodbye: the others declare it gone once
//! it has been silent for the node timeout, and its members leave presence and stats
//! everywhere, with leave events. The killed process is the realtime example, a real
//! process; the survivor is an app in this test. Needs Redis on 127.0.0.1:6379
//! (`SOCKEYE_TEST_REDIS_URL`).

mod common;

use std::{
    process::Command,
    time::{Duration, Instant},
};

use common::Example;
use sockeye::{broker::Broker, hub::PresenceEvent, prelude::*};

fn redis_url() -> String {
    std::env::var("SOCKEYE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// The next presence event of room `lobby` (at most 10 s).
async fn next_in_lobby(presence: &mut tokio::sync::broadcast::Receiver<PresenceEvent>) -> PresenceEvent {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(10), presence.recv())
            .await
            .expect("no presence event in 10 s")
            .expect("presence stream closed");
        if event.room == "lobby" {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_processes_members_leave_presence_and_stats_everywhere_real_server_redis() {
    let (url, channel) = (redis_url(), format!("crash-{}", uuid::Uuid::new_v4().simple()));
    let survivor = TestClient::new(App::new().broker(Broker::from_url(&url).unwrap().channel(&channel)));
    assert!(survivor.hub().wait_for_broker(Duration::from_secs(10)).await, "Redis not reachable at {url}");
    let mut presence = survivor.hub().presence();

    let dir = std::env::temp_dir().join(format!("sockeye-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = format!("sqlite://{}/crash.db", dir.display());
    let victim = Example::start(
        "realtime",
        &[
            ("SOCKEYE_BROKER_URL", url.as_str()),
            ("SOCKEYE_BROKER_CHANNEL", channel.as_str()),
            ("DATABASE_URL", db.as_str()),
        ],
    );
    let room = format!("ws://{}/ws/rooms/lobby", victim.addr);
    let (a, _) = tokio_tungstenite::connect_async(&room).await.unwrap();
    let (b, _) = tokio_tungstenite::connect_async(&room).await.unwrap();

    // The survivor hears both joins and sees the members and connections in its reports.
    let mut joined = Vec::new();
    while joined.len() < 2 {
        let event = next_in_lobby(&mut presence).await;
        assert_eq!(event.event, "join");
        joined.push(event.id);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while survivor.hub().members("lobby").len() < 2 || survivor.hub().stats().total_connections < 2 {
        assert!(Instant::now() < deadline, "the victim's report never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // SIGKILL: no close frames, no goodbye on the broker.
    assert!(Command::new("kill").args(["-KILL", &victim.pid().to_string()]).status().unwrap().success());
    let killed = Instant::now();
    let mut left = Vec::new();
    while left.len() < 2 {
        let event = next_in_lobby(&mut presence).await;
        assert_eq!(event.event, "leave", "{event:?}");
        left.push(event.id);
    }
    let after = killed.elapsed();
    // The default node timeout is three report intervals of 1 s, checked once an interval.
    assert!(after >= Duration::from_millis(1500) && after <= Duration::from_secs(6), "declared gone after {after:?}");
    joined.sort();
    left.sort();
    assert_eq!(left, joined, "each member left once");
    assert!(survivor.hub().members("lobby").is_empty());
    let stats = survivor.hub().stats();
    assert_eq!((stats.total_connections, stats.rooms.get("lobby").copied().unwrap_or(0)), (0, 0), "{stats:?}");
    drop((a, b, victim));
    let _ = std::fs::remove_dir_all(&dir);
}
