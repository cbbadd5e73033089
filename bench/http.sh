#!/usr/bin/env bash
# HTTP side by side: sockeye's examples/bench_server against the same routes on axum, poem and
# actix-web (bench/peers/, written as their users would), each server pinned to core 0 and
# driven by wrk on core 1, cases and servers alternating. Per run and server: requests/s,
# requests per server CPU-second (CPU time from /proc over the run), the server's user-space
# CPU time per request (what a framework's own code costs; the kernel's share is most of the
# total and varies from run to run) and wrk's p50/p99.
# Prints the medians and ratios against sockeye (bench/http_report.py).
#
#   bash bench/http.sh [RUNS] [SECONDS]      # needs wrk (apt-get install wrk)
#   EXTRA_SERVERS="before=/tmp/bench_server.old" bash bench/http.sh 5 3   # and another build
#   BENCH_FASTAPI=1 bash bench/http.sh 5 3   # and FastAPI on uvicorn (bench/fastapi_server.py)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-5}"
SECS="${2:-5}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sockeye-target}"
PEERS_TARGET="${PEERS_TARGET:-$HOME/.cache/sockeye-peers-target}"
cargo build -q --release --example bench_server -p sockeye
(cd bench/peers && CARGO_TARGET_DIR="$PEERS_TARGET" cargo build -q --release)
OUT="${BENCH_OUT:-/tmp/sockeye-http-$(date +%s).jsonl}"
: > "$OUT"
LUA_DIR=$(mktemp -d)
cat > "$LUA_DIR/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"name":"Ada","age":36}'
wrk.headers["Content-Type"] = "application/json"
LUA
cat > "$LUA_DIR/bad.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"name":"Ada","age":"old"}'
wrk.headers["Content-Type"] = "application/json"
LUA

declare -A BIN=(
    [sockeye]="$CARGO_TARGET_DIR/release/examples/bench_server"
    [axum]="$PEERS_TARGET/release/axum_server"
    [poem]="$PEERS_TARGET/release/poem_server"
    [actix]="$PEERS_TARGET/release/actix_server"
)
SERVERS="${SERVERS:-sockeye axum poem actix}"
if [ "${BENCH_FASTAPI:-0}" = 1 ]; then
    # One uvicorn worker: one process on the one server core, as the Rust servers get.
    VENV="$CARGO_TARGET_DIR/bench-pyenv"
    [ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q fastapi uvicorn websockets; }
    BIN[fastapi]="$VENV/bin/python bench/fastapi_server.py"
    SERVERS="$SERVERS fastapi"
fi
# More servers to run beside them, as NAME=BINARY (an earlier build of sockeye, say).
for extra in ${EXTRA_SERVERS:-}; do
    BIN[${extra%%=*}]="${extra#*=}"
    SERVERS="$SERVERS ${extra%%=*}"
done
# case name, path, wrk script (or -)
CASES=(
    "plaintext /plaintext -"
    "get_json /users/7?verbose=true -"
    "post_json /users $LUA_DIR/post.lua"
    "post_422 /users $LUA_DIR/bad.lua"
    "get_404 /nope -"
)
PORT=8461
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$LUA_DIR"; }
trap cleanup EXIT
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; } # user and system clock ticks

for run in $(seq 1 "$RUNS"); do
    for s in $SERVERS; do
        # shellcheck disable=SC2086 # fastapi's entry is an interpreter and a script
        PORT=$PORT RUST_LOG=warn taskset -c 0 ${BIN[$s]} > "/tmp/http-$s.log" 2>&1 &
        PID=$!
        for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
        # Warm-up: connections, allocator, caches.
        taskset -c 1 wrk -t1 -c64 -d1s "http://127.0.0.1:$PORT/plaintext" > /dev/null
        for case in "${CASES[@]}"; do
            read -r name path script <<< "$case"
            args=(-t1 -c64 "-d${SECS}s" --latency)
            [ "$script" != - ] && args+=(-s "$script")
            read -r user_before sys_before < <(cpu "$PID")
            report=$(taskset -c 1 wrk "${args[@]}" "http://127.0.0.1:$PORT$path")
            read -r user_after sys_after < <(cpu "$PID")
            python3 bench/http_report.py line "$s" "$name" "$run" "$user_before" "$sys_before" "$user_after" "$sys_after" \
                <<< "$report" >> "$OUT"
        done
        kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
    done
    echo "run $run of $RUNS done" >&2
done
python3 bench/http_report.py table "$OUT"
echo "raw results: $OUT" >&2
