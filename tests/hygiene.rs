//! The generated code names only absolute paths: it compiles in a module without the prelude
//! and without `inventory` or `poem` in scope.

#[allow(dead_code)]
mod no_prelude {
    #![no_implicit_prelude]

    ::sockeye::router!(prefix = "/hygiene");

    #[::sockeye::get("/items/<id>")]
    async fn item(id: u32, #[query] q: ::std::option::Option<::std::string::String>) -> ::std::string::String {
        ::std::format!("{id}:{}", q.unwrap_or_default())
    }

    #[::sockeye::post("/items")]
    async fn create(
        body: ::sockeye::Json<::serde_json::Value>,
    ) -> ::sockeye::Result<::sockeye::Json<::serde_json::Value>> {
        ::std::result::Result::Ok(body)
    }
}

#[tokio::test]
async fn generated_code_is_hygienic() {
    let client = sockeye::TestClient::new(sockeye::App::empty().include(no_prelude::router()));
    assert_eq!(client.get("/hygiene/items/5?q=x").send().await.text(), "5:x");
    let res = client.post("/hygiene/items").json(&serde_json::json!({"a": 1})).send().await;
    assert_eq!(res.json::<serde_json::Value>(), serde_json::json!({"a": 1}));
}
