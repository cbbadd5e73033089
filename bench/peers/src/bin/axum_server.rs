//! The HTTP cases on axum, as its users write them.

use axum::{
    Json, Router,
    extract::{Path, Query},
    routing::get,
};
use sockeye_bench_peers::{NewUser, User, UserQuery, addr, read_user};

async fn read(Path(id): Path<u64>, Query(q): Query<UserQuery>) -> Json<User> {
    Json(read_user(id, q.verbose))
}

async fn create(Json(user): Json<NewUser>) -> Json<User> {
    Json(User { id: 1, name: user.name, age: user.age })
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/plaintext", get(|| async { "Hello, World!" }))
        .route("/users/{id}", get(read))
        .route("/users", axum::routing::post(create));
    let listener = tokio::net::TcpListener::bind(addr()).await.unwrap();
    axum::serve(listener, app).with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap() }).await.unwrap();
}
