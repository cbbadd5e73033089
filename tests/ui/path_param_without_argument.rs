use sockeye::prelude::*;

#[get("/items/<id>")]
async fn read_item() -> &'static str {
    "no id"
}

fn main() {}
