//! Shared helpers of the benchmark binaries: argument parsing, percentiles and process
//! statistics read from `/proc`.

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::{net::TcpStream, sync::Semaphore};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async_with_config, tungstenite::protocol::WebSocketConfig,
};

/// `--key value` pairs and bare words from the command line.
pub struct Args {
    /// The first bare word (the case to run).
    pub command: String,
    values: HashMap<String, String>,
}

impl Args {
    /// Parses `std::env::args()`.
    pub fn parse() -> Self {
        let mut command = String::new();
        let mut values = HashMap::new();
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.strip_prefix("--") {
                Some(key) => {
                    values.insert(key.to_string(), args.next().unwrap_or_default());
                }
                None if command.is_empty() => command = a,
                None => {}
            }
        }
        Self { command, values }
    }

    /// A value, or `default`.
    pub fn get<T: std::str::FromStr>(&self, key: &str, default: T) -> T {
        self.values.get(key).and_then(|v| v.parse().ok()).unwrap_or(default)
    }

    /// A text value, or `default`.
    pub fn text(&self, key: &str, default: &str) -> String {
        self.values.get(key).cloned().unwrap_or_else(|| default.to_string())
    }
}

/// The `p`-th percentile (0-100) of `samples`, which it sorts.
pub fn percentile(samples: &mut [u64], p: f64) -> u64 {
    if samples.is_empty() {
        return 0;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// CPU time (user + system) used so far by process `pid`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10)) // USER_HZ is 100 on Linux
}

/// Resident memory of process `pid`, in bytes.
pub fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A client WebSocket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Connects to `url` (5 attempts).
pub async fn connect(url: &str) -> Ws {
    let config = WebSocketConfig::default().read_buffer_size(4096);
    for attempt in 0..5 {
        match connect_async_with_config(url, Some(config), true).await {
            Ok((ws, _)) => return ws,
            Err(e) if attempt < 4 => {
                eprintln!("connect {url}: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("connect {url}: {e}"),
        }
    }
    unreachable!()
}

/// Opens `n` connections, at most 256 handshakes at a time.
pub async fn connect_many(url: &str, n: usize) -> Vec<Ws> {
    let gate = Arc::new(Semaphore::new(256));
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (url, gate) = (url.to_string(), gate.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire().await.unwrap();
                connect(&url).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&mut v, 50.0), 51);
        assert_eq!(percentile(&mut v, 99.0), 99);
        assert_eq!(percentile(&mut [], 99.0), 0);
    }

    #[test]
    fn reads_its_own_process() {
        let pid = std::process::id();
        assert!(rss(pid).unwrap() > 0);
        assert!(cpu_time(pid).is_some());
    }
}
