"""The seed 003 (Tachyon) client flows with the Python `websockets` library, as the seeds'
users write them, against examples/echo.rs. Usage: seed003_clients.py ws://127.0.0.1:PORT"""

import asyncio
import json
import sys

import websockets

BASE = sys.argv[1]


async def echo():
    async with websockets.connect(f"{BASE}/ws") as websocket:
        await websocket.send("Hello!")
        data = await websocket.recv()
        assert data == "Echo: Hello!", data
    print("echo ok")


async def path_parameters():
    async with websockets.connect(f"{BASE}/ws/room123") as websocket:
        data = await websocket.recv()
        assert "room123" in data, data
        await websocket.send("hi")
        data = await websocket.recv()
        assert data == "[room123] hi", data
    print("path parameters ok")


async def query_token_rejected_with_4001():
    async with websockets.connect(f"{BASE}/ws/secure?token=wrong") as websocket:
        try:
            await websocket.recv()
        except websockets.exceptions.ConnectionClosed as e:
            assert e.rcvd is not None, "no close frame received"
            assert e.rcvd.code == 4001, e.rcvd
            assert e.rcvd.reason == "invalid token", e.rcvd
        else:
            raise AssertionError("the connection was not refused")
    async with websockets.connect(f"{BASE}/ws/secure?token=abc123") as websocket:
        assert await websocket.recv() == "Authenticated!"
    print("query token 4001 ok")


async def json_echo():
    async with websockets.connect(f"{BASE}/ws/json") as websocket:
        await websocket.send(json.dumps({"message": "Hello"}))
        response = json.loads(await websocket.recv())
        assert response == {"received": {"message": "Hello"}, "processed": True, "echo": "Hello"}, response
    print("json echo ok")


async def main():
    await echo()
    await path_parameters()
    await query_token_rejected_with_4001()
    await json_echo()


asyncio.run(main())
