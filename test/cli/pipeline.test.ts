/**
 * The built `smime` command (dist/cli/smime.js) in real shell pipelines (issue 10, CLI item).
 * stdin used to be read with readFileSync(0): behind a slow writer (`(sleep 0.3; cat msg) | smime verify`) the read
 * found an empty non-blocking pipe and failed with EAGAIN (exit 70). stdout was written without an 'error' listener:
 * when the reader left early (`| head -c 10`, `| true`) the process died on EPIPE with a stack trace, and a broken
 * stderr did the same. Now stdin is a stream, stdout is written with backpressure, EPIPE on stdout is a quiet exit 141,
 * and a failing stderr is ignored. Run `npm run build` first (`npm test` does it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { sh as shellRun } from './_sh.js';

const SMIME = join(REPO, 'dist', 'cli', 'smime.js');
const RUNS = 20;
const td = new TextDecoder();

/** Runs a `sh -c` script (test/cli/_sh.ts) with $SMIME set to the built bin besides the given variables. */
const sh = (script: string, env: Record<string, string>) => shellRun(script, { SMIME, ...env });

const v = (rel: string) => join(VECTORS, rel);
const PLAIN = new Uint8Array(readFileSync(v('openssl/plain.txt')));
const VERIFY = '"$NODE" "$SMIME" verify --cert "$CHAIN" --trust "$ROOT" --report "$REPORT"';
const DECRYPT = '"$NODE" "$SMIME" decrypt --identity "$P12" --password "$PASSWORD" --report "$REPORT"';
/**
 * A slow writer: nothing for 0.3 s, then the first 1000 bytes, then the rest 0.2 s later. A plain `(sleep 0.3; cat)`
 * raced with the CLI's own start-up (about 0.3 s): the old readFileSync(0) failed with EAGAIN only when it ran first.
 * With a gap inside the message it meets an empty pipe whenever it reads before the end (most runs).
 */
const SLOW = '(sleep 0.3; head -c 1000 "$MSG"; sleep 0.2; tail -c +1001 "$MSG")';
/**
 * The repeated runs go PARALLEL at a time (most of a lone run is the writer's sleeps), with the rest of the message
 * 0.7 s after its first 1000 bytes instead of 0.2 s: the CLI, slower to start beside its siblings, has 1 s instead
 * of 0.5 s to make its first read before the end (that read then meets an empty pipe), as a lone run with SLOW.
 */
const SLOW_RUN = '(sleep 0.3; head -c 1000 "$MSG"; sleep 0.7; tail -c +1001 "$MSG")';
const PARALLEL = 5;

/** Runs `run(0)` … `run(count - 1)`, PARALLEL at a time; the results in that order. */
async function inParallel<T>(count: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await run(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, lane));
  return results;
}
const TRUST = { CHAIN: v('pki/chain.pem'), ROOT: v('pki/root-ca.cert.pem') };
const BOB = { P12: v('identities/bob.p12'), PASSWORD };

let dir = '';
let big = '';
let bigPlain = 0;

beforeAll(async () => {
  if (!existsSync(SMIME)) throw new Error('dist/cli/smime.js is missing: run `npm run build` first');
  const built = statSync(SMIME).mtimeMs;
  for (const f of readdirSync(join(REPO, 'src', 'cli'))) {
    if (statSync(join(REPO, 'src', 'cli', f)).mtimeMs > built) throw new Error(`dist/cli/smime.js is older than src/cli/${f}: run \`npm run build\``);
  }
  dir = tmp('smime-cli-pipeline-');
  // A message of a few MiB to bob, made by the CLI from files (no pipe involved).
  const lines = 'x'.repeat(70) + '\r\n';
  const text = 'Content-Type: text/plain\r\n\r\n' + lines.repeat(50_000);
  bigPlain = text.length;
  writeFileSync(join(dir, 'big.txt'), text);
  big = join(dir, 'big.eml');
  const r = await sh('"$NODE" "$SMIME" encrypt --to bob@example.com --cert "$BOBCERT" --cert "$CHAIN" --trust "$ROOT" --in "$IN" --out "$OUT"', {
    ...TRUST,
    BOBCERT: v('identities/bob.cert.pem'),
    IN: join(dir, 'big.txt'),
    OUT: big,
  });
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(statSync(big).size).toBeGreaterThan(4 << 20);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true }); // a few MiB of messages
});

function verifyReport(path: string) {
  const r = JSON.parse(readFileSync(path, 'utf8')) as { command: string; signers: { email: string; status: string; reasons: string[] }[] };
  expect(r.command).toBe('verify');
  expect(r.signers.map((s) => [s.email, s.status, s.reasons])).toEqual([['alice@example.com', 'valid', []]]);
}

function decryptReport(path: string) {
  const r = JSON.parse(readFileSync(path, 'utf8')) as { command: string; recipient: { subject: string } };
  expect(r.command).toBe('decrypt');
  expect(r.recipient.subject).toMatch(/Bob/);
}

describe('smime reads stdin from a slow writer', () => {
  it(`(sleep 0.3; cat msg in two pieces) | smime verify: exit 0, the content and a valid report, ${RUNS} times (${PARALLEL} at a time)`, async () => {
    const runs = await inParallel(RUNS, (i) =>
      sh(`${SLOW_RUN} | ${VERIFY}`, { ...TRUST, MSG: v('openssl/sig-rsa-opaque.eml'), REPORT: join(dir, `verify.${i}.json`) }),
    );
    // all the codes are compared first, so one failure shows them all
    expect(runs.map((r) => r.code)).toEqual(new Array(RUNS).fill(0));
    runs.forEach((r, i) => {
      expect(r.err).toBe('');
      expect(r.out).toEqual(PLAIN);
      verifyReport(join(dir, `verify.${i}.json`));
    });
  });

  it(`(sleep 0.3; cat msg in two pieces) | smime decrypt: exit 0, the plaintext and the report, ${RUNS} times (${PARALLEL} at a time)`, async () => {
    const runs = await inParallel(RUNS, (i) =>
      sh(`${SLOW_RUN} | ${DECRYPT}`, { ...BOB, MSG: v('openssl/enc-to-bob-only.eml'), REPORT: join(dir, `decrypt.${i}.json`) }),
    );
    expect(runs.map((r) => r.code)).toEqual(new Array(RUNS).fill(0));
    runs.forEach((r, i) => {
      expect(r.err).toBe('');
      expect(r.out).toEqual(PLAIN);
      decryptReport(join(dir, `decrypt.${i}.json`));
    });
  });

  it('a message of a few MiB through a slow pipe decrypts whole (many chunks joined in order)', async () => {
    const report = join(dir, 'big-decrypt.json');
    const r = await sh(`${SLOW} | ${DECRYPT}`, { ...BOB, MSG: big, REPORT: report });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const viaFile = await sh(`${DECRYPT} --in "$MSG"`, { ...BOB, MSG: big, REPORT: join(dir, 'big-decrypt-file.json') });
    expect(viaFile.code).toBe(0);
    expect(r.out.length).toBeGreaterThan(bigPlain * 0.9);
    expect(Buffer.compare(r.out, viaFile.out)).toBe(0);
    decryptReport(report);
  });

  it('smime verify < msg (a redirected file): exit 0, the content and a valid report', async () => {
    const report = join(dir, 'redirect.json');
    const r = await sh(`${VERIFY} < "$MSG"`, { ...TRUST, MSG: v('openssl/sig-rsa-opaque.eml'), REPORT: report });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toEqual(PLAIN);
    verifyReport(report);
  });
});

describe.concurrent('smime when its reader goes away early', () => {
  // sh has no PIPESTATUS: the CLI's exit code goes to a file.
  for (const [name, reader] of [
    ['head -c 10', 'head -c 10'],
    ['true', 'true'],
  ] as const) {
    it(`smime decrypt (a few MiB) | ${name}: exit 141 quietly, no report, nothing on stderr`, async () => {
      const code = join(dir, `epipe-${name.replace(/\W/g, '')}.code`);
      const report = join(dir, `epipe-${name.replace(/\W/g, '')}.json`);
      const r = await sh(`{ ${DECRYPT} --in "$MSG" 2>"$ERR"; echo $? > "$CODE"; } | ${reader}`, {
        ...BOB,
        MSG: big,
        REPORT: report,
        ERR: `${code}.err`,
        CODE: code,
      });
      expect(r.code).toBe(0); // the pipeline's status is the reader's
      const err = readFileSync(`${code}.err`, 'utf8');
      expect(err).not.toMatch(/Error|EPIPE|at /);
      expect(err).toBe('');
      expect(readFileSync(code, 'utf8').trim()).toBe('141');
      if (name === 'head -c 10') expect(td.decode(r.out)).toBe('Content-Ty');
      expect(existsSync(report)).toBe(false);
    });
  }

  it('cat big | smime decrypt | true (stdin and stdout both pipes): exit 141 quietly', async () => {
    const code = join(dir, 'epipe-stdin.code');
    await sh(`{ cat "$MSG" | ${DECRYPT} 2>"$ERR"; echo $? > "$CODE"; } | true`, { ...BOB, MSG: big, REPORT: join(dir, 'x.json'), ERR: `${code}.err`, CODE: code });
    expect(readFileSync(`${code}.err`, 'utf8')).toBe('');
    expect(readFileSync(code, 'utf8').trim()).toBe('141');
  });

  it('a usage error when stderr is a closed pipe: still exit 2, no crash', async () => {
    // The reader (`true`) is gone before the CLI starts, so the write to stderr fails every time.
    const code = join(dir, 'stderr.code');
    const r = await sh(`(sleep 0.3; "$NODE" "$SMIME" frobnicate 2>&1 >/dev/null; echo $? > "$CODE") | true`, { CODE: code });
    expect(r.code).toBe(0);
    expect(readFileSync(code, 'utf8').trim()).toBe('2');
  });

  it('a producer that keeps writing does not matter when the input comes from --in: exit 0, the content', async () => {
    const report = join(dir, 'producer.json');
    const r = await sh(`cat "$MSG" "$MSG" "$MSG" | ${VERIFY} --in "$IN"`, { ...TRUST, MSG: big, IN: v('openssl/sig-rsa-opaque.eml'), REPORT: report });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toEqual(PLAIN);
    verifyReport(report);
  });
});
