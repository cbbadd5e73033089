//! What sockeye reads in database and broker URLs before handing them to their drivers.

/// The URL without its password (`redis://:***@host`, `postgres://user:***@host/db`), for
/// messages and logs; the query's `password=` (PostgreSQL) and `pass=` (Redis over a Unix
/// socket) too.
pub(crate) fn redact(url: &str) -> String {
    let mut shown = match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    if let Some(query) = shown.find('?') {
        let (head, tail) = shown.split_at(query + 1);
        let tail: Vec<String> = tail
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if ["password", "pass", "sslpassword"].iter().any(|p| k.eq_ignore_ascii_case(p)) => {
                    format!("{k}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        shown = format!("{head}{}", tail.join("&"));
    }
    shown
}

/// Whether the URL asks for TLS: `rediss://`, or PostgreSQL's `sslmode=require`,
/// `verify-ca` or `verify-full` (`prefer`, PostgreSQL's default, falls back to plain TCP).
pub(crate) fn needs_tls(url: &str) -> bool {
    let scheme = url.split("://").next().unwrap_or_default().to_ascii_lowercase();
    if scheme == "rediss" {
        return true;
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    (scheme == "postgres" || scheme == "postgresql")
        && query.split('&').any(|pair| match pair.split_once('=') {
            Some((k, v)) => {
                (k.eq_ignore_ascii_case("sslmode") || k.eq_ignore_ascii_case("ssl-mode"))
                    && ["require", "verify-ca", "verify-full"].iter().any(|m| v.eq_ignore_ascii_case(m))
            }
            None => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("redis://:hunter2@cache:6379"), "redis://:***@cache:6379");
        assert_eq!(redact("postgres://app:s3cret@db/app?sslmode=require"), "postgres://app:***@db/app?sslmode=require");
        assert_eq!(redact("postgres://db/app?user=app&password=s3cret"), "postgres://db/app?user=app&password=***");
        assert_eq!(redact("postgres://app@db/app"), "postgres://app@db/app");
        assert_eq!(
            redact("redis+unix:///run/redis.sock?db=1&pass=s3cret"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(redact("sqlite://sockeye.db"), "sqlite://sockeye.db");
    }

    #[test]
    fn urls_that_ask_for_tls() {
        for url in [
            "rediss://cache:6380",
            "REDISS://cache:6380/0",
            "postgres://app@db/app?sslmode=require",
            "postgresql://db/app?application_name=x&sslmode=verify-full&sslrootcert=/ca.pem",
            "postgres://db/app?SSLMODE=Verify-CA",
            "postgres://db/app?ssl-mode=require",
        ] {
            assert!(needs_tls(url), "{url}");
        }
        for url in [
            "redis://cache:6379",
            "postgres://db/app",
            "postgres://db/app?sslmode=prefer",
            "postgres://db/app?sslmode=disable",
            "sqlite://x.db?sslmode=require",
        ] {
            assert!(!needs_tls(url), "{url}");
        }
    }
}
