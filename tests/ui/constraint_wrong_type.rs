use sockeye::prelude::*;

#[get("/items")]
async fn read_items(#[query(min_length = 2)] limit: u32) -> String {
    limit.to_string()
}

fn main() {}
