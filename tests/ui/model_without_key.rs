use sockeye::{live::Model, prelude::*};

#[derive(Model, Serialize, Deserialize)]
#[model(table = "notes")]
struct Note {
    title: String,
}

fn main() {}
