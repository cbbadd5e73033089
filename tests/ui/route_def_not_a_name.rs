use sockeye::prelude::*;

// `def` names the static to define: a string is refused, with what to write instead.
#[get("/hello", def = "HELLO")]
async fn hello() -> &'static str {
    "hello"
}

fn main() {}
