//! The HTTP cases on poem, as its users write them.

use poem::{
    EndpointExt, Route, Server, get, handler,
    listener::TcpListener,
    post,
    web::{Json, Path, Query},
};
use sockeye_bench_peers::{NewUser, User, UserQuery, addr, read_user};

#[handler]
fn health() -> &'static str {
    "ok"
}

#[handler]
fn plaintext() -> &'static str {
    "Hello, World!"
}

#[handler]
fn read(Path(id): Path<u64>, Query(q): Query<UserQuery>) -> Json<User> {
    Json(read_user(id, q.verbose))
}

#[handler]
fn create(Json(user): Json<NewUser>) -> Json<User> {
    Json(User { id: 1, name: user.name, age: user.age })
}

#[tokio::main]
async fn main() -> Result<(), std::io::Error> {
    let app = Route::new()
        .at("/health", get(health))
        .at("/plaintext", get(plaintext))
        .at("/users/:id", get(read))
        .at("/users", post(create))
        .boxed();
    Server::new(TcpListener::bind(addr()))
        .run_with_graceful_shutdown(app, async { tokio::signal::ctrl_c().await.unwrap() }, None)
        .await
}
