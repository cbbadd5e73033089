use sockeye::prelude::*;

struct Note;

#[post("/notes")]
async fn create(#[body] note: Note) -> String {
    let _ = note;
    String::new()
}

fn main() {}
