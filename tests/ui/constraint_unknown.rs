use sockeye::prelude::*;

#[get("/items")]
async fn read_items(#[query(maximum = 10)] limit: u32) -> String {
    limit.to_string()
}

fn main() {}
