#!/usr/bin/env bash
# Cross-process fanout (issue 8): 10,000 receivers on one sockeye process, against the same
# 10,000 spread over two processes of the same app on a broker (Redis pub/sub, PostgreSQL
# LISTEN/NOTIFY). The sender talks to the first process; the second gets each broadcast once
# through the broker. Servers pinned to core 0, the load generator to core 1; the broker
# servers run where the OS puts them. Runs alternate between setups; every load is bounded.
#
#   bash bench/cross.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-3}"
NAME=cross
# shellcheck source=bench/common.sh
source bench/common.sh
serve 8411; single=$LAST
serve 8412 "$REDIS"; r1=$LAST; serve 8413 "$REDIS"; r2=$LAST
serve 8414 "$PG"; p1=$LAST; serve 8415 "$PG"; p2=$LAST
sleep 3

CASES=("fanout --receivers 10000 --secs 5" "fanout --receivers 10000 --rate 10 --secs 10")
for run in $(seq 1 "$RUNS"); do
    for case in "${CASES[@]}"; do
        for setup in single redis postgres; do
            case $setup in
                single) urls="ws://127.0.0.1:8411"; pids="$single" ;;
                redis) urls="ws://127.0.0.1:8412,ws://127.0.0.1:8413"; pids="$r1,$r2" ;;
                postgres) urls="ws://127.0.0.1:8414,ws://127.0.0.1:8415"; pids="$p1,$p2" ;;
            esac
            # shellcheck disable=SC2086
            timeout 180 taskset -c 1 "$T/loadgen" $case --url "$urls" --server-pid "$pids" --label "$setup" \
                >> "$OUT" || echo "run failed: $setup $case" >&2
        done
    done
    echo "run $run of $RUNS done" >&2
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| case | setup | deliveries/s | ratio | p99 µs | ratio | deliveries / server CPU-s | lost | reordered |")
print("|---|---|---|---|---|---|---|---|---|")
for rate in sorted({r["rate"] for r in rows}):
    case = f"fanout 10,000 {'full speed' if rate == 0 else f'@ {rate}/s'}"
    med = lambda setup, key: statistics.median([r[key] or 0 for r in rows if r["rate"] == rate and r["server"] == setup])
    base_rate, base_p99 = med("single", "per_sec"), med("single", "p99_us")
    for setup in ("single", "redis", "postgres"):
        sel = [r for r in rows if r["rate"] == rate and r["server"] == setup]
        if not sel:
            continue
        ps, p99 = med(setup, "per_sec"), med(setup, "p99_us")
        print(f"| {case} | {setup} ({sel[0]['servers']} proc) | {ps:,.0f} | {ps / base_rate:.2f}x | {p99:,.0f} | "
              f"{p99 / base_p99:.2f}x | {med(setup, 'per_server_cpu_s'):,.0f} | {sum(r['lost'] for r in sel)} | "
              f"{sum(r['out_of_order'] for r in sel)} |")
PY
echo "raw results: $OUT" >&2
