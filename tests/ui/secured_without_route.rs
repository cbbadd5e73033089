use sockeye::prelude::*;

#[secured]
async fn not_a_route() -> &'static str {
    "x"
}

fn main() {}
