//! What the three peer servers share: the JSON shapes and the port.

use serde::{Deserialize, Serialize};

/// The answer of `GET /users/{id}` and `POST /users`.
#[derive(Serialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub age: u32,
}

/// The body of `POST /users`.
#[derive(Deserialize)]
pub struct NewUser {
    pub name: String,
    pub age: u32,
}

/// The query of `GET /users/{id}`.
#[derive(Deserialize)]
pub struct UserQuery {
    pub verbose: Option<bool>,
}

/// `GET /users/{id}`'s answer.
pub fn read_user(id: u64, verbose: Option<bool>) -> User {
    let age = if verbose.unwrap_or(false) { 42 } else { 0 };
    User { id, name: format!("user {id}"), age }
}

/// `127.0.0.1:$PORT` (default 8000).
pub fn addr() -> String {
    format!("127.0.0.1:{}", std::env::var("PORT").unwrap_or_else(|_| "8000".into()))
}
