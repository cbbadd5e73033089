//! A handler's `State<T>` that the app does not provide is found when the app starts, naming
//! the handler and the type, instead of a 500 on every request to it.

use sockeye::{RouteError, prelude::*};

#[derive(Clone)]
struct Pool(&'static str);

#[get("/pool")]
async fn pool(State(pool): State<Pool>) -> &'static str {
    pool.0
}

/// Optional data is not required.
#[get("/maybe")]
async fn maybe(pool: Option<State<Pool>>) -> &'static str {
    pool.map_or("none", |p| p.0.0)
}

#[tokio::test]
async fn an_app_without_the_state_a_handler_takes_refuses_to_start_naming_both() {
    let Err(error) = TestClient::try_new(App::new()) else { panic!("the app started without the state") };
    match &error {
        RouteError::MissingState { handler, type_name, location } => {
            assert!(handler.ends_with("::pool"), "{handler}");
            assert!(type_name.ends_with("Pool"), "{type_name}");
            assert!(location.contains("state_check.rs"), "{location}");
        }
        other => panic!("another error: {other}"),
    }
    let message = error.to_string();
    assert!(message.contains("State<") && message.contains("App::state"), "{message}");
}

#[tokio::test]
async fn the_server_refuses_to_bind_too() {
    let error = App::new().bind("127.0.0.1:0").await.err().expect("the server started without the state");
    assert!(error.to_string().contains("Pool"), "{error}");
}

#[tokio::test]
async fn with_the_state_the_app_serves() {
    let client = TestClient::new(App::new().state(Pool("db")));
    assert_eq!(client.get("/pool").send().await.text(), "db");
    assert_eq!(client.get("/maybe").send().await.text(), "db");
}
