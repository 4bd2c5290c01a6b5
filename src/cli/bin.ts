#!/usr/bin/env node
// The `smime` executable: runCli (main.ts) over the process's own stdin, stdout and stderr, read and written as
// streams (stdio.ts) so that slow pipes and readers that leave early (`| head`) behave. When stdin is a terminal, a
// password not given otherwise is asked for there, without echo. glibc's heap is set for streaming first
// (malloc_tuning.ts).
import { tuneMallocForStreaming } from './malloc_tuning.js';
import { runCli } from './main.js';
import { promptHidden, readStdin, writeStderr, writeStdout } from './stdio.js';
import { stdinInput } from './stream_io.js';

tuneMallocForStreaming();
const code = await runCli(process.argv.slice(2), {
  stdin: readStdin,
  stdinStream: stdinInput,
  stdout: writeStdout,
  stdoutReusable: true,
  stderr: writeStderr,
  env: process.env,
  ...(process.stdin.isTTY ? { prompt: promptHidden } : {}),
});
process.exitCode = code;
