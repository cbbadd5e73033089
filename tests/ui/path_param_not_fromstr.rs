use sockeye::prelude::*;

struct Opaque;

#[get("/items/<id>")]
async fn read_item(id: Opaque) -> &'static str {
    let _ = id;
    "x"
}

fn main() {}
