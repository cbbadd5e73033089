#!/usr/bin/env node
// sockeye-types: TypeScript types and typed helpers for an app's WebSocket channels, made
// from its AsyncAPI document.
//
//   npx sockeye-types http://127.0.0.1:8000/asyncapi.json > src/channels.ts
//   npx sockeye-types asyncapi.json --import /_sockeye/sockeye.js > channels.ts
//
// For each channel (each WebSocket route) it writes the messages the client may send and
// those it may receive as TypeScript types, and a function that connects to the route and
// sends and receives only those:
//
//   const room = wsRoomsRoom({ room: "lobby" });
//   room.on((msg) => { if (msg.type === "said") console.log(msg.from, msg.text); });
//   room.send({ type: "say", text: "hi" });     // a type error without `text`

import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

/** `ws_rooms_room` -> `WsRoomsRoom`. */
export function pascal(name) {
  const words = String(name).split(/[^A-Za-z0-9]+/).filter(Boolean);
  const joined = words.map((w) => w[0].toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(joined) ? `_${joined}` : joined || "Unnamed";
}

/** `ws_rooms_room` -> `wsRoomsRoom`. */
export function camel(name) {
  const p = pascal(name);
  return p[0].toLowerCase() + p.slice(1);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function key(name) {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function comment(text, indent) {
  if (!text) return "";
  const lines = String(text).replace(/\*\//g, "*\\/").split("\n");
  return `${indent}/** ${lines.join(`\n${indent} * `)} */\n`;
}

/** A JSON Pointer token decoded (`~1` is `/`, `~0` is `~`). */
function unescapePointer(token) {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/** What a `$ref` names when no document's names are known: the component's name. */
function defaultRef(ref) {
  const m = /^#\/components\/(schemas|messages)\/(.+)$/.exec(ref);
  if (!m) return "unknown";
  const name = pascal(unescapePointer(m[2]));
  return m[1] === "schemas" ? name : `${name}Message`;
}

/**
 * Names the generated module declares, each unique: TypeScript's and JavaScript's own names,
 * and the module's helpers, are never taken by a schema, message or channel.
 */
const RESERVED = new Set(
  (
    "Channel Client Options Array Record Promise String Number Boolean Object Date Error Map Set Symbol " +
    "Function Partial Readonly unknown never channel connect encodeURIComponent params options " +
    "break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if import in instanceof new null return super switch this throw true try " +
    "typeof var void while with yield let static implements interface package private protected public await"
  ).split(" "),
);

class Names {
  constructor() {
    this.taken = new Set(RESERVED);
    this.refs = new Map();
  }
  /** `base`, or `base2`, `base3`, .. when it is taken. */
  claim(base) {
    let name = base;
    for (let n = 2; this.taken.has(name); n++) name = `${base}${n}`;
    this.taken.add(name);
    return name;
  }
  /** Claims a name for the thing `ref` points to. */
  declare(ref, base) {
    const name = this.claim(base);
    this.refs.set(ref, name);
    return name;
  }
  ref(ref) {
    return this.refs.get(ref) ?? this.refs.get(unescapeRef(ref)) ?? "unknown";
  }
}

/** A `$ref` with its pointer tokens decoded, for a document that did not encode them. */
function unescapeRef(ref) {
  return ref.split("/").map(unescapePointer).join("/");
}

/** `#/components/<kind>/<name>` with the name encoded as a JSON Pointer token. */
function pointer(kind, name) {
  return `#/components/${kind}/${String(name).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** A JSON Schema as a TypeScript type; `ref` names what a `$ref` points to. */
export function tsType(schema, indent = "", ref = defaultRef) {
  const inner = (s) => tsType(s, indent, ref);
  if (schema === true || schema === undefined || schema === null) return "unknown";
  if (schema === false) return "never";
  if (schema.$ref) return ref(schema.$ref);
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ") || "never";
  const union = schema.oneOf ?? schema.anyOf;
  if (Array.isArray(union)) return union.map(inner).join(" | ") || "never";
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => `(${inner(s)})`).join(" & ") || "unknown";
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return schema.properties ? objectType(schema, indent, ref) : "unknown";
  const one = (t) => {
    switch (t) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "array":
        return schema.items ? `Array<${inner(schema.items)}>` : "unknown[]";
      case "object":
        return objectType(schema, indent, ref);
      default:
        return "unknown";
    }
  };
  const parts = types.map(one);
  if (schema.nullable === true && !types.includes("null")) parts.push("null");
  return parts.join(" | ");
}

function objectType(schema, indent, ref) {
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  const inner = `${indent}  `;
  const lines = Object.entries(props).map(([name, prop]) => {
    const optional = required.has(name) ? "" : "?";
    return `${comment(prop?.description, inner)}${inner}${key(name)}${optional}: ${tsType(prop, inner, ref)};`;
  });
  const extra = schema.additionalProperties;
  // Other properties may be of any type: an index signature must admit the named ones too.
  if (extra && extra !== false) lines.push(`${inner}[key: string]: unknown;`);
  if (lines.length === 0) return extra === false ? "Record<string, never>" : "Record<string, unknown>";
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** Resolves `#/channels/x/messages/y` (or a component) inside the document. */
function resolve(doc, ref) {
  return ref
    .replace(/^#\//, "")
    .split("/")
    .reduce((node, part) => node?.[part.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
}

/** The TypeScript module for `doc`, importing the client from `from`. */
export function generate(doc, { from = "sockeye-client", source = "" } = {}) {
  const out = [];
  out.push(`// Generated by sockeye-types${source ? ` from ${source}` : ""}: do not edit.`);
  out.push(`import { connect, type Client, type Options } from ${JSON.stringify(from)};`);
  out.push("");
  out.push("/** A channel whose messages are typed: `S` what the client sends, `R` what it receives. */");
  out.push("export interface Channel<S, R> {");
  out.push("  readonly client: Client;");
  out.push("  send(message: S): void;");
  out.push("  on(handler: (message: R) => void): () => void;");
  out.push("  close(): void;");
  out.push("}");
  out.push("");
  out.push("function channel<S, R>(path: string, options?: Options): Channel<S, R> {");
  out.push("  const client = connect(path, options);");
  out.push("  return {");
  out.push("    client,");
  out.push("    send: (message) => client.send(message),");
  out.push("    on: (handler) => client.on(\"message\", handler as (message: unknown) => void),");
  out.push("    close: () => client.close(),");
  out.push("  };");
  out.push("}");

  // Every name first, so that a reference finds its type wherever it is declared.
  const names = new Names();
  const components = doc.components ?? {};
  const schemas = Object.entries(components.schemas ?? {}).map(([name, schema]) => [names.declare(pointer("schemas", name), pascal(name)), schema]);
  const messages = Object.entries(components.messages ?? {}).map(([name, message]) => [
    names.declare(pointer("messages", name), `${pascal(name)}Message`),
    message,
  ]);
  const channels = Object.entries(doc.channels ?? {}).map(([id, ch]) => {
    const prefix = pascal(id);
    const local = Object.entries(ch.messages ?? {})
      .filter(([, message]) => !message?.$ref) // a component message: declared with them
      .map(([name, message]) => {
        const own = pascal(name);
        const base = own === "Send" || own === "Receive" ? `${prefix}${own}Message` : `${prefix}${own}`;
        return [names.declare(`#/channels/${id}/messages/${name}`, base), message];
      });
    return { id, ch, local, send: names.claim(`${prefix}Send`), receive: names.claim(`${prefix}Receive`), fn: names.claim(camel(id)) };
  });
  const ts = (schema) => tsType(schema, "", (ref) => names.ref(ref));
  for (const [name, schema] of schemas) {
    out.push("");
    out.push(`${comment(schema?.description, "")}export type ${name} = ${ts(schema)};`);
  }
  for (const [name, message] of messages) {
    out.push("");
    out.push(`${comment(message?.summary ?? message?.title, "")}export type ${name} = ${ts(message?.payload)};`);
  }

  // Which of a channel's messages go which way, from the operations.
  const directions = new Map();
  for (const op of Object.values(doc.operations ?? {})) {
    const channelRef = op?.channel?.$ref;
    if (!channelRef) continue;
    const id = channelRef.split("/").pop();
    const entry = directions.get(id) ?? { send: [], receive: [] };
    // The document is the server's view: what it receives, the client sends.
    const side = op.action === "receive" ? entry.send : entry.receive;
    for (const m of op.messages ?? []) side.push(m.$ref);
    directions.set(id, entry);
  }

  for (const { id, ch, local, send, receive, fn } of channels) {
    // A channel's message is its own, or a component's it points to.
    const typeOf = (ref) => {
      const message = resolve(doc, ref);
      return message?.$ref ? names.ref(message.$ref) : names.ref(ref);
    };
    out.push("");
    out.push(comment(`${ch.address}`, "").trimEnd());
    for (const [name, message] of local) {
      out.push(`${comment(message?.summary ?? message?.title, "")}export type ${name} = ${ts(message?.payload)};`);
    }
    const dir = directions.get(id) ?? { send: [], receive: [] };
    const union = (refs) => [...new Set(refs.map(typeOf))].join(" | ") || "never";
    out.push(comment(`What the client sends on ${ch.address}.`, "").trimEnd());
    out.push(`export type ${send} = ${union(dir.send)};`);
    out.push(comment(`What the client receives on ${ch.address}.`, "").trimEnd());
    out.push(`export type ${receive} = ${union(dir.receive)};`);
    const params = Object.keys(ch.parameters ?? {});
    const path = JSON.stringify(ch.address).replace(/\{([^}]+)\}/g, (_, p) => `" + encodeURIComponent(params[${JSON.stringify(p)}]) + "`);
    const paramType = params.length ? `params: { ${params.map((p) => `${key(p)}: string`).join("; ")} }, ` : "";
    out.push(comment(`Connects to ${ch.address}${ch.description ? `: ${ch.description}` : ""}`, "").trimEnd());
    out.push(`export function ${fn}(${paramType}options?: Options): Channel<${send}, ${receive}> {`);
    out.push(`  return channel(${path.replace(/ \+ ""$/, "")}, options);`);
    out.push("}");
  }
  return `${out.join("\n")}\n`;
}

async function main(argv) {
  const args = argv.slice(2);
  const at = args.indexOf("--import");
  let from;
  if (at >= 0) {
    from = args[at + 1];
    args.splice(at, 2);
  }
  const source = args[0];
  if (!source || source === "--help" || from === undefined && at >= 0) {
    process.stderr.write("usage: sockeye-types <asyncapi.json file or URL> [--import <module>] > channels.ts\n");
    return 2;
  }
  let text;
  try {
    text = /^https?:\/\//.test(source) ? await (await fetch(source)).text() : await readFile(source, "utf8");
  } catch (e) {
    process.stderr.write(`sockeye-types: cannot read ${source}: ${e.message}\n`);
    return 1;
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    process.stderr.write(`sockeye-types: ${source} is not JSON: ${e.message}\n`);
    return 1;
  }
  if (typeof doc !== "object" || doc === null || !String(doc.asyncapi ?? "").startsWith("3.")) {
    process.stderr.write(`sockeye-types: ${source} is not an AsyncAPI 3 document\n`);
    return 1;
  }
  process.stdout.write(generate(doc, { from, source }));
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv);
}
