/**
 * Header protection (RFC 9788) with the peers: OpenSSL (`openssl cms`), NSS (`cmsutil`) and Bouncy Castle
 * (vectors/java/SmimePeer.java) decrypt and verify smime-core's header-protected messages (they ignore `hp`; the
 * payload must still be a valid MIME entity with the protected fields in its header section), and messages whose
 * payload header section the test writes by hand, signed or encrypted by OpenSSL, are read correctly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptMessage, openMessage, signMessage, type CertificateStore } from '../../src/index.js';
import { manifest, OPENSSL_AT_REFERENCE, storeWith } from '../_helpers/identities.js';
import { tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { compileSmimePeer, havePeers, makeNssDb, nssVerify, ROOT_CA_FILE as ROOT, runAsync, type RunResult } from '../_helpers/peers.js';
import { cmsOf } from '../sign/_pki.js';
import { parseEntity, getHeader, getHeaders } from '../../src/mime/entity.js';
import { parseContentType } from '../../src/mime/header_params.js';

const HAVE = havePeers();
const td = new TextDecoder('latin1');
const file = (name: string, k: 'cert' | 'key' | 'p12') => join(VECTORS, (manifest.identities[name] as unknown as Record<string, string>)[k]!);

const MSG =
  'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nSubject: Quarterly numbers\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n' +
  'Message-ID: <hp-peer@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nThe numbers are good.\r\n';

let dir = '';
let seq = 0;
const put = (data: Uint8Array | string, ext: string) => {
  const f = join(dir, `hp${++seq}.${ext}`);
  writeFileSync(f, data);
  return f;
};
let store: CertificateStore;
const m: Record<string, Uint8Array> = {};

/** The payload a peer gives back is a MIME entity with the protected fields and the hp parameter. */
function expectPayload(bytes: Uint8Array | string, hp: 'clear' | 'cipher') {
  const e = parseEntity(typeof bytes === 'string' ? new Uint8Array(Buffer.from(bytes, 'latin1')) : bytes);
  expect(getHeader(e, 'subject')).toBe('Quarterly numbers');
  expect(getHeader(e, 'from')).toBe('Alice <alice@example.com>');
  expect(parseContentType(getHeader(e, 'content-type')!).params.hp).toBe(hp);
  expect(getHeaders(e, 'hp-outer').length > 0).toBe(hp === 'cipher');
  expect(td.decode(e.body)).toContain('The numbers are good.');
}

beforeAll(async () => {
  dir = tmp('smime-hp-');
  store = await storeWith(['alice-sign', 'alice-enc-2025']);
  m.signed = await signMessage(MSG, { store, from: 'alice@example.com', protectHeaders: true });
  m.opaque = await signMessage(MSG, { store, from: 'alice@example.com', protectHeaders: true, detached: false });
  m.encrypted = await encryptMessage(MSG, { store, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true, legacyDisplay: true });
  const forEnc = await signMessage(MSG, { store, from: 'alice@example.com', protectHeaders: true, headerConfidentiality: 'baseline' });
  m.both = await encryptMessage(forEnc, { store, to: ['alice@example.com'], cipher: 'aes-256-cbc', protectHeaders: true });
});

describe.runIf(HAVE.openssl)('OpenSSL reads smime-core header-protected messages', () => {
  const verify = (f: string) => tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', f]);
  const decrypt = (f: string) => tryRun('openssl', ['cms', '-decrypt', '-recip', file('alice-enc-2025', 'cert'), '-inkey', file('alice-enc-2025', 'key'), '-in', f]);

  it('multipart/signed, hp="clear": verifies, the signed part holds the protected fields', () => {
    const r = verify(put(m.signed!, 'eml'));
    expect(r.stderr).toContain('Verification successful');
    expectPayload(r.stdout, 'clear');
  });
  it('opaque signed-data, hp="clear"', () => {
    const r = verify(put(m.opaque!, 'eml'));
    expect(r.stderr).toContain('Verification successful');
    expectPayload(r.stdout, 'clear');
  });
  it('encrypted, hp="cipher" with HP-Outer and a Legacy Display Element', () => {
    const r = decrypt(put(m.encrypted!, 'eml'));
    expect(r.status).toBe(0);
    expectPayload(r.stdout, 'cipher');
    expect(td.decode(parseEntity(r.stdout).body)).toMatch(/^Subject: Quarterly numbers\r\n\r\nThe numbers/);
  });
  it('signed then encrypted: decrypts, and the signed payload (hp="cipher") verifies', () => {
    const d = decrypt(put(m.both!, 'eml'));
    expect(d.status).toBe(0);
    const v = verify(put(d.stdout, 'eml'));
    expect(v.stderr).toContain('Verification successful');
    expectPayload(v.stdout, 'cipher');
  });
});

describe.runIf(HAVE.nss)('NSS (cmsutil) reads smime-core header-protected messages', () => {
  let db = '';
  beforeAll(() => {
    db = makeNssDb(dir, [file('alice-enc-2025', 'p12')]);
  });
  it('multipart/signed, hp="clear": GoodSignature over the protected payload', async () => {
    const content = (await openMessage(m.signed!, { store, harvest: false })).content;
    expectPayload(content, 'clear');
    expect(await nssVerify(db, put(cmsOf(m.signed!), 'p7m'), put(content, 'txt'))).toContain('signer0.status=GoodSignature');
  });
  it('encrypted, hp="cipher"', async () => {
    const r = await runAsync('cmsutil', ['-D', '-i', put(cmsOf(m.encrypted!), 'p7m'), '-d', db, '-p', '']);
    expect(r.status).toBe(0);
    expectPayload(r.stdout, 'cipher');
  });
});

describe.runIf(HAVE.bc)('Bouncy Castle reads smime-core header-protected messages', () => {
  let bc: (args: string[]) => Promise<RunResult>;
  beforeAll(() => {
    bc = compileSmimePeer(dir);
  }, 120_000);
  it('opaque signed-data, hp="clear": verifies, the content holds the protected fields', async () => {
    const out = join(dir, 'bc-verified.eml');
    const r = await bc(['verify', '--in', put(cmsOf(m.opaque!), 'p7m'), '--trust', ROOT, '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expectPayload(new Uint8Array(readFileSync(out)), 'clear');
  }, 60_000);
  it('encrypted, hp="cipher": decrypts to the protected payload', async () => {
    const out = join(dir, 'bc-decrypted.eml');
    const r = await bc(['decrypt', '--cert', file('alice-enc-2025', 'cert'), '--key', file('alice-enc-2025', 'key'), '--in', put(cmsOf(m.encrypted!), 'p7m'), '--out', out]);
    expect(r.status).toBe(0);
    expectPayload(new Uint8Array(readFileSync(out)), 'cipher');
  }, 60_000);
});

describe.runIf(HAVE.openssl)('payloads written by hand, signed or encrypted by OpenSSL, read by openMessage', () => {
  const OUTER = 'From: Alice <alice@example.com>\r\nTo: alice@example.com\r\nDate: Mon, 30 Nov 2026 10:00:00 +0100\r\n';
  const sign = (payload: string) =>
    td.decode(tryRun('openssl', ['cms', '-sign', '-binary', '-signer', file('alice-sign', 'cert'), '-inkey', file('alice-sign', 'key'), '-in', put(payload, 'txt')]).stdout);
  const encrypt = (payload: string) => td.decode(tryRun('openssl', ['cms', '-encrypt', '-binary', '-aes256', '-in', put(payload, 'txt'), file('alice-enc-2025', 'cert')]).stdout);
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

  it('signed, hp="clear": the protected fields, the signer bound to the protected From', async () => {
    const payload = `${OUTER}Subject: Handmade\r\nContent-Type: text/plain; charset=us-ascii; hp="clear"\r\n\r\nHello.\r\n`;
    const signed = sign(payload);
    const r = await openMessage(bytes(`${OUTER}Subject: Handmade\r\n${signed}`), { store, harvest: false });
    expect(r.signers.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
    expect(r.headerProtection).toMatchObject({ form: 'hp', hp: 'clear', mismatches: [], problems: [] });
    expect(r.headers?.find((h) => h.name === 'Subject')?.value).toBe('Handmade');
    // OpenSSL's own output has no From outside at all: the protected From still binds.
    const bare = await openMessage(bytes(signed), { store, harvest: false });
    expect(bare.signers[0]!.status).toBe('valid');
    expect(bare.signers[0]!.reasons).not.toContain('outer-from-differs');
    // A forged outer From: reported, not bound.
    const forged = await openMessage(bytes(`From: boss@example.com\r\nSubject: Handmade\r\n${signed}`), { store, harvest: false });
    expect(forged.signers[0]!.status).toBe('valid');
    expect(forged.signers[0]!.reasons).toContain('outer-from-differs');
    expect(forged.headerProtection?.mismatches.map((x) => x.name)).toEqual(['from', 'to', 'date']);
  });

  it('encrypted, hp="cipher" with HP-Outer: exposed fields, no mismatch; a changed outer Subject is one', async () => {
    const payload =
      `${OUTER}Subject: Secret plans\r\nHP-Outer: From: Alice <alice@example.com>\r\nHP-Outer: To: alice@example.com\r\n` +
      `HP-Outer: Date: Mon, 30 Nov 2026 10:00:00 +0100\r\nHP-Outer: Subject: [...]\r\nContent-Type: text/plain; charset=us-ascii; hp="cipher"\r\n\r\nThe plans.\r\n`;
    const enc = encrypt(payload);
    const r = await openMessage(bytes(`${OUTER}Subject: [...]\r\n${enc}`), { store });
    expect(r.headerProtection).toMatchObject({ form: 'hp', hp: 'cipher', mismatches: [], problems: [] });
    expect(r.headers?.find((h) => h.name === 'Subject')?.value).toBe('Secret plans');
    expect(r.headerProtection?.exposed).toEqual([
      { name: 'From', value: 'Alice <alice@example.com>' },
      { name: 'To', value: 'alice@example.com' },
      { name: 'Date', value: 'Mon, 30 Nov 2026 10:00:00 +0100' },
      { name: 'Subject', value: '[...]' },
    ]);
    const t = await openMessage(bytes(`${OUTER}Subject: Re: [...]\r\n${enc}`), { store });
    expect(t.headerProtection?.mismatches).toEqual([{ name: 'subject', outer: ['Re: [...]'], expected: ['[...]'] }]);
  });

  it('signed, hp="cipher" but never encrypted: reported', async () => {
    const payload = `${OUTER}Subject: x\r\nHP-Outer: Subject: [...]\r\nContent-Type: text/plain; hp="cipher"\r\n\r\nx\r\n`;
    const r = await openMessage(bytes(`${OUTER}Subject: [...]\r\n${sign(payload)}`), { store, harvest: false });
    expect(r.headerProtection?.problems).toEqual(['hp-cipher-without-encryption']);
    expect(r.headers?.find((h) => h.name === 'Subject')?.value).toBe('x');
  });
});
