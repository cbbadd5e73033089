//! {{name}}: the routes, and `app()` that mounts them.

use sockeye::prelude::*;

// Gathers this crate's routes (and its modules') into `router()`.
sockeye::router!();

/// Says hello.
#[get("/")]
async fn index() -> &'static str {
    "Hello from {{name}}"
}

/// Greets someone by name: `/hello/Ada?excited=true`.
#[get("/hello/<name>")]
async fn hello(name: String, #[query] excited: Option<bool>) -> String {
    let mark = if excited.unwrap_or(false) { "!" } else { "." };
    format!("Hello, {name}{mark}")
}

/// The JSON API, under `/api`.
pub mod api {
    use sockeye::prelude::*;

    sockeye::router!(prefix = "/api");

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    pub struct Item {
        pub id: u64,
        pub name: String,
    }

    #[derive(Deserialize)]
    pub struct NewItem {
        pub name: String,
    }

    /// Reads one item.
    #[get("/items/<id>")]
    async fn read(id: u64) -> Result<Json<Item>> {
        if id == 0 {
            return Err(Error::not_found("no item 0"));
        }
        Ok(Json(Item { id, name: format!("item {id}") }))
    }

    /// Creates an item (not stored: see the `realtime` template for a database).
    #[post("/items")]
    async fn create(Json(new): Json<NewItem>) -> Created<Json<Item>> {
        Created(Json(Item { id: 1, name: new.name }))
    }
}

/// `app` with this crate's routes: `App::from_env()?` in `main`, `App::new()` in tests.
pub fn app(app: App) -> App {
    app.include(router())
}
