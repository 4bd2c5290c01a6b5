/**
 * signStream (src/sign_stream.ts): multipart/signed and opaque signed-data (BER, indefinite lengths) written as the
 * input comes, verified by verifyMessage and by the peers (`openssl cms -verify`, NSS `cmsutil -D`, Bouncy Castle's
 * SmimePeer); the signed entity is what signMessage signs (or, where a stream must decide from the headers alone, an
 * equivalent 7-bit encoding, see mime/prepare_stream.ts); refusals before anything is read; backpressure. Also the
 * incremental digests (src/crypto/incremental_hash.ts) against WebCrypto on random splits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signMessage, signStream, verifyMessage, verifyStream, type CertificateStore } from '../../src/index.js';
import { splitForProtection } from '../../src/mime/protection.js';
import { prepareForSigning } from '../../src/mime/prepare_for_signing.js';
import { quotedPrintable, QuotedPrintableStream } from '../../src/mime/quoted_printable.js';
import { nodeCrypto } from '../../src/crypto/node.js';
import { startHash } from '../../src/crypto/incremental_hash.js';
import { DIGESTS, type HashName } from '../../src/crypto/algorithms.js';
import { extractCms } from '../../src/mime/extract.js';
import { BoundaryWatch } from '../../src/mime/multipart_signed.js';
import { readTlv } from '../../src/lib/der.js';
import { CertificateNotFound, MIMEInvalid, MIMELimitExceeded, SmimeError } from '../../src/errors.js';
import { OPENSSL_AT_REFERENCE, storeWith } from '../_helpers/identities.js';
import { tmp, tryRun } from '../_helpers/env.js';
import { compileSmimePeer, havePeers, makeNssDb, nssVerify, ROOT_CA_FILE as ROOT } from '../_helpers/peers.js';
import { cmsOf } from '../sign/_pki.js';
import { bigMessage, collect, enc, source } from './_streams.js';

const HAVE = havePeers();
const MSG =
  'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: stream\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob.\r\nFrom here on.\r\n';
/** LF line ends, a Content-* header before others, 8-bit text: quoted-printable on the stream. */
const LF_8BIT = 'Content-Transfer-Encoding: 8bit\nFrom: alice@example.com\nContent-Type: text/plain; charset=utf-8\nTo: bob@example.com\n\nline 1 caf\u00e9\nline 2 \t\nFrom me\n.\nend';

let storeP: Promise<CertificateStore> | undefined;
const store = (): Promise<CertificateStore> => (storeP ??= storeWith(['alice-sign', 'ec-sign']));

function random(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('incremental digests', () => {
  const names: HashName[] = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'SHA-224', 'MD5'];
  for (const [label, crypto] of [['@noble/hashes (no accelerator)', undefined], ['Node createHash (accelerator)', nodeCrypto()]] as const) {
    it(`${label}: the digest of random splits is the one-shot digest`, async () => {
      const data = random(300_001, 7);
      for (const name of names) {
        const want = DIGESTS[name].webCrypto ? new Uint8Array(await crypto_().subtle.digest(name, data)) : DIGESTS[name].hash(data);
        for (let trial = 0; trial < 3; trial++) {
          const h = startHash(name, crypto);
          let at = 0;
          let x = trial + 1;
          while (at < data.length) {
            x = (x * 1103515245 + 12345) >>> 0;
            const n = trial === 0 ? 1 + (x % 7) : 1 + (x % 70_000);
            h.update(data.subarray(at, at + n));
            at += n;
          }
          expect(Buffer.from(h.digest()).toString('hex'), `${name} trial ${trial}`).toBe(Buffer.from(want).toString('hex'));
        }
      }
    });
  }
  const crypto_ = (): Crypto => globalThis.crypto;
});

describe('QuotedPrintableStream', () => {
  it('gives the quotedPrintable of the whole at every split', () => {
    const text = enc('From me\r\n.\r\nab = c\t\r\n' + 'x'.repeat(200) + ' \r\ncaf\u00e9 .\r\nFrom');
    const whole = new Uint8Array(quotedPrintable(text, undefined, 0));
    quotedPrintable(text, whole, 0);
    for (let cut = 0; cut <= text.length; cut++) {
      const q = new QuotedPrintableStream();
      const got = Buffer.concat([q.write(text.subarray(0, cut)), q.write(text.subarray(cut)), q.end()]);
      expect(got.equals(Buffer.from(whole)), `cut ${cut}`).toBe(true);
    }
  });
});

describe('BoundaryWatch', () => {
  it('refuses a line that starts with the boundary, at any split; a boundary inside a line is no delimiter', () => {
    const text = enc('a\r\nx--b0und\r\n--b0unc\r\n--b0und\r\n');
    for (let cut = 0; cut <= text.length; cut++) {
      const w = new BoundaryWatch('b0und');
      expect(() => {
        w.see(text.subarray(0, cut));
        w.see(text.subarray(cut));
      }, `cut ${cut}`).toThrow(MIMEInvalid);
    }
    const ok = new BoundaryWatch('b0und');
    ok.see(enc('x--b0und y\r\n-'));
    ok.see(enc('-b0unc\r\n'));
    const first = new BoundaryWatch('b0und');
    expect(() => first.see(enc('--b0und'))).toThrow(MIMEInvalid);
  });
});

describe('signStream', () => {
  for (const detached of [true, false]) {
    describe(detached ? 'multipart/signed' : 'opaque signed-data', () => {
      it('a 7-bit message in 7-byte pieces: verifyMessage gives the entity signMessage signs, valid', async () => {
        const s = await store();
        const out = await collect(await signStream(source(enc(MSG), 7).stream, { store: s, from: 'alice@example.com', detached }));
        const text = new TextDecoder('latin1').decode(out);
        expect(text.startsWith('From: alice@example.com\r\nTo: bob@example.com\r\nSubject: stream\r\n')).toBe(true);
        expect(text).toContain(detached ? 'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256' : 'smime-type=signed-data');
        const r = await verifyMessage(out, { store: s, harvest: false });
        expect(r.signers.map((x) => [x.status, x.reasons])).toEqual([['valid', []]]);
        expect(r.detached).toBe(detached);
        const b = await verifyMessage(await signMessage(enc(MSG), { store: s, from: 'alice@example.com', detached }), { store: s, harvest: false });
        expect(Buffer.from(r.content).equals(Buffer.from(b.content))).toBe(true);
        if (!detached) {
          // BER with indefinite lengths, as openssl cms -sign -stream writes.
          const { der } = extractCms(out);
          expect([der[0], der[1]]).toEqual([0x30, 0x80]);
          expect(readTlv(der, 0).end).toBe(der.length);
        }
      });

      it('8-bit text with LF line ends, in 1-byte pieces: quoted-printable, valid, and decodes to the same text', async () => {
        const s = await store();
        const out = await collect(await signStream(source(enc(LF_8BIT), 1).stream, { store: s, from: 'alice@example.com', detached, digest: 'SHA-384' }));
        const r = await verifyMessage(out, { store: s, harvest: false });
        expect(r.signers.map((x) => [x.status, x.digestAlgorithm])).toEqual([['valid', 'SHA-384']]);
        // signMessage re-encodes the same entity the same way (it holds 8-bit data).
        const want = prepareForSigning(splitForProtection(enc(LF_8BIT)).inner);
        expect(Buffer.from(r.content).toString('latin1')).toBe(Buffer.from(want).toString('latin1'));
      });

      it('3 MiB of binary data in uneven pieces, ECDSA: base64 as signMessage writes it, valid', async () => {
        const s = await store();
        const msg = bigMessage(3 << 20);
        const msgFrom = enc(new TextDecoder('latin1').decode(msg).replace('alice@example.com', 'ecuser@example.com'));
        const out = await collect(await signStream(source(msgFrom, [1, 65536, 13, 1 << 20, 4095, 3 << 20]).stream, { store: s, from: 'ecuser@example.com', detached, crypto: nodeCrypto() }));
        const r = await verifyMessage(out, { store: s, harvest: false });
        expect(r.signers.map((x) => x.status)).toEqual(['valid']);
        expect(Buffer.from(r.content).equals(Buffer.from(prepareForSigning(splitForProtection(msgFrom).inner)))).toBe(true);
      });
    });
  }

  it('compress (both forms, 1 MiB of text in 4 KiB pieces): the compressed-data wrapper signed, verifyMessage and verifyStream decompress it', async () => {
    const s = await store();
    const msg = enc('From: alice@example.com\r\nContent-Type: text/plain\r\n\r\n' + 'a line that compresses well\r\n'.repeat(36_000));
    for (const detached of [true, false]) {
      const out = await collect(await signStream(source(msg, 4096).stream, { store: s, from: 'alice@example.com', detached, compress: true }));
      expect(out.length).toBeLessThan(msg.length / 10);
      const r = await verifyMessage(out, { store: s, harvest: false });
      expect(r.signers.map((x) => x.status)).toEqual(['valid']);
      expect(r.compressed).toBe(true);
      const b = await verifyMessage(await signMessage(msg, { store: s, from: 'alice@example.com', detached, compress: true }), { store: s, harvest: false });
      expect(Buffer.from(r.content).equals(Buffer.from(b.content))).toBe(true);
      const v = await verifyStream(source(out, 4096).stream, { store: s, harvest: false });
      const got = await collect(v.content);
      expect((await v.done).compressed).toBe(true);
      expect(Buffer.from(got).equals(Buffer.from(b.content))).toBe(true);
    }
  });

  it('refusals before anything is read: no identity, bad options', async () => {
    const s = await store();
    for (const [opts, type] of [
      [{ from: 'nobody@example.com' }, CertificateNotFound],
      [{ from: 'alice@example.com', digest: 'MD5' }, RangeError],
      [{ from: 'alice@example.com', compress: 'yes' }, TypeError],
    ] as const) {
      const src = source(enc(MSG), 5);
      const e = await signStream(src.stream, { store: s, ...(opts as object) } as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(type);
      expect(src.pulls()).toBe(0);
    }
    await expect(signStream(enc(MSG) as unknown as ReadableStream<Uint8Array>, { store: s, from: 'alice@example.com' })).rejects.toBeInstanceOf(TypeError);
  });

  it('a header section past maxHeaderBytes: MIMELimitExceeded before the stream starts', async () => {
    const s = await store();
    const big = enc('X-Long: ' + 'a'.repeat(8000) + '\r\n\r\nbody');
    await expect(signStream(source(big, 1000).stream, { store: s, from: 'alice@example.com', limits: { maxHeaderBytes: 4096 } })).rejects.toBeInstanceOf(MIMELimitExceeded);
  });

  it('a multipart with 8-bit parts (nested multipart, message/rfc822, binary attachment), in 5-byte pieces: each part re-encoded as signMessage does', async () => {
    const s = await store();
    const bin = String.fromCharCode(...Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    const m = enc(
      'From: alice@example.com\r\nTo: bob@example.com\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\npreamble\n--outer\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\u00e9 \nFrom here\n--outer\n' +
        'Content-Type: multipart/alternative; boundary="inner"\n\n--inner\nContent-Type: text/plain\n\nplain 7bit\n--inner\n' +
        'Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n<p>\u00fcber</p>\n--inner--\n--outer\r\n' +
        'Content-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nna\u00efve\r\n--outer\r\n' +
        'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n' + bin + '\r\n--outer--\r\nepilogue',
    );
    const bytes = m;
    const want = prepareForSigning(splitForProtection(bytes).inner);
    for (const detached of [true, false]) {
      const out = await collect(await signStream(source(bytes, 5).stream, { store: s, from: 'alice@example.com', detached }));
      const r = await verifyMessage(out, { store: s, harvest: false });
      expect(r.signers.map((x) => x.status)).toEqual(['valid']);
      expect(Buffer.from(r.content).toString('latin1')).toBe(Buffer.from(want).toString('latin1'));
    }
  });

  it('8-bit data in a part declared 7bit cannot be re-encoded on a stream: the stream errors with MIMEInvalid', async () => {
    const s = await store();
    const m = enc('From: alice@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\ncaf\u00e9\r\n--b--\r\n');
    const out = await signStream(source(m, 4096).stream, { store: s, from: 'alice@example.com' });
    await expect(collect(out)).rejects.toBeInstanceOf(MIMEInvalid);
  });

  it('hostile input: 150 random mutations of a nested multipart end in a signed message or a SmimeError', async () => {
    const s = await store();
    const base = enc(
      'From: alice@example.com\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\nx\u00e9\r\n' +
        '--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: text/html\r\n\r\n<p>\r\n--i--\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nbody\r\n--o--\r\n',
    );
    let x = 7;
    const rnd = (n: number): number => {
      x = (x * 1103515245 + 12345) >>> 0;
      return x % n;
    };
    const alphabet = enc('-\r\n:;=" abio\u00e9\t');
    for (let trial = 0; trial < 150; trial++) {
      const m = new Uint8Array(base);
      for (let k = 0; k < 1 + rnd(5); k++) m[rnd(m.length)] = alphabet[rnd(alphabet.length)]!;
      const bytes = rnd(4) === 0 ? m.subarray(0, rnd(m.length)) : m;
      try {
        const out = await collect(await signStream(source(bytes, 1 + rnd(40)).stream, { store: s, from: 'alice@example.com', detached: trial % 2 === 0 }));
        const r = await verifyMessage(out, { store: s, harvest: false });
        // The signature holds (a mutated From may make it address-mismatch).
        expect(r.signers.map((y) => y.status === 'valid' || y.status === 'address-mismatch'), `trial ${trial}: ${JSON.stringify(r.signers[0]?.reasons)}`).toEqual([true]);
        continue;
      } catch (e) {
        if ((e as Error).name === 'AssertionError') throw e;
        expect(e, `trial ${trial}: ${(e as Error).message}`).toBeInstanceOf(SmimeError);
      }
    }
  });

  it('maxInputBytes is counted as the input is read', async () => {
    const s = await store();
    const out = await signStream(source(bigMessage(200_000), 10_000).stream, { store: s, from: 'alice@example.com', limits: { maxInputBytes: 100_000 } });
    await expect(collect(out)).rejects.toBeInstanceOf(MIMELimitExceeded);
  });

  it('backpressure: the input is read as the output is pulled', async () => {
    const s = await store();
    const src = source(bigMessage(16 << 20), 65536);
    const out = await signStream(src.stream, { store: s, from: 'alice@example.com', detached: false, crypto: nodeCrypto() });
    const before = src.pulls();
    expect(before).toBeLessThanOrEqual(2);
    const reader = out.getReader();
    for (let i = 0; i < 4; i++) await reader.read();
    expect(src.pulls()).toBeLessThanOrEqual(before + 6);
    await reader.cancel();
  });
});

describe.runIf(HAVE.openssl || HAVE.nss || HAVE.bc)('signStream output, verified by the peers', () => {
  let dir = '';
  const made: { label: string; detached: boolean; out: Uint8Array; content?: Uint8Array }[] = [];
  /** compress: true, opaque: the peers check the signature over the compressed-data wrapper (OpenSSL lacks zlib here). */
  let compressed: Uint8Array;
  beforeAll(async () => {
    dir = tmp();
    const s = await store();
    for (const detached of [true, false]) {
      for (const [from, label] of [['alice@example.com', 'RSA'], ['ecuser@example.com', 'ECDSA']] as const) {
        const msg = enc(LF_8BIT.replace('alice@example.com', from) + '\n' + 'more text\n'.repeat(20_000));
        const out = await collect(await signStream(source(msg, 4096).stream, { store: s, from, detached }));
        const r = await verifyMessage(out, { store: s, harvest: false });
        made.push({ label: `${label} ${detached ? 'detached' : 'opaque'}`, detached, out, content: r.content });
      }
    }
    compressed = await collect(await signStream(source(enc(MSG + 'compress me\r\n'.repeat(1000)), 4096).stream, { store: s, from: 'alice@example.com', detached: false, compress: true }));
  });
  const put = (name: string, b: Uint8Array): string => {
    const f = join(dir, name);
    writeFileSync(f, b);
    return f;
  };

  it.runIf(HAVE.openssl)('openssl cms -verify: valid, the content byte-identical', () => {
    for (const [i, m] of made.entries()) {
      const outFile = join(dir, `o${i}.txt`);
      // -binary (no line-end translation of the content written out) for signed-data; OpenSSL's multipart/signed reader
      // fails with it (on signMessage's output too), and writes the signed part as it is without it.
      const args = ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', put(`m${i}.eml`, m.out), '-out', outFile];
      const r = tryRun('openssl', m.detached ? args : [...args, '-binary']);
      expect(r.status, `${m.label}: ${r.stderr}`).toBe(0);
      expect(String(r.stderr)).toMatch(/Verification successful/);
      const got = new Uint8Array(readFileSync(outFile));
      expect(Buffer.from(got).equals(Buffer.from(m.content!)), m.label).toBe(true);
    }
    const c = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', put('c.eml', compressed), '-out', join(dir, 'c.out'), '-binary']);
    expect(c.stderr, 'compressed').toMatch(/Verification successful/);
    expect(readFileSync(join(dir, 'c.out'), 'latin1')).toContain('smime-type=compressed-data');
  });

  it.runIf(HAVE.nss)('NSS cmsutil -D: valid', async () => {
    const nssDir = join(dir, 'nss');
    mkdirSync(nssDir);
    const db = makeNssDb(nssDir);
    for (const [i, m] of made.entries()) {
      if (!m.detached) {
        const r = tryRun('cmsutil', ['-D', '-i', put(`n${i}.p7m`, cmsOf(m.out)), '-d', db, '-h', '2', '-n']);
        expect(Buffer.from(r.stdout).toString(), m.label).toMatch(/signer0\.status=GoodSignature/);
      } else {
        const t = await nssVerify(db, put(`n${i}.p7s`, cmsOf(m.out)), put(`n${i}.txt`, m.content!));
        expect(t, m.label).toMatch(/signer0\.status=GoodSignature/);
      }
    }
  });

  it.runIf(HAVE.bc)('Bouncy Castle: valid (RSA detached, ECDSA opaque)', async () => {
    const peer = compileSmimePeer(dir);
    const picked = made.filter((m) => m.label === 'RSA detached' || m.label === 'ECDSA opaque');
    expect(picked.length).toBe(2);
    picked.push({ label: 'RSA opaque compressed', detached: false, out: compressed });
    const results = await Promise.all(
      picked.map((m, i) => {
        const args = ['verify', '--in', put(`b${i}.p7s`, cmsOf(m.out)), '--trust', ROOT];
        if (m.detached) args.push('--content', put(`b${i}.txt`, m.content!));
        return peer(args);
      }),
    );
    for (const [i, r] of results.entries()) {
      expect(r.stderr, picked[i]!.label).toBe('');
      expect(r.stdout, picked[i]!.label).toContain('status=valid');
    }
  }, 60_000);
});
