//! {{name}}: a live model with REST CRUD and change events, secured writes, a login route.

use serde_json::{Value, json};
use sockeye::{
    auth::{Auth, Claims, Secured},
    live::{Access, Database, Model},
    prelude::*,
};

sockeye::router!();

/// A row of `items`: `GET/POST /items`, `GET/PUT/PATCH/DELETE /items/<id>`, events on
/// `/ws/items`.
#[derive(Model, Serialize, Deserialize, Clone, Debug)]
#[model(table = "items")]
pub struct Item {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub price: f64,
    #[serde(default = "yes")]
    pub in_stock: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// Whether `valid` below is still the stand-in: the app warns at start while it is. Set it to
/// false once `valid` checks your user store.
const STAND_IN_LOGIN: bool = true;

/// A STAND-IN for a user store: any name with the password `demo`. Replace it with your own
/// check before deploying.
fn valid(login: &Login) -> bool {
    !login.username.is_empty() && login.password == "demo"
}

/// Issues a one-hour token for a valid user.
#[post("/login")]
async fn login(auth: Auth, Json(body): Json<Login>) -> Result<Json<Value>> {
    if !valid(&body) {
        return Err(Error::unauthorized("wrong username or password"));
    }
    let token = auth.token_for(&body.username).issue()?;
    Ok(Json(json!({ "access_token": token, "token_type": "bearer" })))
}

/// Who the token belongs to: any `#[secured]` route refuses requests without a valid one
/// (401), before the handler runs.
#[secured]
#[get("/me")]
async fn me(user: Claims) -> Result<Json<Value>> {
    // A token without a subject answers 401 `missing claim: sub`.
    Ok(Json(json!({ "user": user.subject()? })))
}

/// The database at `url`, with the migrations applied: those of its kind
/// (`migrations/sqlite/` or `migrations/postgres/`), from `MIGRATIONS_DIR`, else `migrations/`
/// in the working directory, else the project's own (when run where it was built). Ship the
/// directory next to the binary when you deploy. Table creation is off: the app checks at
/// start that `items` exists and fits `Item`, and says what to change if not.
pub async fn database(url: &str) -> sockeye::Result<Database> {
    let db = Database::connect(url).await?.create_missing_tables(false);
    let dir = std::env::var("MIGRATIONS_DIR").unwrap_or_else(|_| "migrations".into());
    let dir = if std::path::Path::new(&dir).is_dir() { dir } else { concat!(env!("CARGO_MANIFEST_DIR"), "/migrations").into() };
    db.migrate(dir).await?;
    Ok(db)
}

/// `app` with the model (reads and events public, writes for signed-in users), the login
/// route and, in development (`SOCKEYE_ENV=development`), the console at `/console`.
pub fn app(app: App, db: Database) -> App {
    if STAND_IN_LOGIN {
        tracing::warn!("/login is a stand-in (any name, password `demo`): replace `valid` in src/lib.rs before deploying");
    }
    let development = app.config().development;
    let app = app
        .database(db)
        .register_with::<Item>(Access::public().writes(&Secured::AUTHENTICATED))
        .include(router());
    if development { app.console("/console") } else { app }
}
