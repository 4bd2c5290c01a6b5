/**
 * Directory lookup in the store (issue 15): a CertificateResolver is asked once per encryptMessage for every
 * recipient without a usable certificate; its answers are selected by the usual rules, added as contacts, cached per
 * resolver by the store's clock, and shared between concurrent calls. The resolver here is an in-memory double; the
 * real directory (slapd) is tested with smime-core/ldap.
 */
import { describe, expect, it } from 'vitest';
import {
  CertificateStore,
  decryptMessage,
  encryptMessage,
  MissingRecipientCertificatesError,
  type CertificateResolver,
  type CertificateStoreOptions,
  type PemOrDer,
} from '../../src/index.js';
import { CHAIN, certPem, ROOT, storeWith } from '../_helpers/identities.js';
import { rejection } from '../_helpers/thrown.js';

const MSG = 'From: alice@example.com\r\nTo: bob@example.com\r\nSubject: dir\r\nContent-Type: text/plain\r\n\r\ndirectory\r\n';
const INNER = 'Content-Type: text/plain\r\n\r\ndirectory\r\n';
const T0 = new Date('2026-06-01T00:00:00Z');

/** A clock the test moves. */
function clock(start = T0) {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms: number) => void (t += ms) };
}

/** An in-memory directory: answers from `entries`, records every call. */
function directory(entries: Record<string, PemOrDer[]>, behave: { delayMs?: number; hang?: boolean; fail?: Error } = {}) {
  const calls: string[][] = [];
  const signals: AbortSignal[] = [];
  const resolver: CertificateResolver = async (addresses, signal) => {
    calls.push(addresses);
    signals.push(signal);
    if (behave.hang) return new Promise(() => {});
    if (behave.delayMs) await new Promise((r) => setTimeout(r, behave.delayMs));
    if (behave.fail) throw behave.fail;
    const out: Record<string, PemOrDer[]> = {};
    for (const a of addresses) if (entries[a]) out[a] = entries[a]!;
    return out;
  };
  return { resolver, calls, signals };
}

/** An empty store (the sample intermediate and root only) on a test clock. */
async function emptyStore(opts: CertificateStoreOptions = {}, trust = true): Promise<CertificateStore> {
  const store = new CertificateStore(opts);
  await store.addCertificate(CHAIN());
  if (trust) store.addTrustAnchor(ROOT());
  return store;
}

async function refusal(p: Promise<unknown>): Promise<MissingRecipientCertificatesError> {
  const e = await rejection(p);
  expect(e).toBeInstanceOf(MissingRecipientCertificatesError);
  return e as MissingRecipientCertificatesError;
}

describe('directory lookup (CertificateStore resolver)', async () => {
  const bobStore = await storeWith(['bob']);

  it('found: encrypts to the certificate the directory answers, and keeps it as a contact', async () => {
    const c = clock();
    const dir = directory({ 'bob@example.com': [certPem('bob')] });
    const store = await emptyStore({ resolver: dir.resolver, now: c.now });
    expect((await store.findEncryptionCertificate('bob@example.com')).reason).toBe('none'); // no network by default
    expect(dir.calls).toEqual([]);
    const out = await encryptMessage(MSG, { store, to: ['Bob@Example.com'] });
    expect(dir.calls).toEqual([['bob@example.com']]);
    const r = await decryptMessage(out, { store: bobStore });
    expect(new TextDecoder().decode(r.content)).toBe(INNER);
    // Now a contact like any other: selected without the directory.
    const sel = await store.findEncryptionCertificate('bob@example.com');
    expect(sel.certificate?.subject).toContain('CN=Bob Example');
    expect(dir.calls.length).toBe(1);
  });

  it("not found: 'none', and the resolver saw only the addresses without a certificate, in one call", async () => {
    const dir = directory({ 'bob@example.com': [certPem('bob')] });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    await store.addCertificate(certPem('heidi-subject-email'));
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com', 'carol@example.com', 'heidi@example.com', 'nobody@example.com'] }));
    expect(dir.calls).toEqual([['bob@example.com', 'carol@example.com', 'nobody@example.com']]);
    expect(e.reasons).toEqual({ 'carol@example.com': 'none', 'nobody@example.com': 'none' });
    expect(e.cause).toBeUndefined();
  });

  it("resolver throws: 'lookup-failed', the error kept on cause, and it is not cached", async () => {
    const boom = new Error('directory unreachable');
    const dir = directory({}, { fail: boom });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com'] }));
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed' });
    expect(e.cause).toBe(boom);
    await refusal(encryptMessage(MSG, { store, to: ['bob@example.com'] }));
    expect(dir.calls.length).toBe(2);
  });

  it("never answers: 'lookup-failed' after resolverTimeoutMs, and the resolver's signal is aborted", async () => {
    const dir = directory({}, { hang: true });
    const store = await emptyStore({ resolver: dir.resolver, resolverTimeoutMs: 50, now: clock().now });
    const t = Date.now();
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com'] }));
    expect(Date.now() - t).toBeLessThan(5000);
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed' });
    expect((e.cause as Error).name).toBe('TimeoutError');
    expect(dir.signals[0]!.aborted).toBe(true);
  });

  it("the caller's signal aborts the lookup", async () => {
    const dir = directory({}, { hang: true });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const ac = new AbortController();
    const p = encryptMessage(MSG, { store, to: ['bob@example.com'], signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user cancelled')), 20);
    const e = await refusal(p);
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed' });
    expect((e.cause as Error).message).toBe('user cancelled');
    expect(dir.signals[0]!.aborted).toBe(true);
  });

  it("expired and signing-only answers: the same reasons as from the store ('expired', 'wrong-usage')", async () => {
    const dir = directory({ 'dave@example.com': [certPem('dave')], 'frank@example.com': [certPem('frank-signonly')] });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['dave@example.com', 'frank@example.com'] }));
    expect(e.reasons).toEqual({ 'dave@example.com': 'expired', 'frank@example.com': 'wrong-usage' });
    expect(dir.calls).toEqual([['dave@example.com', 'frank@example.com']]);
  });

  it("an untrusted answer with trust anchors set: 'untrusted'", async () => {
    const dir = directory({ 'grace@example.com': [certPem('grace-untrusted')] });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['grace@example.com'] }));
    expect(e.reasons).toEqual({ 'grace@example.com': 'untrusted' });
  });

  it('garbage for one address does not spoil a good answer for another', async () => {
    const dir = directory({
      'bob@example.com': [certPem('bob')],
      'carol@example.com': ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00])],
    });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com', 'carol@example.com'] }));
    expect(e.reasons).toEqual({ 'carol@example.com': 'lookup-failed' });
    expect((e.cause as { code?: string }).code).toBe('ERR_CERTIFICATE_INVALID');
    const out = await encryptMessage(MSG, { store, to: ['bob@example.com'] });
    expect(new TextDecoder().decode((await decryptMessage(out, { store: bobStore })).content)).toBe(INNER);
  });

  it('hostile answers are typed refusals: not a record, not a list, not certificates, another person\'s certificate', async () => {
    const weird: CertificateResolver = async (addresses) =>
      (addresses.includes('x@example.com') ? 42 : { 'bob@example.com': 'not a list', 'carol@example.com': [{}], 'dan@example.com': [certPem('bob')] }) as never;
    const store = await emptyStore({ resolver: weird, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com', 'carol@example.com', 'dan@example.com'] }));
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed', 'carol@example.com': 'lookup-failed', 'dan@example.com': 'none' });
    expect((e.cause as { code?: string }).code).toBe('ERR_CERTIFICATE_INVALID');
    // Bob's certificate given for dan was not added.
    expect((await store.findEncryptionCertificate('bob@example.com')).reason).toBe('none');
    const e2 = await refusal(encryptMessage(MSG, { store, to: ['x@example.com'] }));
    expect(e2.reasons).toEqual({ 'x@example.com': 'lookup-failed' });
    expect((e2.cause as { code?: string }).code).toBe('ERR_CERTIFICATE_INVALID');
  });

  it('an answer that throws when read is a typed lookup-failed', async () => {
    const trap: CertificateResolver = async () =>
      new Proxy({} as Record<string, PemOrDer[]>, {
        has: () => true,
        getOwnPropertyDescriptor: () => {
          throw new RangeError('trap');
        },
      });
    const store = await emptyStore({ resolver: trap, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com'] }));
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed' });
    expect((e.cause as { code?: string }).code).toBe('ERR_CERTIFICATE_INVALID');
  });

  it('answers for addresses that were not asked are ignored', async () => {
    const chatty: CertificateResolver = async () => ({ 'bob@example.com': [certPem('bob')], 'ecuser@example.com': [certPem('ec-enc')] });
    const store = await emptyStore({ resolver: chatty, now: clock().now });
    const e = await refusal(encryptMessage(MSG, { store, to: ['carol@example.com'] }));
    expect(e.reasons).toEqual({ 'carol@example.com': 'none' });
    expect((await store.findEncryptionCertificate('bob@example.com')).reason).toBe('none');
  });

  it('limits: an answer above maxPemCertificates or maxInputBytes is that address\'s lookup-failed', async () => {
    const bundle = certPem('bob') + certPem('bob') + certPem('bob');
    const dir = directory({ 'bob@example.com': [bundle], 'ecuser@example.com': ['x'.repeat(20_000)] });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now, limits: { maxPemCertificates: 2, maxInputBytes: 10_000 } });
    const e = await refusal(encryptMessage(MSG, { store, to: ['bob@example.com', 'ecuser@example.com'] }));
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed', 'ecuser@example.com': 'lookup-failed' });
  });

  it('cache: an answer is reused within the TTL, asked again after it, by the store clock', async () => {
    const c = clock();
    // Frank's certificate is signing-only: the store never selects it, so every encryption needs the directory.
    const dir = directory({ 'frank@example.com': [certPem('frank-signonly')] });
    const store = await emptyStore({ resolver: dir.resolver, now: c.now, resolverCache: { ttlMs: 60_000, negativeTtlMs: 10_000 } });
    await refusal(encryptMessage(MSG, { store, to: ['frank@example.com'] }));
    c.advance(59_000);
    expect((await refusal(encryptMessage(MSG, { store, to: ['frank@example.com'] }))).reasons).toEqual({ 'frank@example.com': 'wrong-usage' });
    expect(dir.calls.length).toBe(1);
    c.advance(2_000);
    await refusal(encryptMessage(MSG, { store, to: ['frank@example.com'] }));
    expect(dir.calls.length).toBe(2);
  });

  it('cache: a positive entry ends at the certificate\'s notAfter even with a longer TTL', async () => {
    const c = clock(new Date('2028-12-31T23:00:00Z')); // frank's certificate ends 2029-01-01
    const dir = directory({ 'frank@example.com': [certPem('frank-signonly')] });
    const store = await emptyStore({ resolver: dir.resolver, now: c.now, resolverCache: { ttlMs: 24 * 3_600_000 } });
    await refusal(encryptMessage(MSG, { store, to: ['frank@example.com'] }));
    c.advance(2 * 3_600_000);
    await refusal(encryptMessage(MSG, { store, to: ['frank@example.com'] }));
    expect(dir.calls.length).toBe(2);
  });

  it('negative cache: "not found" kept for negativeTtlMs, then asked again', async () => {
    const c = clock();
    const dir = directory({});
    const store = await emptyStore({ resolver: dir.resolver, now: c.now, resolverCache: { negativeTtlMs: 10_000 } });
    await refusal(encryptMessage(MSG, { store, to: ['carol@example.com'] }));
    c.advance(9_000);
    await refusal(encryptMessage(MSG, { store, to: ['carol@example.com'] }));
    expect(dir.calls.length).toBe(1);
    c.advance(2_000);
    await refusal(encryptMessage(MSG, { store, to: ['carol@example.com'] }));
    expect(dir.calls.length).toBe(2);
  });

  it('cache bounded by maxEntries: the least recently used address is asked again', async () => {
    const dir = directory({});
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now, resolverCache: { maxEntries: 2 } });
    for (const a of ['a@example.com', 'b@example.com', 'c@example.com']) await refusal(encryptMessage(MSG, { store, to: [a] }));
    await refusal(encryptMessage(MSG, { store, to: ['c@example.com', 'b@example.com'] }));
    expect(dir.calls.length).toBe(3);
    await refusal(encryptMessage(MSG, { store, to: ['a@example.com'] }));
    expect(dir.calls.length).toBe(4);
  });

  it('concurrent encryptions for the same unknown address share one lookup', async () => {
    const dir = directory({ 'bob@example.com': [certPem('bob')] }, { delayMs: 30 });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const outs = await Promise.all([1, 2, 3].map(() => encryptMessage(MSG, { store, to: ['bob@example.com'] })));
    expect(dir.calls).toEqual([['bob@example.com']]);
    for (const out of outs) expect(new TextDecoder().decode((await decryptMessage(out, { store: bobStore })).content)).toBe(INNER);
  });

  it('a lookup under way is joined, the other addresses asked in one more call', async () => {
    const dir = directory({ 'bob@example.com': [certPem('bob')], 'ecuser@example.com': [certPem('ec-enc')] }, { delayMs: 30 });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    await Promise.all([
      encryptMessage(MSG, { store, to: ['bob@example.com'] }),
      encryptMessage(MSG, { store, to: ['bob@example.com', 'ecuser@example.com'] }),
    ]);
    expect(dir.calls).toEqual([['bob@example.com'], ['ecuser@example.com']]);
  });

  it("a caller that joined another's lookup still stops at its own signal; the lookup goes on for the other", async () => {
    const dir = directory({ 'bob@example.com': [certPem('bob')] }, { delayMs: 80 });
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    const ac = new AbortController();
    const first = encryptMessage(MSG, { store, to: ['bob@example.com'] });
    await new Promise((r) => setTimeout(r, 10));
    const second = encryptMessage(MSG, { store, to: ['bob@example.com'], signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user cancelled')), 20);
    const e = await refusal(second);
    expect(e.reasons).toEqual({ 'bob@example.com': 'lookup-failed' });
    expect((e.cause as Error).message).toBe('user cancelled');
    expect(new TextDecoder().decode((await decryptMessage(await first, { store: bobStore })).content)).toBe(INNER);
    expect(dir.calls.length).toBe(1);
    expect(dir.signals[0]!.aborted).toBe(false);
  });

  it("a per-call resolver replaces the store's for that call", async () => {
    const storeDir = directory({});
    const callDir = directory({ 'bob@example.com': [certPem('bob')] });
    const store = await emptyStore({ resolver: storeDir.resolver, now: clock().now });
    await encryptMessage(MSG, { store, to: ['bob@example.com'], resolver: callDir.resolver });
    expect(storeDir.calls).toEqual([]);
    expect(callDir.calls).toEqual([['bob@example.com']]);
  });

  it('findEncryptionCertificate and selectRecipients ask a directory only when told to', async () => {
    const dir = directory({ 'bob@example.com': [certPem('bob')] }, );
    const store = await emptyStore({ resolver: dir.resolver, now: clock().now });
    expect((await rejection(store.selectRecipients(['bob@example.com'])) as MissingRecipientCertificatesError).reasons).toEqual({ 'bob@example.com': 'none' });
    expect(dir.calls).toEqual([]);
    const other = directory({});
    expect((await store.findEncryptionCertificate('bob@example.com', undefined, { resolver: other.resolver })).reason).toBe('none');
    expect(other.calls).toEqual([['bob@example.com']]);
    const sel = await store.selectRecipients(['bob@example.com'], undefined, { resolver: true });
    expect([...sel.keys()]).toEqual(['bob@example.com']);
    expect(dir.calls).toEqual([['bob@example.com']]);
  });

  it('no resolver: exactly today\'s refusal, no cause', async () => {
    const store = await emptyStore({ now: clock().now });
    await store.addCertificate(certPem('dave'));
    const e = await refusal(encryptMessage(MSG, { store, to: ['dave@example.com', 'carol@example.com'] }));
    expect(e.reasons).toEqual({ 'dave@example.com': 'expired', 'carol@example.com': 'none' });
    expect(e.cause).toBeUndefined();
  });

  it('bad options are TypeErrors', async () => {
    expect(() => new CertificateStore({ resolver: 'ldap://x' as never })).toThrow(TypeError);
    expect(() => new CertificateStore({ resolverTimeoutMs: -1 })).toThrow(TypeError);
    expect(() => new CertificateStore({ resolverCache: { maxEntries: 0 } })).toThrow(TypeError);
    const store = await emptyStore();
    expect(await rejection(encryptMessage(MSG, { store, to: ['bob@example.com'], resolver: 1 as never }))).toBeInstanceOf(TypeError);
    expect(await rejection(encryptMessage(MSG, { store, to: ['bob@example.com'], signal: {} as never }))).toBeInstanceOf(TypeError);
  });

  it('the integer options: one message, `<option> must be an integer >= <min>` (timeout and size at least 1, TTLs at least 0)', () => {
    const message = (options: object) => {
      try {
        new CertificateStore(options);
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        return (e as Error).message;
      }
      return undefined;
    };
    for (const bad of [0, 1.5, Number.NaN, Infinity, '10'])
      expect(message({ resolverTimeoutMs: bad })).toBe('CertificateStore: options.resolverTimeoutMs must be an integer >= 1');
    expect(message({ resolverCache: { maxEntries: 0 } })).toBe('CertificateStore: options.resolverCache.maxEntries must be an integer >= 1');
    expect(message({ resolverCache: { ttlMs: -1 } })).toBe('CertificateStore: options.resolverCache.ttlMs must be an integer >= 0');
    expect(message({ resolverCache: { negativeTtlMs: 0.5 } })).toBe('CertificateStore: options.resolverCache.negativeTtlMs must be an integer >= 0');
    // The online limits are checked by the same validator, with the same message.
    expect(message({ onlineLimits: { requestTimeoutMs: 0 } })).toMatch(/\.onlineLimits\.requestTimeoutMs must be an integer >= 1$/);
    expect(message({ onlineLimits: { clockSkewSeconds: -1 } })).toMatch(/\.onlineLimits\.clockSkewSeconds must be an integer >= 0$/);
    expect(message({ onlineLimits: { requestTimeoutMs: undefined } })).toMatch(/\.onlineLimits\.requestTimeoutMs must be an integer >= 1$/);
    // Zero TTLs (no caching) and the smallest timeout are fine.
    expect(message({ resolverTimeoutMs: 1, resolverCache: { ttlMs: 0, negativeTtlMs: 0, maxEntries: 1 }, onlineLimits: { clockSkewSeconds: 0 } })).toBeUndefined();
  });
});
