#!/usr/bin/env bash
# Build figures of a hello-world crate (BENCHMARKS.md, "Build"): crates compiled and cold
# `cargo build` time for sockeye with default features, sockeye with `full`, axum and poem,
# built side by side in alternating rounds, then the incremental rebuild after editing one
# handler. Usage: bench/build/figures.sh [ROUNDS] (default 3). Needs crates.io for axum/poem.
set -euo pipefail
rounds="${1:-3}"
checkout="$(cd "$(dirname "$0")/../.." && pwd)"
work="${SOCKEYE_BUILD_FIGURES_DIR:-$(mktemp -d /tmp/sockeye-build-figures.XXXXXX)}"
mkdir -p "$work"

make_crate() { # name, dependency lines, main.rs body
    local dir="$work/$1"
    mkdir -p "$dir/src"
    printf '[package]\nname = "%s"\nversion = "0.1.0"\nedition = "2024"\n\n[dependencies]\n%s\n[workspace]\n' "$1" "$2" > "$dir/Cargo.toml"
    printf '%s\n' "$3" > "$dir/src/main.rs"
}

tokio='tokio = { version = "1", features = ["macros", "rt-multi-thread"] }'
sockeye_main='use sockeye::prelude::*;

#[get("/")]
async fn hello() -> &'"'"'static str { "hello" }

#[tokio::main]
async fn main() -> sockeye::Result<()> { App::new().serve().await }'
make_crate hello-sockeye "sockeye = { path = \"$checkout\" }
$tokio" "$sockeye_main"
make_crate hello-sockeye-full "sockeye = { path = \"$checkout\", features = [\"full\"] }
$tokio" "$sockeye_main"
make_crate hello-axum "axum = \"0.8\"
$tokio" 'use axum::{Router, routing::get};

async fn hello() -> &'"'"'static str { "hello" }

#[tokio::main]
async fn main() {
    let app = Router::new().route("/", get(hello));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}'
make_crate hello-poem "poem = \"3\"
$tokio" 'use poem::{Route, Server, get, handler, listener::TcpListener};

#[handler]
fn hello() -> &'"'"'static str { "hello" }

#[tokio::main]
async fn main() -> Result<(), std::io::Error> {
    Server::new(TcpListener::bind("127.0.0.1:8000")).run(Route::new().at("/", get(hello))).await
}'
for c in hello-sockeye hello-sockeye-full; do cp "$checkout/Cargo.lock" "$work/$c/Cargo.lock"; done

crates=(hello-sockeye hello-sockeye-full hello-axum hello-poem)
echo "machine: $(nproc) cores, $(rustc --version)"
for c in "${crates[@]}"; do
    (cd "$work/$c" && cargo generate-lockfile -q 2>/dev/null || true; cargo fetch -q)
    n=$(cd "$work/$c" && cargo tree -e normal --prefix none | awk '{print $1" "$2}' | sort -u | wc -l)
    echo "crates $c $n"
done
# Builds crate $2 and prints "$1 <crate> round $3 <seconds> s".
timed_build() {
    local start end
    start=$(date +%s.%N)
    (cd "$work/$2" && CARGO_TARGET_DIR="$work/target-$2" cargo build -q --offline)
    end=$(date +%s.%N)
    echo "$1 $2 round $3 $(echo "$end - $start" | bc) s"
}
for round in $(seq 1 "$rounds"); do
    for c in "${crates[@]}"; do
        rm -rf "$work/target-$c"
        timed_build cold "$c" "$round"
    done
done
# Incremental: change the handler's answer, rebuild (the dependencies are built).
for round in $(seq 1 "$rounds"); do
    for c in "${crates[@]}"; do
        sed -i "s/\"hello[0-9]*\"/\"hello$round\"/" "$work/$c/src/main.rs"
        timed_build incremental "$c" "$round"
    done
done
echo "work dir: $work"
