use sockeye::{live::Model, prelude::*};

#[derive(Model, Serialize, Deserialize)]
#[model(table = "events")]
struct Event {
    id: i64,
    at: std::time::SystemTime,
}

fn main() {}
