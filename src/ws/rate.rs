//! The inbound message rate limit of a connection.

use std::{fmt, time::Duration};

use tokio::time::Instant;

/// At most `messages` messages from a client in any window of `per`: a connection that sends
/// more is closed with [`CloseCode::RATE_LIMITED`](super::CloseCode::RATE_LIMITED) (4429,
/// "too many messages: over the limit of 1000/1s"), other connections are not affected.
///
/// Text and binary messages and pings count (a ping costs a pong); a message sent in fragments
/// counts once (its size is bounded by the message limit), pongs not at all. Windows are fixed
/// and start at the first message after the previous one ended, so a burst across the boundary
/// of two windows can reach twice the limit.
///
/// The client's address then may not open another WebSocket for one window (`per`): its
/// handshakes are answered 429 with `Retry-After`, so reconnecting does not reset the limit.
///
/// The default is 1,000 messages per second per connection ([`WsConfig::rate_limit`](super::WsConfig::rate_limit)):
/// far above what a person or a 60 Hz game sends, far below what a loop does. Per app:
/// `WsConfig { rate_limit: Some(RateLimit::new(100, Duration::from_secs(1))), .. }` or
/// `SOCKEYE_WS_RATE_LIMIT=100/1s` (`off` for none); per route:
/// `#[websocket("/ws", rate_limit = 100)]` (messages per second, 0 = off).
///
/// ```
/// use std::time::Duration;
/// use sockeye::ws::RateLimit;
/// let limit: RateLimit = "200/10s".parse().unwrap();
/// assert_eq!(limit, RateLimit::new(200, Duration::from_secs(10)));
/// assert_eq!(limit.to_string(), "200/10s");
/// assert!("fast".parse::<RateLimit>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Messages allowed per window (at least 1).
    pub messages: u32,
    /// The window.
    pub per: Duration,
}

impl RateLimit {
    /// `messages` per `per` (a zero count is raised to 1 message, a window under 1 ms to 1 ms).
    pub const fn new(messages: u32, per: Duration) -> Self {
        let messages = if messages == 0 { 1 } else { messages };
        let per = if per.as_millis() == 0 { Duration::from_millis(1) } else { per };
        Self { messages, per }
    }

    /// `messages` per second.
    pub const fn per_second(messages: u32) -> Self {
        Self::new(messages, Duration::from_secs(1))
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self::per_second(1000)
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.per.as_millis();
        if ms.is_multiple_of(1000) {
            write!(f, "{}/{}s", self.messages, ms / 1000)
        } else {
            write!(f, "{}/{ms}ms", self.messages)
        }
    }
}

/// Why a rate limit did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRateLimit(String);

impl fmt::Display for BadRateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a rate limit: write messages/window, like 1000/1s, 50/500ms or 300/1m", self.0)
    }
}

impl std::error::Error for BadRateLimit {}

impl std::str::FromStr for RateLimit {
    type Err = BadRateLimit;

    /// `1000/1s`, `50/500ms`, `300/1m`, `20/s`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadRateLimit(s.to_string());
        let (count, window) = s.trim().split_once('/').ok_or_else(bad)?;
        let messages = count.trim().parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(bad)?;
        let window = window.trim();
        let (number, unit_ms) = if let Some(n) = window.strip_suffix("ms") {
            (n, 1)
        } else if let Some(n) = window.strip_suffix('s') {
            (n, 1000)
        } else if let Some(n) = window.strip_suffix('m') {
            (n, 60_000)
        } else {
            return Err(bad());
        };
        let number = if number.is_empty() { 1 } else { number.parse::<u64>().map_err(|_| bad())? };
        let ms = number.checked_mul(unit_ms).filter(|ms| *ms > 0).ok_or_else(bad)?;
        Ok(Self::new(messages, Duration::from_millis(ms)))
    }
}

/// Counts a connection's messages. The clock is read once per `messages` messages, not per
/// message (a clock read costs a tenth of the driver's work per message).
pub(crate) struct Meter {
    limit: RateLimit,
    window_start: Instant,
    count: u32,
}

impl Meter {
    pub(crate) fn new(limit: RateLimit, now: Instant) -> Self {
        Self { limit, window_start: now, count: 0 }
    }

    /// Counts one message; true when it is over the limit.
    pub(crate) fn over(&mut self) -> bool {
        self.count = self.count.saturating_add(1);
        if self.count <= self.limit.messages {
            return false;
        }
        let now = Instant::now();
        // Saturating: a window of `Duration::MAX` must not overflow the clock.
        if now.saturating_duration_since(self.window_start) < self.limit.per {
            return true;
        }
        self.window_start = now;
        self.count = 1;
        false
    }

    pub(crate) fn limit(&self) -> RateLimit {
        self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let ok = |s: &str| s.parse::<RateLimit>().unwrap();
        assert_eq!(ok("1000/1s"), RateLimit::per_second(1000));
        assert_eq!(ok(" 20 / s "), RateLimit::per_second(20));
        assert_eq!(ok("50/500ms"), RateLimit::new(50, Duration::from_millis(500)));
        assert_eq!(ok("300/1m"), RateLimit::new(300, Duration::from_secs(60)));
        for bad in
            ["", "10", "0/1s", "-1/1s", "10/0s", "10/1h", "x/1s", "10/xs", "99999999999/1s", "1/99999999999999999m"]
        {
            let e = bad.parse::<RateLimit>().unwrap_err();
            assert!(e.to_string().contains("like 1000/1s"), "{bad}: {e}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn counts_windows() {
        let mut m = Meter::new(RateLimit::per_second(3), Instant::now());
        assert!(!m.over() && !m.over() && !m.over());
        assert!(m.over(), "the fourth message within the second is over");
        tokio::time::advance(Duration::from_millis(1001)).await;
        assert!(!m.over(), "a new window starts");
        assert!(!m.over() && !m.over());
        assert!(m.over());
        // Extreme limits neither overflow nor panic.
        let mut huge = Meter::new(RateLimit::new(1, Duration::MAX), Instant::now());
        assert!(!huge.over() && huge.over());
        let mut all = Meter::new(RateLimit::new(u32::MAX, Duration::from_secs(1)), Instant::now());
        all.count = u32::MAX;
        assert!(!all.over(), "the count saturates at the limit instead of wrapping (or panicking)");
        assert_eq!(all.count, u32::MAX);
        assert_eq!(RateLimit::new(5, Duration::from_nanos(10)).to_string(), "5/1ms");
    }
}
