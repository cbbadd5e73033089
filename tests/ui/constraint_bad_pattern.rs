use sockeye::prelude::*;

#[get("/items")]
async fn read_items(#[query(pattern = "([a-z]+")] q: String) -> String {
    q
}

fn main() {}
