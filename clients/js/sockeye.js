// sockeye.js: the browser client of sockeye's WebSocket routes. No dependencies.
//
//   import { connect } from "/_sockeye/sockeye.js";
//   const chat = connect("/ws/chat", { token: () => fetch("/token").then((r) => r.text()) });
//   chat.subscribe("room.1", (data) => console.log(data));
//   await chat.publish("room.1", { text: "hi" });
//
// It reconnects with exponential backoff and jitter, subscribes again to every topic, and
// asks for what it missed (`since`: the last epoch and offset it saw) where the topic keeps
// history; where the server cannot tell, the subscription's `onResync` is called. On a
// model's channel (`/ws/<table>`) it comes back with `?since=` the last event's position.

const OPEN = 1;

/** The subprotocol the client speaks: topic messages in envelopes, requests with ids. */
export const PROTOCOL = "sockeye.v1";

/** Close codes after which reconnecting cannot help. */
const FINAL_CODES = new Set([1008, 4403]);

/**
 * A token is refreshed 30 s before it expires, or at 80% of its life if that comes first,
 * and never before half of its life: a short-lived token is not fetched again and again.
 */
const REFRESH_MARGIN_S = 30;

/** Seconds between two refreshes at least, whatever the clocks say. */
const MIN_REFRESH_S = 1;

/** How long a request waits for the server's answer by default, in milliseconds. */
const REQUEST_TIMEOUT_MS = 30000;

/**
 * The `exp` claim of a JWT, in seconds, or `undefined` when the token is not a JWT.
 * @param {string} token
 */
export function tokenExpiry(token) {
  const parts = String(token).split(".");
  if (parts.length !== 3) return undefined;
  try {
    const json = atobUrl(parts[1]);
    const exp = JSON.parse(json).exp;
    return typeof exp === "number" ? exp : undefined;
  } catch {
    return undefined;
  }
}

function atobUrl(s) {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
  const binary = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/**
 * The delay before reconnect attempt `attempt` (0-based): exponential, capped, with full
 * jitter (a random delay between half of it and all of it).
 */
export function backoffDelay(attempt, { min = 250, max = 15000 } = {}, random = Math.random) {
  const ceiling = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The absolute ws:// or wss:// URL of `path` on the page's own origin. */
export function wsUrl(path, base) {
  if (/^wss?:\/\//.test(path)) return path;
  const origin = base ?? (typeof location !== "undefined" ? location.href : "http://localhost/");
  const url = new URL(path, origin);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

class Emitter {
  constructor() {
    this.handlers = new Map();
  }
  on(event, fn) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(fn);
    return () => this.handlers.get(event)?.delete(fn);
  }
  emit(event, ...args) {
    for (const fn of this.handlers.get(event) ?? []) {
      try {
        fn(...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}

/**
 * A connection that comes back by itself. States: "connecting", "open", "reconnecting",
 * "closed".
 */
export class Client extends Emitter {
  /**
   * @param {string} path the WebSocket route, e.g. "/ws/chat"
   * @param {object} [options]
   */
  constructor(path, options = {}) {
    super();
    this.url = wsUrl(path, options.base);
    this.options = options;
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this.timers = options.timers ?? globalThis;
    this.state = "connecting";
    this.attempt = 0;
    this.nextId = 1;
    /** @type {Map<string, {handlers: Set<Function>, onResync?: Function, position?: {epoch: string, offset: number}}>} */
    this.topics = new Map();
    /** Requests waiting for the server's answer, by id: {resolve, reject, timer, ws (the socket it went out on)}. */
    this.pending = new Map();
    /** Messages waiting for the connection: {text, id} (`id` for a request). */
    this.outbox = [];
    this.closedByUser = false;
    this.open();
  }

  async open() {
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let token;
    if (this.options.token) {
      try {
        token = await this.options.token();
      } catch (e) {
        this.emit("error", { code: 0, reason: "", message: `token callback failed: ${e?.message ?? e}` });
        return this.retry();
      }
    }
    if (this.closedByUser) return;
    const protocols = token ? [PROTOCOL, `bearer.${token}`] : [PROTOCOL];
    const ws = new this.WebSocket(this.resumeUrl(), protocols);
    this.ws = ws;
    this.token = token;
    ws.onopen = () => this.opened(ws);
    ws.onmessage = (event) => this.received(event.data);
    ws.onclose = (event) => this.lost(ws, event.code, event.reason);
    ws.onerror = () => {};
  }

  /**
   * The URL to connect to: on a model's channel that delivered events, with `?since=` the
   * last event's position, so that the server sends what was missed first.
   */
  resumeUrl() {
    if (this.position === undefined) return this.url;
    const url = new URL(this.url);
    url.searchParams.set("since", String(this.position));
    return url.toString();
  }

  opened(ws) {
    if (ws !== this.ws) return;
    this.setState("open");
    this.stableTimer = this.timers.setTimeout(() => (this.attempt = 0), this.options.stableAfter ?? 10000);
    this.scheduleRefresh();
    for (const [topic, sub] of this.topics) this.sendSubscribe(topic, sub);
    for (const { text, id } of this.outbox.splice(0)) {
      ws.send(text);
      if (this.pending.has(id)) this.pending.get(id).ws = ws;
    }
  }

  received(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.emit("message", text);
    }
    const isObject = msg !== null && typeof msg === "object" && !Array.isArray(msg);
    if (isObject && msg.id !== undefined && this.pending.has(msg.id)) {
      const { resolve, reject, timer } = this.pending.get(msg.id);
      this.timers.clearTimeout(timer);
      this.pending.delete(msg.id);
      if (msg.type === "error") reject(new ServerError(msg.message, msg));
      else resolve(msg);
      // An ack or an error is the request's answer alone; `subscribed` and `resync` go on
      // to move the subscription's position.
      if (msg.type === "ack" || msg.type === "error") return;
    }
    if (isObject && msg.type === "auth") {
      // A refresh that did not move the expiry forward (the same token again) is not
      // rescheduled: the next connection asks for a new one.
      if (msg.status === "ok" && !(msg.exp <= this.expires)) this.scheduleRefresh(msg.exp);
      return;
    }
    if (isObject && msg.type === "message" && typeof msg.topic === "string" && this.topics.has(msg.topic)) {
      const sub = this.topics.get(msg.topic);
      if (typeof msg.offset === "number" && typeof msg.epoch === "string") {
        // Replays and live messages both come in offset order; one seen twice is dropped.
        const seen = sub.position;
        if (seen && seen.epoch === msg.epoch && msg.offset <= seen.offset) return;
        sub.position = { epoch: msg.epoch, offset: msg.offset };
      }
      for (const fn of sub.handlers) fn(msg.data, msg);
      return;
    }
    if (isObject && (msg.type === "subscribed" || msg.type === "resync") && this.topics.has(msg.topic)) {
      const sub = this.topics.get(msg.topic);
      const had = sub.position;
      // A live message may come before the answer: the position never goes back.
      const behind = had && had.epoch === msg.epoch && had.offset >= msg.offset;
      if (!behind) sub.position = { epoch: msg.epoch, offset: msg.offset };
      if (msg.type === "resync" && had) {
        sub.onResync?.(msg);
        this.emit("resync", msg);
      }
      return;
    }
    if (isObject && msg.topic === undefined && typeof msg.position === "number") {
      // A model channel's event, snapshot or resync: where to resume from.
      this.position = msg.position;
      if (msg.type === "resync") this.emit("resync", msg);
    }
    if (isObject && msg.type === "error") this.emit("error", { code: 0, reason: "", message: msg.message, detail: msg });
    this.emit("message", msg);
  }

  lost(ws, code, reason) {
    if (ws !== this.ws) return;
    this.ws = undefined;
    this.timers.clearTimeout(this.stableTimer);
    this.timers.clearTimeout(this.refreshTimer);
    // Requests sent on this socket get no answer now; those still queued go on the next one.
    for (const [id, request] of this.pending) {
      if (request.ws !== ws) continue;
      this.timers.clearTimeout(request.timer);
      this.pending.delete(id);
      request.reject(new ServerError(`connection closed (${code})`, { code, reason }));
    }
    if (code !== 1000 || !this.closedByUser) this.emit("error", { code, reason, message: reason || `closed with ${code}` });
    if (this.closedByUser || FINAL_CODES.has(code)) return this.setState("closed");
    this.retry();
  }

  retry() {
    if (this.closedByUser) return;
    this.setState("reconnecting");
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.retryTimer = this.timers.setTimeout(() => this.open(), delay);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  /** Refreshes the token in-band before it expires (`exp` from the server or the token). */
  scheduleRefresh(exp) {
    this.timers.clearTimeout(this.refreshTimer);
    if (!this.options.token || !this.token) return;
    const expires = exp ?? tokenExpiry(this.token);
    if (expires === undefined) return;
    this.expires = expires;
    const now = (this.options.now ?? Date.now)() / 1000;
    const life = expires - now;
    // At least a second apart: a clock far ahead of the server's does not make it a loop.
    const inSeconds = Math.max(MIN_REFRESH_S, life * 0.5, Math.min(life * 0.8, life - REFRESH_MARGIN_S));
    this.refreshTimer = this.timers.setTimeout(async () => {
      try {
        const token = await this.options.token();
        this.token = token;
        this.sendNow({ type: "auth", token });
      } catch (e) {
        this.emit("error", { code: 0, reason: "", message: `token refresh failed: ${e?.message ?? e}` });
      }
    }, inSeconds * 1000);
  }

  sendNow(msg, id) {
    const text = JSON.stringify(msg);
    if (this.ws && this.ws.readyState === OPEN) {
      this.ws.send(text);
      if (this.pending.has(id)) this.pending.get(id).ws = this.ws;
    } else this.outbox.push({ text, id });
  }

  /**
   * Sends `msg` with a request id; resolves with the server's answer, rejects with its error,
   * or when no answer comes in `timeoutMs` (30 s by default: a route that does not answer
   * requests), or when the connection it went out on closes first.
   */
  request(msg, { timeoutMs = this.options.requestTimeout ?? REQUEST_TIMEOUT_MS } = {}) {
    if (this.closedByUser) return Promise.reject(new ServerError("the client is closed", {}));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new ServerError(`no answer within ${timeoutMs} ms`, { id }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, ws: undefined });
      this.sendNow({ ...msg, id }, id);
    });
  }

  sendSubscribe(topic, sub) {
    const msg = { action: "subscribe", topic };
    if (sub.position) msg.since = sub.position;
    this.request(msg).catch((e) => {
      if (e.detail?.type === "error") {
        this.topics.delete(topic);
        sub.onError?.(e);
      }
    });
  }

  /**
   * Receives what is published to `topic`; returns the function that unsubscribes.
   * @param {string} topic
   * @param {(data: any, message: object) => void} onData
   * @param {{onResync?: Function, onError?: Function}} [options]
   */
  subscribe(topic, onData, options = {}) {
    let sub = this.topics.get(topic);
    if (!sub) {
      sub = { handlers: new Set(), onResync: options.onResync, onError: options.onError };
      this.topics.set(topic, sub);
      if (this.state === "open") this.sendSubscribe(topic, sub);
    }
    sub.handlers.add(onData);
    return () => {
      sub.handlers.delete(onData);
      if (sub.handlers.size === 0 && this.topics.get(topic) === sub) {
        this.topics.delete(topic);
        this.sendNow({ action: "unsubscribe", topic });
      }
    };
  }

  /** Publishes `data` to `topic`; rejects with the server's reason when it refuses. */
  publish(topic, data) {
    return this.request({ action: "publish", topic, data });
  }

  /** Sends any JSON message (a typed room's or a model channel's). */
  send(msg) {
    this.sendNow(msg);
  }

  /** Closes for good: no reconnect. */
  close() {
    this.closedByUser = true;
    this.outbox = [];
    for (const [id, request] of this.pending) {
      this.timers.clearTimeout(request.timer);
      this.pending.delete(id);
      request.reject(new ServerError("the client is closed", {}));
    }
    this.timers.clearTimeout(this.retryTimer);
    this.timers.clearTimeout(this.refreshTimer);
    this.timers.clearTimeout(this.stableTimer);
    if (this.ws) this.ws.close(1000);
    else this.setState("closed");
  }
}

/** An error the server answered with (`message` is its reason). */
export class ServerError extends Error {
  constructor(message, detail) {
    super(message);
    this.name = "ServerError";
    this.detail = detail;
  }
}

/** Opens a client of `path`: see {@link Client}. */
export function connect(path, options) {
  return new Client(path, options);
}
