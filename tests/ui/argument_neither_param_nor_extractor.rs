use sockeye::prelude::*;

#[get("/items")]
async fn read_item(id: u64) -> String {
    id.to_string()
}

fn main() {}
