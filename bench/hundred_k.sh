#!/usr/bin/env bash
# 100,000 idle WebSockets on one machine (issue 23): six processes of the benchmark server
# joined by a Redis broker (a process may hold 20,000 open files here), the connections held
# by `many`'s client processes, all in one room; then broadcasts from one more connection that
# every one of the 100,000 must receive, in order. Prints many's JSON line (server memory per
# connection summed over the six processes, deliveries) and the total server RSS.
#
#   bash bench/hundred_k.sh [CONNS] [PROCESSES]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${1:-100000}"
PROCS="${2:-6}"
NAME=hundredk
# shellcheck source=bench/common.sh
source bench/common.sh
urls=(); pids=()
for i in $(seq 1 "$PROCS"); do
    port=$((8520 + i))
    serve "$port" "$REDIS"
    urls+=("ws://127.0.0.1:$port"); pids+=("$LAST")
done
sleep 3
url_list=$(IFS=,; echo "${urls[*]}")
pid_list=$(IFS=,; echo "${pids[*]}")
rss_before=0; for p in "${pids[@]}"; do rss_before=$((rss_before + $(awk '/VmRSS/{print $2}' "/proc/$p/status"))); done
timeout 900 "$T/many" --url "$url_list" --conns "$CONNS" --server-pid "$pid_list" --messages 3 --timeout 300 \
    --label "sockeye x$PROCS on redis" | tee -a "$OUT"
rss_after=0; for p in "${pids[@]}"; do rss_after=$((rss_after + $(awk '/VmRSS/{print $2}' "/proc/$p/status"))); done
echo "total server RSS: before $((rss_before / 1024)) MiB, with the connections $((rss_after / 1024)) MiB (${PROCS} processes)"
