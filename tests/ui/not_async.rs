use sockeye::prelude::*;

#[get("/items")]
fn read_item() -> &'static str {
    "sync"
}

fn main() {}
