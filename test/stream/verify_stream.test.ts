/**
 * verifyStream (src/verify_stream.ts): every signed vector verifyMessage reads (vectors/ and ../shared/vectors) goes
 * through verifyStream at chunk sizes 7 (small ones), 4096, 65536 and whole: the same signers (status, reasons,
 * addresses, algorithms, signing time), the same content byte for byte, or the same error. `openssl cms -sign
 * -stream` output (BER, indefinite lengths) made here; tampered content (done: invalid, as verifyMessage says);
 * truncated input (error); limits; refusals before the stream starts; backpressure.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CertificateStore, signMessage, signStream, verifyMessage, verifyStream, type VerifyResult } from '../../src/index.js';
import { CMSInvalid, CMSLimitExceeded, MIMEInvalid, MIMELimitExceeded, SmimeError } from '../../src/errors.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { manifest, REFERENCE_DATE as REF, storeWith } from '../_helpers/identities.js';
import { hasPeer, run, SHARED_VECTORS, sharedAvailable, tmp, VECTORS } from '../_helpers/env.js';
import { ROOT_CA_FILE as ROOT } from '../_helpers/peers.js';
import { bigMessage, collect, enc, source } from './_streams.js';


/** What verifyMessage and verifyStream must agree on. */
function summary(r: VerifyResult) {
  return {
    detached: r.detached,
    compressed: r.compressed,
    certsOnly: r.certsOnly?.length,
    signers: r.signers.map((s) => ({
      status: s.status,
      reasons: s.reasons,
      email: s.email,
      emails: s.emails,
      digest: s.digestAlgorithm,
      signature: s.signatureAlgorithm,
      signingTime: s.signingTime?.toISOString(),
      cert: s.certificate?.serialNumber,
    })),
  };
}

type Outcome = { ok: true; summary: ReturnType<typeof summary>; content: Uint8Array } | { ok: false; error: string };

async function viaBuffer(bytes: Uint8Array, store: () => Promise<CertificateStore>, opts: object): Promise<Outcome> {
  try {
    const r = await verifyMessage(bytes, { store: await store(), harvest: false, ...opts });
    return { ok: true, summary: summary(r), content: r.content };
  } catch (e) {
    return { ok: false, error: (e as Error).constructor.name };
  }
}

async function viaStream(bytes: Uint8Array, chunk: number, store: () => Promise<CertificateStore>, opts: object): Promise<Outcome> {
  try {
    const { content, done } = await verifyStream(source(bytes, chunk).stream, { store: await store(), harvest: false, ...opts });
    const got = await collect(content);
    const r = await done;
    expect(r.content.length).toBe(0);
    return { ok: true, summary: summary(r), content: got };
  } catch (e) {
    return { ok: false, error: (e as Error).constructor.name };
  }
}

/** Signed vectors: vectors/<peer>/sig-*.eml, and every message file of ../shared/vectors. */
function vectorFiles(): { name: string; path: string }[] {
  const out: { name: string; path: string }[] = [];
  for (const peer of ['openssl', 'bc', 'nss', 'gpgsm']) {
    for (const f of readdirSync(join(VECTORS, peer))) if (f.startsWith('sig-') && f.endsWith('.eml')) out.push({ name: `${peer}/${f}`, path: join(VECTORS, peer, f) });
  }
  if (sharedAvailable()) {
    const walk = (d: string): void => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(eml|p7m|p7s|message|der|inner|env)$/i.test(f)) out.push({ name: `shared/${relative(SHARED_VECTORS, p)}`, path: p });
      }
    };
    walk(SHARED_VECTORS);
  }
  return out;
}

describe('verifyStream: every vector verifyMessage reads, at every chunk size, says the same', () => {
  const files = vectorFiles();
  let anchorStore: Promise<CertificateStore> | undefined;
  const store = async (): Promise<CertificateStore> => {
    anchorStore ??= storeWith([], [], { now: () => REF });
    return anchorStore;
  };
  const opts = { policy: { allowWeak: true, minRsaBits: 1024 } };
  it('has vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });
  const counts = { signed: 0, compressed: 0, refused: 0 };
  it.each(files)('$name', async ({ path }) => {
    const bytes = new Uint8Array(readFileSync(path));
    const want = await viaBuffer(bytes, store, opts);
    if (want.ok && want.summary.compressed) counts.compressed++;
    if (want.ok) counts.signed++;
    else counts.refused++;
    // Not signed (refused by verifyMessage): refused at the head, whatever the chunk size; two sizes suffice.
    const sizes = want.ok ? [4096, 65536, bytes.length] : [4096, bytes.length];
    if (bytes.length < 16 * 1024) sizes.unshift(7);
    for (const size of sizes) {
      const got = await viaStream(bytes, Math.max(1, size), store, opts);
      if (!want.ok) {
        // Not a signed message for verifyMessage: an error for verifyStream too (a SmimeError, not a crash).
        expect(got.ok, `chunk ${size}`).toBe(false);
        expect(['MIMEInvalid', 'CMSInvalid', 'MIMELimitExceeded', 'CMSLimitExceeded'], `chunk ${size}: ${!got.ok && got.error}`).toContain((got as { error: string }).error);
        continue;
      }
      expect(got.ok, `chunk ${size}: ${!got.ok ? got.error : ''}`).toBe(true);
      if (!got.ok) continue;
      expect(got.summary, `chunk ${size}`).toEqual(want.summary);
      expect(Buffer.from(got.content).equals(Buffer.from(want.content)), `chunk ${size}: content`).toBe(true);
    }
  });
  it('read signed vectors (counts)', () => {
    console.log(`verifyStream vectors: ${counts.signed} signed, ${counts.refused} refused by both, ${counts.compressed} of them compressed`);
    expect(counts.signed).toBeGreaterThanOrEqual(20);
  });
});

const MSG = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: stream\r\nContent-Type: text/plain\r\n\r\nHello Bob.\r\n';

describe('verifyStream', () => {
  let signStoreP: Promise<CertificateStore> | undefined;
  const signStore = (): Promise<CertificateStore> => (signStoreP ??= storeWith(['alice-sign']));

  it('openssl cms -sign -stream (BER, indefinite lengths, opaque; and detached): valid, content byte-identical', async () => {
    if (!hasPeer('openssl', ['version'])) return;
    const d = tmp();
    const id = manifest.identities['alice-sign']!;
    const s = await signStore();
    // Opaque: any bytes (-binary: as they are). Detached: a MIME entity with CRLF lines (what multipart/signed signs).
    const binary = bigMessage(300_000);
    const text = enc('Content-Type: text/plain\r\n\r\n' + 'a line of text\r\n'.repeat(20_000));
    for (const detached of [false, true]) {
      const body = detached ? text : binary;
      const inFile = join(d, `in${detached}.bin`);
      writeFileSync(inFile, body);
      const out = run('openssl', ['cms', '-sign', '-stream', '-binary', '-in', inFile, '-signer', join(VECTORS, id.cert), '-inkey', join(VECTORS, id.key), '-outform', 'SMIME', ...(detached ? [] : ['-nodetach'])]);
      if (!detached) expect(Buffer.from(cmsOfSmime(out).subarray(0, 2)).toString('hex')).toBe('3080');
      for (const size of [4096, 65536, out.length]) {
        const { content, done } = await verifyStream(source(out, size).stream, { store: s, harvest: false });
        const got = await collect(content);
        const r = await done;
        expect(r.signers.map((x) => [x.status, x.reasons])).toEqual([['valid', []]]);
        expect(r.detached).toBe(detached);
        expect(Buffer.from(got).equals(Buffer.from(body))).toBe(true);
      }
    }
  });

  it('signStream → verifyStream, 4 MiB, both forms: valid, content as verifyMessage gives it', async () => {
    const s = await signStore();
    const msg = bigMessage(4 << 20);
    for (const detached of [true, false]) {
      const signed = await collect(await signStream(source(msg, 65536).stream, { store: s, from: 'alice@example.com', detached, crypto: nodeCrypto() }));
      const { content, done } = await verifyStream(source(signed, 65536).stream, { store: s, harvest: false, crypto: nodeCrypto() });
      const got = await collect(content);
      expect((await done).signers.map((x) => x.status)).toEqual(['valid']);
      const b = await verifyMessage(signed, { store: s, harvest: false });
      expect(Buffer.from(got).equals(Buffer.from(b.content))).toBe(true);
    }
  });

  it('compressed content (compress then sign, both forms): decompressed as verifyMessage does, compressed set', async () => {
    const s = await signStore();
    const msg = enc('From: alice@example.com\r\nContent-Type: text/plain\r\n\r\n' + 'compressible line\r\n'.repeat(5000));
    for (const detached of [true, false]) {
      const signed = await signMessage(msg, { store: s, from: 'alice@example.com', detached, compress: true });
      const want = await verifyMessage(signed, { store: s, harvest: false });
      expect(want.compressed).toBe(true);
      for (const size of [7, 4096, signed.length]) {
        const got = await viaStream(signed, size, signStore, {});
        expect(got.ok).toBe(true);
        if (!got.ok) continue;
        expect(got.summary).toEqual(summary(want));
        expect(Buffer.from(got.content).equals(Buffer.from(want.content))).toBe(true);
      }
      // Beyond maxDecompressedBytes: CMSLimitExceeded, as verifyMessage.
      const { content, done } = await verifyStream(source(signed, 4096).stream, { store: s, harvest: false, limits: { maxDecompressedBytes: 20_000 } });
      await expect(collect(content)).rejects.toBeInstanceOf(CMSLimitExceeded);
      await expect(done).rejects.toBeInstanceOf(CMSLimitExceeded);
    }
  });

  it('tampered content: done says invalid with the reason verifyMessage gives', async () => {
    const s = await signStore();
    for (const detached of [true, false]) {
      const signed = await signMessage(enc(MSG), { store: s, from: 'alice@example.com', detached });
      let t = Buffer.from(signed).toString('latin1');
      // Detached: change the text; opaque: change one base64 char of the content's line.
      t = detached ? t.replace('Hello Bob.', 'Hello Eve.') : tamperBase64(t, 'Hello Bob.', 'Hello Eve.');
      const bad = new Uint8Array(Buffer.from(t, 'latin1'));
      const want = await verifyMessage(bad, { store: s, harvest: false });
      expect(want.signers[0]!.status).toBe('invalid');
      const { content, done } = await verifyStream(source(bad, 7).stream, { store: s, harvest: false });
      await collect(content);
      const r = await done;
      expect(summary(r)).toEqual(summary(want));
      expect(r.signers[0]!.reasons).toContain('digest-mismatch');
    }
  });

  it('truncated input: the content stream errors and done rejects (SmimeError)', async () => {
    const s = await signStore();
    for (const detached of [true, false]) {
      const signed = await signMessage(enc(MSG), { store: s, from: 'alice@example.com', detached });
      for (const cut of [0.3, 0.6, 0.9, 0.99]) {
        const part = signed.subarray(0, Math.floor(signed.length * cut));
        const started = await verifyStream(source(part, 100).stream, { store: s, harvest: false }).catch((e: Error) => e);
        if (started instanceof Error) {
          expect(started).toBeInstanceOf(SmimeError);
          continue;
        }
        const { content, done } = started;
        const e = await collect(content).catch((x: unknown) => x);
        expect(e, `${detached} ${cut}`).toBeInstanceOf(SmimeError);
        await expect(done).rejects.toBeInstanceOf(SmimeError);
      }
    }
  });

  it('a detached SignedData without its content (raw DER): CMSInvalid', async () => {
    const s = await signStore();
    const signed = await signMessage(enc(MSG), { store: s, from: 'alice@example.com' });
    const sig = Buffer.from(Buffer.from(signed).toString('latin1').split('\r\n\r\n').slice(-1)[0]!.split('--')[0]!, 'base64');
    const { content, done } = await verifyStream(source(new Uint8Array(sig), 50).stream, { store: s, harvest: false });
    await expect(collect(content)).rejects.toBeInstanceOf(CMSInvalid);
    await expect(done).rejects.toBeInstanceOf(CMSInvalid);
  });

  it('not a signed message, a header section past maxHeaderBytes: refused before the stream starts', async () => {
    const s = await signStore();
    await expect(verifyStream(source(enc(MSG), 5).stream, { store: s })).rejects.toBeInstanceOf(MIMEInvalid);
    const big = enc('X-Long: ' + 'a'.repeat(8000) + '\r\n\r\nbody');
    await expect(verifyStream(source(big, 1000).stream, { store: s, limits: { maxHeaderBytes: 4096 } })).rejects.toBeInstanceOf(MIMELimitExceeded);
    await expect(verifyStream(enc(MSG) as unknown as ReadableStream<Uint8Array>, { store: s })).rejects.toBeInstanceOf(TypeError);
    await expect(verifyStream(source(enc(MSG), 5).stream, { store: s, verifyAt: 'never' as 'now' })).rejects.toBeInstanceOf(RangeError);
  });

  it('limits: maxCmsHeaderBytes bounds the signature part and the captured CMS elements; maxInputBytes the input', async () => {
    const s = await signStore();
    for (const detached of [true, false]) {
      const signed = await signMessage(enc(MSG), { store: s, from: 'alice@example.com', detached });
      const { content, done } = await verifyStream(source(signed, 100).stream, { store: s, harvest: false, limits: { maxCmsHeaderBytes: 1000 } });
      const e = await collect(content).catch((x: unknown) => x);
      expect(e instanceof MIMELimitExceeded || e instanceof CMSLimitExceeded).toBe(true);
      await expect(done).rejects.toBeInstanceOf(SmimeError);
      const v = await verifyStream(source(signed, 100).stream, { store: s, harvest: false, limits: { maxInputBytes: 2000 } });
      await expect(collect(v.content)).rejects.toBeInstanceOf(MIMELimitExceeded);
    }
  });

  it('hostile input: 300 random mutations end in a result or a SmimeError, never another error', async () => {
    const s = await signStore();
    const bases = [
      await signMessage(enc(MSG), { store: s, from: 'alice@example.com' }),
      await signMessage(enc(MSG), { store: s, from: 'alice@example.com', detached: false }),
      await collect(await signStream(source(enc(MSG), 64).stream, { store: s, from: 'alice@example.com', detached: false })),
    ];
    // The opaque ones also as raw BER (no MIME around them), where a mutation hits the CMS structure directly.
    bases.push(...bases.slice(1).map((m) => cmsOfSmime(m)));
    let x = 99;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x % n;
    };
    for (let trial = 0; trial < 300; trial++) {
      const base = bases[trial % bases.length]!;
      const m = new Uint8Array(base);
      const kind = rnd(3);
      let bytes: Uint8Array = m;
      if (kind === 0) for (let k = 0; k < 1 + rnd(4); k++) m[rnd(m.length)] = rnd(256);
      else if (kind === 1) bytes = m.subarray(0, rnd(m.length));
      else {
        const at = rnd(m.length);
        bytes = new Uint8Array([...m.subarray(0, at), ...Array.from({ length: 1 + rnd(8) }, () => rnd(256)), ...m.subarray(at)]);
      }
      try {
        const { content, done } = await verifyStream(source(bytes, 1 + rnd(300)).stream, { store: s, harvest: false });
        await collect(content);
        await done;
      } catch (e) {
        expect(e, `trial ${trial}: ${(e as Error).message}`).toBeInstanceOf(SmimeError);
      }
    }
  });

  it('a would-be delimiter line (the boundary, then endless padding) is held at most 4096 bytes: MIMELimitExceeded', async () => {
    const s = await signStore();
    const m = enc('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b' + ' '.repeat(10_000));
    const { content, done } = await verifyStream(source(m, 1).stream, { store: s, harvest: false });
    await expect(collect(content)).rejects.toBeInstanceOf(MIMELimitExceeded);
    await expect(done).rejects.toBeInstanceOf(MIMELimitExceeded);
  });

  it('backpressure: the input is read as the content is pulled', async () => {
    const s = await signStore();
    const signed = await collect(await signStream(source(bigMessage(16 << 20), 1 << 20).stream, { store: s, from: 'alice@example.com', detached: false, crypto: nodeCrypto() }));
    const src = source(signed, 65536);
    const { content } = await verifyStream(src.stream, { store: s, harvest: false });
    const before = src.pulls();
    const reader = content.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    expect(src.pulls()).toBeLessThanOrEqual(before + 8);
    await reader.cancel();
  });

  it('openssl verifies what the scanner reads: a message with a preamble, LF line ends and transport padding', async () => {
    if (!hasPeer('openssl', ['version'])) return;
    const s = await signStore();
    const signed = Buffer.from(await signMessage(enc(MSG), { store: s, from: 'alice@example.com' })).toString('latin1');
    const b = /boundary="([^"]+)"/.exec(signed)![1]!;
    const lf = signed.replaceAll('\r\n', '\n').replaceAll(`--${b}\n`, `--${b} \t\n`);
    const bytes = new Uint8Array(Buffer.from(lf, 'latin1'));
    const want = await verifyMessage(bytes, { store: s, harvest: false });
    for (const size of [1, 3, 7, 64]) {
      const got = await viaStream(bytes, size, signStore, {});
      expect(got.ok).toBe(true);
      if (got.ok) {
        expect(got.summary).toEqual(summary(want));
        expect(Buffer.from(got.content).equals(Buffer.from(want.content))).toBe(true);
      }
    }
    expect(ROOT.length).toBeGreaterThan(0);
  });
});

/** The DER of an application/pkcs7-mime message. */
function cmsOfSmime(m: Uint8Array): Uint8Array {
  const t = Buffer.from(m).toString('latin1');
  const at = /\r?\n\r?\n/.exec(t)!;
  return new Uint8Array(Buffer.from(t.slice(at.index + at[0].length).replace(/\s+/g, ''), 'base64'));
}

/** Replaces `from` by `to` inside the base64 body of an opaque message (decoded, changed, encoded again in place). */
function tamperBase64(message: string, from: string, to: string): string {
  const [head, body] = [message.slice(0, message.indexOf('\r\n\r\n') + 4), message.slice(message.indexOf('\r\n\r\n') + 4)];
  const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const i = der.indexOf(from, 0, 'latin1');
  der.write(to, i, 'latin1');
  return head + der.toString('base64').replace(/(.{76})/g, '$1\r\n') + '\r\n';
}
