/**
 * Header protection (RFC 9788) through the operations: signMessage/encryptMessage with `protectHeaders` round trips
 * for every combination (signed, encrypted, both × policy × legacy display), what openMessage, verifyMessage and
 * decryptMessage report (headers, outer, exposed fields, mismatches, problems), the From binding of a signature
 * over protected headers, and the 2019 LAMPS protected-headers samples.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { CertificateStore, decryptMessage, encryptMessage, encryptStream, inspectFile, openMessage, signMessage, verifyMessage } from '../../src/index.js';
import { storeWith } from '../_helpers/identities.js';
import { SHARED_VECTORS, sharedAvailable } from '../_helpers/env.js';
import { parseEntity, getHeader, getHeaders } from '../../src/mime/entity.js';
import { parseContentType } from '../../src/mime/header_params.js';

const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string) => te.encode(s);
const t = (u: Uint8Array) => td.decode(u);

const MSG =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: Quarterly numbers\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n' +
  'Message-ID: <hp-1@example.com>\r\nKeywords: finance\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe numbers are good.\r\n';

let alice: CertificateStore;
beforeAll(async () => {
  alice = await storeWith(['alice-sign', 'alice-enc-2025']);
});

const value = (fields: { name: string; value: string }[] | undefined, name: string) => fields?.find((f) => f.name.toLowerCase() === name)?.value;
const outerOf = (m: Uint8Array) => parseEntity(m).headers;

type Shape = 'signed' | 'signed-opaque' | 'encrypted' | 'signed+encrypted' | 'signed-opaque+encrypted';
const SHAPES: Shape[] = ['signed', 'signed-opaque', 'encrypted', 'signed+encrypted', 'signed-opaque+encrypted'];
const POLICIES = ['baseline', 'shy', 'none'] as const;

async function make(shape: Shape, hcp: (typeof POLICIES)[number], legacyDisplay: boolean): Promise<Uint8Array> {
  const enc = shape.includes('encrypted');
  const detached = !shape.startsWith('signed-opaque');
  const opts = enc ? { protectHeaders: true, headerConfidentiality: hcp, legacyDisplay } : { protectHeaders: true };
  if (shape === 'encrypted') return encryptMessage(MSG, { store: alice, to: ['alice@example.com'], ...opts });
  const signed = await signMessage(MSG, { store: alice, from: 'alice@example.com', detached, ...opts });
  if (!enc) return signed;
  return encryptMessage(signed, { store: alice, to: ['alice@example.com'], protectHeaders: true });
}

const OUTER_SUBJECT = { baseline: '[...]', shy: '[...]', none: 'Quarterly numbers' };
const OUTER_FROM = { baseline: 'Alice <alice@example.com>', shy: 'alice@example.com', none: 'Alice <alice@example.com>' };

describe('round trips: signed / encrypted / both × policy × legacy display', () => {
  for (const shape of SHAPES) {
    const enc = shape.includes('encrypted');
    for (const hcp of enc ? POLICIES : (['baseline'] as const)) {
      for (const lde of enc ? [false, true] : [false]) {
        it(`${shape}${enc ? `, hcp ${hcp}${lde ? ', legacy display' : ''}` : ''}`, async () => {
          const m = await make(shape, hcp, lde);
          const outer = outerOf(m);
          const r = await openMessage(m, { store: alice });
          expect(r.signers.every((s) => s.status === 'valid')).toBe(true);
          expect(r.signers).toHaveLength(shape.startsWith('signed') ? 1 : 0);
          expect(r.headerProtection?.form).toBe('hp');
          expect(r.headerProtection?.hp).toBe(enc ? 'cipher' : 'clear');
          expect(r.headerProtection?.problems).toEqual([]);
          expect(r.headerProtection?.mismatches).toEqual([]);
          // The protected fields are the message's own.
          expect(value(r.headers, 'subject')).toBe('Quarterly numbers');
          expect(value(r.headers, 'from')).toBe('Alice <alice@example.com>');
          expect(value(r.headers, 'keywords')).toBe('finance');
          expect(value(r.headers, 'message-id')).toBe('<hp-1@example.com>');
          // The outside, as the policy says.
          const subject = enc ? OUTER_SUBJECT[hcp] : 'Quarterly numbers';
          expect(getHeader({ headers: outer }, 'subject')).toBe(subject);
          expect(value(r.outer, 'subject')).toBe(subject);
          expect(getHeader({ headers: outer }, 'from')).toBe(enc ? OUTER_FROM[hcp] : 'Alice <alice@example.com>');
          expect(getHeaders({ headers: outer }, 'keywords')).toHaveLength(enc && hcp !== 'none' ? 0 : 1);
          expect(getHeaders({ headers: outer }, 'mime-version')).toHaveLength(1);
          if (enc) {
            expect(value(r.headerProtection?.exposed, 'subject')).toBe(subject);
            expect(r.headerProtection?.exposed?.map((f) => f.name.toLowerCase()).sort()).toEqual(outer.map((h) => h.name.toLowerCase()).filter((n) => n !== 'mime-version' && !n.startsWith('content-')).sort());
          } else {
            expect(r.headerProtection?.exposed).toBeUndefined();
          }
          const body = t(parseEntity(r.content).body);
          if (lde && hcp !== 'none') {
            expect(r.headerProtection?.legacyDisplay).toContain('Subject: Quarterly numbers');
            expect(body.split('\r\n\r\n')[0]!.split('\r\n')).toContain('Subject: Quarterly numbers');
          } else {
            expect(r.headerProtection?.legacyDisplay).toBeUndefined();
          }
          expect(body).toContain('The numbers are good.');
        });
      }
    }
  }
});

describe('the payload on the wire', () => {
  it('signed then encrypted: the signed payload says hp="cipher" and carries HP-Outer; the message says [...] outside', async () => {
    const signed = await signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' });
    expect(getHeader(parseEntity(signed), 'subject')).toBe('[...]');
    const v = await verifyMessage(signed, { store: alice });
    expect(v.signers[0]!.status).toBe('valid');
    const payload = parseEntity(v.content);
    expect(parseContentType(getHeader(payload, 'content-type')!).params.hp).toBe('cipher');
    expect(getHeaders(payload, 'hp-outer').map((h) => h.value)).toContain('Subject: [...]');
    // verifyMessage alone sees no encryption: it says so.
    expect(v.headerProtection?.problems).toEqual(['hp-cipher-without-encryption']);
    const both = await encryptMessage(signed, { store: alice, to: ['alice@example.com'], protectHeaders: true });
    expect(getHeader(parseEntity(both), 'subject')).toBe('[...]');
    expect(t(both)).not.toContain('Quarterly');
  });

  it('encrypting a signed message whose payload says hp="clear" (or nothing) with protectHeaders is refused (it would leak the Subject)', async () => {
    const signed = await signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: true });
    await expect(encryptMessage(signed, { store: alice, to: ['alice@example.com'], protectHeaders: true })).rejects.toThrow(/hp="cipher"/);
    const opaque = await signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: true, detached: false });
    await expect(encryptMessage(opaque, { store: alice, to: ['alice@example.com'], protectHeaders: true })).rejects.toThrow(/hp="cipher"/);
    const unprotected = await signMessage(MSG, { store: alice, from: 'alice@example.com', detached: false });
    await expect(encryptMessage(unprotected, { store: alice, to: ['alice@example.com'], protectHeaders: true })).rejects.toThrow(/hp="cipher"/);
    // An encrypted message encrypted again has no payload to look at: encrypted as it is.
    const enc = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'] });
    expect(await encryptMessage(enc, { store: alice, to: ['alice@example.com'], protectHeaders: true })).toBeInstanceOf(Uint8Array);
  });

  it('protectHeaders stays off by default: the payload has no hp and the Subject stays outside as it was', async () => {
    const m = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'] });
    expect(getHeader(parseEntity(m), 'subject')).toBe('Quarterly numbers');
    const r = await openMessage(m, { store: alice });
    expect(r.headerProtection).toBeUndefined();
    expect(r.headers).toBeUndefined();
    expect(value(r.outer, 'subject')).toBe('Quarterly numbers');
    expect(t(r.content)).not.toContain('hp=');
  });

  it('bad options: an unknown policy, a policy without protectHeaders', async () => {
    await expect(encryptMessage(MSG, { store: alice, to: ['alice@example.com'], protectHeaders: true, headerConfidentiality: 'strict' as never })).rejects.toThrow(RangeError);
    await expect(encryptMessage(MSG, { store: alice, to: ['alice@example.com'], headerConfidentiality: 'shy' })).rejects.toThrow(TypeError);
    await expect(signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: 'yes' as never })).rejects.toThrow(TypeError);
  });

  it('decryptMessage reports the protected headers of an encrypted payload', async () => {
    const m = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], protectHeaders: true, headerConfidentiality: 'shy' });
    const d = await decryptMessage(m, { store: alice });
    expect(d.headerProtection?.hp).toBe('cipher');
    expect(value(d.headerProtection?.headers, 'subject')).toBe('Quarterly numbers');
    expect(value(d.headerProtection?.exposed, 'from')).toBe('alice@example.com');
    expect(d.headerProtection?.mismatches).toEqual([]);
  });
});

describe('what differs outside', () => {
  it('an outer Subject rewritten in transit on an encrypted message is a mismatch', async () => {
    const m = await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], protectHeaders: true });
    const tampered = b(t(m).replace('Subject: [...]', 'Subject: Invoice overdue'));
    const r = await openMessage(tampered, { store: alice });
    expect(value(r.headers, 'subject')).toBe('Quarterly numbers');
    expect(r.headerProtection?.mismatches).toEqual([{ name: 'subject', outer: ['Invoice overdue'], expected: ['[...]'] }]);
  });

  it('the From binding uses the protected From: a forged outer From is reported, the signer stays valid', async () => {
    const signed = await signMessage(MSG, { store: alice, from: 'alice@example.com', protectHeaders: true });
    const forged = b(t(signed).replace('From: Alice <alice@example.com>', 'From: Mallory <mallory@example.com>'));
    const r = await openMessage(forged, { store: alice });
    expect(r.signers[0]!.status).toBe('valid');
    expect(r.signers[0]!.email).toBe('alice@example.com');
    expect(r.signers[0]!.reasons).toContain('outer-from-differs');
    expect(r.headerProtection?.mismatches).toEqual([{ name: 'from', outer: ['Mallory <mallory@example.com>'], expected: ['Alice <alice@example.com>'] }]);
    const v = await verifyMessage(forged, { store: alice });
    expect(v.signers[0]!.status).toBe('valid');
    expect(v.signers[0]!.reasons).toContain('outer-from-differs');
  });

  it('the From binding never uses the outer From: a protected From the certificate lacks is address-mismatch, whatever the outside says', async () => {
    const lie = MSG.replace('From: Alice <alice@example.com>', 'From: ceo@example.com');
    const signed = await signMessage(lie, { store: alice, from: 'alice@example.com', protectHeaders: true });
    const dressed = b(t(signed).replace('From: ceo@example.com', 'From: Alice <alice@example.com>'));
    const r = await openMessage(dressed, { store: alice });
    expect(r.signers[0]!.status).toBe('address-mismatch');
    expect(r.signers[0]!.reasons).toContain('address-mismatch: ceo@example.com');
    expect(r.signers[0]!.reasons).toContain('outer-from-differs');
    // Without header protection the same signature binds the outer From (the behaviour before RFC 9788).
    const plain = await signMessage(lie, { store: alice, from: 'alice@example.com' });
    const r2 = await openMessage(plain, { store: alice });
    expect(r2.signers[0]!.status).toBe('address-mismatch');
  });

  it('an encrypted payload whose hp has a bad value: reported, and the outer fields are not shown as protected', async () => {
    // protectHeaders off: only the Content-* fields go inside, so the payload says hp="bogus" and protects nothing.
    const message = 'From: alice@example.com\r\nSubject: outer only\r\nContent-Type: text/plain; hp="bogus"\r\n\r\nx\r\n';
    const m = await encryptMessage(message, { store: alice, to: ['alice@example.com'] });
    const r = await openMessage(m, { store: alice });
    expect(r.headerProtection?.problems).toEqual(['hp-malformed: "bogus"']);
    expect(r.headers).toEqual([]);
    expect(value(r.outer, 'subject')).toBe('outer only');
  });
});

describe('RFC 8551 §3.1 message/rfc822 wrappers and the From binding', () => {
  const wrapper = (param: string, innerFrom: string) =>
    `From: alice@example.com\r\nTo: alice@example.com\r\nSubject: outer\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822${param}\r\n\r\n` +
    `From: ${innerFrom}\r\nTo: alice@example.com\r\nSubject: inner\r\nContent-Type: text/plain\r\n\r\nwrapped\r\n`;

  it('forwarded=no: the wrapped From is bound and the wrapped fields are the headers', async () => {
    const r = await openMessage(await signMessage(wrapper('; forwarded=no', 'alice@example.com'), { store: alice, from: 'alice@example.com' }), { store: alice });
    expect(r.headerProtection?.form).toBe('message-rfc822');
    expect(value(r.headers, 'subject')).toBe('inner');
    expect(r.signers[0]!.status).toBe('valid');
    const other = await openMessage(await signMessage(wrapper('; forwarded=no', 'ceo@example.com'), { store: alice, from: 'alice@example.com' }), { store: alice });
    expect(other.signers[0]!.status).toBe('address-mismatch');
    expect(other.signers[0]!.reasons).toEqual(expect.arrayContaining(['address-mismatch: ceo@example.com', 'outer-from-differs']));
  });

  it('without forwarded=no: read as a wrapper, but a forward of someone else stays bound to the outer From', async () => {
    const r = await openMessage(await signMessage(wrapper('', 'carol@example.com'), { store: alice, from: 'alice@example.com' }), { store: alice });
    expect(r.headerProtection?.form).toBe('message-rfc822');
    expect(r.signers[0]!.status).toBe('valid');
    expect(r.headerProtection?.mismatches.map((m) => m.name)).toEqual(['from', 'subject']);
  });
});

describe.runIf(sharedAvailable())('the 2019 LAMPS protected-headers samples (protected-headers="v1")', () => {
  const dir = join(SHARED_VECTORS, 'lamps-protected-headers-2019');
  const file = (n: string) => new Uint8Array(readFileSync(join(dir, n)));
  let bob: CertificateStore;
  beforeAll(async () => {
    bob = new CertificateStore({ now: () => new Date('2019-12-01T00:00:00Z') });
    await bob.importPkcs12(new Uint8Array(Buffer.from(readFileSync(join(dir, 'bob.p12'), 'latin1').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')), 'bob');
    bob.addTrustAnchor(readFileSync(join(dir, 'sample-ca.pem'), 'utf8'));
  });

  for (const [name, subject, encrypted, signed, legacy] of [
    ['smime-onepart-signed.eml', 'The FooCorp contract', false, true, false],
    ['smime-multipart-signed.eml', 'The FooCorp contract', false, true, false],
    ['smime-sign+enc.eml', "BarCorp contract signed, let's go!", true, true, false],
    ['smime-sign+enc+legacy-disp.eml', "BarCorp contract signed, let's go!", true, true, true],
    ['smime-enc+legacy-disp.eml', "BarCorp contract signed, let's go!", true, false, true],
  ] as const) {
    it(name, async () => {
      const r = await openMessage(file(name), { store: bob, harvest: false });
      expect(r.encrypted).toBe(encrypted);
      expect(r.signers.map((s) => [s.email, s.status])).toEqual(signed ? [['alice@smime.example', 'valid']] : []);
      expect(r.headerProtection?.form).toBe('protected-headers-v1');
      expect(value(r.headers, 'subject')).toBe(subject);
      expect(value(r.headers, 'from')).toBe('Alice Lovelace <alice@smime.example>');
      if (encrypted) expect(value(r.outer, 'subject')).toBe('...');
      if (legacy) expect(r.headerProtection?.legacyDisplay).toBe(`Subject: ${subject}`);
      else expect(r.headerProtection?.legacyDisplay).toBeUndefined();
    });
  }
});

describe('Bcc: one message per Bcc recipient', () => {
  const BCC_MSG = MSG.replace('To: alice@example.com\r\n', 'To: alice@example.com\r\nBcc: bob@example.com, leo@example.com\r\n');
  let store: CertificateStore;
  beforeAll(async () => {
    store = await storeWith(['alice-sign', 'alice-enc-2025'], ['bob', 'leo-case']);
  });
  const recipientsOf = async (m: Uint8Array) => {
    const i = await inspectFile(m);
    if (i.kind !== 'smime') throw new Error(`inspected as ${i.kind}, not as S/MIME`);
    return i.layers.flatMap((l) => ('recipients' in l ? l.recipients : [])).length;
  };

  it('the main message for To/Cc and the sender; each Bcc recipient alone in their own; no copy names the Bcc recipients', async () => {
    const r = await encryptMessage(BCC_MSG, { store, to: ['alice@example.com'], from: 'alice@example.com', bcc: ['bob@example.com', 'leo@example.com'], protectHeaders: true });
    expect(r.bcc.map((x) => x.address)).toEqual(['bob@example.com', 'leo@example.com']);
    for (const m of [r.message, ...r.bcc.map((x) => x.message)]) {
      expect(getHeaders(parseEntity(m), 'bcc')).toEqual([]);
      expect(t(parseEntity(m).raw.subarray(0, parseEntity(m).headerEnd))).not.toContain('leo@example.com');
    }
    // Alice opens the main message and no Bcc copy; the protected headers hold no Bcc either.
    const main = await openMessage(r.message, { store: alice });
    expect(value(main.headers, 'bcc')).toBeUndefined();
    expect(value(main.headers, 'subject')).toBe('Quarterly numbers');
    await expect(openMessage(r.bcc[0]!.message, { store: alice })).rejects.toThrow(/decrypt/i);
    // Nor does the decrypted copy (the base64 above is random and may spell "bcc" by chance: the entities are read).
    const bob = await storeWith(['bob']);
    expect(t((await openMessage(r.bcc[0]!.message, { store: bob })).content)).not.toMatch(/^bcc:|leo@example/im);
    const dave = await storeWith(['leo-case']);
    expect(value((await openMessage(r.bcc[0]!.message, { store: bob })).headers, 'subject')).toBe('Quarterly numbers');
    await expect(openMessage(r.bcc[1]!.message, { store: bob })).rejects.toThrow(/decrypt/i);
    await openMessage(r.bcc[1]!.message, { store: dave });
    await expect(openMessage(r.message, { store: bob })).rejects.toThrow(/decrypt/i);
    // One RecipientInfo in each Bcc copy.
    expect(await recipientsOf(r.bcc[0]!.message)).toBe(1);
    expect(await recipientsOf(r.bcc[1]!.message)).toBe(1);
    expect(await recipientsOf(r.message)).toBe(1); // alice, as To and as the sender: one certificate
  });

  it('the refusal covers Bcc recipients: one without a certificate and nothing is encrypted', async () => {
    const err = await encryptMessage(MSG, { store, to: ['alice@example.com'], bcc: ['nobody@example.com', 'bob@example.com'] }).catch((e: unknown) => e);
    expect((err as { missing?: string[] }).missing).toEqual(['nobody@example.com']);
  });

  it('without bcc the return type and value are unchanged (a Uint8Array)', async () => {
    const m = await encryptMessage(MSG, { store, to: ['alice@example.com'] });
    expect(m).toBeInstanceOf(Uint8Array);
    await expect(encryptMessage(MSG, { store, to: ['alice@example.com'], bcc: [] })).rejects.toThrow(TypeError);
  });
});

describe('encryptStream with protectHeaders', () => {
  const streamOf = (bytes: Uint8Array, chunk: number) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += chunk) c.enqueue(bytes.slice(i, i + chunk));
        c.close();
      },
    });
  const collect = async (s: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(s).arrayBuffer());

  it('the same payload and outer header section as encryptMessage, read back by openMessage', async () => {
    const m = await collect(await encryptStream(streamOf(b(MSG), 7), { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, headerConfidentiality: 'shy' }));
    expect(getHeader(parseEntity(m), 'subject')).toBe('[...]');
    expect(getHeader(parseEntity(m), 'from')).toBe('alice@example.com');
    const r = await openMessage(m, { store: alice });
    expect(r.headerProtection).toMatchObject({ form: 'hp', hp: 'cipher', mismatches: [], problems: [] });
    expect(value(r.headers, 'subject')).toBe('Quarterly numbers');
    expect(t(parseEntity(r.content).body)).toBe('The numbers are good.\r\n');
    const whole = await openMessage(await encryptMessage(MSG, { store: alice, to: ['alice@example.com'], protectHeaders: true, headerConfidentiality: 'shy' }), { store: alice });
    expect(t(r.content)).toBe(t(whole.content));
  });

  it('bcc on a stream: one stream per copy, the Bcc field dropped (test/stream/header_protection_stream.test.ts has the rest)', async () => {
    const store = await storeWith(['alice-sign', 'alice-enc-2025'], ['bob']);
    const r = await encryptStream(streamOf(b(MSG.replace('To: alice@example.com\r\n', 'To: alice@example.com\r\nBcc: bob@example.com\r\n')), 64), { store, to: ['alice@example.com'], bcc: ['bob@example.com'], cipher: 'aes-256-cbc' });
    const [main, copy] = await Promise.all([collect(r.message), collect(r.bcc[0]!.message)]);
    expect(getHeaders(parseEntity(main), 'bcc')).toEqual([]);
    expect(getHeaders(parseEntity(copy), 'bcc')).toEqual([]);
    expect(t((await decryptMessage(copy, { store: await storeWith(['bob']) })).content)).toContain('The numbers are good.');
  });

  it('legacyDisplay on a stream: the element at the top of the text, as encryptMessage writes it', async () => {
    const m = await collect(await encryptStream(streamOf(b(MSG), 64), { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, legacyDisplay: true }));
    const r = await openMessage(m, { store: alice });
    expect(r.headerProtection?.legacyDisplay).toBe('Subject: Quarterly numbers');
    expect(t(parseEntity(r.content).body)).toBe('Subject: Quarterly numbers\r\n\r\nThe numbers are good.\r\n');
  });
});
