use sockeye::{live::Model, prelude::*};

#[derive(Model, Serialize, Deserialize)]
#[model(table = "items")]
#[serde(rename_all = "camelCase")]
struct Item {
    id: i64,
    owner_id: i64,
}

fn main() {}
