//! Redis pub/sub: one connection publishes (a batch of envelopes per round trip, in order),
//! one stays subscribed to the app's channel. Each reconnects by itself.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::{runtime::Handle, sync::mpsc, task::AbortHandle};

use super::{Deliver, Health, backoff};

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
        runtime
            .spawn(super::publish_batches(
                rx,
                health.clone(),
                "Redis",
                RedisPublisher { client: client.clone(), channel: channel.to_string() },
            ))
            .abort_handle(),
        runtime.spawn(subscribe(client, channel.to_string(), deliver, health)).abort_handle(),
    ]
}

/// How the publishing (and history) connections are made. The redis crate gives up on an
/// answer after 500 ms by default; on a busy machine (a process accepting 10,000 handshakes
/// at once was measured) an answer read late is not a dead connection, and treating it as one
/// dropped the queue. A dead connection still fails at once (reset) or on the socket's own
/// errors.
pub(crate) fn connection_config() -> redis::AsyncConnectionConfig {
    redis::AsyncConnectionConfig::new().set_response_timeout(Some(std::time::Duration::from_secs(10)))
}

/// Publishes with a pipeline of PUBLISH commands per batch.
struct RedisPublisher {
    client: redis::Client,
    channel: String,
}

impl super::Publisher for RedisPublisher {
    type Conn = redis::aio::MultiplexedConnection;

    async fn connect(&mut self) -> Result<Self::Conn, String> {
        self.client.get_multiplexed_async_connection_with_config(&connection_config()).await.map_err(|e| e.to_string())
    }

    async fn send(&mut self, conn: &mut Self::Conn, batch: &[String]) -> Result<(), String> {
        let mut pipe = redis::pipe();
        for payload in batch {
            pipe.cmd("PUBLISH").arg(&self.channel).arg(payload).ignore();
        }
        pipe.query_async::<()>(conn).await.map_err(|e| e.to_string())
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
