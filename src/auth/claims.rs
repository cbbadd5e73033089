//! The `Claims` extractor: the authenticated token's claims, standard or your own struct.

use poem::{FromRequest, Request, RequestBody};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use super::{AuthError, Principal};
use crate::Error;

/// The registered JWT claims plus `roles` and `scope`; anything else is in `extra`. What
/// [`Claims`] holds unless you name your own type.
///
/// ```
/// let claims: sockeye::auth::StandardClaims =
///     serde_json::from_value(serde_json::json!({"sub": "ann", "roles": ["admin"], "team": "blue"})).unwrap();
/// assert_eq!(claims.subject().unwrap(), "ann");
/// assert_eq!(claims.roles, ["admin"]);
/// assert_eq!(claims.extra["team"], "blue");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StandardClaims {
    /// Subject: who the token is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience (a string or an array in the token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Value>,
    /// Expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Roles, for `#[secured(roles = [..])]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    /// Space-separated scopes, for `#[secured(scopes = [..])]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Every other claim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StandardClaims {
    /// The subject (`sub`): who the token is about. A token without one answers 401
    /// `{"detail": "missing claim: sub"}` (a WebSocket closes with 4401), so `?` in a handler
    /// is all it takes: no `unwrap`, no panic on a token from another issuer.
    ///
    /// ```standalone_crate
    /// use sockeye::prelude::*;
    ///
    /// #[secured]
    /// #[get("/me")]
    /// async fn me(user: Claims) -> Result<String> {
    ///     Ok(format!("hello {}", user.subject()?))
    /// }
    /// # #[tokio::main] async fn main() {
    /// let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
    /// let alice = auth.token_for("alice").issue().unwrap();
    /// let nobody = auth.token_for("x").claim("sub", serde_json::Value::Null).issue().unwrap();
    /// let client = TestClient::new(App::new().auth(auth));
    /// assert_eq!(client.get("/me").bearer(&alice).send().await.text(), "hello alice");
    /// let res = client.get("/me").bearer(&nobody).send().await;
    /// assert_eq!(res.status(), 401);
    /// assert_eq!(res.json::<serde_json::Value>()["detail"], "missing claim: sub");
    /// # }
    /// ```
    pub fn subject(&self) -> Result<&str, Error> {
        self.sub.as_deref().ok_or_else(|| AuthError::MissingClaim("sub".into()).to_error())
    }
}

/// The claims of the request's token: [`StandardClaims`] by default, or your own
/// `Claims<MyClaims>` (any `Deserialize` struct). Derefs to the claims.
///
/// On a `#[secured]` route the token was already checked; elsewhere the extractor checks it
/// and answers 401 (or closes 4401) when there is none or it is invalid. Use
/// `Option<Claims>` for routes where a token is optional.
///
/// ```standalone_crate
/// use sockeye::{auth::{Auth, Claims}, prelude::*};
///
/// #[derive(Deserialize)]
/// struct Team { sub: String, team: String }
///
/// #[get("/team")]
/// async fn team(claims: Claims<Team>) -> String {
///     format!("{} is in {}", claims.sub, claims.team)
/// }
///
/// #[get("/hello")]
/// async fn hello(claims: Option<Claims>) -> String {
///     let who = claims.as_ref().and_then(|c| c.sub.clone()).unwrap_or_else(|| "stranger".into());
///     format!("hello {who}")
/// }
/// # #[tokio::main] async fn main() {
/// let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
/// let token = auth.token_for("ann").claim("team", serde_json::json!("blue")).issue().unwrap();
/// let client = TestClient::new(App::new().auth(auth));
/// assert_eq!(client.get("/team").bearer(&token).send().await.text(), "ann is in blue");
/// assert_eq!(client.get("/team").send().await.status(), 401);
/// assert_eq!(client.get("/hello").send().await.text(), "hello stranger");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Claims<T = StandardClaims>(pub T);

impl<T> std::ops::Deref for Claims<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Claims<T> {
    /// The claims.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<'a, T: DeserializeOwned> FromRequest<'a> for Claims<T> {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let claims = match req.extensions().get::<Principal>() {
            Some(p) => p.claims.clone(),
            None => authenticate(req)?.claims,
        };
        let claims = serde_json::from_value(claims).map_err(|e| AuthError::BadClaim(e.to_string()).to_error())?;
        Ok(Claims(claims))
    }
}

/// Checks the token of a request that no `#[secured]` checked.
fn authenticate(req: &Request) -> Result<Principal, Error> {
    let auth = crate::route::data::<super::Auth>(req).ok_or_else(|| Error::internal("request outside an App"))?;
    let websocket = req.headers().contains_key(poem::http::header::SEC_WEBSOCKET_KEY);
    let (token, _) =
        super::token_from_request(req, websocket, auth.reads_query(websocket))?.ok_or(AuthError::Missing)?;
    Ok(Principal { claims: auth.verify(&token)?, secured: &super::ANYONE })
}
