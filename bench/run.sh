#!/usr/bin/env bash
# Runs the benchmark cases of BENCHMARKS.md against sockeye (examples/bench_server.rs), the plain
# tokio-tungstenite baseline and, with BENCH_FASTAPI=1, FastAPI on uvicorn, side by side:
# servers pinned to core 0, the load generator to core 1, runs alternating between servers.
# Prints a markdown table of medians and ratios (bench/report.py). Every load is bounded.
#
#   bash bench/run.sh [RUNS] [quick|targets|full]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
MODE="${2:-full}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sockeye-target}"
T="$CARGO_TARGET_DIR/release"
cargo build -q --release --example bench_server -p sockeye
cargo build -q --release -p sockeye-bench
OUT="${BENCH_OUT:-/tmp/sockeye-bench-$(date +%s).jsonl}"
: > "$OUT"

declare -A PIDS PORTS
start() { # name port command...
    local name=$1 port=$2; shift 2
    PORT=$port RUST_LOG=warn taskset -c 0 "$@" > "/tmp/bench-$name.log" 2>&1 &
    PIDS[$name]=$!
    PORTS[$name]=$port
}
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

VENV="$CARGO_TARGET_DIR/bench-pyenv"
launch() { # (re)starts one server
    [ -n "${PIDS[$1]:-}" ] && { kill "${PIDS[$1]}" 2>/dev/null || true; wait "${PIDS[$1]}" 2>/dev/null || true; }
    case $1 in
        sockeye) start sockeye 8401 "$T/examples/bench_server" ;;
        plain) start plain 8402 "$T/plain_server" ;;
        fastapi) start fastapi 8403 "$VENV/bin/python" bench/fastapi_server.py ;;
    esac
}
SERVERS="sockeye plain"
if [ "${BENCH_FASTAPI:-0}" = 1 ]; then
    [ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV"; "$VENV/bin/pip" install -q fastapi uvicorn websockets; }
    SERVERS="$SERVERS fastapi"
fi
for s in $SERVERS; do launch "$s"; done
sleep 2

if [ "$MODE" = quick ]; then
    CASES=("echo --conns 64 --secs 3" "fanout --receivers 1000 --secs 3")
elif [ "$MODE" = targets ]; then  # the cases issue 4 sets targets on (idle memory aside)
    CASES=(
        "echo --conns 64 --secs 5" "fanout --receivers 1000 --secs 5"
        "fanout --receivers 10000 --rate 10 --secs 10"
    )
else
    CASES=(
        "echo --conns 1 --secs 5" "echo --conns 64 --secs 5" "echo --conns 512 --secs 5"
        "fanout --receivers 1000 --secs 5"
        "fanout --receivers 10000 --rate 10 --secs 10"
        "idle --conns 10000 --hold 5"
    )
fi
for run in $(seq 1 "$RUNS"); do
    for case in "${CASES[@]}"; do
        for s in $SERVERS; do
            # Memory per idle connection is measured on a fresh process: earlier cases leave
            # allocator-retained memory behind that would hide the growth.
            case $case in idle*) launch "$s"; sleep 2 ;; esac
            # shellcheck disable=SC2086
            timeout 120 taskset -c 1 "$T/loadgen" $case --url "ws://127.0.0.1:${PORTS[$s]}" \
                --server-pid "${PIDS[$s]}" --label "$s" >> "$OUT" || echo "run failed: $s $case" >&2
        done
    done
    echo "run $run of $RUNS done" >&2
done
python3 bench/report.py "$OUT"
echo "raw results: $OUT" >&2
