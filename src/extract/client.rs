//! [`TrustedProxies`]: whose `Forwarded` / `X-Forwarded-For` headers name the client.

use std::{fmt, net::IpAddr, str::FromStr};

use poem::{Request, http::HeaderMap, web::RemoteAddr};

/// The reverse proxies (load balancers, ingress) in front of the app, as CIDR ranges
/// (`10.0.0.0/8`, `127.0.0.1`, `::1/128`): `SOCKEYE_TRUSTED_PROXIES`, comma-separated.
///
/// When a request comes from one of them, its client is the address the proxies forwarded
/// (`Forwarded: for=..`, else `X-Forwarded-For`), read from the right (the entry the nearest
/// proxy added) past every trusted hop. That address is what per-IP connection caps, the
/// rate-limit cooldown, the owner of a connection and the logs use, so one client flooding
/// through the proxy is refused alone instead of everyone behind it. A request from any
/// other peer is its own client: its forwarding headers are ignored (anyone can write them).
///
/// ```
/// use sockeye::TrustedProxies;
/// let proxies: TrustedProxies = "10.0.0.0/8, 127.0.0.1".parse().unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(!proxies.contains("192.168.0.1".parse().unwrap()));
/// assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// No proxy: every peer is its own client (the default).
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|&(net, bits)| in_range(ip, net, bits))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client of a request that came from `peer` with `headers`.
    pub(crate) fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let mut client = peer;
        for hop in forwarded_for(headers).into_iter().rev() {
            let Some(ip) = hop else { break }; // unreadable: trust nothing left of it
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

/// The `for=` addresses of `Forwarded`, else of `X-Forwarded-For`, left to right; `None` for
/// an entry that is not an address (`unknown`, an obfuscated name, garbage).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers.get_all("forwarded").iter().filter_map(|v| v.to_str().ok()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|v| v.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| parse_node(v.trim()))
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[::1]`, `[::1]:5678` or `::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse().ok()))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, from a dual-stack socket) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// Comma-separated addresses or CIDR ranges; an error names the entry that is neither.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for entry in s.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let bad = || format!("`{entry}` is not an IP address or CIDR range (like 10.0.0.0/8)");
            let (ip, bits) = match entry.split_once('/') {
                Some((ip, bits)) => (ip, Some(bits.parse::<u8>().map_err(|_| bad())?)),
                None => (entry, None),
            };
            let ip = canonical(ip.parse::<IpAddr>().map_err(|_| bad())?);
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = bits.unwrap_or(max);
            if bits > max {
                return Err(bad());
            }
            ranges.push((ip, bits));
        }
        Ok(Self(ranges))
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(ip, bits)| format!("{ip}/{bits}"))).finish()
    }
}

/// The client address of `req`: its peer, or behind a trusted proxy the forwarded client.
pub(crate) fn client_ip(req: &Request) -> Option<IpAddr> {
    let peer = match req.remote_addr() {
        RemoteAddr(poem::Addr::SocketAddr(a)) => canonical(a.ip()),
        _ => return None,
    };
    let Some(proxies) = crate::route::data::<TrustedProxies>(req) else { return Some(peer) };
    Some(proxies.client(peer, req.headers()))
}

/// The host the request was sent to (for same-origin checks): `Host`, or behind a trusted
/// proxy `X-Forwarded-Host` when it set one.
pub(crate) fn request_host(req: &Request) -> Option<&str> {
    let trusted = match (req.remote_addr(), crate::route::data::<TrustedProxies>(req)) {
        (RemoteAddr(poem::Addr::SocketAddr(a)), Some(proxies)) => proxies.contains(a.ip()),
        _ => false,
    };
    let forwarded = trusted.then(|| req.header("x-forwarded-host")).flatten();
    forwarded.map(|h| h.split(',').next().unwrap_or("").trim()).or_else(|| req.header(poem::http::header::HOST))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for &(k, v) in pairs {
            h.append(k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let peer = "10.0.0.1".parse().unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 1.2.3.4, 10.0.0.7")]);
        assert_eq!(proxies.client(peer, &h), "1.2.3.4".parse::<IpAddr>().unwrap());
        let h = headers(&[("forwarded", "for=6.6.6.6, for=\"[2001:db8::1]:4711\";proto=https")]);
        assert_eq!(proxies.client(peer, &h), "2001:db8::1".parse::<IpAddr>().unwrap());
        // Not from a trusted proxy: the headers are the client's own words.
        let stranger = "1.2.3.4".parse().unwrap();
        assert_eq!(proxies.client(stranger, &headers(&[("x-forwarded-for", "9.9.9.9")])), stranger);
        // Garbage stops the walk at the last trusted hop.
        let h = headers(&[("x-forwarded-for", "1.1.1.1, garbage, 10.0.0.9")]);
        assert_eq!(proxies.client(peer, &h), "10.0.0.9".parse::<IpAddr>().unwrap());
        assert_eq!(proxies.client(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn ranges_parse_and_match() {
        let p: TrustedProxies = "127.0.0.1, ::1, 192.168.0.0/16".parse().unwrap();
        assert!(p.contains("127.0.0.1".parse().unwrap()));
        assert!(p.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(p.contains("192.168.44.1".parse().unwrap()));
        assert!(!p.contains("127.0.0.2".parse().unwrap()));
        assert!(p.contains("::1".parse().unwrap()));
        assert!("300.1.1.1".parse::<TrustedProxies>().unwrap_err().contains("300.1.1.1"));
        assert!("::/129".parse::<TrustedProxies>().is_err());
    }
}
