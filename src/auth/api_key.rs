//! Static API keys: a secret a service sends as its Bearer value, compared in constant time,
//! optionally named (so its sockets can be closed by name) and given roles.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The subject of the claims of an unnamed key.
pub(crate) const UNNAMED_SUBJECT: &str = "api-key";

#[derive(Clone)]
pub(crate) struct ApiKey {
    pub(crate) name: Option<String>,
    pub(crate) key: String,
    pub(crate) roles: Vec<String>,
}

impl ApiKey {
    /// A named key from `name:key` (`SOCKEYE_NAMED_API_KEYS`): the name is letters, digits,
    /// `_`, `-` and `.`, the key everything after the first `:`.
    pub(crate) fn named(entry: &str) -> Option<Self> {
        let (name, key) = entry.split_once(':')?;
        let name_ok = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
        (name_ok && !key.is_empty()).then(|| Self {
            name: Some(name.to_string()),
            key: key.to_string(),
            roles: Vec::new(),
        })
    }

    /// The subject of the claims: `api-key:<name>`, or `api-key` for an unnamed key.
    pub(crate) fn subject(&self) -> String {
        match &self.name {
            Some(name) => format!("{UNNAMED_SUBJECT}:{name}"),
            None => UNNAMED_SUBJECT.to_string(),
        }
    }

    /// The claims a request or socket authenticated with this key has: its subject, name and
    /// roles, and with a `lifetime` an `exp` that far from now (a socket is then closed at
    /// it, unless the client sends the key again in an auth message).
    pub(crate) fn claims(&self, lifetime: Option<Duration>) -> Value {
        let mut claims = json!({ "sub": self.subject(), "roles": self.roles });
        if let Some(name) = &self.name {
            claims["api_key"] = name.as_str().into();
        }
        if let Some(lifetime) = lifetime {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
            claims["exp"] = (now + lifetime).as_secs().into();
        }
        claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_and_unnamed_keys() {
        let named = ApiKey::named("ci-bot:s3cr3t:with:colons").unwrap();
        assert_eq!((named.name.as_deref(), named.key.as_str()), (Some("ci-bot"), "s3cr3t:with:colons"));
        assert_eq!(named.claims(None), json!({"sub": "api-key:ci-bot", "api_key": "ci-bot", "roles": []}));
        for bad in ["no-colon", ":key", "name:", "a b:key"] {
            assert!(ApiKey::named(bad).is_none(), "{bad}");
        }
        let plain = ApiKey { name: None, key: "abcdef".into(), roles: Vec::new() };
        assert_eq!((plain.name.as_deref(), plain.subject()), (None, "api-key".to_string()));
        let expiring = plain.claims(Some(Duration::from_secs(60)));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!((now + 59..=now + 61).contains(&expiring["exp"].as_u64().unwrap()));
    }
}
