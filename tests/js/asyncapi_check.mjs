// Validates an AsyncAPI document with the AsyncAPI initiative's own parser (@asyncapi/parser).
// Usage: node asyncapi_check.mjs FILE; exits 1 on any error-level diagnostic.
import { Parser } from '@asyncapi/parser';
import fs from 'node:fs';
const doc = fs.readFileSync(process.argv[2], 'utf8');
const parser = new Parser();
const { document, diagnostics } = await parser.parse(doc);
const errors = diagnostics.filter(d => d.severity === 0);
for (const d of diagnostics) console.log(d.severity, d.code, d.message, JSON.stringify(d.path));
if (!document || errors.length) { console.log('INVALID'); process.exit(1); }
console.log('VALID', document.channels().length, 'channels', document.operations().length, 'operations');
