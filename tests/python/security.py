"""Hostile clients for tests/security_real_server.rs: each subcommand plays an attacker (and
the victim it targets) against a real server over loopback, with the `websockets` library
and the standard library's HTTP client, and exits non-zero when the attack works.

    python security.py ws://127.0.0.1:<port> <command> [args..]
"""

import asyncio
import http.client
import json
import os
import socket
import sys
import urllib.parse

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

QUIET = 0.7  # seconds a socket must stay silent to count as "received nothing"


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def request(base, method, path, body=None, headers=None, source="127.0.0.1"):
    """One HTTP request from `source`; (status, parsed JSON body or None)."""
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10, source_address=(source, 0))
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body)
        headers["content-type"] = "application/json"
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    raw = resp.read()
    conn.close()
    try:
        return resp.status, json.loads(raw) if raw else None
    except ValueError:
        return resp.status, raw.decode(errors="replace")


async def ws(base, path, source="127.0.0.1", headers=None, rcvbuf=None):
    """A WebSocket from `source` (another loopback address is another client address)."""
    url = urllib.parse.urlparse(base)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.connect((url.hostname, url.port))
    return await connect(base + path, sock=sock, additional_headers=headers or {}, max_size=None)


async def hello(socket_):
    return json.loads(await asyncio.wait_for(socket_.recv(), 5))


async def next_json(socket_, timeout=5):
    text = await asyncio.wait_for(socket_.recv(), timeout)
    try:
        return json.loads(text)
    except ValueError:
        check(False, f"expected JSON, got {text!r}")


async def silent(socket_, what):
    try:
        got = await asyncio.wait_for(socket_.recv(), QUIET)
    except asyncio.TimeoutError:
        return
    check(False, f"{what} received {got!r}")


async def synced(socket_):
    """Round-trips a ping through the protocol: what was sent before it has been handled."""
    await socket_.send(json.dumps({"type": "ping"}))
    reply = await next_json(socket_)
    check(reply.get("type") == "pong", f"expected a pong, got {reply}")


async def namespaces(base):
    """A pub/sub client and a typed-room client name the model's table: neither reads the
    model's events nor reaches its subscribers."""
    watcher = await ws(base, "/ws/products")
    await hello(watcher)
    chat = await ws(base, "/ws/chat")
    await hello(chat)
    for topic in ["products", "m\x1fproducts", "live:products", "\x1fm\x1fproducts"]:
        await chat.send(json.dumps({"action": "subscribe", "topic": topic}))
    await synced(chat)
    room = await ws(base, "/ws/rooms/products")

    status, row = request(base, "POST", "/products", {"name": "private row", "price": 7})
    check(status == 201, f"POST /products answered {status}")
    event = await next_json(watcher)
    check(event["type"] == "created" and event["data"]["name"] == "private row", f"watcher got {event}")
    await silent(chat, "a pub/sub subscriber of `products`")
    await silent(room, "a member of the typed room `products`")

    # Forgeries: a fake delete through pub/sub, a message into the room.
    forged = {"type": "deleted", "event": "deleted", "data": {"id": row["id"]}}
    await chat.send(json.dumps({"action": "publish", "topic": "products", "data": forged}))
    await room.send(json.dumps({"type": "say", "text": "forged"}))
    said = await next_json(room)
    check(said == {"type": "said", "from": said.get("from"), "text": "forged"}, f"the room echoed {said}")
    await silent(watcher, "the model channel's subscriber")
    print("namespaces ok", flush=True)


async def rows(base, ann, bob):
    """An owner-only row rule and a write-only field, on every way to the data."""
    auth = lambda token: {"authorization": f"Bearer {token}"}
    status, body = request(base, "GET", "/notes")
    check(status == 401, f"GET /notes without a token answered {status}")
    status, first = request(base, "POST", "/notes", {"owner": "ann", "text": "ann's", "secret": "s3cr3t"}, auth(ann))
    check(status == 201 and "secret" not in first, f"POST answered {status} {first}")
    bob_ws = await ws(base, "/ws/notes", headers=auth(bob))
    await hello(bob_ws)
    await bob_ws.send(json.dumps({"action": "snapshot"}))
    snap = await next_json(bob_ws)
    check(snap["type"] == "snapshot" and snap["data"] == [], f"bob's snapshot: {snap}")
    ann_ws = await ws(base, "/ws/notes", headers=auth(ann))
    await hello(ann_ws)
    await ann_ws.send(json.dumps({"action": "snapshot"}))
    snap = await next_json(ann_ws)
    check([r["text"] for r in snap["data"]] == ["ann's"], f"ann's snapshot: {snap}")
    check(all("secret" not in r for r in snap["data"]), f"the secret in a snapshot: {snap}")

    status, second = request(base, "POST", "/notes", {"owner": "ann", "text": "again", "secret": "hidden"}, auth(ann))
    check(status == 201, f"POST answered {status}")
    event = await next_json(ann_ws)
    check(event["type"] == "created" and event["data"]["text"] == "again", f"ann got {event}")
    check("secret" not in event["data"], f"the secret in an event: {event}")
    await silent(bob_ws, "bob (the row is ann's)")

    status, mine = request(base, "GET", "/notes", headers=auth(ann))
    check(status == 200 and len(mine) == 2 and all("secret" not in r for r in mine), f"ann's list: {mine}")
    # Filtering on the hidden field would tell its value one guess at a time.
    status, _ = request(base, "GET", "/notes?secret=s3cr3t", headers=auth(ann))
    check(status == 422, f"a filter on the hidden field answered {status}")
    await ann_ws.send(json.dumps({"action": "snapshot", "filter": {"secret": "s3cr3t"}}))
    refused = await next_json(ann_ws)
    check(refused["type"] == "error" and "no column `secret`" in refused["message"], f"got {refused}")
    status, theirs = request(base, "GET", "/notes", headers=auth(bob))
    check(status == 200 and theirs == [], f"bob's list: {theirs}")
    status, _ = request(base, "GET", f"/notes/{first['id']}", headers=auth(bob))
    check(status == 404, f"bob reading ann's note: {status}")
    status, _ = request(base, "DELETE", f"/notes/{first['id']}", headers=auth(bob))
    check(status == 404, f"bob deleting ann's note: {status}")

    # Given to bob: ann sees it leave (the key only), bob sees it arrive.
    status, _ = request(base, "PATCH", f"/notes/{second['id']}", {"owner": "bob"}, auth(ann))
    check(status == 200, f"PATCH answered {status}")
    gone = await next_json(ann_ws)
    check(gone["type"] == "deleted" and gone["data"] == {"id": second["id"]}, f"ann got {gone}")
    arrived = await next_json(bob_ws)
    check(arrived["data"]["text"] == "again" and "secret" not in arrived["data"], f"bob got {arrived}")
    print("rows ok", flush=True)


async def labels(base):
    """Another client (another address) names the victim's connection: it can neither take
    its id nor keep events from it; the victim can keep them from its own connection."""
    victim = await ws(base, "/ws/items?client_id=victim")
    greeting = await hello(victim)
    check(greeting["client_id"] == "victim", f"the victim's greeting: {greeting}")
    thief = await ws(base, "/ws/items?client_id=victim", source="127.0.0.2")
    await hello(thief)

    status, _ = request(base, "POST", "/items", {"name": "a"}, {"x-client-id": "victim"}, source="127.0.0.2")
    check(status == 201, f"POST answered {status}")
    event = await next_json(victim)
    check(event["type"] == "created" and event["data"]["name"] == "a", f"the victim got {event}")
    await silent(thief, "the other client's own connection named `victim`, which it excluded")

    status, _ = request(base, "POST", "/items", {"name": "b"}, {"x-client-id": "victim"})
    check(status == 201, f"POST answered {status}")
    event = await next_json(thief)
    check(event["data"]["name"] == "b", f"the other client's connection named `victim` got {event}")
    await silent(victim, "the victim, which excluded its own connection")
    print("labels ok", flush=True)


async def proxy(trusting, ignoring):
    """Per-IP caps by the forwarded client behind a trusted proxy; forwarding headers from
    anyone else are ignored."""

    async def refused(base, client):
        try:
            await ws(base, "/ws/items", headers={"x-forwarded-for": client})
        except InvalidStatus as e:
            return e.response.status_code
        return None

    flood = [await ws(trusting, "/ws/items", headers={"x-forwarded-for": "203.0.113.7"}) for _ in range(2)]
    check(await refused(trusting, "203.0.113.7") == 429, "the flooding client's third connection was let in")
    other = await ws(trusting, "/ws/items", headers={"x-forwarded-for": "203.0.113.8"})
    greeting = await hello(other)
    check(greeting["type"] == "connection", f"another client behind the proxy: {greeting}")

    spoofed = [await ws(ignoring, "/ws/items", headers={"x-forwarded-for": f"198.51.100.{i}"}) for i in range(2)]
    check(await refused(ignoring, "198.51.100.9") == 429, "a spoofed X-Forwarded-For escaped the cap")
    for s in flood + spoofed + [other]:
        await s.close()
    print("proxy ok", flush=True)


async def lurk(base, go):
    """Connects with a small receive buffer and reads nothing until the file `go` exists;
    then reads to the end and prints the close code."""
    s = await ws(base, "/lurk/big", rcvbuf=4096)
    print("connected", flush=True)
    for _ in range(600):
        if os.path.exists(go):
            break
        await asyncio.sleep(0.05)
    received = 0
    try:
        while True:
            received += len(await asyncio.wait_for(s.recv(), 10))
    except ConnectionClosed as e:
        print(f"closed {e.rcvd.code if e.rcvd else None} after {received} bytes", flush=True)


async def listen(base, topic, until):
    """Subscribes to `topic` and prints each message until one equals `until`."""
    s = await ws(base, "/ws/chat")
    await hello(s)
    # The test sends once the subscription shows in the Hub: from then on, print everything.
    await s.send(json.dumps({"action": "subscribe", "topic": topic}))
    while True:
        text = await asyncio.wait_for(s.recv(), 10)
        print(f"got {text}", flush=True)
        if text == until:
            return


def main():
    base, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    base = base.replace("http://", "ws://")
    run = {
        "namespaces": lambda: namespaces(base),
        "rows": lambda: rows(base, *args),
        "labels": lambda: labels(base),
        "proxy": lambda: proxy(base, args[0]),
        "lurk": lambda: lurk(base, args[0]),
        "listen": lambda: listen(base, *args),
    }[command]
    asyncio.run(run())


if __name__ == "__main__":
    main()
