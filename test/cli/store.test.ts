/**
 * `--store FILE` through the BUILT bin (run `npm run build` first): a store file made by `smime import` (a PKCS#12,
 * a signed message), then used by encrypt, decrypt, verify; its password (wrong: exit 7, nothing written), a
 * corrupted file (exit 5), a missing file (only writers create it), the lock file (a second writer waits, then
 * fails with exit 6; a stale lock is taken over), two writers at once (both land, the file always parses), and
 * verify harvesting written back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp, VECTORS } from '../_helpers/env.js';
import { PASSWORD } from '../_helpers/identities.js';
import { checkBuilt, S, sh } from './_sh.js';
import { CertificateStore, nodeCrypto, setCrypto } from '../../src/index.node.js';

const v = (rel: string) => join(VECTORS, rel);
const STORE_PW = 'store-secret';

let dir = '';
/** The variables every script gets: the files, and the store password in SMIME_STORE_PASSWORD. */
let env: Record<string, string> = {};
/** The same without the store password. */
const noPassword = () => Object.fromEntries(Object.entries(env).filter(([k]) => k !== 'SMIME_STORE_PASSWORD'));

beforeAll(async () => {
  checkBuilt();
  setCrypto(nodeCrypto());
  dir = tmp('smime-cli-store-');
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
  writeFileSync(join(dir, 'storepw'), `${STORE_PW}\n`);
  writeFileSync(
    join(dir, 'msg.txt'),
    'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: numbers\r\nContent-Type: text/plain\r\n\r\nthe numbers\r\n',
  );
  env = {
    D: dir,
    PW: join(dir, 'pw'),
    ROOT: v('pki/root-ca.cert.pem'),
    BOB: v('identities/bob.p12'),
    ASIGN: v('identities/alice-sign.p12'),
    AENC: v('identities/alice-enc-2025.p12'),
    SMIME_STORE_PASSWORD: STORE_PW,
  };
  // Alice's store (her signing and encryption identities), and a message she signs with it.
  const a = await sh(`${S} import --store "$D/alice.store" --password-file "$PW" "$ASIGN" "$AENC" && ${S} sign --store "$D/alice.store" --from alice@example.com --in "$D/msg.txt" --out "$D/signed.eml"`, env);
  expect(a.err).toBe('');
  expect(a.code).toBe(0);
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The store file read back with the library (throws unless it is whole). */
async function readStore(path: string, password = STORE_PW): Promise<CertificateStore> {
  return CertificateStore.import(new Uint8Array(readFileSync(path)), { password });
}

/** No temporary or lock file left beside the stores. */
function leftovers(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'));
}

describe('a store made by smime import, then used', () => {
  it('imports a PKCS#12 and a signed message into a new store; encrypt --store reaches the learned contact, decrypt --store opens', async () => {
    const imp = await sh(`${S} import --store "$D/bob.store" --password-file "$PW" --trust "$ROOT" "$BOB" "$D/signed.eml"`, env);
    expect(imp.err).toBe('');
    expect(imp.code).toBe(0);
    expect(imp.stdout).toMatch(/bob\.p12: identity C=US, O=smime-core demo, CN=Bob Example, serial 2005/);
    expect(imp.stdout).toMatch(/signed\.eml: certificate .*CN=Alice Example, serial 2004/); // her encryption certificate, from the signature
    expect(imp.stdout).toMatch(/3 added to .*bob\.store\n$/);
    const bob = await readStore(join(dir, 'bob.store'));
    expect(bob.identities.map((i) => i.certificate.serialNumber)).toEqual(['2005']);
    expect(bob.preference('alice@example.com')?.certificate?.serialNumber).toBe('2004');
    expect(bob.certificates().filter((c) => c.role === 'anchor').map((c) => c.certificate.serialNumber)).toEqual(['1000']);

    const enc = await sh(`${S} encrypt --store "$D/bob.store" --to alice@example.com --from bob@example.com --in "$D/msg.txt" --out "$D/to-alice.eml"`, env);
    expect(enc.err).toBe('');
    expect(enc.code).toBe(0);
    const dec = await sh(`${S} decrypt --store "$D/alice.store" --in "$D/to-alice.eml"`, env);
    expect(dec.err).toBe('');
    expect(dec.code).toBe(0);
    expect(dec.stdout).toContain('the numbers');
    // Bob's own copy opens with Bob's store; encrypt did not write his store (it learns nothing without --ldap).
    const own = await sh(`${S} decrypt --store "$D/bob.store" --store-password-file "$D/storepw" --in "$D/to-alice.eml"`, noPassword());
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('the numbers');
    expect(leftovers()).toEqual([]);
  });

  it('a wrong store password: exit 7, the store file unchanged, no output written', async () => {
    await sh(`${S} import --store "$D/pw.store" --password-file "$PW" "$BOB"`, env);
    const before = readFileSync(join(dir, 'pw.store'));
    for (const cmd of [`import --store "$D/pw.store" --password-file "$PW" "$AENC"`, `verify --store "$D/pw.store" --in "$D/signed.eml" --out "$D/pw-out"`]) {
      const r = await sh(`${S} ${cmd}`, { ...env, SMIME_STORE_PASSWORD: 'Wr0ng-Guess' });
      expect(r.code).toBe(7);
      expect(r.err).toMatch(/^smime: .*pw\.store: ERR_STORE_BAD_PASSWORD: /);
      expect(r.err).not.toContain('Wr0ng-Guess');
      expect(readFileSync(join(dir, 'pw.store')).equals(before)).toBe(true);
    }
    expect(existsSync(join(dir, 'pw-out'))).toBe(false);
    // No password at all, and no terminal to ask on: exit 7 with the options to give it.
    const none = await sh(`${S} certs --store "$D/pw.store"`, noPassword());
    expect(none.code).toBe(7);
    expect(none.err).toMatch(/no store password given: give it with --store-password-file FILE, --store-password-env NAME or --store-password-fd N/);
    expect(leftovers()).toEqual([]);
  });

  it('a corrupted or truncated store: exit 5 (ERR_STORE_INVALID or the authentication failing), nothing written', async () => {
    await sh(`${S} import --store "$D/c.store" --password-file "$PW" "$BOB"`, env);
    const good = readFileSync(join(dir, 'c.store'));
    writeFileSync(join(dir, 'trunc.store'), good.subarray(0, 40));
    const t = await sh(`${S} certs --store "$D/trunc.store"`, env);
    expect(t.code).toBe(5);
    expect(t.err).toMatch(/trunc\.store: ERR_STORE_INVALID: /);
    writeFileSync(join(dir, 'junk.store'), 'not a store at all\n');
    const j = await sh(`${S} import --store "$D/junk.store" --password-file "$PW" "$AENC"`, env);
    expect(j.code).toBe(5);
    expect(readFileSync(join(dir, 'junk.store'), 'utf8')).toBe('not a store at all\n');
    // One flipped byte in the sealed part: the whole file is authenticated (wrong password or modified: exit 7).
    const flipped = Buffer.from(good);
    flipped[flipped.length - 20]! ^= 1;
    writeFileSync(join(dir, 'flip.store'), flipped);
    const f = await sh(`${S} certs --store "$D/flip.store"`, env);
    expect(f.code).toBe(7);
    expect(f.err).toMatch(/ERR_STORE_BAD_PASSWORD/);
    expect(leftovers()).toEqual([]);
  });

  it('a store file that does not exist: readers refuse it (exit 6), writers create it', async () => {
    const r = await sh(`${S} decrypt --store "$D/nothere.store" --in "$D/signed.eml"`, env);
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/nothere\.store: no such store file \(smime import --store .* FILE\.\.\. creates one\)/);
    expect(existsSync(join(dir, 'nothere.store'))).toBe(false);
    // verify is a writer (it harvests): from an empty store its signer is untrusted, and the file now exists.
    const w = await sh(`${S} verify --store "$D/new-by-verify.store" --in "$D/signed.eml" --out /dev/null`, env);
    expect(w.code).toBe(1);
    expect((await readStore(join(dir, 'new-by-verify.store'))).certificates()).toEqual([]);
  });

  it('verify --store harvests what a valid signature teaches and writes it back; the --trust given on that command line is not saved', async () => {
    const w = await sh(`${S} verify --store "$D/harvest.store" --trust "$ROOT" --in "$D/signed.eml" --out /dev/null`, env);
    expect(w.err).toBe('');
    expect(w.code).toBe(0);
    const s = await readStore(join(dir, 'harvest.store'));
    expect(s.preference('alice@example.com')?.certificate?.serialNumber).toBe('2004');
    expect(s.certificates().some((c) => c.role === 'anchor')).toBe(false);
    // The harvested contact is used by the next run (encrypt needs the anchor again, given for that run only).
    const enc = await sh(`${S} encrypt --store "$D/harvest.store" --trust "$ROOT" --to alice@example.com --in "$D/msg.txt" --out "$D/h.eml"`, env);
    expect(enc.err).toBe('');
    expect(enc.code).toBe(0);
  });
});

describe('the lock file and concurrent writers', () => {
  it('a lock held by a running process: the writer waits SMIME_STORE_LOCK_WAIT_MS, then fails with exit 6; the file is untouched', async () => {
    await sh(`${S} import --store "$D/locked.store" --password-file "$PW" "$BOB"`, env);
    const before = readFileSync(join(dir, 'locked.store'));
    writeFileSync(join(dir, 'locked.store.lock'), `${process.pid}\n`); // this test's process: alive
    try {
      const t0 = Date.now();
      const r = await sh(`${S} import --store "$D/locked.store" --password-file "$PW" "$AENC"`, { ...env, SMIME_STORE_LOCK_WAIT_MS: '400' });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
      expect(r.code).toBe(6);
      expect(r.err).toBe(`smime: ${join(dir, 'locked.store.lock')}: the store is locked by another smime (pid ${process.pid}); try again, or remove the lock file if no smime is running\n`);
      expect(readFileSync(join(dir, 'locked.store')).equals(before)).toBe(true);
      // A reader does not take the lock.
      expect((await sh(`${S} certs --store "$D/locked.store"`, env)).code).toBe(0);
    } finally {
      rmSync(join(dir, 'locked.store.lock'), { force: true });
    }
  });

  it('a stale lock (its pid no longer runs) is taken over', async () => {
    await sh(`${S} import --store "$D/stale.store" --password-file "$PW" "$BOB"`, env);
    const dead = (await sh('sh -c "echo \\$\\$"')).stdout.trim(); // a shell that has exited
    writeFileSync(join(dir, 'stale.store.lock'), `${dead}\n`);
    const r = await sh(`${S} import --store "$D/stale.store" --password-file "$PW" "$AENC"`, { ...env, SMIME_STORE_LOCK_WAIT_MS: '200' });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect((await readStore(join(dir, 'stale.store'))).identities).toHaveLength(2);
    expect(leftovers()).toEqual([]);
  });

  it('two imports at once into the same new store: both land (the second waits for the first), the file always parses', async () => {
    const r = await sh(
      `${S} import --store "$D/both.store" --password-file "$PW" "$BOB" > "$D/o1" 2>&1 & ` +
        `${S} import --store "$D/both.store" --password-file "$PW" "$AENC" > "$D/o2" 2>&1 & ` +
        // Meanwhile the file, whenever it exists, is a whole store (a reader never sees half of one).
        `i=0; while [ $i -lt 40 ]; do [ -f "$D/both.store" ] && cp "$D/both.store" "$D/snap.$i"; i=$((i+1)); sleep 0.05; done; wait`,
      env,
    );
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'o1'), 'utf8')).toMatch(/1 added/);
    expect(readFileSync(join(dir, 'o2'), 'utf8')).toMatch(/1 added/);
    const s = await readStore(join(dir, 'both.store'));
    expect(s.identities.map((i) => i.certificate.serialNumber).sort()).toEqual(['2004', '2005']);
    for (const f of readdirSync(dir).filter((n) => n.startsWith('snap.'))) await readStore(join(dir, f));
    expect(leftovers()).toEqual([]);
  });
});
