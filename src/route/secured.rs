//! [`Secured`]: what a route requires of its caller, part of the route's registration; the
//! `auth` module checks it.

/// What `#[secured(roles = [..], scopes = [..])]` requires: written by the macro on a route,
/// or by you for a route a router mounts ([`Router::route_secured`](crate::Router::route_secured)).
///
/// ```standalone_crate
/// use sockeye::{auth::{Auth, Secured}, prelude::*};
///
/// const ADMINS: Secured = Secured::new(&["admin"], &[]);
///
/// #[get("/stats", def = STATS)]
/// async fn stats() -> &'static str { "42" }
/// # #[tokio::main] async fn main() {
/// let app = App::new()
///     .auth(Auth::new().api_key_with_roles("admin-key", ["admin"]).api_key("user-key"))
///     .include(Router::new().route_secured("/admin/stats", &STATS, Some(&ADMINS)));
/// let client = TestClient::new(app);
/// assert_eq!(client.get("/admin/stats").bearer("user-key").send().await.status(), 403);
/// assert_eq!(client.get("/admin/stats").bearer("admin-key").send().await.text(), "42");
/// # }
/// ```
#[derive(Debug, Default)]
pub struct Secured {
    pub(crate) roles: &'static [&'static str],
    pub(crate) scopes: &'static [&'static str],
}

impl Secured {
    /// Any authenticated client, whatever its roles and scopes.
    pub const AUTHENTICATED: Secured = Secured::new(&[], &[]);

    /// A requirement: every role and every scope listed.
    ///
    /// Routes keep a `&'static Secured`: write it in a `const` (or `static`) and pass
    /// `&NAME`, e.g. `const ADMINS: Secured = Secured::new(&["admin"], &[]);`.
    pub const fn new(roles: &'static [&'static str], scopes: &'static [&'static str]) -> Self {
        Self { roles, scopes }
    }

    /// What both require: every role and scope of each. The lists are leaked (guards live for
    /// the program: this is called once per registration, at start).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))] // for live models' access
    pub(crate) fn and(&self, other: &Secured) -> Secured {
        let join = |a: &'static [&'static str], b: &'static [&'static str]| -> &'static [&'static str] {
            Box::leak(a.iter().chain(b).copied().collect::<Vec<_>>().into_boxed_slice())
        };
        Secured { roles: join(self.roles, other.roles), scopes: join(self.scopes, other.scopes) }
    }
}
