/**
 * Online revocation over LDAP (issue 18): a CA whose certificates name only `ldap://` CRL distribution points and
 * caIssuers, on a real OpenLDAP slapd started here (test/_helpers/slapd.ts), read by smime-core/ldap's `ldapFetch`
 * through the store's `fetchLdap` hook. The root's entry holds its authorityRevocationList (the issuing CA's status),
 * the issuing CA's entry its certificateRevocationList and cACertificate. Messages are signed by OpenSSL; `openssl
 * verify -crl_check` is asked the same questions with the same CRLs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertificateStore, verifyMessage, type LdapFetchLike } from '../../src/index.js';
import { ldapFetch, parseLdapUrl } from '../../src/ldap/index.js';
import { cli } from '../_helpers/cli.js';
import { run, tmp, tryRun } from '../_helpers/env.js';
import { hasSlapd, startSlapd, toLdif, type Slapd } from '../_helpers/slapd.js';
import { opensslCa } from '../_helpers/revocation_pki.js';

const ROOT_DN = 'cn=LDAP Test Root,dc=example,dc=com';
const CA_DN = 'cn=LDAP Test Issuing CA,dc=example,dc=com';
/** The DN in a URL: commas percent-encoded (OpenSSL's extension syntax splits on them). */
const inUrl = (dn: string) => dn.replace(/ /g, '%20').replace(/,/g, '%2C');

/** A fetch that must not be called: every http request fails (the test PKI names none). */
const noHttp = async (url: string): Promise<Response> => {
  throw new Error(`unexpected http request ${url}`);
};

describe('parseLdapUrl (RFC 4516)', () => {
  it('reads host, DN, attributes, scope and filter, percent-decoded; refuses a critical extension', () => {
    expect(parseLdapUrl('ldap://ldap.example.com:3389/cn=CA%20One%2Co=Example?certificateRevocationList;binary')).toEqual({
      server: 'ldap://ldap.example.com:3389',
      dn: 'cn=CA One,o=Example',
      attributes: ['certificateRevocationList;binary'],
      scope: 'base',
      filter: '(objectClass=*)',
    });
    expect(parseLdapUrl('ldap:///o=Example?cACertificate,crossCertificatePair?one?(cn=x)?bindname=cn=me')).toEqual({
      dn: 'o=Example',
      attributes: ['cACertificate', 'crossCertificatePair'],
      scope: 'one',
      filter: '(cn=x)',
    });
    expect(() => parseLdapUrl('ldap://h/o=x???(cn=x)?!bindname=cn=me')).toThrow(/critical extension bindname/);
    expect(() => parseLdapUrl('http://h/o=x')).toThrow(TypeError);
    expect(() => parseLdapUrl('ldap://h/o=x??deep')).toThrow(/scope/);
  });
});

describe('ldapFetch options', () => {
  it('timeoutMs and maxEntries: integers >= 1, checked when the reader is made, with the store\'s message', () => {
    for (const bad of [0, -1, 2.5, Number.NaN, '5' as never]) {
      expect(() => ldapFetch({ timeoutMs: bad })).toThrow(new TypeError('ldapFetch: timeoutMs must be an integer >= 1'));
      expect(() => ldapFetch({ maxEntries: bad })).toThrow(new TypeError('ldapFetch: maxEntries must be an integer >= 1'));
    }
    expect(typeof ldapFetch({ timeoutMs: 1, maxEntries: 1 })).toBe('function');
  });
});

describe.runIf(hasSlapd())('CRL distribution points and caIssuers over LDAP (a real slapd)', () => {
  let slapd: Slapd;
  let dir: string;
  const f = (n: string) => join(dir, n);
  const signed = new Map<string, Uint8Array>();
  const pem = (n: string) => readFileSync(f(`${n}.pem`), 'utf8');

  beforeAll(async () => {
    slapd = await startSlapd();
    dir = tmp('smime-ldap-revocation-');
    const base = `ldap://127.0.0.1:${slapd.port}`;
    const { key, root, issue } = opensslCa(dir);
    root('/CN=LDAP Test Root');
    key('inter');
    // The issuing CA: its status in the root's authorityRevocationList, by LDAP only.
    issue('inter', '/CN=LDAP Test Issuing CA', 'root', '3001', [
      'basicConstraints=critical,CA:TRUE',
      'keyUsage=critical,keyCertSign,cRLSign',
      'authorityKeyIdentifier=keyid',
      `crlDistributionPoints=URI:${base}/${inUrl(ROOT_DN)}?authorityRevocationList;binary`,
    ]);
    const leaf = (n: string, serial: string, pointers: boolean) => {
      key(n);
      issue(n, `/CN=${n}/emailAddress=${n}@example.com`, 'inter', serial, [
        'basicConstraints=CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=emailProtection',
        `subjectAltName=email:${n}@example.com`,
        'authorityKeyIdentifier=keyid',
        // The CRL distribution point and caIssuers name the issuing CA's entry; the URL of caIssuers names no
        // attribute (cACertificate;binary is asked).
        ...(pointers ? [`crlDistributionPoints=URI:${base}/${inUrl(CA_DN)}?certificateRevocationList;binary`, `authorityInfoAccess=caIssuers;URI:${base}/${inUrl(CA_DN)}`] : []),
      ]);
    };
    leaf('ldapgood', '4001', true);
    leaf('ldaprevoked', '4002', true);
    leaf('bare', '4003', false); // names no OCSP responder and no CRL distribution point

    // The CRLs: the issuing CA revokes ldaprevoked (keyCompromise); the root's ARL revokes nobody.
    const yymmdd = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const exp = yymmdd(new Date(Date.now() + 30 * 86400_000));
    writeFileSync(f('inter-index.txt'), [`V\t${exp}\t\t4001\tunknown\t/CN=ldapgood`, `R\t${exp}\t${yymmdd(new Date(Date.now() - 3600_000))},keyCompromise\t4002\tunknown\t/CN=ldaprevoked`, `V\t${exp}\t\t4003\tunknown\t/CN=bare`].join('\n') + '\n');
    writeFileSync(f('root-index.txt'), `V\t${exp}\t\t3001\tunknown\t/CN=LDAP Test Issuing CA\n`);
    for (const ca of ['inter', 'root']) {
      writeFileSync(f(`${ca}-crlnumber`), '01\n');
      writeFileSync(f(`${ca}-ca.cnf`), `[ca]\ndefault_ca=d\n[d]\ndatabase=${f(`${ca}-index.txt`)}\ncrlnumber=${f(`${ca}-crlnumber`)}\ndefault_md=sha256\ndefault_crl_days=7\ncrl_extensions=e\n[e]\nauthorityKeyIdentifier=keyid\n`);
      run('openssl', ['ca', '-gencrl', '-config', f(`${ca}-ca.cnf`), '-keyfile', f(`${ca}.key`), '-cert', f(`${ca}.pem`), '-out', f(`${ca}.crl.pem`)]);
    }
    const der = (args: string[]) => new Uint8Array(run('openssl', args));
    const crlDer = (ca: string) => der(['crl', '-in', f(`${ca}.crl.pem`), '-outform', 'DER']);
    const certDer = (n: string) => der(['x509', '-in', f(`${n}.pem`), '-outform', 'DER']);
    const caEntry = (dn: string, cn: string, cert: Uint8Array, crl: Uint8Array, arl: Uint8Array) => ({
      dn,
      attributes: {
        objectClass: ['top', 'applicationProcess', 'certificationAuthority'],
        cn,
        'cACertificate;binary': cert,
        'certificateRevocationList;binary': crl,
        'authorityRevocationList;binary': arl,
      },
    });
    const add = run('ldapadd', ['-x', '-H', base, '-D', slapd.bindDN, '-w', slapd.password], toLdif([
      caEntry(ROOT_DN, 'LDAP Test Root', certDer('root'), crlDer('root'), crlDer('root')),
      caEntry(CA_DN, 'LDAP Test Issuing CA', certDer('inter'), crlDer('inter'), crlDer('inter')),
    ]));
    expect(add).toBeDefined();

    for (const n of ['ldapgood', 'ldaprevoked', 'bare']) {
      const msg = `From: ${n}@example.com\r\nTo: reader@example.com\r\nSubject: ldap revocation\r\n\r\nhello from ${n}\r\n`;
      const sign = (extra: string[]) => run('openssl', ['cms', '-sign', '-signer', f(`${n}.pem`), '-inkey', f(`${n}.key`), '-md', 'sha256', ...extra], msg);
      signed.set(n, sign(['-certfile', f('inter.pem')]));
      signed.set(`${n}-alone`, sign([]));
    }
  }, 60_000);
  afterAll(async () => {
    await slapd?.stop();
  });

  /** A store trusting the test root, with `options`. */
  const store = (options: ConstructorParameters<typeof CertificateStore>[0] = {}) => {
    const s = new CertificateStore(options);
    s.addTrustAnchor(pem('root'));
    return s;
  };
  const verify = async (name: string, s: CertificateStore) => {
    const r = await verifyMessage(signed.get(name)!, { store: s, harvest: false });
    expect(r.signers).toHaveLength(1);
    return r.signers[0]!;
  };
  /** ldapFetch, with each URL it was asked logged. */
  const logged = (log: string[]): LdapFetchLike => {
    const read = ldapFetch();
    return (url, init) => {
      log.push(url);
      return read(url, init);
    };
  };

  it('hard-fail: good is valid, revoked is revoked (keyCompromise); each CRL is read once and cached', async () => {
    const log: string[] = [];
    const s = store({ fetch: noHttp, fetchLdap: logged(log), revocation: 'hard-fail' });
    const good = await verify('ldapgood', s);
    expect(good.status).toBe('valid');
    expect(good.reasons).toEqual([]);
    const revoked = await verify('ldaprevoked', s);
    expect(revoked.status).toBe('revoked');
    expect(revoked.reasons).toEqual([expect.stringMatching(/^revoked: \d{4}-.* \(reason 1\)$/)]);
    // The issuing CA's CRL and the root's ARL, once each for both verifications.
    expect(log.sort()).toEqual([
      `ldap://127.0.0.1:${slapd.port}/${inUrl(CA_DN)}?certificateRevocationList;binary`,
      `ldap://127.0.0.1:${slapd.port}/${inUrl(ROOT_DN)}?authorityRevocationList;binary`,
    ]);
    // store.verifyCertificate asks the same way.
    expect((await s.verifyCertificate(pem('ldaprevoked'), { intermediates: [pem('inter')] })).status).toBe('revoked');
  });

  it('AIA caIssuers over LDAP completes a chain whose intermediate is missing (cACertificate;binary)', async () => {
    const log: string[] = [];
    const s = store({ fetch: noHttp, fetchLdap: logged(log), revocation: 'hard-fail' });
    expect((await verify('ldapgood-alone', s)).status).toBe('valid');
    expect(log).toContain(`ldap://127.0.0.1:${slapd.port}/${inUrl(CA_DN)}`);
    expect((await verify('ldaprevoked-alone', s)).status).toBe('revoked');
    // Offline, nothing completes it.
    expect((await verify('ldapgood-alone', store())).status).toBe('untrusted');
  });

  it('without the LDAP reader the distribution point is skipped: crl-ldap-not-fetched (a note, or untrusted under hard-fail)', async () => {
    const soft = await verify('ldaprevoked', store({ fetch: noHttp }));
    expect(soft.status).toBe('valid');
    expect(soft.reasons).toEqual(['issuer-revocation-unknown: crl-ldap-not-fetched', 'revocation-unknown: crl-ldap-not-fetched']);
    const hard = await verify('ldaprevoked', store({ fetch: noHttp, revocation: 'hard-fail' }));
    expect(hard.status).toBe('untrusted');
  });

  it('a certificate naming no responder and no distribution point: untrusted under hard-fail (as openssl verify -crl_check), a note under soft-fail', async () => {
    const hard = await verify('bare', store({ fetch: noHttp, fetchLdap: ldapFetch(), revocation: 'hard-fail' }));
    expect(hard.status).toBe('untrusted');
    expect(hard.reasons).toEqual(['revocation-unknown: no-revocation-source']);
    const soft = await verify('bare', store({ fetch: noHttp, fetchLdap: ldapFetch() }));
    expect(soft.status).toBe('valid');
    expect(soft.reasons).toEqual(['revocation-unknown: no-revocation-source']);
    // Offline (today's behaviour), nothing is said.
    expect(await verify('bare', store())).toMatchObject({ status: 'valid', reasons: [] });
    // A CRL at hand is evidence: the issuing CA's CRL covers it, and nobody is asked about it.
    const withCrl = await verifyMessage(signed.get('bare')!, { store: store({ fetch: noHttp, fetchLdap: ldapFetch(), revocation: 'hard-fail' }), harvest: false, crls: [readFileSync(f('inter.crl.pem'), 'utf8')] });
    expect(withCrl.signers[0]).toMatchObject({ status: 'valid', reasons: [] });
    // A CRL at hand that does not cover it (the root's): what the CRLs said, and that nothing else could be asked.
    const rootCrl = await verifyMessage(signed.get('bare')!, { store: store({ fetch: noHttp, fetchLdap: ldapFetch(), revocation: 'hard-fail' }), harvest: false, crls: [readFileSync(f('root.crl.pem'), 'utf8')] });
    expect(rootCrl.signers[0]).toMatchObject({ status: 'untrusted', reasons: ['revocation-unknown: no-crl, no-revocation-source'] });
    // OpenSSL under -crl_check: no CRL for the certificate is "unable to get certificate CRL"; with it, OK.
    const openssl = (crls: string[]) => tryRun('openssl', ['verify', '-crl_check', '-CAfile', f('root.pem'), '-untrusted', f('inter.pem'), ...crls.flatMap((c) => ['-CRLfile', c]), f('bare.pem')]);
    const none = openssl([]);
    expect(none.status).not.toBe(0);
    expect(Buffer.from(none.stdout).toString() + none.stderr).toMatch(/unable to get certificate CRL/);
    expect(openssl([f('inter.crl.pem')]).status).toBe(0);
  });

  it('openssl verify -crl_check with the CRLs the directory holds agrees: good is OK, revoked is revoked', async () => {
    // The CRL as the directory serves it (ldapsearch), not the file it was loaded from.
    const served = Buffer.from(run('ldapsearch', ['-x', '-LLL', '-o', 'ldif-wrap=no', '-H', `ldap://127.0.0.1:${slapd.port}`, '-b', CA_DN, '-s', 'base', '(objectClass=*)', 'certificateRevocationList;binary'])).toString('latin1');
    const b64 = /^certificateRevocationList;binary:: (\S+)$/m.exec(served)![1]!;
    writeFileSync(f('served.crl'), Buffer.from(b64, 'base64'));
    run('openssl', ['crl', '-inform', 'DER', '-in', f('served.crl'), '-out', f('served.crl.pem')]);
    const says = (n: string) => {
      const r = tryRun('openssl', ['verify', '-crl_check', '-CAfile', f('root.pem'), '-untrusted', f('inter.pem'), '-CRLfile', f('served.crl.pem'), f(`${n}.pem`)]);
      return r.status === 0 ? 'valid' : /revoked/.test(Buffer.from(r.stdout).toString() + r.stderr) ? 'revoked' : 'error';
    };
    const s = store({ fetch: noHttp, fetchLdap: ldapFetch(), revocation: 'hard-fail' });
    for (const n of ['ldapgood', 'ldaprevoked']) expect((await verify(n, s)).status).toBe(says(n));
  });

  it('bounds: an answer above maxResponseBytes, a reader that hangs past the request timeout, a black-hole directory, a critical extension', async () => {
    const big = await verify('ldapgood', store({ fetch: noHttp, fetchLdap: ldapFetch(), onlineLimits: { maxResponseBytes: 100 } }));
    expect(big.status).toBe('valid');
    expect(big.reasons).toEqual(['issuer-revocation-unknown: crl-too-large', 'revocation-unknown: crl-too-large']);
    const hang: LdapFetchLike = (_url, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
    const t0 = Date.now();
    const slow = await verify('ldapgood', store({ fetch: noHttp, fetchLdap: hang, revocation: 'hard-fail', onlineLimits: { requestTimeoutMs: 200 } }));
    expect(slow.status).toBe('untrusted');
    expect(slow.reasons).toEqual(['issuer-revocation-unknown: crl-timeout', 'revocation-unknown: crl-timeout']);
    expect(Date.now() - t0).toBeLessThan(3000);
    // ldapFetch itself against a black hole (a socket that accepts and never answers): the signal ends it.
    const hole = createServer(() => undefined);
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    try {
      const t1 = Date.now();
      const url = `ldap://127.0.0.1:${(hole.address() as AddressInfo).port}/${inUrl(CA_DN)}?certificateRevocationList;binary`;
      await expect(ldapFetch()(url, { signal: AbortSignal.timeout(300), maxBytes: 1000 })).rejects.toThrow();
      expect(Date.now() - t1).toBeLessThan(3000);
      // A URL with a critical extension is refused before any connection.
      await expect(ldapFetch()(`${url}???!x-unknown`, { signal: new AbortController().signal, maxBytes: 1000 })).rejects.toThrow(/critical extension/);
    } finally {
      hole.close();
    }
  });

  it('CLI: --online reads the ldap distribution points (smime-core/ldap loaded for it): revoked exits 1, good 0', async () => {
    const file = (n: string) => {
      writeFileSync(f(`${n}.eml`), signed.get(n)!);
      return f(`${n}.eml`);
    };
    const base = (n: string) => ['verify', '--trust', f('root.pem'), '--in', file(n), '--out', f('out.txt')];
    expect((await cli([...base('ldaprevoked')])).code).toBe(0); // offline: not seen
    const revoked = await cli([...base('ldaprevoked'), '--online=hard']);
    expect(revoked.code).toBe(1);
    expect(revoked.err + new TextDecoder().decode(revoked.out)).toMatch(/revoked/);
    expect((await cli([...base('ldapgood'), '--online=hard'])).code).toBe(0);
  });

  // Last: stops the directory.
  it('slapd down: soft-fail keeps the status with crl-unreachable, hard-fail is untrusted', async () => {
    await slapd.stop();
    const soft = await verify('ldapgood', store({ fetch: noHttp, fetchLdap: ldapFetch() }));
    expect(soft.status).toBe('valid');
    expect(soft.reasons).toEqual(['issuer-revocation-unknown: crl-unreachable', 'revocation-unknown: crl-unreachable']);
    const hard = await verify('ldaprevoked', store({ fetch: noHttp, fetchLdap: ldapFetch(), revocation: 'hard-fail' }));
    expect(hard.status).toBe('untrusted');
    expect(hard.reasons).toEqual(['issuer-revocation-unknown: crl-unreachable', 'revocation-unknown: crl-unreachable']);
  });
});
