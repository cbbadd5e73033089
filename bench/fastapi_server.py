"""The benchmark cases of BENCHMARKS.md on FastAPI + uvicorn, written the way its users do."""

import os

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

app = FastAPI()
rooms: dict[str, set[WebSocket]] = {}


@app.get("/health")
async def health():
    return "ok"


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext():
    return "Hello, World!"


class User(BaseModel):
    id: int
    name: str
    age: int


class NewUser(BaseModel):
    name: str
    age: int


@app.get("/users/{id}")
async def read_user(id: int, verbose: bool = False) -> User:
    return User(id=id, name=f"user {id}", age=42 if verbose else 0)


@app.post("/users")
async def create_user(user: NewUser) -> User:
    return User(id=1, name=user.name, age=user.age)


@app.websocket("/ws/echo")
async def echo(ws: WebSocket):
    await ws.accept()
    try:
        while True:
            msg = await ws.receive()
            if msg.get("text") is not None:
                await ws.send_text(msg["text"])
            elif msg.get("bytes") is not None:
                await ws.send_bytes(msg["bytes"])
            elif msg["type"] == "websocket.disconnect":
                return
    except WebSocketDisconnect:
        return


@app.websocket("/ws/room/{name}")
async def room(ws: WebSocket, name: str):
    await ws.accept()
    members = rooms.setdefault(name, set())
    members.add(ws)
    try:
        while True:
            text = await ws.receive_text()
            for other in list(members):
                if other is not ws:
                    try:
                        await other.send_text(text)
                    except Exception:
                        members.discard(other)
    except WebSocketDisconnect:
        pass
    finally:
        members.discard(ws)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "8003")), log_level="warning", ws="websockets")
