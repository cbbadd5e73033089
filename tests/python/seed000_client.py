"""Seed 000's (Pylight) Python clients, as the document writes them, against
examples/realtime.rs. The one change: `ws://localhost:8000` is the test server's address.

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

def rest(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(HTTP + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req) as res:
        text = res.read()
        return json.loads(text) if text else None


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
    return out.getvalue()


async def main():
    text = await printed(connect, lambda t: "Received:" in t)
    assert "Received:" in text and '"channel":"products"' in text, text
    print("seed000 connect ok")

    text = await printed(multiple_clients, lambda t: "ws2:" in t)
    assert "ws1:" in text and "ws2:" in text, text
    print("seed000 multiple clients ok")

    # The listening client, while another client creates, updates and deletes a product.
    async def changes():
        await asyncio.sleep(0.5)  # let the listener subscribe
        p = await asyncio.to_thread(rest, "POST", "/products", {"name": "Laptop", "price": 999})
        await asyncio.to_thread(rest, "PUT", f"/products/{p['id']}", {"name": "Updated Laptop", "price": 1099})
        await asyncio.to_thread(rest, "DELETE", f"/products/{p['id']}")
        return p["id"]

    writer = asyncio.ensure_future(changes())
    text = await printed(websocket_client, lambda t: "Event: deleted" in t)
    pid = await writer
    assert f"Event: created, Data: {{'id': {pid}, 'name': 'Laptop', 'price': 999}}" in text, text
    assert f"Event: updated, Data: {{'id': {pid}, 'name': 'Updated Laptop', 'price': 1099}}" in text, text
    assert f"Event: deleted, Data: {{'id': {pid}, 'name': 'Updated Laptop', 'price': 1099}}" in text, text
    print("seed000 events ok")


asyncio.run(main())
