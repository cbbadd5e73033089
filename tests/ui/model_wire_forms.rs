use sockeye::{live::Model, prelude::*};

// Bytes are base64 on the wire: serde's own Vec<u8> is a list of numbers.
#[derive(Model, Serialize, Deserialize)]
struct Avatar {
    id: i64,
    image: Vec<u8>,
}

// Server-set times go on time columns only.
#[derive(Model, Serialize, Deserialize)]
struct Note {
    id: i64,
    #[model(default = now)]
    title: String,
}

// `now` is the only server default.
#[derive(Model, Serialize, Deserialize)]
struct Post {
    id: i64,
    #[model(default = later)]
    at: String,
}

fn main() {}
