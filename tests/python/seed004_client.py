"""Seed 004's (Tina4) Python chat client, as the document writes it, against examples/pubsub.rs.

It uses `websockets.connect(uri, extra_headers=...)`, the API of websockets < 14, so this
runs in a virtualenv with websockets 13. Usage: seed004_client.py ws://HOST:PORT
"""

import asyncio
import json
import sys

import websockets

BASE = sys.argv[1]


async def listener(ready, got):
    # A second subscriber, to show a publish reaches the other members of the topic.
    async with websockets.connect(f"{BASE}/ws/chat") as ws:
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
    token = "your_bearer_token_here"  # Replace with actual token
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(uri, extra_headers=headers) as websocket:
        # Subscribe to a topic
        subscribe_msg = json.dumps({"action": "subscribe", "topic": "chatroom"})
        await websocket.send(subscribe_msg)

        # Publish a message
        publish_msg = json.dumps({"action": "publish", "topic": "chatroom", "data": {"message": "Hello!"}})
        await websocket.send(publish_msg)

        # Receive messages (the seed loops forever; two are enough here)
        received = []
        while len(received) < 2:
            response = await asyncio.wait_for(websocket.recv(), 5)
            print(f"Received: {response}")
            received.append(json.loads(response))
        return received


async def main():
    ready = asyncio.Event()
    got = []
    received, _ = await asyncio.gather(chat_client(ready), listener(ready, got))
    assert received[0]["type"] == "connection", received
    assert received[1] == {"message": "Hello!"}, received
    assert got == [{"message": "Hello!"}], got
    print("seed004 chat client ok")


asyncio.run(main())
