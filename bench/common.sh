# Sourced by the bench scripts: release builds of the benchmark server and the load tools,
# the results file, and `serve PORT [BROKER_URL]` (bench_server pinned to core 0, its pid in
# $LAST, every server started this way killed on exit). Set NAME before sourcing.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sockeye-target}"
T="$CARGO_TARGET_DIR/release"
cargo build -q --release --example bench_server -p sockeye
cargo build -q --release -p sockeye-bench
OUT="${BENCH_OUT:-/tmp/sockeye-$NAME-$(date +%s).jsonl}"
: > "$OUT"
REDIS="${SOCKEYE_BENCH_REDIS:-redis://127.0.0.1:6379}"
PG="${SOCKEYE_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
serve() { # port [broker-url]; its pid in $LAST
    if [ -n "${2:-}" ]; then
        SOCKEYE_BROKER_URL="$2" SOCKEYE_BROKER_CHANNEL="${NAME}_$$" PORT=$1 RUST_LOG=warn \
            taskset -c 0 "$T/examples/bench_server" > "/tmp/bench-$NAME-$1.log" 2>&1 &
    else
        PORT=$1 RUST_LOG=warn taskset -c 0 "$T/examples/bench_server" > "/tmp/bench-$NAME-$1.log" 2>&1 &
    fi
    LAST=$!
    PIDS+=("$LAST")
}
