use sockeye::{live::Model, prelude::*};

#[derive(Model, Serialize, Deserialize)]
#[model(table = "users")]
struct User {
    id: i64,
    #[serde(skip)]
    password_hash: String,
}

fn main() {}
