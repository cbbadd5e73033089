use sockeye::prelude::*;

struct Tag;

#[get("/items")]
async fn read_items(tags: Vec<Tag>) -> String {
    let _ = tags;
    String::new()
}

fn main() {}
