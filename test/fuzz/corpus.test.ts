/**
 * Replays every input the fuzzer saved in test/fuzz/corpus/ through its target (the file name says which:
 * `<target>-<hash>.bin`), as a plain Uint8Array and as a Node Buffer view at an offset of a larger buffer, and
 * checks the fuzz property on each: a result or a SmimeError, and the input unchanged. A `.bin.known` entry is a
 * failure others are fixing (KNOWN.json names the finding): it runs with `it.fails` until the fix lands, and then
 * must be renamed to `.bin`. A `.bin.slow` entry took the long runner over 2 s: it is replayed once (plain
 * delivery), for the property only, never timed. A `<target>-<hash>.pw` file holds the PKCS#12 password when it is
 * not the vectors' one. A stream target's entry (`decryptStream-…`) is replayed in one piece and, as a Buffer view, in
 * 64 single bytes and then pieces of up to 7 bytes; a `<target>-<hash>.pieces.json` file (the long runner writes it)
 * holds the pieces the fuzzer cut the input into, and the entry is replayed in those too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KNOWN_INDEX } from './_fuzz.js';
import { TARGET_NAMES, runCase, targetContext, type Delivery, type TargetName } from './_targets.js';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), 'corpus');
const FILE = /^([A-Za-z0-9]+)-([0-9a-f]{12})\.bin(\.known|\.slow)?$/;
const files = readdirSync(CORPUS)
  .filter((f) => FILE.test(f))
  .sort();
const known: Record<string, string> = existsSync(join(CORPUS, KNOWN_INDEX)) ? JSON.parse(readFileSync(join(CORPUS, KNOWN_INDEX), 'utf8')) : {};

async function replay(file: string): Promise<void> {
  const [, target, hash] = FILE.exec(file)!;
  const input = new Uint8Array(readFileSync(join(CORPUS, file)));
  const pw = join(CORPUS, `${target}-${hash}.pw`);
  const base = await targetContext();
  const ctx = existsSync(pw) ? { ...base, password: readFileSync(pw, 'utf8') } : base;
  const deliveries: Delivery[] = [{ view: false }, { view: true, pieces: { one: false, prefix: 64, max: 7, rnd: 1 } }];
  const pieces = join(CORPUS, `${target}-${hash}.pieces.json`);
  if (existsSync(pieces)) deliveries.push({ view: false, pieces: JSON.parse(readFileSync(pieces, 'utf8')) });
  for (const how of file.endsWith('.slow') ? deliveries.slice(0, 1) : deliveries) await runCase(target as TargetName, input, ctx, how);
}

describe('fuzz corpus replay', () => {
  it('holds only entries of known targets, each .known one named in KNOWN.json', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      expect(TARGET_NAMES, f).toContain(FILE.exec(f)![1]);
      if (f.endsWith('.known')) expect(known[f], `${f} needs an entry in ${KNOWN_INDEX}`).toBeTruthy();
    }
  });
  for (const f of files) {
    if (f.endsWith('.known')) it.fails(`${f} (known: ${known[f] ?? 'unnamed'})`, () => replay(f));
    else it(f, () => replay(f));
  }
});
