#!/usr/bin/env bash
# The load figures of RELIABILITY.md, against examples/bench_server.rs (release builds):
#
#  many:  20,000 concurrent WebSocket connections, one broadcast of 10 messages to all of them:
#         19,900 on one process (the machine's hard limit of 20,000 file descriptors per
#         process cannot be raised here), and 20,000 on two processes sharing Redis.
#  flood: echo latency of 64 well-behaved clients (64-byte round trips) alone, with 8 clients
#         flooding a route with the default rate limit (closed with 4429, they reconnect and
#         flood again), and with 8 flooding a route without a limit. Runs alternate.
#
# Servers pinned to core 0, the load generator to core 1. Every load is bounded.
#
#   bash bench/reliability.sh [RUNS] [all|flood]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
NAME=reliability
# shellcheck source=bench/common.sh
source bench/common.sh

MODE="${2:-all}" # all | flood
for run in $(seq 1 "$RUNS"); do
    if [ "$MODE" = all ]; then
        # Fresh servers for every many-run: the memory figure is the growth from an idle process.
        serve 8421; single=$LAST
        serve 8422 "$REDIS"; r1=$LAST; serve 8423 "$REDIS"; r2=$LAST
        sleep 2
        timeout 300 taskset -c 1 "$T/many" --url ws://127.0.0.1:8421 --conns 19900 --server-pid "$single" \
            --label "1 process" >> "$OUT" || echo "run failed: many single" >&2
        timeout 300 taskset -c 1 "$T/many" --url ws://127.0.0.1:8422,ws://127.0.0.1:8423 --conns 20000 \
            --server-pid "$r1,$r2" --label "2 processes, Redis" >> "$OUT" || echo "run failed: many redis" >&2
        kill "$single" "$r1" "$r2"
        wait "$single" "$r1" "$r2" 2>/dev/null || true
        PIDS=()
    fi

    serve 8424; echo_pid=$LAST
    sleep 1
    for flood in none limited unlimited; do
        case $flood in
            none) extra=() ;;
            limited) extra=(--flood 8 --flood-path /ws/limited) ;;
            unlimited) extra=(--flood 8 --flood-path /ws/echo) ;;
        esac
        timeout 120 taskset -c 1 "$T/loadgen" echo --url ws://127.0.0.1:8424 --conns 64 --secs 10 \
            --server-pid "$echo_pid" --label "flood: $flood" "${extra[@]}" >> "$OUT" || echo "run failed: $flood" >&2
    done
    kill "$echo_pid"
    wait "$echo_pid" 2>/dev/null || true
    PIDS=()
    echo "run $run of $RUNS done" >&2
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
med = lambda sel, key: statistics.median([r[key] or 0 for r in sel])
print("| many | connections | connect all (s) | server memory / connection | deliveries | connections with every message | out of order |")
print("|---|---|---|---|---|---|---|")
for label in ("1 process", "2 processes, Redis"):
    sel = [r for r in rows if r["case"] == "many" and r["server"] == label]
    if sel:
        print(f"| {label} | {sel[0]['conns']:,} | {med(sel, 'connect_secs'):.1f} | {med(sel, 'bytes_per_conn') / 1024:.1f} KiB | "
              f"{min(r['deliveries'] for r in sel):,} of {sel[0]['expected_deliveries']:,} | "
              f"{min(r['conns_complete'] for r in sel):,} | {sum(r['out_of_order'] for r in sel)} |")
print()
print("| echo, 64 clients | round trips/s | ratio | p50 µs | p99 µs | ratio | flood messages sent | flood connections | closed 4429 | handshakes refused (429) |")
print("|---|---|---|---|---|---|---|---|---|---|")
base = [r for r in rows if r["case"] == "echo" and r["server"] == "flood: none"]
for label in ("flood: none", "flood: limited", "flood: unlimited"):
    sel = [r for r in rows if r["case"] == "echo" and r["server"] == label]
    if sel and base:
        print(f"| {label} | {med(sel, 'per_sec'):,.0f} | {med(sel, 'per_sec') / med(base, 'per_sec'):.2f}x | "
              f"{med(sel, 'p50_us'):,.0f} | {med(sel, 'p99_us'):,.0f} | {med(sel, 'p99_us') / med(base, 'p99_us'):.2f}x | "
              f"{med(sel, 'flood_sent'):,.0f} | {med(sel, 'flood_connections'):,.0f} | {med(sel, 'flood_closed_4429'):,.0f} | "
              f"{statistics.median([r.get('flood_refused', 0) for r in sel]):,.0f} |")
PY
echo "raw results: $OUT" >&2
