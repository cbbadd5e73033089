"""A WSS client with Python's own `ssl` and `websockets`: trusts only the test CA given, sends
a text and prints the echo. Usage: wss_client.py ws://<addr> <path> <ca.pem> <text>."""
import asyncio
import ssl
import sys

from websockets.asyncio.client import connect


async def main():
    addr = sys.argv[1].removeprefix("ws://")
    path, cafile, text = sys.argv[2], sys.argv[3], sys.argv[4]
    context = ssl.create_default_context(cafile=cafile)  # verifies the chain and the host
    async with connect(f"wss://{addr}{path}", ssl=context) as ws:
        await ws.send(text)
        print(await asyncio.wait_for(ws.recv(), 10))


asyncio.run(main())
