"""Medians of the loadgen JSON lines, per case and server, with ratios to the plain server."""

import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
groups = defaultdict(list)
for r in rows:
    key = (r["case"], r.get("conns") or r.get("receivers"), r.get("rate", 0))
    groups[(key, r["server"])].append(r)

METRICS = {
    "echo": [("per_sec", "round trips/s"), ("per_server_cpu_s", "per server CPU-s"), ("p50_us", "p50 µs"), ("p99_us", "p99 µs")],
    "fanout": [("per_sec", "deliveries/s"), ("per_server_cpu_s", "per server CPU-s"), ("p50_us", "p50 µs"), ("p99_us", "p99 µs"), ("lost", "lost"), ("out_of_order", "out of order")],
    "idle": [("bytes_per_conn", "bytes/connection"), ("connect_secs", "connect all (s)"), ("alive", "alive")],
}
servers = sorted({s for (_, s) in groups}, key=lambda s: ["sockeye", "plain", "fastapi"].index(s) if s in ["sockeye", "plain", "fastapi"] else 9)
keys = sorted({k for (k, _) in groups})
print("| case | metric | " + " | ".join(servers) + " | sockeye / plain |")
print("|---|---|" + "---|" * (len(servers) + 1))
for key in keys:
    case, n, rate = key
    label = f"{case} {n}" + (f" @ {rate}/s" if rate else "")
    for metric, name in METRICS[case]:
        med = {}
        for s in servers:
            vals = [r[metric] for r in groups.get((key, s), []) if r.get(metric) is not None]
            if vals:
                med[s] = statistics.median(vals)
        cells = [f"{med[s]:,.0f}" if s in med else "-" for s in servers]
        ratio = f"{med['sockeye'] / med['plain']:.2f}x" if med.get("plain") else "-"
        print(f"| {label} | {name} | " + " | ".join(cells) + f" | {ratio} |")
