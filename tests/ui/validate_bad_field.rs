use sockeye::prelude::*;

#[derive(Deserialize, Validate)]
struct NewItem {
    #[validate(min_len = 1)]
    name: String,
}

fn main() {}
