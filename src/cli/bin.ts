#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runCli } from './main.js';

const code = await runCli(process.argv.slice(2), {
  stdin: () => {
    const b = readFileSync(0);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  },
  stdout: (b) => {
    process.stdout.write(b);
  },
  stderr: (s) => {
    process.stderr.write(s);
  },
  env: process.env,
});
process.exitCode = code;
