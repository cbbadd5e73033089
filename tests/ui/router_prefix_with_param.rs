mod api {
    sockeye::router!(prefix = "/users/<id>");
}

fn main() {}
