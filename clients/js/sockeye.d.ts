// Types of sockeye.js.

export type State = "connecting" | "open" | "reconnecting" | "closed";

/** A close or a refusal: the server's close code and reason, or 0 for a message error. */
export interface ClientError {
  code: number;
  reason: string;
  message: string;
  detail?: unknown;
}

/** Where a history topic stands: its epoch and the offset of its last message. */
export interface Position {
  epoch: string;
  offset: number;
}

/** A message of a topic, as the server sends it. */
export interface TopicMessage<T = unknown> {
  type: "message";
  topic: string;
  data: T;
  epoch?: string;
  offset?: number;
}

export interface Options {
  /** Called before every connection (and before a token expires): the token to send. */
  token?: () => string | Promise<string>;
  /** Reconnect delays in milliseconds (defaults: 250 and 15000). */
  backoff?: { min?: number; max?: number };
  /** Milliseconds open after which the backoff starts again from `min` (default 10000). */
  stableAfter?: number;
  /** Milliseconds a request (`publish`, `request`) waits for its answer (default 30000). */
  requestTimeout?: number;
  /** The page URL relative paths are resolved against (default: `location.href`). */
  base?: string;
  /** For tests: the WebSocket constructor, timers and clock to use. */
  WebSocket?: unknown;
  timers?: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void };
  now?: () => number;
}

export interface SubscribeOptions {
  /** The server could not tell what was missed (history lost or too far back): reload. */
  onResync?: (answer: { topic: string; epoch: string; offset: number; reason: string }) => void;
  /** The server refused the subscription. */
  onError?: (error: ServerError) => void;
}

export class ServerError extends Error {
  detail: unknown;
}

export class Client {
  readonly url: string;
  readonly state: State;
  on(event: "state", fn: (state: State) => void): () => void;
  on(event: "error", fn: (error: ClientError) => void): () => void;
  /** A topic's (`topic` set) or a model channel's (`position` set) missed messages cannot be replayed. */
  on(event: "resync", fn: (answer: { topic?: string; position?: number; reason: string }) => void): () => void;
  on(event: "message", fn: (message: unknown) => void): () => void;
  subscribe<T = unknown>(topic: string, onData: (data: T, message: TopicMessage<T>) => void, options?: SubscribeOptions): () => void;
  publish(topic: string, data: unknown): Promise<unknown>;
  /** Sends `message` with a request id: resolves with the server's answer, rejects with its error. */
  request(message: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<unknown>;
  send(message: unknown): void;
  close(): void;
}

export function connect(path: string, options?: Options): Client;
/** The subprotocol the client offers, `sockeye.v1`. */
export const PROTOCOL: string;
export function backoffDelay(attempt: number, backoff?: { min?: number; max?: number }, random?: () => number): number;
export function tokenExpiry(token: string): number | undefined;
export function wsUrl(path: string, base?: string): string;
