"""Scrapes http://<addr>/metrics and parses it with prometheus_client's own text parser;
prints every sample as JSON: [{"name": .., "labels": {..}, "value": ..}, ..] plus each
family's declared type as {"types": {family: type}}."""
import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

addr = sys.argv[1].removeprefix("ws://")
with urllib.request.urlopen(f"http://{addr}/metrics", timeout=10) as resp:
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4"), resp.headers["content-type"]
    text = resp.read().decode()

samples, types = [], {}
for family in text_string_to_metric_families(text):
    types[family.name] = family.type
    for s in family.samples:
        samples.append({"name": s.name, "labels": s.labels, "value": s.value})
print(json.dumps({"samples": samples, "types": types}))
