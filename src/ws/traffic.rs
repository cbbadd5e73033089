//! What WebSocket connections send and receive: each driver counts its own connection, and
//! adds its counts to the app's totals when metrics are on (once per round of work, not per
//! message). The access log line of a connection and the Prometheus series read them.

use std::{
    collections::BTreeMap,
    ops::Sub,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering::Relaxed},
    },
};

/// Messages and payload bytes of one connection, or of many.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) messages_in: u64,
    pub(crate) bytes_in: u64,
    pub(crate) messages_out: u64,
    pub(crate) bytes_out: u64,
}

impl Sub for Counts {
    type Output = Counts;

    fn sub(self, other: Counts) -> Counts {
        Counts {
            messages_in: self.messages_in - other.messages_in,
            bytes_in: self.bytes_in - other.bytes_in,
            messages_out: self.messages_out - other.messages_out,
            bytes_out: self.bytes_out - other.bytes_out,
        }
    }
}

/// The app's totals over every connection, counted once [`Totals::count`] was called.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    on: AtomicBool,
    opened: AtomicU64,
    messages_in: AtomicU64,
    bytes_in: AtomicU64,
    messages_out: AtomicU64,
    bytes_out: AtomicU64,
    /// Connections ended, by the label of the close code they ended with (see [`code_label`]).
    closed: Mutex<BTreeMap<String, u64>>,
}

/// How a connection ended, for the log line and the totals.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Ended {
    /// Whether the WebSocket was ever open (a handshake that did not complete was not).
    pub(crate) opened: bool,
    pub(crate) lasted: std::time::Duration,
    pub(crate) counts: Counts,
    /// Whether the close code is one the peer chose (its close frame came first).
    pub(crate) peer_chose: bool,
}

/// The metric label of a close code: the code itself, except that the application codes a
/// client chooses (3000-4999) are grouped as `3xxx` and `4xxx`, so clients cannot grow the
/// number of series. The codes the server sends, its handlers' included, keep their number.
pub(crate) fn code_label(code: u16, peer_chose: bool) -> String {
    match code {
        3000..=3999 if peer_chose => "3xxx".to_string(),
        4000..=4999 if peer_chose => "4xxx".to_string(),
        _ => code.to_string(),
    }
}

/// A reading of [`Totals`].
#[cfg(feature = "metrics")]
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Reading {
    pub(crate) opened: u64,
    pub(crate) counts: Counts,
    pub(crate) closed: BTreeMap<String, u64>,
}

impl Totals {
    /// Counts from now on (what the metrics turn on).
    #[cfg(feature = "metrics")]
    pub(crate) fn count(&self) {
        self.on.store(true, Relaxed);
    }

    pub(crate) fn counting(&self) -> bool {
        self.on.load(Relaxed)
    }

    pub(crate) fn opened(&self) {
        self.opened.fetch_add(1, Relaxed);
    }

    pub(crate) fn add(&self, delta: Counts) {
        for (total, n) in [
            (&self.messages_in, delta.messages_in),
            (&self.bytes_in, delta.bytes_in),
            (&self.messages_out, delta.messages_out),
            (&self.bytes_out, delta.bytes_out),
        ] {
            if n > 0 {
                total.fetch_add(n, Relaxed);
            }
        }
    }

    pub(crate) fn closed(&self, label: String) {
        *self.closed.lock().unwrap_or_else(|e| e.into_inner()).entry(label).or_default() += 1;
    }

    #[cfg(feature = "metrics")]
    pub(crate) fn read(&self) -> Reading {
        Reading {
            opened: self.opened.load(Relaxed),
            counts: Counts {
                messages_in: self.messages_in.load(Relaxed),
                bytes_in: self.bytes_in.load(Relaxed),
                messages_out: self.messages_out.load(Relaxed),
                bytes_out: self.bytes_out.load(Relaxed),
            },
            closed: self.closed.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

/// What the access log line of a connection needs from its handshake, kept until it ends
/// (set on the handshake request by the app when its access log is on).
#[derive(Debug, Clone)]
pub(crate) struct Logged {
    pub(crate) route: std::sync::Arc<str>,
    pub(crate) request_id: std::sync::Arc<str>,
}

/// Writes the access log line of a connection that ended.
pub(crate) fn log_end(logged: &Logged, client: Option<std::net::IpAddr>, code: u16, ended: &Ended) {
    let (counts, millis) = (ended.counts, ended.lasted.as_secs_f64() * 1000.0);
    let client = client.map(|c| c.to_string());
    let route = &*logged.route;
    tracing::info!(
        target: "sockeye::access",
        method = "GET",
        route,
        status = 101,
        close_code = code,
        duration_ms = (millis * 1000.0).round() / 1000.0,
        messages_in = counts.messages_in,
        messages_out = counts.messages_out,
        bytes_in = counts.bytes_in,
        bytes_out = counts.bytes_out,
        client = client.as_deref().unwrap_or("-"),
        request_id = &*logged.request_id,
        "WS {route} closed {code}",
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_a_client_chooses_are_grouped() {
        assert_eq!(code_label(1000, true), "1000");
        assert_eq!(code_label(4001, true), "4xxx");
        assert_eq!(code_label(3999, true), "3xxx");
        assert_eq!(code_label(4001, false), "4001");
        assert_eq!(code_label(1006, false), "1006");
    }
}
