//! Routers: module prefixes, nesting by module, include() moving a router, App::empty(),
//! and the errors a bad table gives instead of a panic.

use sockeye::{RouteError, prelude::*};

#[get("/top")]
async fn top() -> &'static str {
    "top"
}

mod api {
    use sockeye::prelude::*;
    sockeye::router!(prefix = "/api");

    #[get("/status")]
    async fn status() -> &'static str {
        "api status"
    }

    // No router! here: these routes belong to `api`'s router.
    pub(crate) mod plain {
        use sockeye::prelude::*;
        #[get("/plain")]
        async fn plain() -> &'static str {
            "plain"
        }
    }

    pub(crate) mod v1 {
        use sockeye::prelude::*;
        sockeye::router!(prefix = "/v1/");

        #[get("/items/<id>")]
        async fn item(id: u32) -> String {
            format!("v1 item {id}")
        }

        #[get("/")]
        async fn index() -> &'static str {
            "v1 index"
        }
    }
}

mod admin {
    use sockeye::prelude::*;
    sockeye::router!(prefix = "/admin");

    #[get("/users")]
    async fn users() -> &'static str {
        "admin users"
    }
}

mod grouped {
    use sockeye::prelude::*;
    sockeye::router!();

    #[get("/grouped")]
    async fn grouped() -> &'static str {
        "grouped"
    }
}

#[tokio::test]
async fn app_new_serves_everything_under_module_prefixes() {
    let c = TestClient::new(App::new());
    assert_eq!(c.get("/top").send().await.text(), "top");
    assert_eq!(c.get("/api/status").send().await.text(), "api status");
    assert_eq!(c.get("/api/plain").send().await.text(), "plain");
    assert_eq!(c.get("/api/v1/items/3").send().await.text(), "v1 item 3");
    assert_eq!(c.get("/api/v1").send().await.text(), "v1 index");
    assert_eq!(c.get("/admin/users").send().await.text(), "admin users");
    assert_eq!(c.get("/grouped").send().await.text(), "grouped");
    assert_eq!(c.get("/status").send().await.status(), 404);
}

#[tokio::test]
async fn including_a_module_router_mounts_it_once() {
    // Same table as App::new(): including a router where it already is changes nothing.
    let app = App::new().include(api::router()).include(admin::router());
    let routes = app.routes().unwrap();
    assert_eq!(routes.iter().filter(|r| r.path == "/api/status").count(), 1);
    let c = TestClient::new(app);
    assert_eq!(c.get("/api/v1/items/1").send().await.text(), "v1 item 1");
}

#[tokio::test]
async fn include_moves_a_router_under_another_prefix() {
    let app = App::new().include(Router::new().with_prefix("/v2").include(admin::router()));
    let c = TestClient::new(app);
    assert_eq!(c.get("/v2/admin/users").send().await.text(), "admin users");
    assert_eq!(c.get("/admin/users").send().await.status(), 404);
    assert_eq!(c.get("/api/status").send().await.text(), "api status");
}

#[tokio::test]
async fn a_submodule_router_can_be_detached_from_its_parent() {
    let app = App::new().include(api::v1::router().with_prefix("/legacy"));
    let c = TestClient::new(app);
    assert_eq!(c.get("/legacy/items/2").send().await.text(), "v1 item 2");
    assert_eq!(c.get("/api/v1/items/2").send().await.status(), 404);
    assert_eq!(c.get("/api/status").send().await.text(), "api status");
}

#[tokio::test]
async fn empty_app_serves_only_what_is_included() {
    let c = TestClient::new(App::empty().include(admin::router()));
    assert_eq!(c.get("/admin/users").send().await.text(), "admin users");
    assert_eq!(c.get("/top").send().await.status(), 404);
    assert_eq!(c.get("/api/status").send().await.status(), 404);

    // A module router brings its submodules along.
    let c = TestClient::new(App::empty().include(api::router()));
    assert_eq!(c.get("/api/v1/items/9").send().await.text(), "v1 item 9");
}

#[test]
fn including_the_same_router_twice_is_an_error() {
    let app = App::new().include(admin::router()).include(Router::new().with_prefix("/x").include(admin::router()));
    let err = app.routes().unwrap_err();
    assert_eq!(err, RouteError::IncludedTwice { module: "routers::admin".into() });
    assert!(TestClient::try_new(App::new().include(admin::router()).include(admin::router())).is_err());
}

#[test]
fn a_prefix_with_parameters_is_an_error_not_a_panic() {
    let err =
        App::empty().include(Router::new().with_prefix("/users/<id>").include(admin::router())).routes().unwrap_err();
    assert!(matches!(err, RouteError::BadPrefix { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot hold parameters"));
    let err = App::empty().include(admin::router().with_prefix("no-slash")).routes().unwrap_err();
    assert!(err.to_string().contains("must start with `/`"), "{err}");
}

#[test]
fn the_route_table_names_every_handler_and_its_source() {
    let routes = App::new().routes().unwrap();
    let item = routes.iter().find(|r| r.path == "/api/v1/items/<id>").unwrap();
    assert_eq!(item.method, "GET");
    assert_eq!(item.handler, "routers::api::v1::item");
    assert!(item.location.starts_with("tests/routers.rs:"), "{}", item.location);
    let paths: Vec<&str> = routes.iter().map(|r| r.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
}

#[get("/canción/<id>")]
async fn cancion(id: u32) -> String {
    format!("canción {id}")
}

/// A literal segment with non-ASCII text is reached the way clients send it: percent-encoded.
#[tokio::test]
async fn non_ascii_literal_segments_are_reached_percent_encoded() {
    let client = TestClient::new(App::new());
    let resp = client.get("/canci%C3%B3n/7").send().await;
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text(), "canción 7");
    // Lower-case escapes are the same text; with a trailing slash too.
    assert_eq!(client.get("/canci%c3%b3n/8/").send().await.text(), "canción 8");
    assert_eq!(client.get("/canci%C3%B3n").send().await.status().as_u16(), 404);
}

/// A route a library hands out as a static (`def = NAME`): `App::new()` does not mount it;
/// a router mounts it at any path, and its `#[secured]` guard goes with it.
mod library {
    use sockeye::prelude::*;

    /// Says hello.
    #[get("/hello", def = HELLO)]
    pub(crate) async fn hello(name: Option<String>) -> String {
        format!("hello {}", name.as_deref().unwrap_or("you"))
    }

    /// Only for admins.
    #[secured]
    #[get("/admin", def = ADMIN)]
    pub(crate) async fn admin() -> &'static str {
        "admin"
    }
}

#[tokio::test]
async fn a_route_defined_as_a_static_is_mounted_only_where_a_router_routes_it() {
    let client = TestClient::new(App::new());
    assert_eq!(client.get("/hello").send().await.status(), 404, "App::new() mounted a `def` route");
    let auth = sockeye::auth::Auth::new().api_key("the-key");
    let app = App::new()
        .auth(auth)
        .include(Router::new().with_prefix("/lib").route("/greet", &library::HELLO).route("/admin", &library::ADMIN));
    let client = TestClient::new(app);
    assert_eq!(client.get("/lib/greet?name=ann").send().await.text(), "hello ann");
    assert_eq!(client.get("/lib/admin").send().await.status(), 401);
    assert_eq!(client.get("/lib/admin").header("authorization", "Bearer the-key").send().await.text(), "admin");
    assert_eq!((library::HELLO.name(), library::HELLO.path()), ("hello", "/hello"));
    let table = App::new().include(Router::new().route("/greet", &library::HELLO)).routes().unwrap();
    assert!(table.iter().any(|r| r.path == "/greet" && r.handler.ends_with("library::hello")), "{table:?}");
}
