//! In-process broadcast to 10,000 receivers (issue 4): the cost of `hub.room(..).send(..)`
//! on the broadcasting task, and the time until every receiver has read the message.
//!
//! `cargo bench --bench broadcast` (the receivers are real WebSocket connections through
//! the `TestClient`: a driver per connection writes the frame into an in-memory pipe and the
//! test socket parses it).

#![allow(missing_docs)] // criterion_group! defines an undocumented pub fn

use std::{
    ops::Not,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use sockeye::{TestSocket, prelude::*};

const RECEIVERS: usize = 10_000;

#[websocket("/listen")]
async fn listen(ws: WebSocket, hub: Hub) -> Result<()> {
    let ws = ws.accept().await?;
    hub.join("bench", &ws);
    let _ = ws.receive().await; // until the client goes
    Ok(())
}

struct Setup {
    rt: tokio::runtime::Runtime,
    client: TestClient,
    sockets: Vec<TestSocket>,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (client, sockets) = rt.block_on(async {
        let client = TestClient::new(App::new());
        let mut sockets = Vec::with_capacity(RECEIVERS);
        for _ in 0..RECEIVERS {
            sockets.push(client.websocket_connect("/listen").await.expect("connect"));
        }
        while client.hub().members("bench").len() < RECEIVERS {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (client, sockets)
    });
    Setup { rt, client, sockets }
}

async fn drain(sockets: &mut [TestSocket], expected: &str) {
    let results = join_all(sockets.iter_mut().map(|s| async move { s.receive_text().await })).await;
    let ok = results.iter().filter(|r| r.as_deref().is_ok_and(|t| t == expected)).count();
    if ok != results.len() {
        let bad: Vec<_> = results.iter().filter(|r| r.as_deref().is_ok_and(|t| t == expected).not()).take(3).collect();
        panic!("{ok} of {} received {expected:?}; e.g. {bad:?}", results.len());
    }
}

fn broadcast(c: &mut Criterion) {
    let Setup { rt, client, mut sockets } = setup();
    let hub = client.hub();
    let payload = "x".repeat(64);
    let mut group = c.benchmark_group("broadcast_10k");
    group.sample_size(20).measurement_time(Duration::from_secs(10));

    // What the broadcasting task pays: queueing one shared frame for every member.
    group.bench_function("send", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    let d = hub.room("bench").send_text(payload.clone()).await;
                    spent += start.elapsed();
                    assert_eq!(d.delivered, RECEIVERS);
                    drain(&mut sockets, &payload).await;
                }
                spent
            })
        })
    });

    // From the send to the last of the 10,000 receivers reading it.
    group.bench_function("send_and_receive_all", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let d = hub.room("bench").send_text(payload.clone()).await;
                    assert_eq!(d.delivered, RECEIVERS, "{d:?}");
                    drain(&mut sockets, &payload).await;
                }
                start.elapsed()
            })
        })
    });
    group.finish();
    drop(sockets);
    drop(client);
}

criterion_group!(benches, broadcast);
criterion_main!(benches);
