/**
 * smime-core/pkcs11 against a real SoftHSM2 token: opening by label and slot, the typed errors (wrong PIN, missing
 * token, missing module, token and slot both), identities(), close(), two tokens on one module.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPkcs11Token, type Pkcs11Token } from '../../src/pkcs11/index.js';
import { KeyOperationRefused, TokenNotFound, TokenPinIncorrect, TokenUnavailable } from '../../src/errors.js';
import { addEmptySoftHsmToken, createSoftHsmToken, DEFAULT_TOKEN_IDENTITIES, GENERATED_LABEL, REFUSING_IDENTITY, softHsmAvailable, type SoftHsmToken } from '../_helpers/softhsm.js';
import { rejection } from '../_helpers/thrown.js';

const available = await softHsmAvailable();
const PIN = '246810';
const SHA256_RSA = '1.2.840.113549.1.1.11';

describe.skipIf(!available)('PKCS#11 tokens (SoftHSM2)', () => {
  let hsm: SoftHsmToken;
  let secondSlot: number;
  const open: Pkcs11Token[] = [];
  const track = (t: Pkcs11Token) => (open.push(t), t);

  beforeAll(async () => {
    const t0 = performance.now();
    hsm = await createSoftHsmToken({ label: 'smime-token', pin: PIN });
    secondSlot = await addEmptySoftHsmToken(hsm, 'second', '1111');
    console.log(`[pkcs11] SoftHSM token created in ${Math.round(performance.now() - t0)} ms`);
  });
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });
  afterAll(() => hsm?.cleanup());

  it('opens a token by label and reports its info', async () => {
    const token = track(await openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: PIN }));
    expect(token.info).toMatchObject({ label: 'smime-token', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', slot: hsm.slot });
    expect(token.info.serial).toMatch(/^[0-9a-f]{16}$/);
  });

  it('opens a token by slot', async () => {
    const token = track(await openPkcs11Token({ module: hsm.module, slot: secondSlot, pin: '1111' }));
    expect(token.info.label).toBe('second');
    expect(token.info.slot).toBe(secondSlot);
    expect(await token.identities()).toEqual([]);
  });

  it('lists the certificates paired with their keys by CKA_ID, with types and decryption modes', async () => {
    const token = track(await openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: PIN }));
    const ids = await token.identities();
    const byLabel = new Map(ids.map((i) => [i.label, i]));
    expect([...byLabel.keys()].sort()).toEqual([...DEFAULT_TOKEN_IDENTITIES, GENERATED_LABEL, REFUSING_IDENTITY].sort());
    for (const name of DEFAULT_TOKEN_IDENTITIES) {
      const i = byLabel.get(name)!;
      expect(Buffer.from(i.certificate).equals(Buffer.from(hsm.identities[name]!.certificate))).toBe(true);
      expect(Buffer.from(i.id).toString('hex')).toBe(hsm.identities[name]!.id);
    }
    expect(Buffer.from(byLabel.get(GENERATED_LABEL)!.certificate).equals(Buffer.from(hsm.generated.certificate))).toBe(true);
    for (const name of ['alice-sign', 'alice-enc-2025', 'bob', GENERATED_LABEL]) {
      const { key } = byLabel.get(name)!;
      expect(key.type).toBe('rsa');
      // SoftHSM offers CKM_RSA_X_509, so the raw operation comes first (RFC 3218 unpadding in smime-core).
      expect(key.decryptModes).toEqual(['rsa-raw', 'rsaes-pkcs1-v1_5', 'rsaes-oaep']);
      expect(typeof key.sign).toBe('function');
      expect(typeof key.decrypt).toBe('function');
      expect(key.deriveSecret).toBeUndefined();
    }
    for (const name of ['ec-sign', 'ec-enc']) {
      const { key } = byLabel.get(name)!;
      expect(key.type).toBe('ec');
      expect(typeof key.sign).toBe('function');
      expect(typeof key.deriveSecret).toBe('function');
      expect(key.decrypt).toBeUndefined();
      expect(key.decryptModes).toBeUndefined();
    }
  });

  it('without a PIN sees no private keys, so no identities', async () => {
    const token = track(await openPkcs11Token({ module: hsm.module, token: 'smime-token' }));
    expect(await token.identities()).toEqual([]);
  });

  it('a wrong PIN is TokenPinIncorrect, and the PIN is not in the message', async () => {
    const err = await rejection(openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: '99999999' }));
    expect(err).toBeInstanceOf(TokenPinIncorrect);
    expect((err as TokenPinIncorrect).code).toBe('ERR_TOKEN_PIN_INCORRECT');
    expect(err.message).toContain('CKR_PIN_INCORRECT');
    expect(err.message).not.toContain('99999999');
    // The failed login left nothing open: the right PIN still works.
    const token = track(await openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: PIN }));
    expect((await token.identities()).length).toBe(7);
    // Now the slot is logged in (a login is shared by the process's sessions): a wrong PIN is still refused.
    const again = await rejection(openPkcs11Token({ module: hsm.module, slot: hsm.slot, pin: '99999999' }));
    expect(again).toBeInstanceOf(TokenPinIncorrect);
    expect(again.message).not.toContain('99999999');
  });

  it('a label or slot that does not exist is TokenNotFound', async () => {
    const e1 = await rejection(openPkcs11Token({ module: hsm.module, token: 'no-such-token', pin: PIN }));
    expect(e1).toBeInstanceOf(TokenNotFound);
    expect(e1.message).toContain('no-such-token');
    const e2 = await rejection(openPkcs11Token({ module: hsm.module, slot: 12345, pin: PIN }));
    expect(e2).toBeInstanceOf(TokenNotFound);
    expect(e2.message).toContain('12345');
  });

  it('with several tokens and neither label nor slot, TokenNotFound names them; token and slot both: TokenNotFound', async () => {
    const e1 = await rejection(openPkcs11Token({ module: hsm.module, pin: PIN }));
    expect(e1).toBeInstanceOf(TokenNotFound);
    expect(e1.message).toContain('"smime-token"');
    expect(e1.message).toContain('"second"');
    const e2 = await rejection(openPkcs11Token({ module: hsm.module, token: 'smime-token', slot: hsm.slot, pin: PIN }));
    expect(e2).toBeInstanceOf(TokenNotFound);
  });

  it('a module that does not exist is TokenUnavailable', async () => {
    const err = await rejection(openPkcs11Token({ module: '/nonexistent/libnothing.so', token: 'smime-token', pin: PIN }));
    expect(err).toBeInstanceOf(TokenUnavailable);
    expect(err.message).toContain('could not be loaded');
    expect(err.message).not.toContain(PIN);
  });

  it('close(): every later operation is TokenUnavailable; closing twice is fine; another token on the module goes on', async () => {
    const a = await openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: PIN });
    const b = track(await openPkcs11Token({ module: hsm.module, slot: hsm.slot, pin: PIN }));
    const keyA = (await a.identities()).find((i) => i.label === 'alice-sign')!.key;
    const keyB = (await b.identities()).find((i) => i.label === 'alice-sign')!.key;
    const data = new TextEncoder().encode('signed attributes');
    expect((await keyA.sign!(data, { oid: SHA256_RSA })).length).toBe(256);
    await a.close();
    await a.close();
    const e1 = await rejection(keyA.sign!(data, { oid: SHA256_RSA }));
    expect(e1).toBeInstanceOf(TokenUnavailable);
    expect(e1.message).toContain('closed');
    expect(await rejection(a.identities())).toBeInstanceOf(TokenUnavailable);
    expect(await rejection(keyA.decrypt!(new Uint8Array(256), 'rsa-raw'))).toBeInstanceOf(TokenUnavailable);
    // b shares the module and the slot's login: a's logout must not have ended it.
    expect((await keyB.sign!(data, { oid: SHA256_RSA })).length).toBe(256);
  });

  it('operations on one session are serialized: many concurrent signatures all succeed', async () => {
    const token = track(await openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: PIN }));
    const ids = await token.identities();
    const rsa = ids.find((i) => i.label === 'bob')!.key;
    const ec = ids.find((i) => i.label === 'ec-sign')!.key;
    const data = new TextEncoder().encode('x');
    const sigs = await Promise.all(
      Array.from({ length: 12 }, (_, n) => (n % 2 ? rsa.sign!(data, { oid: SHA256_RSA }) : ec.sign!(data, { oid: '1.2.840.10045.4.3.2' }))),
    );
    expect(sigs.map((s) => s.length > 60)).toEqual(Array(12).fill(true));
  });

  it('the key whose CKA_SIGN and CKA_DECRYPT are false refuses: KeyOperationRefused naming the CKR', async () => {
    const token = track(await openPkcs11Token({ module: hsm.module, token: 'smime-token', pin: PIN }));
    const { key } = (await token.identities()).find((i) => i.label === REFUSING_IDENTITY)!;
    const e1 = await rejection(key.sign!(new Uint8Array(8), { oid: SHA256_RSA }));
    expect(e1).toBeInstanceOf(KeyOperationRefused);
    expect(e1.message).toMatch(/C_Sign.*CKR_KEY_FUNCTION_NOT_PERMITTED/);
    const e2 = await rejection(key.decrypt!(new Uint8Array(256).fill(1, 1), 'rsa-raw'));
    expect(e2).toBeInstanceOf(KeyOperationRefused);
    expect(e2.message).toMatch(/C_Decrypt.*CKR_KEY_FUNCTION_NOT_PERMITTED/);
  });
});
