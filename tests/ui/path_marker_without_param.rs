use sockeye::prelude::*;

#[get("/items")]
async fn read_items(#[path(ge = 1)] id: u32) -> String {
    id.to_string()
}

fn main() {}
