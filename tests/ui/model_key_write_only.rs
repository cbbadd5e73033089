use sockeye::{live::Model, prelude::*};

#[derive(Model, Serialize, Deserialize)]
#[model(table = "users")]
struct User {
    #[serde(skip_serializing)]
    id: i64,
    name: String,
}

fn main() {}
