#!/usr/bin/env bash
# A/B of a change on one case: the bench server at an older commit ("before", built in a
# temporary worktree with its own target directory), at the working tree ("after") and the
# plain baseline, side by side and alternating, servers pinned to core 0, the load generator
# to core 1. Prints the per-round p99 and the median ratios.
#
#   bash bench/ab.sh <commit> [ROUNDS] [loadgen case...]
#   bash bench/ab.sh c1a2d60 5 fanout --receivers 10000 --rate 10 --secs 10
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE="$1"; ROUNDS="${2:-5}"; shift $(( $# >= 2 ? 2 : 1 ))
CASE=("$@"); [ ${#CASE[@]} -gt 0 ] || CASE=(fanout --receivers 10000 --rate 10 --secs 10)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sockeye-target}"
NEW="$CARGO_TARGET_DIR/release"
OLD_TARGET="$HOME/.cache/sockeye-target-before"
OUT="${BENCH_OUT:-/tmp/sockeye-ab-$(date +%s).jsonl}"
cargo build -q --release --example bench_server -p sockeye
cargo build -q --release -p sockeye-bench
WT="$(mktemp -d)/before"
git worktree add -q "$WT" "$BEFORE"
(cd "$WT" && CARGO_TARGET_DIR="$OLD_TARGET" cargo build -q --release --example bench_server -p sockeye)
: > "$OUT"
declare -A PIDS PORTS
start() { local name=$1 port=$2; shift 2; PORT=$port RUST_LOG=warn taskset -c 0 "$@" > "/tmp/ab-$name.log" 2>&1 & PIDS[$name]=$!; PORTS[$name]=$port; }
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; git worktree remove --force "$WT" || true; }
trap cleanup EXIT
start after 8411 "$NEW/examples/bench_server"
start before 8412 "$OLD_TARGET/release/examples/bench_server"
start plain 8413 "$NEW/plain_server"
sleep 2
for run in $(seq 1 "$ROUNDS"); do
    for s in after before plain; do
        timeout 120 taskset -c 1 "$NEW/loadgen" "${CASE[@]}" --url "ws://127.0.0.1:${PORTS[$s]}" \
            --server-pid "${PIDS[$s]}" --label "$s" >> "$OUT" || echo "run failed: $s" >&2
    done
    echo "round $run of $ROUNDS done" >&2
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["server"], []).append(r)
print("p99 ms:", {s: [round(r["p99_us"] / 1000) for r in v] for s, v in by.items()})
for a, b in [("after", "before"), ("after", "plain"), ("before", "plain")]:
    p99 = statistics.median(x["p99_us"] / y["p99_us"] for x, y in zip(by[a], by[b]))
    cpu = statistics.median(x["per_server_cpu_s"] / y["per_server_cpu_s"] for x, y in zip(by[a], by[b]))
    print(f"{a} / {b}: p99 {p99:.2f}x, per server CPU-s {cpu:.2f}x")
PY
echo "raw results: $OUT" >&2
