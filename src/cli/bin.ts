#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { runCli } from './main.js';

const code = await runCli(process.argv.slice(2), {
  stdin: () => new Uint8Array(readFileSync(0)),
  stdout: (b) => {
    process.stdout.write(b);
  },
  stderr: (s) => {
    process.stderr.write(s);
  },
  env: process.env,
});
process.exitCode = code;
