//! Shared helpers of the benchmark binaries: argument parsing, percentiles and process
//! statistics read from `/proc`.

use std::{collections::HashMap, time::Duration};

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
