use sockeye::prelude::*;

#[route("/items")]
async fn read_item() -> &'static str {
    "x"
}

fn main() {}
