"""Seed 000's (Pylight) Python clients, as the document writes them, against
examples/products.rs. The one change: `ws://localhost:8000` is the test server's address.

The clients only listen; this harness makes the changes through REST (as another client
would) and reads what the seed's own `print` calls printed. Usage: seed000_client.py ws://HOST:PORT
"""

import asyncio
import contextlib
import io
import json
import sys
import urllib.request

import websockets

BASE = sys.argv[1]
HTTP = BASE.replace("ws://", "http://")


# --- The document's code (uri from BASE instead of localhost:8000) -----------------------

async def connect():
    uri = f"{BASE}/ws/products"
    async with websockets.connect(uri) as websocket:
        # Send subscription message
        await websocket.send('{"action": "subscribe", "resource": "products"}')

        # Receive messages
        message = await websocket.recv()
        print(f"Received: {message}")


async def websocket_client():
    uri = f"{BASE}/ws/products"

    async with websockets.connect(uri) as websocket:
        # Subscribe to products
        subscribe = {
            "action": "subscribe",
            "resource": "products"
        }
        await websocket.send(json.dumps(subscribe))

        # Listen for messages
        while True:
            message = await websocket.recv()
            data = json.loads(message)
            print(f"Event: {data['event']}, Data: {data['data']}")


async def multiple_clients():
    uri = f"{BASE}/ws/products"

    # Connect multiple clients
    async with websockets.connect(uri) as ws1, \
              websockets.connect(uri) as ws2:

        # Both subscribe
        await ws1.send(json.dumps({"action": "subscribe", "resource": "products"}))
        await ws2.send(json.dumps({"action": "subscribe", "resource": "products"}))

        # Both receive updates
        msg1 = await ws1.recv()
        msg2 = await ws2.recv()
        print(f"ws1: {msg1}")
        print(f"ws2: {msg2}")


# --- The harness --------------------------------------------------------------------------
# It checks what the document says a client sees: events with `event`, `resource` and
# `data`; a created or updated event's `data` is the row; a deleted event's holds the id.

import ast


def rest(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(HTTP + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as res:
        text = res.read()
        return json.loads(text) if text else None


async def listeners(n, timeout=10):
    """Waits until `n` clients are connected to the products channel (the stats endpoint)."""
    for _ in range(int(timeout / 0.02)):
        stats = await asyncio.to_thread(rest, "GET", "/ws/stats")
        if stats["channels"].get("products", 0) >= n:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{n} clients never connected: {stats}")


async def printed(coro_fn, until, timeout=10):
    """Runs the seed's coroutine, capturing what it prints, until `until(text)` holds."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        task = asyncio.ensure_future(coro_fn())
        for _ in range(int(timeout / 0.05)):
            if until(out.getvalue()) or task.done():
                break
            await asyncio.sleep(0.05)
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if task.done() and not task.cancelled() and task.exception():
        raise task.exception()
    return out.getvalue()


def after_listeners(n, *changes):
    """Once `n` clients listen, makes `changes` through REST; the ids it created."""
    async def run():
        await listeners(n)
        ids = []
        for method, path, body in changes:
            res = await asyncio.to_thread(rest, method, path.format(*ids), body)
            if method == "POST":
                ids.append(res["id"])
        return ids
    return asyncio.ensure_future(run())


def created_event(message, name, price):
    """The message is the seed's create event for a row named `name`."""
    m = json.loads(message)
    assert m["event"] == "created" and m["resource"] == "products", m
    assert isinstance(m["data"]["id"], int) and m["data"]["name"] == name and m["data"]["price"] == price, m
    return m["data"]["id"]


async def main():
    # `connect()` prints the first message it receives: the first change made after it is there.
    writer = after_listeners(1, ("POST", "/products", {"name": "Keyboard", "price": 49}))
    text = await printed(connect, lambda t: "Received:" in t)
    [kid] = await writer
    line = next(l for l in text.splitlines() if l.startswith("Received: "))
    assert created_event(line[len("Received: "):], "Keyboard", 49) == kid, text
    print("seed000 connect ok")

    # "Both receive updates": one creation, seen by both clients.
    writer = after_listeners(2, ("POST", "/products", {"name": "Monitor", "price": 199}))
    text = await printed(multiple_clients, lambda t: "ws2:" in t)
    [mid] = await writer
    got = {l[:4]: l[5:] for l in text.splitlines() if l[:4] in ("ws1:", "ws2:")}
    assert created_event(got["ws1:"].strip(), "Monitor", 199) == mid, text
    assert created_event(got["ws2:"].strip(), "Monitor", 199) == mid, text
    print("seed000 multiple clients ok")

    # The complete client, while another client creates, updates and deletes a product.
    writer = after_listeners(
        1,
        ("POST", "/products", {"name": "Laptop", "price": 999}),
        ("PUT", "/products/{0}", {"name": "Updated Laptop", "price": 1099}),
        ("DELETE", "/products/{0}", None),
    )
    text = await printed(websocket_client, lambda t: "Event: deleted" in t)
    [pid] = await writer
    events = []
    for l in text.splitlines():
        kind, data = l[len("Event: "):].split(", Data: ", 1)
        events.append((kind, ast.literal_eval(data)))
    assert [k for k, _ in events] == ["created", "updated", "deleted"], text
    assert events[0][1] == {"id": pid, "name": "Laptop", "price": 999}, text
    assert events[1][1] == {"id": pid, "name": "Updated Laptop", "price": 1099}, text
    assert events[2][1]["id"] == pid, text
    print("seed000 events ok")

    # "Subscribe to specific resources or events": only deletions.
    async with websockets.connect(f"{BASE}/ws/products") as ws:
        await ws.send(json.dumps({"action": "subscribe", "resource": "products", "events": ["deleted"]}))
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] == "pong"
        p = await asyncio.to_thread(rest, "POST", "/products", {"name": "Pen", "price": 2})
        await asyncio.to_thread(rest, "DELETE", f"/products/{p['id']}", None)
        m = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert (m["event"], m["resource"], m["data"]["id"]) == ("deleted", "products", p["id"]), m
    print("seed000 chosen events ok")


asyncio.run(main())
