use sockeye::prelude::*;

#[secured(groups = ["admin"])]
#[get("/admin")]
async fn admin() -> &'static str {
    "x"
}

#[get("/roles")]
#[secured(roles = [admin])]
async fn roles() -> &'static str {
    "x"
}

fn main() {}
