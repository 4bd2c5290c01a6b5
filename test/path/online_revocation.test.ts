/**
 * Online revocation and chain completion (issue 18) against real servers started here: `openssl ocsp` responders
 * over a PKI generated at test time (signed by the CA, by a delegated responder, by a rogue key, answers that expire
 * after a minute) and a node:http server with the CRLs and CA certificates (test/_helpers/revocation_pki.ts).
 * Messages are signed by OpenSSL (`openssl cms -sign`), verified by us under each policy, and OpenSSL's own
 * `openssl ocsp` and `openssl verify -crl_check` are asked the same questions.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, encryptMessage, encryptStream, MissingRecipientCertificatesError, verifyMessage, type VerifyOptions } from '../../src/index.js';
import { children, oid, readTlv, seq, tlv } from '../../src/lib/der.js';
import { certInfo } from '../../src/certs/cert_info.js';
import { checkOcspResponse } from '../../src/path/ocsp.js';
import { writeFileSync } from 'node:fs';
import { hasPeer, run, tryRun } from '../_helpers/env.js';
import { cli } from '../_helpers/cli.js';
import { LEAVES, routedFetch, startRevocationPki, type FetchLog, type LeafName, type RevocationPki } from '../_helpers/revocation_pki.js';

describe.runIf(hasPeer('openssl', ['version']))('online revocation (OCSP, CRL distribution points, AIA) against real servers', () => {
  let pki: RevocationPki;
  /** A signed message of each leaf: with its intermediate, and without it. */
  const signed = new Map<string, Uint8Array>();

  beforeAll(async () => {
    pki = await startRevocationPki();
    for (const name of Object.keys(LEAVES) as LeafName[]) {
      const msg = `From: ${name}@example.com\r\nTo: reader@example.com\r\nSubject: revocation test\r\n\r\nhello from ${name}\r\n`;
      const sign = (extra: string[]) =>
        run('openssl', ['cms', '-sign', '-signer', pki.file(`${name}.pem`), '-inkey', pki.file(`${name}.key`), '-md', 'sha256', ...extra], msg);
      signed.set(name, sign(['-certfile', pki.file('inter.pem')]));
      signed.set(`${name}-alone`, sign([]));
    }
  });
  afterAll(async () => {
    await pki?.stop();
  });

  /** A store trusting the test root, with `options` (fetch, revocation…). */
  const store = (options: ConstructorParameters<typeof CertificateStore>[0] = {}) => {
    const s = new CertificateStore(options);
    s.addTrustAnchor(pki.pem('root'));
    return s;
  };
  const verify = async (name: string, s: CertificateStore, options: Partial<VerifyOptions> = {}) => {
    const r = await verifyMessage(signed.get(name)!, { store: s, harvest: false, ...options });
    expect(r.signers).toHaveLength(1);
    return r.signers[0]!;
  };

  it('without a fetch, or with revocation off, nothing goes to the network and a revoked certificate is not seen', async () => {
    const log: FetchLog[] = [];
    expect((await verify('revoked', store())).status).toBe('valid');
    const off = store({ fetch: routedFetch(pki, pki.ports.ca, { log }), revocation: 'off' });
    const s = await verify('revoked', off);
    expect(s.status).toBe('valid');
    expect(s.reasons).toEqual([]);
    expect(log).toEqual([]);
    // Without the intermediate and offline: no path.
    expect((await verify('good-alone', store())).status).toBe('untrusted');
  });

  it('OCSP signed by the CA: good is valid, revoked is revoked (keyCompromise), by POST with a nonce', async () => {
    const log: FetchLog[] = [];
    const s = store({ fetch: routedFetch(pki, pki.ports.ca, { log }) });
    const good = await verify('good', s);
    expect(good.status).toBe('valid');
    expect(good.reasons).toEqual([]);
    expect(log.some((l) => l.url === 'http://ocsp.smime.test/' && l.method === 'POST')).toBe(true);
    const revoked = await verify('revoked', s);
    expect(revoked.status).toBe('revoked');
    expect(revoked.reasons.join(' ')).toMatch(/^revoked: \d{4}-.* \(reason 1\)$/);
  });

  it('the OCSP answer is cached until it expires: a second verification asks nobody', async () => {
    const log: FetchLog[] = [];
    const s = store({ fetch: routedFetch(pki, pki.ports.ca, { log }) });
    expect((await verify('ocsponly', s)).status).toBe('valid');
    const n = log.length;
    expect(n).toBeGreaterThan(0);
    expect((await verify('ocsponly', s)).status).toBe('valid');
    expect(log.length).toBe(n);
  });

  it('without a nonce a small request goes by GET (RFC 6960 A.1), and the answer is the same', async () => {
    const log: FetchLog[] = [];
    const s = store({ fetch: routedFetch(pki, pki.ports.ca, { log }), ocspNonce: false });
    expect((await verify('revoked', s)).status).toBe('revoked');
    const req = log.find((l) => l.url.startsWith('http://ocsp.smime.test/'))!;
    expect(req.method).toBe('GET');
    expect(req.url.length).toBeGreaterThan('http://ocsp.smime.test/'.length + 40);
  });

  it('an unknown certificate: valid with revocation-unknown under soft-fail, untrusted under hard-fail', async () => {
    const soft = await verify('unknown', store({ fetch: routedFetch(pki, pki.ports.ca) }));
    expect(soft.status).toBe('valid');
    expect(soft.reasons).toEqual(['revocation-unknown: ocsp-unknown']);
    const hard = await verify('unknown', store({ fetch: routedFetch(pki, pki.ports.ca), revocation: 'hard-fail' }));
    expect(hard.status).toBe('untrusted');
    expect(hard.reasons).toEqual(['revocation-unknown: ocsp-unknown']);
  });

  it('a delegated responder (id-kp-OCSPSigning, issued by the CA, id-pkix-ocsp-nocheck) is believed', async () => {
    const s = store({ fetch: routedFetch(pki, pki.ports.delegated), revocation: 'hard-fail' });
    expect((await verify('ocsponly', s)).status).toBe('valid');
    expect((await verify('revoked', s)).status).toBe('revoked');
  });

  it('a response signed by a rogue key with the CA name is not believed', async () => {
    const soft = await verify('ocsponly', store({ fetch: routedFetch(pki, pki.ports.rogue) }));
    expect(soft.status).toBe('valid');
    expect(soft.reasons).toEqual(['revocation-unknown: ocsp-signer-untrusted']);
    const hard = await verify('ocsponly', store({ fetch: routedFetch(pki, pki.ports.rogue), revocation: 'hard-fail' }));
    expect(hard.status).toBe('untrusted');
    // The rogue says "good" for a revoked certificate: the CRL distribution point still says revoked.
    expect((await verify('revoked', store({ fetch: routedFetch(pki, pki.ports.rogue) }))).status).toBe('revoked');
  });

  it('an expired response (nextUpdate passed, beyond the skew tolerance) is not used', async () => {
    const log: FetchLog[] = [];
    const s = store({ fetch: routedFetch(pki, pki.ports.short, { log }), now: () => new Date(Date.now() + 10 * 60_000) });
    const r = await verify('ocsponly', s);
    expect(r.status).toBe('valid');
    expect(r.reasons).toEqual(['revocation-unknown: ocsp-stale']);
    expect(log.filter((l) => l.url.startsWith('http://ocsp.')).length).toBe(1);
    // Within the minute, the same responder's answer is fresh.
    expect((await verify('ocsponly', store({ fetch: routedFetch(pki, pki.ports.short) }))).reasons).toEqual([]);
  });

  it('the responder down: soft-fail keeps the status with the reason, hard-fail is untrusted', async () => {
    const soft = await verify('ocsponly', store({ fetch: routedFetch(pki, pki.ports.dead) }));
    expect(soft.status).toBe('valid');
    expect(soft.reasons).toEqual(['revocation-unknown: ocsp-unreachable']);
    const hard = await verify('ocsponly', store({ fetch: routedFetch(pki, pki.ports.dead), revocation: 'hard-fail' }));
    expect(hard.status).toBe('untrusted');
    expect(hard.reasons).toEqual(['revocation-unknown: ocsp-unreachable']);
    // Per call: the call's policy over the store's.
    const s = store({ fetch: routedFetch(pki, pki.ports.dead) });
    expect((await verify('ocsponly', s, { revocation: 'hard-fail' })).status).toBe('untrusted');
    expect((await verify('ocsponly', s, { revocation: 'off' })).reasons).toEqual([]);
    expect((await verify('ocsponly', store(), { fetch: routedFetch(pki, pki.ports.ca), revocation: 'hard-fail' })).status).toBe('valid');
  });

  it('CRL distribution points over http: fetched, validated, cached until nextUpdate', async () => {
    const s = store({ fetch: routedFetch(pki, pki.ports.dead), revocation: 'hard-fail' });
    const before = pki.hits.get('/inter.crl') ?? 0;
    expect((await verify('crlgood', s)).status).toBe('valid');
    const r = await verify('crlrevoked', s);
    expect(r.status).toBe('revoked');
    expect(r.reasons[0]).toMatch(/^revoked: .* \(reason 1\)$/);
    // The issuing CA's own status came from the root's CRL; the CA's CRL was fetched once for both.
    expect(pki.hits.get('/inter.crl')! - before).toBe(1);
    expect(pki.hits.get('/root.crl')).toBeGreaterThan(0);
  });

  it('AIA caIssuers completes a chain whose intermediate is missing (DER and certs-only PKCS#7)', async () => {
    const s = store({ fetch: routedFetch(pki, pki.ports.ca) });
    const r = await verify('good-alone', s);
    expect(r.status).toBe('valid');
    expect(r.reasons).toEqual([]);
    expect(pki.hits.get('/inter.der')).toBeGreaterThan(0);
    const p7 = await verify('crlgood-alone', store({ fetch: routedFetch(pki, pki.ports.ca) }));
    expect(p7.status).toBe('valid');
    expect(pki.hits.get('/inter.p7c')).toBeGreaterThan(0);
    // A revoked leaf reached through AIA is still revoked.
    expect((await verify('revoked-alone', store({ fetch: routedFetch(pki, pki.ports.ca) }))).status).toBe('revoked');
    // AIA answers spend the path budget: with none left, no fetch.
    const tight = store({ fetch: routedFetch(pki, pki.ports.ca), limits: { maxPathCandidates: 1 } });
    expect((await verify('good-alone', tight)).status).toBe('untrusted');
  });

  it("store.verifyCertificate asks the same way (AIA included), with the call's policy over the store's", async () => {
    const s = store({ fetch: routedFetch(pki, pki.ports.ca) });
    expect((await s.verifyCertificate(pki.pem('revoked'))).status).toBe('revoked');
    const good = await s.verifyCertificate(pki.pem('good'));
    expect(good.status).toBe('valid');
    expect(good.path).toHaveLength(3); // the intermediate came from AIA
    expect(await s.verifyCertificate(pki.pem('unknown'), { intermediates: [pki.pem('inter')] })).toMatchObject({ status: 'valid', reasons: ['revocation-unknown: ocsp-unknown'] });
    expect(await s.verifyCertificate(pki.pem('unknown'), { intermediates: [pki.pem('inter')], revocation: 'hard-fail' })).toEqual({ status: 'untrusted', reasons: ['revocation-unknown: ocsp-unknown'] });
    expect((await s.verifyCertificate(pki.pem('revoked'), { intermediates: [pki.pem('inter')], revocation: 'off' })).status).toBe('valid');
  });

  /**
   * An opaque signed message of `name` stapling the answer of the responder on `port`: OpenSSL's client fetches it,
   * and we staple it into the SignedData (RFC 5940 other).
   */
  const opaque = new Map<string, Uint8Array>();
  const answers = new Map<string, Uint8Array>();
  const stapled = (name: LeafName, port = pki.ports.ca): Uint8Array => {
    const key = `${name}-${port}`;
    if (!answers.has(key)) {
      const resp = pki.file(`${key}.ocsp`);
      run('openssl', ['ocsp', '-issuer', pki.file('inter.pem'), '-cert', pki.file(`${name}.pem`), '-url', `http://127.0.0.1:${port}/`, '-no_nonce', '-respout', resp, '-noverify']);
      answers.set(key, new Uint8Array(readFileSync(resp)));
    }
    if (!opaque.has(name)) {
      const msg = `From: ${name}@example.com\r\n\r\nstapled\r\n`;
      opaque.set(name, run('openssl', ['cms', '-sign', '-nodetach', '-outform', 'DER', '-signer', pki.file(`${name}.pem`), '-inkey', pki.file(`${name}.key`), '-certfile', pki.file('inter.pem')], msg));
    }
    return withStapledOcsp(opaque.get(name)!, answers.get(key)!);
  };

  it('stapled OCSP responses in the SignedData are used before the network', async () => {
    const log: FetchLog[] = [];
    const s = store({ fetch: routedFetch(pki, pki.ports.dead, { log }), revocation: 'hard-fail' });
    const good = await verifyMessage(stapled('ocsponly'), { store: s, harvest: false });
    expect(good.signers[0]!.status).toBe('valid');
    // Only the issuing CA's status went to the network (its CRL distribution point); no OCSP request.
    expect(log.map((l) => l.url)).toEqual(['http://pki.smime.test/root.crl']);
    const revoked = await verifyMessage(stapled('revoked'), { store: s, harvest: false });
    expect(revoked.signers[0]!.status).toBe('revoked');
  });

  it('stapled responses are offline evidence: read without a fetch and with the policy off; stale or wrongly signed ones are ignored, with the reason', async () => {
    // A stapled "revoked" answer: revoked with no fetch at all, and with a fetch but the policy off (nothing asked).
    const revokedMsg = stapled('revoked');
    const offline = await verifyMessage(revokedMsg, { store: store(), harvest: false });
    expect(offline.signers[0]).toMatchObject({ status: 'revoked', reasons: [expect.stringMatching(/^revoked: .* \(reason 1\)$/)] });
    const log: FetchLog[] = [];
    const off = await verifyMessage(revokedMsg, { store: store({ fetch: routedFetch(pki, pki.ports.ca, { log }), revocation: 'off' }), harvest: false });
    expect(off.signers[0]!.status).toBe('revoked');
    expect(log).toEqual([]);
    // A stapled "good" answer offline: valid, nothing said.
    expect((await verifyMessage(stapled('ocsponly'), { store: store(), harvest: false })).signers[0]).toMatchObject({ status: 'valid', reasons: [] });
    // Stale: the short responder's answer, read ten minutes later (beyond its minute and the skew tolerance).
    const later = store({ now: () => new Date(Date.now() + 10 * 60_000) });
    const stale = (await verifyMessage(stapled('revoked', pki.ports.short), { store: later, harvest: false })).signers[0]!;
    expect(stale).toMatchObject({ status: 'valid', reasons: ['revocation-unknown: stapled-ocsp-stale'] });
    // Within its minute, the same kind of answer counts.
    expect((await verifyMessage(stapled('revoked', pki.ports.short), { store: store(), harvest: false })).signers[0]!.status).toBe('revoked');
    // Signed by a rogue key with the CA's name (it answers "good" for a revoked certificate): not believed.
    const rogue = (await verifyMessage(stapled('revoked', pki.ports.rogue), { store: store(), harvest: false })).signers[0]!;
    expect(rogue).toMatchObject({ status: 'valid', reasons: ['revocation-unknown: stapled-ocsp-signer-untrusted'] });
    // Online, an ignored stapled answer leaves the network to speak: the CA's responder says revoked.
    const online = (await verifyMessage(stapled('revoked', pki.ports.rogue), { store: store({ fetch: routedFetch(pki, pki.ports.ca) }), harvest: false })).signers[0]!;
    expect(online.status).toBe('revoked');
  });

  it('OCSP CertIDs: SHA-1 by default, SHA-256 with ocspCertIdHash; the real responder answers each as asked', async () => {
    const exchange = async (hash?: 'SHA-1' | 'SHA-256') => {
      const seen: { req?: Uint8Array; resp?: Uint8Array<ArrayBuffer> } = {};
      const routed = routedFetch(pki, pki.ports.ca);
      const fetch = async (url: string, init?: Parameters<typeof routed>[1]) => {
        const res = await routed(url, init);
        if (!url.startsWith('http://ocsp.')) return res;
        seen.req = init?.body;
        seen.resp = new Uint8Array(await res.arrayBuffer());
        return new Response(seen.resp, { status: res.status });
      };
      const s = store({ fetch, revocation: 'hard-fail', ...(hash ? { ocspCertIdHash: hash } : {}) });
      const status = (await verify('revoked', s)).status;
      writeFileSync(pki.file('certid.req'), seen.req!);
      writeFileSync(pki.file('certid.resp'), seen.resp!);
      const reqText = readTextOf(run('openssl', ['ocsp', '-reqin', pki.file('certid.req'), '-req_text', '-noverify']));
      const respText = readTextOf(run('openssl', ['ocsp', '-respin', pki.file('certid.resp'), '-resp_text', '-noverify']));
      const alg = (t: string) => /Hash Algorithm: (\w+)/.exec(t)![1];
      return { status, req: alg(reqText), resp: alg(respText) };
    };
    expect(await exchange()).toEqual({ status: 'revoked', req: 'sha1', resp: 'sha1' });
    expect(await exchange('SHA-256')).toEqual({ status: 'revoked', req: 'sha256', resp: 'sha256' });
    expect(() => new CertificateStore({ ocspCertIdHash: 'MD5' as never })).toThrow(RangeError);
  });

  it('encryptStream refuses a revoked recipient (revoked), with the call\'s settings and with the store\'s, before reading or emitting anything', async () => {
    let pulled = 0;
    const input = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          pulled++;
          c.enqueue(new TextEncoder().encode('Content-Type: text/plain\r\n\r\nsecret\r\n'));
          c.close();
        },
      }, { highWaterMark: 0 });
    const add = async (s: CertificateStore) => {
      await s.addCertificate(pki.pem('revoked'));
      await s.addCertificate(pki.pem('inter'));
      return s;
    };
    const perCall = await add(store());
    const e1 = await encryptStream(input(), { store: perCall, to: ['revoked@example.com'], fetch: routedFetch(pki, pki.ports.ca) }).catch((x: unknown) => x);
    expect(e1).toBeInstanceOf(MissingRecipientCertificatesError);
    expect((e1 as MissingRecipientCertificatesError).reasons).toEqual({ 'revoked@example.com': 'revoked' });
    const byStore = await add(store({ fetch: routedFetch(pki, pki.ports.ca), revocation: 'hard-fail' }));
    const e2 = await encryptStream(input(), { store: byStore, to: ['revoked@example.com'] }).catch((x: unknown) => x);
    expect((e2 as MissingRecipientCertificatesError).reasons).toEqual({ 'revoked@example.com': 'revoked' });
    expect(pulled).toBe(0);
    // Offline the same recipient is accepted, and the stream is the message.
    const ok = await encryptStream(input(), { store: perCall, to: ['revoked@example.com'] });
    const out = readTextOf(new Uint8Array(await new Response(ok).arrayBuffer()));
    expect(out).toMatch(/application\/pkcs7-mime/);
    expect(pulled).toBe(1);
  });

  it('encryptMessage refuses a revoked recipient (revoked) and, under hard-fail, an unknown one (revocation-unknown)', async () => {
    const s = store({ fetch: routedFetch(pki, pki.ports.ca) });
    for (const n of ['good', 'revoked', 'unknown'] as const) await s.addCertificate(pki.pem(n));
    await s.addCertificate(pki.pem('inter'));
    const mime = 'Content-Type: text/plain\r\n\r\nsecret\r\n';
    await expect(encryptMessage(mime, { store: s, to: ['good@example.com', 'unknown@example.com'] })).resolves.toBeInstanceOf(Uint8Array);
    const e = await encryptMessage(mime, { store: s, to: ['good@example.com', 'revoked@example.com'] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MissingRecipientCertificatesError);
    expect((e as MissingRecipientCertificatesError).reasons).toEqual({ 'revoked@example.com': 'revoked' });
    const h = await encryptMessage(mime, { store: s, to: ['unknown@example.com'], revocation: 'hard-fail' }).catch((x: unknown) => x);
    expect((h as MissingRecipientCertificatesError).reasons).toEqual({ 'unknown@example.com': 'revocation-unknown' });
    // Offline, the revoked recipient is not seen.
    await expect(encryptMessage(mime, { store: s, to: ['revoked@example.com'], revocation: 'off' })).resolves.toBeInstanceOf(Uint8Array);
  });

  it('bounds: a response above maxResponseBytes, a request past its timeout, a fetch that throws or answers garbage', async () => {
    const big = await verify('crlgood', store({ fetch: routedFetch(pki, pki.ports.ca, { rewrite: { '/inter.crl': '/big' } }), onlineLimits: { maxResponseBytes: 100_000 } }));
    expect(big.status).toBe('valid');
    expect(big.reasons).toEqual(['revocation-unknown: crl-too-large']);
    const t0 = Date.now();
    const slow = await verify('crlgood', store({ fetch: routedFetch(pki, pki.ports.ca, { rewrite: { '/inter.crl': '/slow' } }), onlineLimits: { requestTimeoutMs: 300 } }));
    expect(slow.reasons).toEqual(['revocation-unknown: crl-timeout']);
    expect(Date.now() - t0).toBeLessThan(5000);
    const throwing = await verify('ocsponly', store({ fetch: () => { throw new TypeError('boom'); }, revocation: 'hard-fail' }));
    expect(throwing.status).toBe('untrusted');
    expect(throwing.reasons).toEqual(['issuer-revocation-unknown: crl-unreachable', 'revocation-unknown: ocsp-unreachable']);
    // An OCSP "responder" answering bytes that are no successful response (the CRLs still come from the server).
    const answering = (bytes: number[]) => {
      const routed = routedFetch(pki, pki.ports.ca);
      return async (url: string, init?: Parameters<typeof routed>[1]) => (url.startsWith('http://ocsp.') ? new Response(new Uint8Array(bytes)) : routed(url, init));
    };
    const garbage = await verify('ocsponly', store({ fetch: answering([0x30, 0x03, 0x0a, 0x01]) }));
    expect(garbage.reasons).toEqual(['revocation-unknown: ocsp-malformed']);
    const status = await verify('ocsponly', store({ fetch: answering([0x30, 0x03, 0x0a, 0x01, 0x03]) }));
    expect(status.reasons).toEqual(['revocation-unknown: ocsp-status-3']);
    const successful = await verify('ocsponly', store({ fetch: answering([0x30, 0x03, 0x0a, 0x01, 0x00]) }));
    expect(successful.reasons).toEqual(['revocation-unknown: ocsp-malformed']);
    expect(() => new CertificateStore({ revocation: 'sometimes' as never })).toThrow(RangeError);
    expect(() => new CertificateStore({ onlineLimits: { requestTimeoutMs: -1 } })).toThrow(TypeError);
  });

  it('CLI: --offline (the default) does not ask, --online asks (soft-fail), --online=hard refuses an unknown status', async () => {
    const file = (name: string) => {
      const f = pki.file(`${name}.eml`);
      writeFileSync(f, signed.get(name)!);
      return f;
    };
    const base = (name: string) => ['verify', '--trust', pki.file('root.pem'), '--in', file(name), '--out', pki.file('out.txt')];
    const text = (r: { out: Uint8Array; err: string }) => r.err + new TextDecoder().decode(r.out);
    expect((await cli(base('directrevoked'))).code).toBe(0);
    expect((await cli([...base('directrevoked'), '--offline'])).code).toBe(0);
    const on = await cli([...base('directrevoked'), '--online']);
    expect(on.code).toBe(1);
    expect(text(on)).toMatch(/revoked/);
    const soft = await cli([...base('directdead'), '--online']);
    expect(soft.code).toBe(0);
    expect(text(soft)).toMatch(/revocation-unknown: ocsp-unreachable/);
    const hard = await cli([...base('directdead'), '--online=hard']);
    expect(hard.code).toBe(1);
    expect(text(hard)).toMatch(/untrusted.*revocation-unknown|revocation-unknown[\s\S]*untrusted|untrusted/);
    expect((await cli([...base('directdead'), '--online', '--offline'])).code).not.toBe(0);
    const enc = await cli(
      ['encrypt', '--trust', pki.file('root.pem'), '--cert', pki.file('inter.pem'), '--cert', pki.file('directrevoked.pem'), '--to', 'directrevoked@example.com', '--online', '--out', pki.file('enc.eml')],
      new TextEncoder().encode('Content-Type: text/plain\r\n\r\nsecret\r\n'),
    );
    expect(enc.code).not.toBe(0);
    expect(enc.err).toMatch(/directrevoked@example\.com.*revoked/);
  });

  it('a hostile OCSP response (every truncation, flipped bytes) is an unknown status, never an exception', async () => {
    const der = (name: string) => certInfo(run('openssl', ['x509', '-in', pki.file(`${name}.pem`), '-outform', 'DER']));
    const [cert, issuer] = [der('ocsponly'), der('inter')];
    const resp = pki.file('hostile.ocsp');
    run('openssl', ['ocsp', '-issuer', pki.file('inter.pem'), '-cert', pki.file('ocsponly.pem'), '-url', `http://127.0.0.1:${pki.ports.ca}/`, '-no_nonce', '-respout', resp, '-noverify']);
    const bytes = new Uint8Array(readFileSync(resp));
    const input = { cert, issuer, now: new Date(), clockSkewSeconds: 300, maxResponseAgeSeconds: 3600, allowWeak: false, responderRevoked: async () => false };
    expect(await checkOcspResponse(bytes, input)).toMatchObject({ status: 'good' });
    // The same answer about another certificate says nothing about it.
    expect(await checkOcspResponse(bytes, { ...input, cert: der('good') })).toEqual({ status: 'unknown', problem: 'no-matching-response' });
    let unknown = 0;
    let flips = 0;
    for (let n = 0; n < bytes.length; n += 11) {
      flips++;
      const cut = await checkOcspResponse(bytes.subarray(0, n), input);
      expect(cut.status).toBe('unknown');
      const flipped = bytes.slice();
      flipped[n] ^= 0x55;
      const f = await checkOcspResponse(flipped, input);
      if (f.status === 'unknown') unknown++;
      else expect(f.status).toBe('good'); // a flip in an unsigned part (the certs, the outer wrapper) changes nothing
    }
    // The signed part (ResponseData, signature) is about half of it: the CA's certificate rides along unsigned.
    expect(unknown).toBeGreaterThan(flips / 3);
  });

  it('OpenSSL agrees: openssl ocsp says good / revoked / unknown, openssl verify -crl_check says OK / revoked', async () => {
    const ocspSays = (name: LeafName) => {
      const out = String(
        readTextOf(run('openssl', ['ocsp', '-issuer', pki.file('inter.pem'), '-cert', pki.file(`${name}.pem`), '-url', `http://127.0.0.1:${pki.ports.ca}/`, '-CAfile', pki.file('root.pem'), '-verify_other', pki.file('inter.pem')])),
      );
      return /: (good|revoked|unknown)/.exec(out)![1];
    };
    const s = store({ fetch: routedFetch(pki, pki.ports.ca) });
    const ours = async (name: LeafName) => {
      const r = await verify(name, s);
      return r.status === 'revoked' ? 'revoked' : r.reasons.some((x) => x.startsWith('revocation-unknown')) ? 'unknown' : r.status === 'valid' ? 'good' : r.status;
    };
    for (const name of ['good', 'revoked', 'unknown', 'ocsponly'] as const) expect(await ours(name)).toBe(ocspSays(name));
    const crls = `${pki.file('inter.crl.pem')}`;
    const verifySays = (name: LeafName) => {
      const r = tryRun('openssl', ['verify', '-crl_check', '-CAfile', pki.file('root.pem'), '-untrusted', pki.file('inter.pem'), '-CRLfile', crls, pki.file(`${name}.pem`)]);
      return r.status === 0 ? 'good' : /revoked/.test(r.stderr + readTextOf(r.stdout)) ? 'revoked' : 'error';
    };
    for (const name of ['crlgood', 'crlrevoked'] as const) expect(await ours(name)).toBe(verifySays(name));
  });
});

const readTextOf = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * An opaque signed message (ContentInfo DER) with `ocspResponse` added to its SignedData's RevocationInfoChoices as
 * `other` (RFC 5940 id-ri-ocsp-response). The signature covers none of it, so the message still verifies.
 */
function withStapledOcsp(contentInfo: Uint8Array, ocspResponse: Uint8Array): Uint8Array {
  const ci = children(contentInfo, readTlv(contentInfo, 0));
  const sdWrap = ci[1]!;
  const sdT = children(contentInfo, sdWrap)[0]!;
  const fields = children(contentInfo, sdT).map((t) => contentInfo.subarray(t.start, t.end));
  const other = tlv(0xa1, oid('1.3.6.1.5.5.7.16.2'), ocspResponse);
  const signerInfos = fields.pop()!;
  const sd = seq(...fields, tlv(0xa1, other), signerInfos);
  return seq(contentInfo.subarray(ci[0]!.start, ci[0]!.end), tlv(0xa0, sd));
}
