use sockeye::prelude::*;

struct Filter {
    _q: String,
}

#[get("/items")]
async fn read_item(filter: Filter) -> String {
    let _ = filter;
    String::new()
}

fn main() {}
