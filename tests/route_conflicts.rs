//! Two handlers on one method and path: building the app returns an error naming both
//! functions and where they are, instead of poem's panic.

use sockeye::{RouteError, prelude::*};

mod first {
    use sockeye::prelude::*;
    sockeye::router!(prefix = "/shop");

    #[get("/items/<id>")]
    async fn read_item(id: u32) -> String {
        id.to_string()
    }
}

mod second {
    use sockeye::prelude::*;
    sockeye::router!(prefix = "/shop");

    // A different parameter name answers the same requests: still a conflict.
    #[get("/items/{item_id}")]
    async fn get_item(item_id: u32) -> String {
        item_id.to_string()
    }

    // Another method on the same shape is fine.
    #[put("/items/<other>")]
    async fn put_item(other: u32) -> String {
        other.to_string()
    }
}

#[test]
fn conflicting_handlers_are_an_error_naming_both() {
    let err = App::new().routes().unwrap_err();
    let RouteError::Conflict { method, path, first, first_location, second, second_location } = &err else {
        panic!("expected a conflict, got {err:?}");
    };
    assert_eq!(method, "GET");
    assert_eq!(path, "/shop/items/<id>");
    assert_eq!(first, "route_conflicts::first::read_item");
    assert_eq!(second, "route_conflicts::second::get_item");
    assert_eq!(first_location, "tests/route_conflicts.rs:10");
    assert_eq!(second_location, "tests/route_conflicts.rs:21");
    let message = err.to_string();
    assert!(message.contains("read_item") && message.contains("get_item"), "{message}");
    assert!(TestClient::try_new(App::new()).is_err());
}

#[tokio::test]
async fn different_methods_and_parameter_names_share_a_path() {
    let c = TestClient::new(App::empty().include(first::router()).include(second::router().with_prefix("/other")));
    assert_eq!(c.get("/shop/items/4").send().await.text(), "4");
    assert_eq!(c.get("/other/items/5").send().await.text(), "5");
    assert_eq!(c.put("/other/items/6").send().await.text(), "6");
    assert_eq!(c.delete("/other/items/6").send().await.header("allow"), Some("GET, HEAD, PUT"));
}

#[tokio::test]
async fn serving_a_conflicting_app_fails_before_binding() {
    let err = App::new().bind("127.0.0.1:0").await.err().expect("must not bind");
    assert!(err.to_string().contains("is handled twice"), "{err}");
}
