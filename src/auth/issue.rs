//! Issuing tokens, for a login route.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use super::{Auth, AuthError};

/// A token being built by [`Auth::token_for`]: `exp` one hour ahead unless changed, `iat`
/// now, and the configured issuer and audience.
///
/// ```
/// use std::time::Duration;
/// use sockeye::auth::Auth;
///
/// let auth = Auth::hs256("a secret of at least thirty-two bytes!!").issuer("https://id.example");
/// let token = auth
///     .token_for("ann")
///     .roles(["editor"])
///     .scopes(["posts:write"])
///     .claim("team", serde_json::json!("blue"))
///     .expires_in(Duration::from_secs(15 * 60))
///     .issue()
///     .unwrap();
/// assert_eq!(token.split('.').count(), 3); // a signed JWT
/// ```
#[must_use = "call .issue() to get the token"]
pub struct TokenBuilder<'a> {
    auth: &'a Auth,
    claims: Map<String, Value>,
    ttl: Duration,
}

impl<'a> TokenBuilder<'a> {
    pub(super) fn new(auth: &'a Auth, subject: String) -> Self {
        let mut claims = Map::new();
        claims.insert("sub".into(), subject.into());
        Self { auth, claims, ttl: Duration::from_secs(3600) }
    }

    /// How long the token is valid (default one hour).
    pub fn expires_in(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The `roles` claim.
    pub fn roles<S: Into<String>>(self, roles: impl IntoIterator<Item = S>) -> Self {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        self.claim("roles", json!(roles))
    }

    /// The `scope` claim (space-separated).
    pub fn scopes<S: Into<String>>(self, scopes: impl IntoIterator<Item = S>) -> Self {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        self.claim("scope", scopes.join(" ").into())
    }

    /// Any other claim.
    pub fn claim(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Signs the token with the configured secret or private key.
    pub fn issue(self) -> Result<String, AuthError> {
        let inner = &self.auth.0;
        let Some(keys) = &inner.jwt else {
            return Err(AuthError::Key("no signing key configured (a secret or SOCKEYE_JWT_PRIVATE_KEY)".into()));
        };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let mut claims = self.claims;
        claims.insert("iat".into(), now.into());
        claims.entry("exp").or_insert_with(|| (now + self.ttl.as_secs()).into());
        if let Some(iss) = &inner.issuer {
            claims.entry("iss").or_insert_with(|| iss.clone().into());
        }
        if let Some(aud) = &inner.audience {
            claims.entry("aud").or_insert_with(|| aud.clone().into());
        }
        keys.sign(&Value::Object(claims))
    }
}
