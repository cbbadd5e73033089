"""Seed 004's (Tina4) Python chat client, as the document writes it, against examples/pubsub.rs.

It uses `websockets.connect(uri, extra_headers=...)`, the API of websockets < 14, so this
runs in a virtualenv with websockets 13.
Usage: seed004_client.py ws://HOST:PORT [TOKEN] [--no-greeting]

With a TOKEN (examples/secured_pubsub.rs: a JWT, or the app's SOCKEYE_API_KEY), every client
sends it as `Authorization: Bearer`, and a client without one is shown to be refused. With
--no-greeting the endpoint sends no connection message, as the document's does: a client
receives exactly what is published.
"""

import asyncio
import json
import sys

import websockets

BASE = sys.argv[1]
GREETING = "--no-greeting" not in sys.argv
ARGS = [a for a in sys.argv[2:] if a != "--no-greeting"]
TOKEN = ARGS[0] if ARGS else None
HEADERS = {"Authorization": f"Bearer {TOKEN}"} if TOKEN else {}


async def listener(ready, got):
    # A second subscriber, to show a publish reaches the other members of the topic.
    async with websockets.connect(f"{BASE}/ws/chat", extra_headers=HEADERS) as ws:
        if GREETING:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "connection", hello
        await ws.send(json.dumps({"action": "subscribe", "topic": "chatroom"}))
        # The server acknowledges nothing; a ping round trip shows the subscribe was handled.
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong", "message": "pong"}
        ready.set()
        got.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))


async def chat_client(ready):
    await ready.wait()
    uri = f"{BASE}/ws/chat"
    token = TOKEN or "your_bearer_token_here"  # Replace with actual token
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(uri, extra_headers=headers) as websocket:
        # Subscribe to a topic
        subscribe_msg = json.dumps({"action": "subscribe", "topic": "chatroom"})
        await websocket.send(subscribe_msg)

        # Publish a message
        publish_msg = json.dumps({"action": "publish", "topic": "chatroom", "data": {"message": "Hello!"}})
        await websocket.send(publish_msg)

        # Receive messages (the seed loops forever; the connection message, if any, and the
        # publication are enough here)
        received = []
        while len(received) < (2 if GREETING else 1):
            response = await asyncio.wait_for(websocket.recv(), 5)
            print(f"Received: {response}")
            received.append(json.loads(response))
        return received


async def refused_without_token():
    async with websockets.connect(f"{BASE}/ws/chat") as ws:
        await ws.send(json.dumps({"action": "subscribe", "topic": "chatroom"}))
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.exceptions.ConnectionClosed as e:
            assert e.rcvd.code == 4401, e
            print(f"refused without a token: {e.rcvd.code} {e.rcvd.reason}")
            return
    raise AssertionError("a client without a token was served")


async def main():
    if TOKEN:
        await refused_without_token()
    ready = asyncio.Event()
    got = []
    received, _ = await asyncio.gather(chat_client(ready), listener(ready, got))
    if GREETING:
        assert received[0]["type"] == "connection", received
        received = received[1:]
    # Exactly the document's messages: the publisher is a subscriber, so it hears itself.
    assert received == [{"message": "Hello!"}], received
    assert got == [{"message": "Hello!"}], got
    print("seed004 chat client ok")


asyncio.run(main())
