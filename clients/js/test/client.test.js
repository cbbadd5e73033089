// Unit tests of sockeye.js against a scripted WebSocket and a manual clock:
// node --test clients/js/test
import { test } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay, connect, tokenExpiry, wsUrl } from "../sockeye.js";

/** Timers run only when the test advances the clock. */
function manualTimers() {
  let now = 0;
  let seq = 0;
  const due = new Map();
  return {
    setTimeout(fn, ms) {
      due.set(++seq, { at: now + ms, fn });
      return seq;
    },
    clearTimeout(id) {
      due.delete(id);
    },
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        const next = [...due.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!next) break;
        due.delete(next[0]);
        now = next[1].at;
        await next[1].fn();
        await flush();
      }
      now = until;
    },
  };
}

const flush = () => new Promise((r) => setImmediate(r));

/** A WebSocket the test drives: what the client sent, and the server's side. */
function fakeSockets() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.readyState = 0;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close(code = 1000, reason = "") {
      this.serverClose(code, reason);
    }
    // The server's side.
    accept() {
      this.readyState = 1;
      this.onopen?.();
    }
    push(msg) {
      this.onmessage?.({ data: JSON.stringify(msg) });
    }
    serverClose(code, reason = "") {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ code, reason });
    }
  }
  return { sockets, FakeWebSocket };
}

function jwt(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "HS256" })}.${b64(claims)}.sig`;
}

test("backoff grows exponentially to its cap, with jitter between half and all of it", () => {
  const opts = { min: 100, max: 1000 };
  assert.equal(backoffDelay(0, opts, () => 0), 50);
  assert.equal(backoffDelay(0, opts, () => 1), 100);
  assert.equal(backoffDelay(3, opts, () => 1), 800);
  assert.equal(backoffDelay(4, opts, () => 1), 1000);
  assert.equal(backoffDelay(40, opts, () => 0.5), 750);
});

test("a path becomes a ws:// or wss:// URL of the page's origin", () => {
  assert.equal(wsUrl("/ws/chat", "https://example.com/app/"), "wss://example.com/ws/chat");
  assert.equal(wsUrl("/ws/chat", "http://127.0.0.1:8000/"), "ws://127.0.0.1:8000/ws/chat");
  assert.equal(wsUrl("ws://other:1/ws"), "ws://other:1/ws");
});

test("reconnects, subscribes again from the last position and drops what it saw twice", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const states = [];
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/" });
  client.on("state", (s) => states.push(s));
  const got = [];
  let resyncs = 0;
  client.subscribe("room", (data) => got.push(data), { onResync: () => resyncs++ });
  await flush();
  sockets[0].accept();
  const sub = sockets[0].sent.find((m) => m.action === "subscribe");
  assert.equal(sub.topic, "room");
  assert.equal(sub.since, undefined);
  sockets[0].push({ type: "subscribed", id: sub.id, topic: "room", epoch: "e1", offset: 0, replayed: 0 });
  for (const offset of [1, 2]) sockets[0].push({ type: "message", topic: "room", epoch: "e1", offset, data: offset });

  sockets[0].serverClose(1006);
  assert.equal(client.state, "reconnecting");
  await timers.advance(250);
  assert.equal(sockets.length, 2, "a second connection after the backoff");
  sockets[1].accept();
  const again = sockets[1].sent.find((m) => m.action === "subscribe");
  assert.deepEqual(again.since, { epoch: "e1", offset: 2 }, "asks for what came after the last one seen");
  // The server replays 2 (seen) and 3, then goes on live.
  for (const offset of [2, 3, 4]) sockets[1].push({ type: "message", topic: "room", epoch: "e1", offset, data: offset });
  sockets[1].push({ type: "subscribed", id: again.id, topic: "room", epoch: "e1", offset: 4, replayed: 2 });
  assert.deepEqual(got, [1, 2, 3, 4], "every message once, in order");
  assert.equal(resyncs, 0);

  // The history was lost (a new epoch): the application is told to reload.
  sockets[1].serverClose(1012);
  await timers.advance(1000);
  sockets[2].accept();
  const third = sockets[2].sent.find((m) => m.action === "subscribe");
  sockets[2].push({ type: "resync", id: third.id, topic: "room", epoch: "e2", offset: 0, reason: "another epoch" });
  assert.equal(resyncs, 1);
  assert.deepEqual(states, ["open", "reconnecting", "open", "reconnecting", "open"]);
  client.close();
  assert.equal(client.state, "closed");
});

test("publish resolves on the server's ack and rejects with its reason", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers: manualTimers(), base: "http://h/" });
  await flush();
  const done = client.publish("room", { text: "queued before open" });
  sockets[0].accept();
  const [first] = sockets[0].sent;
  assert.deepEqual(first.data, { text: "queued before open" });
  sockets[0].push({ type: "ack", id: first.id });
  assert.deepEqual(await done, { type: "ack", id: first.id });

  const refused = client.publish("admin.logs", 1);
  const second = sockets[0].sent[1];
  sockets[0].push({ type: "error", id: second.id, topic: "admin.logs", message: "not allowed to publish to `admin.logs`: missing role: admin" });
  await assert.rejects(refused, /missing role: admin/);
  client.close();
});

test("does not come back after close() or a 4403, and reports the close code", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/" });
  const errors = [];
  client.on("error", (e) => errors.push(e));
  await flush();
  sockets[0].accept();
  sockets[0].serverClose(4403, "missing role: admin");
  await timers.advance(60000);
  assert.equal(sockets.length, 1);
  assert.equal(client.state, "closed");
  assert.deepEqual(errors.map((e) => [e.code, e.reason]), [[4403, "missing role: admin"]]);
});

test("the token goes as a subprotocol and is refreshed in-band before it expires", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  let issued = 0;
  const token = async () => jwt({ sub: "ann", exp: 1000 + 100 * ++issued });
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/", token, now: () => 1_000_000 });
  await flush();
  assert.equal(tokenExpiry(jwt({ exp: 5 })), 5);
  assert.deepEqual(sockets[0].protocols, ["sockeye.v1", `bearer.${jwt({ sub: "ann", exp: 1100 })}`]);
  sockets[0].accept();
  // Expires at 1100 s, now is 1000 s: refreshed at 70 s (30 s before), not later.
  await timers.advance(69_000);
  assert.equal(sockets[0].sent.length, 0);
  await timers.advance(1_000);
  assert.deepEqual(sockets[0].sent, [{ type: "auth", token: jwt({ sub: "ann", exp: 1200 }) }]);
  sockets[0].push({ type: "auth", status: "ok", exp: 1200 });
  client.close();
});

test("a short-lived token is refreshed at half its life, once per token", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  let issued = 0;
  // Each token lives 4 s from the (fixed) clock's 1000 s, then 8, 12, ..
  const token = async () => jwt({ sub: "ann", exp: 1000 + 4 * ++issued });
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/", token, now: () => 1_000_000 });
  await flush();
  sockets[0].accept();
  await timers.advance(1_999);
  assert.equal(sockets[0].sent.length, 0);
  await timers.advance(1);
  assert.deepEqual(sockets[0].sent, [{ type: "auth", token: jwt({ sub: "ann", exp: 1008 }) }]);
  // The server's answer schedules the next refresh at half of the new token's life, not now.
  sockets[0].push({ type: "auth", status: "ok", exp: 1008 });
  await timers.advance(3_999);
  assert.equal(sockets[0].sent.length, 1);
  await timers.advance(1);
  assert.equal(sockets[0].sent.length, 2);
  client.close();
});

test("a refused subscription is reported to its onError and not tried again", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/" });
  await flush();
  sockets[0].accept();
  const refusals = [];
  client.subscribe("user.bob", () => {}, { onError: (e) => refusals.push(e.message) });
  const sub = sockets[0].sent.find((m) => m.action === "subscribe");
  const message = "not allowed to subscribe to `user.bob`: another user's topic";
  sockets[0].push({ type: "error", id: sub.id, topic: "user.bob", message });
  await flush();
  assert.deepEqual(refusals, [message]);
  sockets[0].serverClose(1006);
  await timers.advance(1000);
  sockets[1].accept();
  assert.equal(sockets[1].sent.filter((m) => m.action === "subscribe").length, 0, "the refused topic is not asked for again");
  client.close();
});

test("an expired token (4401) is replaced by a fresh one on the next connection", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  let issued = 0;
  const token = async () => `opaque-${++issued}`;
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/", token });
  await flush();
  sockets[0].accept();
  sockets[0].serverClose(4401, "token expired");
  assert.equal(client.state, "reconnecting");
  await timers.advance(1000);
  assert.deepEqual(sockets[1].protocols, ["sockeye.v1", "bearer.opaque-2"]);
  client.close();
});

test("on a model's channel it comes back with ?since= the last event's position", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const client = connect("/ws/products?client_id=me", { WebSocket: FakeWebSocket, timers, base: "http://h/" });
  const events = [];
  const resyncs = [];
  client.on("message", (m) => events.push(m.type));
  client.on("resync", (m) => resyncs.push(m.position));
  await flush();
  assert.equal(sockets[0].url, "ws://h/ws/products?client_id=me");
  sockets[0].accept();
  sockets[0].push({ type: "connection", channel: "products" });
  sockets[0].push({ type: "created", channel: "products", position: 41, data: { id: 1 } });
  sockets[0].push({ type: "updated", channel: "products", position: 42, data: { id: 1 } });
  sockets[0].serverClose(1006);
  await timers.advance(1000);
  assert.equal(sockets[1].url, "ws://h/ws/products?client_id=me&since=42");
  sockets[1].accept();
  sockets[1].push({ type: "resync", position: 90, reason: "history no longer reaches 42" });
  sockets[1].serverClose(1006);
  await timers.advance(2000);
  assert.equal(sockets[2].url, "ws://h/ws/products?client_id=me&since=90");
  assert.deepEqual(events, ["connection", "created", "updated", "resync"]);
  assert.deepEqual(resyncs, [90]);
  client.close();
});

test("a request queued before a connection that failed goes out on the next one", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/" });
  await flush();
  let settled = false;
  const done = client.publish("room", "once").finally(() => (settled = true));
  sockets[0].serverClose(1006); // never opened: the publish was not sent
  await flush();
  assert.equal(settled, false, "not reported as failed: it was never sent");
  await timers.advance(250);
  sockets[1].accept();
  const sent = sockets[1].sent.filter((m) => m.action === "publish");
  assert.equal(sent.length, 1, "sent once, on the connection that opened");
  sockets[1].push({ type: "ack", id: sent[0].id });
  assert.deepEqual(await done, { type: "ack", id: sent[0].id });
  // One sent and lost with its connection is rejected: the application decides.
  const lost = client.publish("room", "maybe");
  sockets[1].serverClose(1006);
  await assert.rejects(lost, /connection closed \(1006\)/);
  client.close();
});

test("close() settles every request, and an unanswered one times out", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const client = connect("/ws/plain", { WebSocket: FakeWebSocket, timers, base: "http://h/", requestTimeout: 5000 });
  await flush();
  sockets[0].accept();
  const unanswered = assert.rejects(client.request({ type: "hello" }), /no answer within 5000 ms/);
  await timers.advance(5000);
  await unanswered;
  const pending = client.publish("room", 1);
  client.close();
  await assert.rejects(pending, /the client is closed/);
  await assert.rejects(client.publish("room", 2), /the client is closed/);
});

test("an answer that comes after a live message does not move the position back", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/" });
  const got = [];
  client.subscribe("room", (data) => got.push(data));
  await flush();
  sockets[0].accept();
  const sub = sockets[0].sent.find((m) => m.action === "subscribe");
  // Joined at 5; message 6 is delivered before the answer naming 5.
  sockets[0].push({ type: "message", topic: "room", epoch: "e", offset: 6, data: 6 });
  sockets[0].push({ type: "subscribed", id: sub.id, topic: "room", epoch: "e", offset: 5, replayed: 0 });
  sockets[0].serverClose(1006);
  await timers.advance(250);
  sockets[1].accept();
  const again = sockets[1].sent.find((m) => m.action === "subscribe");
  assert.deepEqual(again.since, { epoch: "e", offset: 6 });
  sockets[1].push({ type: "message", topic: "room", epoch: "e", offset: 6, data: 6 });
  assert.deepEqual(got, [6], "6 once");
  client.close();
});

test("the same token again is not refreshed in a loop", async () => {
  const { sockets, FakeWebSocket } = fakeSockets();
  const timers = manualTimers();
  let asked = 0;
  const same = jwt({ sub: "ann", exp: 1004 });
  const client = connect("/ws/chat", { WebSocket: FakeWebSocket, timers, base: "http://h/", token: async () => (asked++, same), now: () => 1_000_000 });
  await flush();
  sockets[0].accept();
  await timers.advance(2000);
  assert.equal(sockets[0].sent.length, 1);
  sockets[0].push({ type: "auth", status: "ok", exp: 1004 });
  await timers.advance(60_000);
  assert.equal(sockets[0].sent.length, 1, "no refresh after a refresh that did not move the expiry");
  assert.equal(asked, 2);
  client.close();
});
