//! [`Access`]: who may read a live model, write it and listen to its channel.

use crate::auth::Secured;

/// Who may use a live model's routes, each part public or guarded like `#[secured]` (the
/// same token sources, refusals and close codes): reads (`GET`), writes (`POST`, `PUT`,
/// `PATCH`, `DELETE`) and the channel (`/ws/<table>`). Changes made from code through
/// [`Live`](super::Live) are not guarded: the code is trusted.
///
/// ```standalone_crate
/// use sockeye::{auth::{Auth, Secured}, live::{Access, Database, Model}, prelude::*};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
/// #[model(table = "products")]
/// struct Product { id: i64, name: String, price: i64 }
///
/// const ADMINS: Secured = Secured::new(&["admin"], &[]);
///
/// # #[tokio::main] async fn main() {
/// let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
/// let admin = auth.token_for("ann").roles(["admin"]).issue().unwrap();
/// let db = Database::connect("sqlite::memory:").await.unwrap();
/// let app = App::new().auth(auth).database(db).register_with::<Product>(
///     Access::public().writes(&ADMINS).channel(&Secured::AUTHENTICATED),
/// );
/// let client = TestClient::new(app);
/// let row = serde_json::json!({"name": "Laptop", "price": 999});
/// assert_eq!(client.post("/products").json(&row).send().await.status(), 401);
/// assert_eq!(client.post("/products").json(&row).bearer(&admin).send().await.status(), 201);
/// assert_eq!(client.get("/products").send().await.status(), 200); // reads stay public
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Access {
    pub(crate) reads: Option<&'static Secured>,
    pub(crate) writes: Option<&'static Secured>,
    pub(crate) channel: Option<&'static Secured>,
}

impl Access {
    /// Everything open to everyone (what [`App::register`](crate::App::register) uses).
    pub const fn public() -> Self {
        Self { reads: None, writes: None, channel: None }
    }

    /// Everything for authenticated clients only.
    pub const fn authenticated() -> Self {
        let any = Some(&Secured::AUTHENTICATED);
        Self { reads: any, writes: any, channel: any }
    }

    /// Reads (`GET /<table>`, `GET /<table>/{id}`) require `secured`.
    pub const fn reads(mut self, secured: &'static Secured) -> Self {
        self.reads = Some(secured);
        self
    }

    /// Writes (`POST`, `PUT`, `PATCH`, `DELETE`) require `secured`.
    pub const fn writes(mut self, secured: &'static Secured) -> Self {
        self.writes = Some(secured);
        self
    }

    /// The channel (`/ws/<table>`) requires `secured`.
    pub const fn channel(mut self, secured: &'static Secured) -> Self {
        self.channel = Some(secured);
        self
    }

    /// The guard of one of the model's routes.
    pub(crate) fn of(&self, def: &crate::route::RouteDef) -> Option<&'static Secured> {
        match (def.is_websocket(), def.method()) {
            (true, _) => self.channel,
            (false, "GET") => self.reads,
            _ => self.writes,
        }
    }
}
