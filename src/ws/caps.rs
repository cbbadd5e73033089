//! Connection caps: how many WebSocket connections one IP address or one user may hold open
//! ([`WsConfig::max_connections_per_ip`](super::WsConfig::max_connections_per_ip),
//! [`max_connections_per_user`](super::WsConfig::max_connections_per_user)), and the addresses
//! cooling down after one of their connections went over its [`RateLimit`](super::RateLimit).

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::time::Instant;

/// Open connections by IP address and by user, for the whole app. Only connections of an app
/// that sets a cap are counted.
#[derive(Default)]
pub(crate) struct Caps {
    counts: Mutex<Counts>,
}

#[derive(Default)]
struct Counts {
    by_ip: HashMap<IpAddr, usize>,
    by_user: HashMap<Arc<str>, usize>,
    /// Addresses whose connection went over its message rate, until when they may not open
    /// another (a per-connection limit alone is beaten by reconnecting).
    cooling: HashMap<IpAddr, Instant>,
}

/// Addresses kept cooling at most; beyond that, expired ones are forgotten first.
const MAX_COOLING: usize = 10_000;

/// Why a connection was refused: the text of the 429 (or the 4429 close), and when to retry.
#[derive(Debug)]
pub(crate) struct OverCap(pub(crate) String, pub(crate) Option<Duration>);

/// A counted connection: the count goes down when this is dropped (the connection ended).
pub(crate) struct Slot {
    caps: Arc<Caps>,
    key: Key,
}

enum Key {
    Ip(IpAddr),
    User(Arc<str>),
}

impl Caps {
    /// Counts a connection from `ip`, unless `max` are already open.
    pub(crate) fn claim_ip(self: &Arc<Self>, ip: IpAddr, max: usize) -> Result<Slot, OverCap> {
        let mut counts = self.lock();
        claim(&mut counts.by_ip, ip, max)
            .map_err(|n| OverCap(format!("too many connections from {ip}: {n} open, the limit is {max}"), None))?;
        Ok(Slot { caps: self.clone(), key: Key::Ip(ip) })
    }

    /// `ip` may not open a WebSocket for `period`: one of its connections was closed for
    /// sending too many messages.
    pub(crate) fn cool_down(&self, ip: IpAddr, period: Duration) {
        let now = Instant::now();
        let mut counts = self.lock();
        if counts.cooling.len() >= MAX_COOLING {
            counts.cooling.retain(|_, until| *until > now);
        }
        if counts.cooling.len() < MAX_COOLING {
            counts.cooling.insert(ip, now + period);
        }
    }

    /// Refuses `ip` while it is cooling down.
    pub(crate) fn check_cooling(&self, ip: IpAddr) -> Result<(), OverCap> {
        let mut counts = self.lock();
        let Some(until) = counts.cooling.get(&ip).copied() else { return Ok(()) };
        let now = Instant::now();
        if until <= now {
            counts.cooling.remove(&ip);
            return Ok(());
        }
        let wait = until - now;
        Err(OverCap(
            format!("{ip} sent too many messages on another connection: wait {} ms", wait.as_millis().max(1)),
            Some(wait),
        ))
    }

    /// Counts a connection of the user `subject`, unless `max` are already open.
    pub(crate) fn claim_user(self: &Arc<Self>, subject: &str, max: usize) -> Result<Slot, OverCap> {
        let user: Arc<str> = subject.into();
        let mut counts = self.lock();
        claim(&mut counts.by_user, user.clone(), max)
            .map_err(|n| OverCap(format!("too many connections for this user: {n} open, the limit is {max}"), None))?;
        Ok(Slot { caps: self.clone(), key: Key::User(user) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Open connections counted for `ip` (for tests).
    #[cfg(test)]
    fn open_from(&self, ip: IpAddr) -> usize {
        self.lock().by_ip.get(&ip).copied().unwrap_or(0)
    }
}

/// Err(open) when `max` are open. A refusal adds no entry.
fn claim<K: Hash + Eq>(map: &mut HashMap<K, usize>, key: K, max: usize) -> Result<(), usize> {
    let open = map.get(&key).copied().unwrap_or(0);
    if open >= max {
        return Err(open);
    }
    *map.entry(key).or_insert(0) += 1;
    Ok(())
}

fn release<K: Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(open) = map.get_mut(key) {
        *open -= 1;
        if *open == 0 {
            map.remove(key); // no entry left behind per address ever seen
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.caps.lock();
        match &self.key {
            Key::Ip(ip) => release(&mut counts.by_ip, ip),
            Key::User(user) => release(&mut counts.by_user, user),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_up_to_the_cap_and_back_down() {
        let caps = Arc::new(Caps::default());
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let a = caps.claim_ip(ip, 2).unwrap();
        let b = caps.claim_ip(ip, 2).unwrap();
        let refused = caps.claim_ip(ip, 2).err().unwrap();
        assert_eq!(refused.0, "too many connections from 10.0.0.1: 2 open, the limit is 2");
        assert!(caps.claim_ip("10.0.0.2".parse().unwrap(), 2).is_ok(), "another address is not affected");
        drop(a);
        let c = caps.claim_ip(ip, 2).unwrap();
        drop((b, c));
        assert_eq!(caps.open_from(ip), 0);
        assert!(caps.lock().by_ip.is_empty(), "no entry is kept for an address with nothing open");
        let u = caps.claim_user("alice", 1).unwrap();
        assert!(caps.claim_user("alice", 1).is_err());
        drop(u);
        assert!(caps.claim_user("alice", 1).is_ok());
        // An address cooling down is refused until its time is up; others are not.
        let (hot, other): (IpAddr, IpAddr) = ("10.0.0.9".parse().unwrap(), "10.0.0.10".parse().unwrap());
        caps.cool_down(hot, Duration::from_secs(3600));
        let refused = caps.check_cooling(hot).err().unwrap();
        assert!(refused.0.starts_with("10.0.0.9 sent too many messages") && refused.1.is_some(), "{refused:?}");
        assert!(caps.check_cooling(other).is_ok());
        caps.cool_down(other, Duration::ZERO);
        assert!(caps.check_cooling(other).is_ok(), "an expired cooldown is forgotten");
        assert!(!caps.lock().cooling.contains_key(&other));
        // A cap of 0 refuses everyone and keeps no entry for them.
        for i in 0..100u8 {
            assert!(caps.claim_ip(IpAddr::from([10, 1, 0, i]), 0).is_err());
        }
        assert!(caps.lock().by_ip.is_empty());
    }
}
