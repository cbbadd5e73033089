//! The HTTP cases on actix-web, as its users write them.

use actix_web::{App, HttpServer, get, post, web};
use sockeye_bench_peers::{NewUser, User, UserQuery, addr, read_user};

#[get("/health")]
async fn health() -> &'static str {
    "ok"
}

#[get("/plaintext")]
async fn plaintext() -> &'static str {
    "Hello, World!"
}

#[get("/users/{id}")]
async fn read(id: web::Path<u64>, q: web::Query<UserQuery>) -> web::Json<User> {
    web::Json(read_user(id.into_inner(), q.verbose))
}

#[post("/users")]
async fn create(user: web::Json<NewUser>) -> web::Json<User> {
    let user = user.into_inner();
    web::Json(User { id: 1, name: user.name, age: user.age })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new().service(health).service(plaintext).service(read).service(create))
        .bind(addr())?
        .run()
        .await
}
