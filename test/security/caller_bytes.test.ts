/**
 * Finding 5 of the security review: no function writes a caller's bytes, every entry point takes any Uint8Array view
 * (a Node Buffer, at any offset of a shared pool), and no input to one call changes another call's verdict.
 *
 * Each entry point gets its input as a Buffer view at a non-zero offset of a larger ArrayBuffer (and as a small
 * Buffer from Node's shared pool); after the call, the whole backing ArrayBuffer must be byte for byte what it was.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CertificateStore,
  decryptMessage,
  encryptMessage,
  openMessage,
  signMessage,
  verifyMessage,
} from '../../src/index.js';
import { pemBlocks } from '../../src/lib/pem.js';
import { REPO, SHARED_VECTORS, sharedAvailable } from '../_helpers/env.js';
import { CHAIN, certPem, manifest, PASSWORD, ROOT, storeWith, vfile } from '../_helpers/identities.js';
import { cmsOf, makePki } from '../sign/_pki.js';

/** `bytes` copied into a Buffer that views a larger ArrayBuffer at an odd offset, the rest filled with 0xa5. */
function pooled(bytes: Uint8Array | string): Buffer {
  const src = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const backing = new ArrayBuffer(src.length + 97);
  new Uint8Array(backing).fill(0xa5);
  const view = Buffer.from(backing, 41, src.length);
  view.set(src);
  return view;
}

/** Calls `f` on the view and checks that the whole backing buffer is unchanged afterwards. */
async function untouched<T>(view: Buffer, f: (b: Buffer) => Promise<T> | T): Promise<T> {
  const before = new Uint8Array(view.buffer.slice(0));
  const out = await f(view);
  expect(Buffer.compare(Buffer.from(view.buffer), Buffer.from(before.buffer))).toBe(0);
  return out;
}

const der = (pem: string) => pemBlocks(pem)[0]!.der;
const MIME = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\nhello\r\n';

describe('caller bytes are never written, any view works', () => {
  // First in the file: the module-level signature caches are still empty, so nothing hides the bug.
  it('addTrustAnchor of a small DER file (a pooled view) trusts the root, and poisons no other store', async () => {
    const alice = await storeWith(['alice-sign']);
    const signed = await signMessage(MIME, { store: alice, from: 'alice@example.com' });
    // As `store.addTrustAnchor(fs.readFileSync('root.crt'))` does: a small DER file comes back as a pooled view.
    const pooledStore = await storeWith([], [], { trust: false });
    pooledStore.addTrustAnchor(Buffer.from(der(ROOT())));
    expect((await verifyMessage(signed, { store: pooledStore, harvest: false })).signers[0]!.status).toBe('valid');
    const fresh = await storeWith([]);
    expect((await verifyMessage(signed, { store: fresh, harvest: false })).signers[0]!.status).toBe('valid');
  });
  it('verifyMessage of raw DER (opaque signed-data) given as a Buffer view: valid, twice, input unchanged', async () => {
    const alice = await storeWith(['alice-sign']);
    const signed = await signMessage(MIME, { store: alice, from: 'alice@example.com', detached: false });
    const view = pooled(cmsOf(signed));
    const bob = await storeWith(['bob']);
    for (let i = 0; i < 2; i++) {
      const r = await untouched(view, (b) => verifyMessage(b, { store: bob, harvest: false }));
      expect(r.signers.map((s) => s.status)).toEqual(['valid']);
    }
    // A small Buffer of Node's shared allocation pool too.
    const small = Buffer.from(cmsOf(signed));
    const r = await untouched(small, (b) => verifyMessage(b, { store: bob, harvest: false }));
    expect(r.signers[0]!.status).toBe('valid');
  });

  it('openMessage, decryptMessage, encryptMessage, signMessage with Buffer views', async () => {
    const alice = await storeWith(['alice-sign'], ['bob']);
    const signedView = pooled(await signMessage(MIME, { store: alice, from: 'alice@example.com' }));
    const bob = await storeWith(['bob']);
    const opened = await untouched(signedView, (b) => openMessage(b, { store: bob, harvest: false }));
    expect(opened.signers[0]!.status).toBe('valid');

    const enc = await untouched(pooled(MIME), (b) => encryptMessage(b, { store: alice, to: ['bob@example.com'] }));
    for (const input of [pooled(enc), pooled(cmsOf(enc))]) {
      const d = await untouched(input, (b) => decryptMessage(b, { store: bob }));
      expect(Buffer.from(d.content).toString('latin1')).toContain('hello');
    }
    // The browser entry's code path (no Node accelerators): an injected Crypto is used as it is.
    const d = await untouched(pooled(enc), (b) => decryptMessage(b, { store: bob, crypto: globalThis.crypto }));
    expect(Buffer.from(d.content).toString('latin1')).toContain('hello');
    const s = await untouched(pooled(MIME), (b) => signMessage(b, { store: alice, from: 'alice@example.com' }));
    expect((await verifyMessage(s, { store: bob, harvest: false })).signers[0]!.status).toBe('valid');
  });

  it('store inputs as Buffer views: importPkcs12, importIdentity, addCertificate, addTrustAnchor, addCrl', async () => {
    const id = manifest.identities['bob']!;
    const store = new CertificateStore();
    await untouched(pooled(vfile(id.p12)), (b) => store.importPkcs12(b, PASSWORD));
    const other = new CertificateStore();
    await untouched(pooled(vfile(id.cert)), (b) => untouched(pooled(vfile(id.key)), (k) => other.importIdentity(b, k)));
    expect(other.identities).toHaveLength(1);
    await untouched(pooled(der(certPem('alice-sign'))), (b) => store.addCertificate(b));
    await untouched(pooled(CHAIN()), (b) => store.addCertificate(b));
    await untouched(pooled(der(ROOT())), (b) => store.addTrustAnchor(b));
    const pki = await makePki();
    expect(await untouched(pooled(pki.crlDer), (b) => store.addCrl(b))).toBe(1);
    expect(await untouched(pooled(readFileSync(pki.crlFile)), (b) => store.addCrl(b))).toBe(1);
  });

});

/** PKITS messages: the same verdicts in a fresh process and after hostile inputs in this one. */
const PKITS = sharedAvailable() ? join(SHARED_VECTORS, 'pkits') : undefined;
const pkitsNames = PKITS ? readdirSync(join(PKITS, 'smime')).filter((f) => f.endsWith('.eml')).sort().slice(0, 60) : [];

describe.runIf(PKITS)('verdicts do not depend on earlier calls', () => {
  const anchorDer = () => readFileSync(join(PKITS!, 'certs', 'TrustAnchorRootCertificate.crt'));
  const at = new Date('2020-01-01T00:00:00Z');
  async function verdicts(store: CertificateStore): Promise<string[]> {
    const out: string[] = [];
    for (const n of pkitsNames) {
      try {
        const r = await verifyMessage(readFileSync(join(PKITS!, 'smime', n)), { store, harvest: false, at });
        out.push(`${n} ${r.signers.map((s) => `${s.status}:${s.reasons.filter((x) => !x.startsWith('address-mismatch')).join('|')}`).join(',')}`);
      } catch (e) {
        out.push(`${n} ${(e as { code?: string }).code ?? 'throw'}`);
      }
    }
    return out;
  }
  const fresh = () => {
    const s = new CertificateStore({ now: () => at });
    s.addTrustAnchor(new Uint8Array(anchorDer()));
    return s;
  };

  it('same verdicts in a fresh process, before and after hostile inputs', async () => {
    const first = await verdicts(fresh());
    // Hostile inputs: the anchor given as a pooled view (wrongly sliced before the fix), the anchor with a flipped
    // signature byte, garbage, and a message whose certificates were tampered with.
    const hostile = new CertificateStore({ now: () => at });
    hostile.addTrustAnchor(Buffer.from(anchorDer()));
    const flipped = new Uint8Array(anchorDer());
    flipped[flipped.length - 5]! ^= 1;
    hostile.addTrustAnchor(flipped);
    await verdicts(hostile);
    for (const n of pkitsNames.slice(0, 10)) {
      const m = new Uint8Array(readFileSync(join(PKITS!, 'smime', n)));
      for (let i = 400; i < m.length; i += 997) m[i] ^= 0x20;
      await verifyMessage(m, { store: hostile, harvest: false, at }).catch(() => undefined);
    }
    expect(await verdicts(fresh())).toEqual(first);

    // A fresh process (the built package) gives the same verdicts.
    const script = `
      import { readFileSync } from 'node:fs';
      import { join } from 'node:path';
      const { CertificateStore, verifyMessage } = await import(${JSON.stringify(join(REPO, 'dist', 'index.node.js'))});
      const dir = ${JSON.stringify(PKITS)};
      const at = new Date('2020-01-01T00:00:00Z');
      const s = new CertificateStore({ now: () => at });
      s.addTrustAnchor(new Uint8Array(readFileSync(join(dir, 'certs', 'TrustAnchorRootCertificate.crt'))));
      const out = [];
      for (const n of ${JSON.stringify(pkitsNames)}) {
        try {
          const r = await verifyMessage(readFileSync(join(dir, 'smime', n)), { store: s, harvest: false, at });
          out.push(n + ' ' + r.signers.map((x) => x.status + ':' + x.reasons.filter((y) => !y.startsWith('address-mismatch')).join('|')).join(','));
        } catch (e) { out.push(n + ' ' + (e.code ?? 'throw')); }
      }
      process.stdout.write(JSON.stringify(out));`;
    const child = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
    expect(child).toEqual(first);
  });
});
