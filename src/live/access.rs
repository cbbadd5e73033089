//! [`Access`]: who may read a live model, write it and listen to its channel, and which rows
//! each client may see.

use std::{any::Any, sync::Arc};

use serde_json::Value;

use super::Model;
use crate::auth::{Secured, StandardClaims};

/// Who may use a live model, each part public or guarded like `#[secured]` (the same token
/// sources, refusals and close codes): reads (`GET`), writes (`POST`, `PUT`, `PATCH`,
/// `DELETE`) and the channel (`/ws/<table>`), plus an optional rule per row. Changes made
/// from code through [`Live`](super::Live) are not guarded: the code is trusted.
///
/// One rule for every way to the data: the read guard also guards the channel (its
/// snapshots and events are reads), and the row rule ([`Access::rows`]) decides for the
/// REST list and reads, the snapshot and every event alike, so a client never receives a
/// row it may not read.
///
/// ```standalone_crate
/// use sockeye::{auth::{Auth, Secured}, live::{Access, Database, Model}, prelude::*};
///
/// #[derive(Model, Serialize, Deserialize, Clone, Debug)]
/// #[model(table = "notes")]
/// struct Note { id: i64, owner: String, text: String }
///
/// const ADMINS: Secured = Secured::new(&["admin"], &[]);
///
/// # #[tokio::main] async fn main() {
/// let auth = Auth::hs256("a secret of at least thirty-two bytes!!");
/// let (ann, bob) = (auth.token_for("ann").issue().unwrap(), auth.token_for("bob").issue().unwrap());
/// let db = Database::connect("sqlite::memory:").await.unwrap();
/// let app = App::new().auth(auth).database(db).register_with::<Note>(
///     // Each user sees their own notes only: in lists, reads, snapshots and events.
///     Access::authenticated().rows(|user, note: &Note| user.sub.as_deref() == Some(note.owner.as_str())),
/// );
/// let client = TestClient::new(app);
/// let note = serde_json::json!({"owner": "ann", "text": "hi"});
/// assert_eq!(client.post("/notes").json(&note).send().await.status(), 401);
/// assert_eq!(client.post("/notes").json(&note).bearer(&ann).send().await.status(), 201);
/// let mine: Vec<serde_json::Value> = client.get("/notes").bearer(&ann).send().await.json();
/// let theirs: Vec<serde_json::Value> = client.get("/notes").bearer(&bob).send().await.json();
/// assert_eq!((mine.len(), theirs.len()), (1, 0));
/// assert_eq!(client.get("/notes/1").bearer(&bob).send().await.status(), 404);
/// # let _ = ADMINS;
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Access {
    pub(crate) reads: Option<&'static Secured>,
    pub(crate) writes: Option<&'static Secured>,
    pub(crate) channel: Option<&'static Secured>,
    pub(crate) rows: Option<RowRule>,
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("reads", &self.reads)
            .field("writes", &self.writes)
            .field("channel", &self.channel)
            .field("rows", &self.rows.as_ref().map(|_| "rule"))
            .finish()
    }
}

impl Access {
    /// Everything open to everyone. Say it with
    /// [`App::register_with`](crate::App::register_with)`(Access::public())`; a model
    /// registered with [`App::register`](crate::App::register) is public too, and the app
    /// warns at start that its writes are.
    pub const fn public() -> Self {
        Self { reads: None, writes: None, channel: None, rows: None }
    }

    /// Everything for authenticated clients only.
    pub const fn authenticated() -> Self {
        let any = Some(&Secured::AUTHENTICATED);
        Self { reads: any, writes: any, channel: any, rows: None }
    }

    /// Reads (`GET /<table>`, `GET /<table>/{id}`) and the channel require `secured`.
    pub const fn reads(mut self, secured: &'static Secured) -> Self {
        self.reads = Some(secured);
        self
    }

    /// Writes (`POST`, `PUT`, `PATCH`, `DELETE`) require `secured`.
    pub const fn writes(mut self, secured: &'static Secured) -> Self {
        self.writes = Some(secured);
        self
    }

    /// The channel (`/ws/<table>`) requires `secured`, on top of what reads require.
    pub const fn channel(mut self, secured: &'static Secured) -> Self {
        self.channel = Some(secured);
        self
    }

    /// A client sees a row only when `rule` says yes, given its token's claims and the row:
    /// in REST lists (a page can then hold fewer rows than `limit`) and reads (404), in
    /// snapshots, and in events (an update that takes a row out of a client's sight arrives
    /// as a `deleted` event carrying the key only). `PUT`, `PATCH` and `DELETE` of a row the
    /// client may not read answer 404. Reads, writes of existing rows and the channel then
    /// need a token, whatever else the access says.
    ///
    /// The rule sees the whole row, write-only fields included. It runs once per event and
    /// subscriber with a rule: keep it cheap.
    pub fn rows<M: Model>(mut self, rule: impl Fn(&StandardClaims, &M) -> bool + Send + Sync + 'static) -> Self {
        self.rows = Some(Arc::new(move |claims: &StandardClaims, row: &Row<'_>| {
            row.typed::<M>().is_some_and(|m| rule(claims, m))
        }));
        self
    }

    /// The guard of one of the model's routes.
    pub(crate) fn of(&self, def: &crate::route::RouteDef) -> Option<&'static Secured> {
        let any = self.rows.as_ref().map(|_| &Secured::AUTHENTICATED);
        match (def.is_websocket(), def.method()) {
            (true, _) => both(both(self.reads, self.channel), any),
            (false, "GET") => both(self.reads, any),
            (false, "POST") => self.writes,
            _ => both(self.writes, any),
        }
    }
}

/// What both guards require (leaked once per registered model: guards are `'static`).
fn both(a: Option<&'static Secured>, b: Option<&'static Secured>) -> Option<&'static Secured> {
    match (a, b) {
        (Some(a), Some(b)) if std::ptr::eq(a, b) => Some(a),
        (Some(a), Some(b)) => Some(Box::leak(Box::new(a.and(b)))),
        (a, b) => a.or(b),
    }
}

/// A row rule, on any model (the typed closure decodes the row).
pub(crate) type RowRule = Arc<dyn Fn(&StandardClaims, &Row<'_>) -> bool + Send + Sync>;

/// A row as the rules see it: its JSON (every column), decoded into the model once, on first
/// use, however many subscribers' rules look at it.
pub(crate) struct Row<'a> {
    json: &'a Value,
    typed: std::sync::OnceLock<Option<Box<dyn Any + Send + Sync>>>,
}

impl<'a> Row<'a> {
    pub(crate) fn new(json: &'a Value) -> Self {
        Self { json, typed: std::sync::OnceLock::new() }
    }

    fn typed<M: Model>(&self) -> Option<&M> {
        self.typed
            .get_or_init(|| {
                super::service::from_json::<M>(self.json.clone())
                    .ok()
                    .map(|m| Box::new(m) as Box<dyn Any + Send + Sync>)
            })
            .as_ref()?
            .downcast_ref::<M>()
    }
}

/// Who is looking at a model's rows: a client's claims and the model's row rule.
#[derive(Clone)]
pub(crate) struct Viewer {
    pub(crate) rule: RowRule,
    pub(crate) claims: Arc<StandardClaims>,
}

impl Viewer {
    /// The viewer of a request or connection under `access`: `None` when the model has no
    /// row rule (everything the guards let through may be read).
    pub(crate) fn of(access: Option<&Access>, claims: Option<&Value>) -> Option<Self> {
        let rule = access?.rows.clone()?;
        let claims = claims.and_then(|c| serde_json::from_value(c.clone()).ok()).unwrap_or_default();
        Some(Self { rule, claims: Arc::new(claims) })
    }

    pub(crate) fn can_read(&self, row: &Row<'_>) -> bool {
        (self.rule)(&self.claims, row)
    }
}
