//! Redis pub/sub: one connection publishes (a batch of envelopes per round trip, in order),
//! one stays subscribed to the app's channel. Each reconnects by itself.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::{runtime::Handle, sync::mpsc, task::AbortHandle};

use super::{Deliver, Health, backoff};

/// Envelopes sent per round trip at most.
const BATCH: usize = 256;

pub(super) fn start(
    runtime: &Handle,
    url: &str,
    channel: &str,
    rx: mpsc::Receiver<String>,
    deliver: Deliver,
    health: Arc<Health>,
) -> Vec<AbortHandle> {
    let client = match redis::Client::open(url) {
        Ok(c) => c,
        Err(e) => {
            // A URL redis cannot parse: log it once; the Hub keeps working locally.
            tracing::error!(error = %e, "broker: invalid Redis URL; cross-process delivery is off");
            return Vec::new();
        }
    };
    vec![
        runtime.spawn(publish(client.clone(), channel.to_string(), rx, health.clone())).abort_handle(),
        runtime.spawn(subscribe(client, channel.to_string(), deliver, health)).abort_handle(),
    ]
}

async fn publish(client: redis::Client, channel: String, mut rx: mpsc::Receiver<String>, health: Arc<Health>) {
    let mut attempt = 0;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let mut conn = match client.get_multiplexed_async_connection().await {
            Ok(conn) => conn,
            Err(e) => {
                if attempt == 0 {
                    tracing::warn!(error = %e, "broker: cannot reach Redis to publish; retrying with backoff");
                }
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                continue;
            }
        };
        attempt = 0;
        health.set_publishing(true);
        loop {
            if rx.recv_many(&mut batch, BATCH).await == 0 {
                return; // the link is gone
            }
            let mut pipe = redis::pipe();
            for payload in &batch {
                pipe.cmd("PUBLISH").arg(&channel).arg(payload).ignore();
            }
            let sent = pipe.query_async::<()>(&mut conn).await;
            let n = batch.len() as u64;
            batch.clear();
            if let Err(e) = sent {
                health.set_publishing(false);
                tracing::warn!(error = %e, "broker: lost the Redis connection while publishing; reconnecting");
                // What was queued for the lost connection is not sent late.
                let mut dropped = n;
                while rx.try_recv().is_ok() {
                    dropped += 1;
                }
                health.lost(dropped);
                break;
            }
            for _ in 0..n {
                health.published();
            }
        }
    }
}

async fn subscribe(client: redis::Client, channel: String, deliver: Deliver, health: Arc<Health>) {
    let mut attempt = 0;
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    health.set_subscribed(true);
                    let since = tokio::time::Instant::now();
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        if let Ok(payload) = msg.get_payload::<String>() {
                            deliver(payload);
                        }
                    }
                    // Back off again unless the subscription held for a while (a server that
                    // drops subscribers at once must not make this loop spin).
                    if since.elapsed() > std::time::Duration::from_secs(5) {
                        attempt = 0;
                    }
                    health.set_subscribed(false);
                    tracing::warn!("broker: lost the Redis subscription; reconnecting");
                }
                Err(e) => tracing::warn!(error = %e, "broker: Redis refused the subscription"),
            },
            Err(e) => {
                if attempt == 0 {
                    tracing::warn!(error = %e, "broker: cannot reach Redis to subscribe; retrying with backoff");
                }
            }
        }
        tokio::time::sleep(backoff(attempt)).await;
        attempt += 1;
    }
}
