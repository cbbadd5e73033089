"""bench/http.sh's helper: `line` turns one wrk report (stdin) into a JSON line; `table` prints
the medians per case and server, and each server's ratio to sockeye's."""
import json, re, statistics, sys

def seconds(value, unit):
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]

def line(server, case, run, user_before, sys_before, user_after, sys_after):
    text = sys.stdin.read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    total = int(re.search(r"(\d+) requests in", text).group(1))
    lat = {p: seconds(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    user = (int(user_after) - int(user_before)) / 100.0  # clock ticks
    cpu = user + (int(sys_after) - int(sys_before)) / 100.0
    print(json.dumps({
        "server": server, "case": case, "run": int(run), "rps": rps, "requests": total,
        "cpu_s": cpu, "per_cpu_s": total / cpu if cpu > 0 else None,
        "user_us": user / total * 1e6 if total else None,
        "p50_ms": lat.get("50", 0) * 1e3, "p99_ms": lat.get("99", 0) * 1e3,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }))

def table(path):
    rows = [json.loads(l) for l in open(path)]
    cases = list(dict.fromkeys(r["case"] for r in rows))
    servers = list(dict.fromkeys(r["server"] for r in rows))
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    print("| case | server | requests/s | per server CPU-s | user µs per request | p50 ms | p99 ms | per CPU-s vs sockeye (median of per-run ratios) | user µs vs sockeye |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        base = {r["run"]: r for r in rows if r["case"] == c and r["server"] == "sockeye"}
        for s in servers:
            rs = [r for r in rows if r["case"] == c and r["server"] == s]
            ratios = [r["per_cpu_s"] / base[r["run"]]["per_cpu_s"] for r in rs if r["run"] in base and r["per_cpu_s"] and base[r["run"]]["per_cpu_s"]]
            users = [r["user_us"] / base[r["run"]]["user_us"] for r in rs if r["run"] in base and r.get("user_us") and base[r["run"]].get("user_us")]
            print(f"| {c} | {s} | {med([r['rps'] for r in rs]):,.0f} | {med([r['per_cpu_s'] for r in rs if r['per_cpu_s']]):,.0f} | "
                  f"{med([r['user_us'] for r in rs if r.get('user_us')]):.2f} | "
                  f"{med([r['p50_ms'] for r in rs]):.2f} | {med([r['p99_ms'] for r in rs]):.2f} | {med(ratios):.2f}x | {med(users):.2f}x |")

if __name__ == "__main__":
    if sys.argv[1] == "line":
        line(*sys.argv[2:9])
    else:
        table(sys.argv[2])
