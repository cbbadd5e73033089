//! Checking a token: API keys in constant time, JWTs with strict validation, then roles and
//! scopes.

use serde_json::Value;

use super::{Auth, AuthError, Secured};

impl Auth {
    /// The claims of a valid token (API key or JWT).
    pub(crate) fn verify(&self, token: &str) -> Result<Value, AuthError> {
        if let Some(key) = self.api_key_of(token) {
            return Ok(key.claims(self.0.api_key_lifetime));
        }
        let Some(jwt) = &self.0.jwt else {
            return Err(if self.0.api_keys.is_empty() { AuthError::NotConfigured } else { AuthError::ApiKey });
        };
        let rules = super::jwt::Rules {
            issuer: self.0.issuer.as_deref(),
            audience: self.0.audience.as_deref(),
            leeway: self.0.leeway,
        };
        jwt.verify(token, &rules)
    }

    /// The API key `token` is. Every key is compared, each in constant time.
    fn api_key_of(&self, token: &str) -> Option<&super::api_key::ApiKey> {
        let mut found = None;
        for key in &self.0.api_keys {
            if constant_time_eq(key.key.as_bytes(), token.as_bytes()) {
                found = Some(key);
            }
        }
        found
    }
}

/// Equal length and bytes, in time that depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Secured {
    /// Every required role and scope is in `claims`: `roles` (array or string) or `role`;
    /// `scope` (space-separated, OAuth 2) or `scopes` / `scp` (array).
    pub(crate) fn check(&self, claims: &Value) -> Result<(), AuthError> {
        let roles = strings(claims, &["roles", "role"]);
        if let Some(missing) = self.roles.iter().find(|r| !roles.iter().any(|x| x == *r)) {
            return Err(AuthError::MissingRole(missing.to_string()));
        }
        let scopes = strings(claims, &["scope", "scopes", "scp"]);
        if let Some(missing) = self.scopes.iter().find(|s| !scopes.iter().any(|x| x == *s)) {
            return Err(AuthError::MissingScope(missing.to_string()));
        }
        Ok(())
    }
}

/// The strings of the first present claim among `names`: an array, or a space-separated string.
fn strings<'a>(claims: &'a Value, names: &[&str]) -> Vec<&'a str> {
    let Some(value) = names.iter().find_map(|n| claims.get(*n)) else { return Vec::new() };
    match value {
        Value::String(s) => s.split_whitespace().collect(),
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn roles_and_scopes_come_from_arrays_or_strings() {
        let s = Secured::new(&["admin"], &["read"]);
        assert!(s.check(&json!({"roles": ["admin"], "scope": "read write"})).is_ok());
        assert!(s.check(&json!({"role": "admin", "scp": ["read"]})).is_ok());
        assert_eq!(s.check(&json!({"roles": ["user"], "scope": "read"})), Err(AuthError::MissingRole("admin".into())));
        assert_eq!(s.check(&json!({"roles": ["admin"]})), Err(AuthError::MissingScope("read".into())));
        assert_eq!(s.check(&json!({"roles": 3})), Err(AuthError::MissingRole("admin".into())));
    }

    #[test]
    fn api_keys_compare_whole_values() {
        assert!(constant_time_eq(b"key", b"key"));
        assert!(!constant_time_eq(b"key", b"kez"));
        assert!(!constant_time_eq(b"key", b"key2"));
        assert!(!constant_time_eq(b"", b"k"));
    }
}
