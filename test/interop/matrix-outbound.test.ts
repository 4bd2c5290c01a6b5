/**
 * Interop matrix, outbound: smime-core makes messages with the sample PKI of vectors/, and each peer opens them:
 * - OpenSSL: `openssl cms -decrypt` / `openssl cms -verify -purpose smimesign`;
 * - NSS: `cmsutil -D` against an NSS database built here with certutil and pk12util (root-ca trusted);
 * - gpgsm: `gpgsm --decrypt` / `--verify` with a GNUPGHOME built here (root-ca in trustlist.txt, CRL checks off;
 *   the keys are imported from PKCS#12 converted with `openssl pkcs12 -export -legacy`, the only kind gpgsm 2.2 reads);
 * - Bouncy Castle: vectors/java/SmimePeer.java, compiled here with javac against Debian's jars.
 * Every peer gets every kind of message: encryption (RSA v1.5 and RSA-OAEP key transport, recipient by SKI, ECDH
 * P-384 and X25519 key agreement; AES-CBC and AES-GCM) and signatures (RSA PKCS#1 v1.5 and PSS, ECDSA, Ed25519
 * with SHA-512 by edna's identity of manifest.json → peerIdentities; detached and opaque). Where the peer has a
 * known limit, the test checks that the limit still holds (the peer fails), and is named `limit: …`; the same goes
 * for the peers' limits as senders (`[peer|in|…] limit: …`).
 * NSS and gpgsm signature checks of RSA/ECDSA signatures live in test/sign/interop-nss.test.ts and
 * interop-gpgsm.test.ts (not repeated here); RSA-PSS is checked here.
 *
 * Each test name starts with a tag `[peer|direction|operation|algorithm]` that scripts/interop-report.mjs turns
 * into a cell of docs/interop.md. With CI=true a missing peer is a failure; elsewhere its tests skip with a notice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encryptMessage, signMessage, verifyMessage, type CertificateStore } from '../../src/index.js';
import { manifest, OPENSSL_AT_REFERENCE, PASSWORD, storeWith } from '../_helpers/identities.js';
import { run, tmp, tryRun, VECTORS } from '../_helpers/env.js';
import { CHAIN_FILE as CHAIN, compileSmimePeer, havePeers, ISSUING_CA_FILE as ISSUING, makeNssDb, nssVerify, ROOT_CA_FILE as ROOT, runAsync } from '../_helpers/peers.js';
import { cmsOf } from '../sign/_pki.js';

interface Ident {
  email: string;
  p12: string;
  cert: string;
  key: string;
}
const IDS = { ...(manifest.identities as unknown as Record<string, Ident>), ...((manifest.peerIdentities ?? {}) as Record<string, Ident>) };
const file = (name: string, k: 'cert' | 'key' | 'p12') => join(VECTORS, IDS[name]![k]);
const HAVE = havePeers();

/**
 * Cases a peer fails on smime-core's output today, each with the reason (and the peer's error). The test stays and
 * is expected to fail (`it.fails`); key: `<peer>|<operation>|<algorithm>`.
 */
const KNOWN_FAILURES: Record<string, string> = {};

const td = new TextDecoder();
const MESSAGE =
  'From: bob@example.com\r\nTo: alice@example.com\r\nSubject: interop matrix\r\nDate: Sun, 29 Nov 2026 10:00:00 +0000\r\n' +
  'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello Alice, Gr\u00fc\u00dfe from smime-core.\r\n';
const INNER = 'Content-Type: text/plain; charset=utf-8\r\n\r\nHello Alice, Gr\u00fc\u00dfe from smime-core.\r\n';

let dir = '';
let seq = 0;
function put(data: Uint8Array | string, ext: string): string {
  const f = join(dir, `m${++seq}.${ext}`);
  writeFileSync(f, data);
  return f;
}

// -------------------------------------------------------------------------------------------------------------
// What smime-core makes

interface EncKind {
  label: string;
  to: string[];
  cipher: 'aes-128-cbc' | 'aes-256-cbc' | 'aes-128-gcm' | 'aes-256-gcm';
  oaep?: 'SHA-1' | 'SHA-256';
  useSki?: boolean;
  recipient: string;
}
const ENC: EncKind[] = [
  { label: 'RSA v1.5 + AES-128-CBC', to: ['alice@example.com'], cipher: 'aes-128-cbc', recipient: 'alice-enc-2025' },
  { label: 'RSA v1.5 + AES-256-CBC', to: ['alice@example.com'], cipher: 'aes-256-cbc', recipient: 'alice-enc-2025' },
  { label: 'RSA v1.5 + AES-128-GCM', to: ['alice@example.com'], cipher: 'aes-128-gcm', recipient: 'alice-enc-2025' },
  { label: 'RSA v1.5 + AES-256-GCM', to: ['alice@example.com'], cipher: 'aes-256-gcm', recipient: 'alice-enc-2025' },
  { label: 'RSA v1.5 (2 recipients) + AES-256-CBC', to: ['bob@example.com', 'alice@example.com'], cipher: 'aes-256-cbc', recipient: 'alice-enc-2025' },
  { label: 'RSA v1.5 by SKI + AES-256-CBC', to: ['alice@example.com'], cipher: 'aes-256-cbc', useSki: true, recipient: 'alice-enc-2025' },
  { label: 'RSA-OAEP SHA-1 + AES-256-CBC', to: ['alice@example.com'], cipher: 'aes-256-cbc', oaep: 'SHA-1', recipient: 'alice-enc-2025' },
  { label: 'RSA-OAEP SHA-256 + AES-256-CBC', to: ['alice@example.com'], cipher: 'aes-256-cbc', oaep: 'SHA-256', recipient: 'alice-enc-2025' },
  { label: 'RSA-OAEP SHA-256 + AES-256-GCM', to: ['alice@example.com'], cipher: 'aes-256-gcm', oaep: 'SHA-256', recipient: 'alice-enc-2025' },
  { label: 'ECDH P-384 + AES-256-CBC', to: ['ecuser@example.com'], cipher: 'aes-256-cbc', recipient: 'ec-enc' },
  { label: 'ECDH P-384 + AES-256-GCM', to: ['ecuser@example.com'], cipher: 'aes-256-gcm', recipient: 'ec-enc' },
  { label: 'X25519 + AES-256-GCM', to: ['edna@example.com'], cipher: 'aes-256-gcm', recipient: 'edna-x25519' },
];

interface SigKind {
  label: string;
  from: string;
  detached: boolean;
  pss?: boolean;
  /** Ed25519 (RFC 8419, SHA-512): OpenSSL 3.0 can't verify it, since its CMS has no Ed25519 with signed attributes. */
  ed25519?: boolean;
}
const SIG: SigKind[] = [
  { label: 'RSA SHA-256, detached', from: 'alice@example.com', detached: true },
  { label: 'RSA SHA-256, opaque', from: 'alice@example.com', detached: false },
  { label: 'RSA-PSS SHA-256, detached', from: 'alice@example.com', detached: true, pss: true },
  { label: 'ECDSA P-256 SHA-256, detached', from: 'ecuser@example.com', detached: true },
  { label: 'ECDSA P-256 SHA-256, opaque', from: 'ecuser@example.com', detached: false },
  { label: 'Ed25519, detached', from: 'edna@example.com', detached: true, ed25519: true },
  { label: 'Ed25519, opaque', from: 'edna@example.com', detached: false, ed25519: true },
];
const OPENSSL_NO_ED25519 = 'OpenSSL 3.0 has no Ed25519 CMS';
/** What `openssl cms -verify` 3.0 says of any Ed25519 SignerInfo with signed attributes (ours or Bouncy Castle's). */
const ED25519_VERIFY_ERROR = /eddsa_digest_signverify_init:invalid digest/;

let encStore: Promise<CertificateStore> | undefined;
let signStore: Promise<CertificateStore> | undefined;
const made = new Map<string, Promise<{ smime: Uint8Array; der: Uint8Array; content?: Uint8Array }>>();

async function encrypted(k: EncKind) {
  let p = made.get(`enc ${k.label}`);
  if (!p) {
    p = (async () => {
      encStore ??= (async () => {
        const s = await storeWith([], ['alice-enc-2025', 'bob', 'ec-enc']);
        await s.addCertificate(readFileSync(file('edna-x25519', 'cert'), 'utf8'));
        return s;
      })();
      const store = await encStore;
      const smime = await encryptMessage(MESSAGE, { store, to: k.to, cipher: k.cipher, oaep: k.oaep, useSki: k.useSki });
      return { smime, der: cmsOf(smime) };
    })();
    made.set(`enc ${k.label}`, p);
  }
  return p;
}

async function signed(k: SigKind) {
  let p = made.get(`sig ${k.label}`);
  if (!p) {
    p = (async () => {
      signStore ??= (async () => {
        const s = await storeWith(['alice-sign', 'alice-enc-2025', 'ec-sign']);
        // edna's Ed25519 identity (made by generate-peers.sh) from its PEM files
        await s.importIdentity(readFileSync(file('edna-ed25519', 'cert'), 'utf8'), readFileSync(file('edna-ed25519', 'key'), 'utf8'));
        return s;
      })();
      const store = await signStore;
      const smime = await signMessage(MESSAGE.replace('bob@example.com', k.from).replace('To: alice@example.com', 'To: bob@example.com'), {
        store,
        from: k.from,
        detached: k.detached,
        pss: k.pss,
      });
      const content = k.detached ? (await verifyMessage(smime, { store, harvest: false })).content : undefined;
      return { smime, der: cmsOf(smime), content };
    })();
    made.set(`sig ${k.label}`, p);
  }
  return p;
}

const NESTED = 'RSA SHA-256, detached, then RSA v1.5 + AES-256-CBC';
/** Signed by alice-sign (multipart/signed), then encrypted to alice-enc-2025 (AES-256-CBC). */
async function signedThenEncrypted() {
  let p = made.get('nested');
  if (!p) {
    p = (async () => {
      const inner = await signed(SIG[0]!);
      const store = await storeWith(['alice-sign', 'alice-enc-2025']);
      const smime = await encryptMessage(inner.smime, { store, to: ['alice@example.com'], cipher: 'aes-256-cbc' });
      return { smime, der: cmsOf(smime) };
    })();
    made.set('nested', p);
  }
  return p;
}

/** The signed entity and the signature of a decrypted multipart/signed message. */
async function signedParts(entity: Uint8Array) {
  const store = await storeWith([]);
  const v = await verifyMessage(entity, { store, harvest: false });
  return { content: v.content, der: cmsOf(entity) };
}

const TAMPERED = 'RSA SHA-256, detached → invalid';
const tamper = (b: Uint8Array) => new TextEncoder().encode(td.decode(b).replace('Hello Alice', 'Hello Eve!!'));

/**
 * Registers one cell: `ok` (the peer must succeed), or `limit` (the peer must fail, because of the named limit).
 * A known failure is registered with it.fails.
 */
function cell(peer: string, dir: 'in' | 'out', op: string, label: string, limit: string | undefined, fn: () => Promise<void>) {
  const name = `[${peer}|${dir}|${op}|${label}]`;
  const kf = KNOWN_FAILURES[`${peer}|${op}|${label}`];
  const what = op === 'signature status' ? 'the peer finds it invalid' : dir === 'in' ? 'the peer makes it' : 'the peer opens it';
  if (limit) it(`${name} limit: ${limit}`, fn);
  else if (kf) it.fails(`${name} [KNOWN FAILURE: ${kf}]`, fn);
  else it(`${name} ${what}`, fn);
}

beforeAll(() => {
  dir = tmp('smime-matrix-out-');
});

// -------------------------------------------------------------------------------------------------------------
// OpenSSL 3.0

describe.runIf(HAVE.openssl)('smime-core → OpenSSL (openssl cms)', () => {
  for (const k of ENC) {
    const limit = k.recipient === 'edna-x25519' ? 'OpenSSL 3.0 has no X25519 CMS' : undefined;
    cell('openssl', 'out', 'encryption', k.label, limit, async () => {
      const m = await encrypted(k);
      const r = tryRun('openssl', ['cms', '-decrypt', '-in', put(m.smime, 'eml'), '-recip', file(k.recipient, 'cert'), '-inkey', file(k.recipient, 'key')]);
      if (limit) {
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/decrypt|not supported|unsupported/i);
        return;
      }
      expect(r.stderr).toBe('');
      expect(td.decode(r.stdout)).toBe(INNER);
    });
  }
  for (const k of SIG) {
    const limit = k.ed25519 ? 'OpenSSL 3.0 cannot verify Ed25519 CMS signatures with signed attributes' : undefined;
    cell('openssl', 'out', 'signature', k.label, limit, async () => {
      const m = await signed(k);
      const r = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', put(m.smime, 'eml')]);
      if (limit) {
        // ours is a good signature (our verifier and Bouncy Castle say valid); OpenSSL 3.0 fails on Ed25519 with
        // signed attributes
        expect(r.status).not.toBe(0);
        expect(r.stderr).not.toContain('Verification successful');
        expect(r.stderr).toMatch(ED25519_VERIFY_ERROR);
        // Bouncy Castle's own Ed25519 signature of the same kind fails alike: the limit is OpenSSL's
        const bc = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', join(VECTORS, 'bc', k.detached ? 'sig-ed25519.eml' : 'sig-ed25519-opaque.eml')]);
        expect(bc.status).not.toBe(0);
        expect(bc.stderr).toMatch(ED25519_VERIFY_ERROR);
        return;
      }
      expect(r.stderr).toContain('Verification successful');
      expect(r.status).toBe(0);
    });
  }
  cell('openssl', 'out', 'signature status', TAMPERED, undefined, async () => {
    const m = await signed(SIG[0]!);
    const altered = tamper(m.smime);
    expect(altered).not.toEqual(m.smime);
    const r = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', put(altered, 'eml')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Verification failure');
  });
  cell('openssl', 'out', 'signed then encrypted', NESTED, undefined, async () => {
    const m = await signedThenEncrypted();
    const d = tryRun('openssl', ['cms', '-decrypt', '-in', put(m.smime, 'eml'), '-recip', file('alice-enc-2025', 'cert'), '-inkey', file('alice-enc-2025', 'key')]);
    expect(d.status).toBe(0);
    const v = tryRun('openssl', ['cms', '-verify', '-purpose', 'smimesign', ...OPENSSL_AT_REFERENCE, '-CAfile', ROOT, '-in', put(d.stdout, 'eml')]);
    expect(v.stderr).toContain('Verification successful');
    expect(td.decode(v.stdout)).toContain('Hello Alice');
  });
  // as a sender
  for (const [label, extra] of [['Ed25519, detached', []], ['Ed25519, opaque', ['-nodetach']]] as const) {
    cell('openssl', 'in', 'signature', label, OPENSSL_NO_ED25519, async () => {
      const r = tryRun('openssl', ['cms', '-sign', ...extra, '-in', join(VECTORS, 'openssl', 'plain.txt'), '-signer', file('edna-ed25519', 'cert'), '-inkey', file('edna-ed25519', 'key')]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/no default digest|invalid digest|not supported/i);
    });
  }
  cell('openssl', 'in', 'encryption', 'X25519 + AES-256-GCM', 'OpenSSL 3.0 has no X25519 CMS', async () => {
    const r = tryRun('openssl', ['cms', '-encrypt', '-in', join(VECTORS, 'openssl', 'plain.txt'), '-aes-256-gcm', file('edna-x25519', 'cert')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/not supported for this keytype/i);
  });
});

// -------------------------------------------------------------------------------------------------------------
// NSS 3.87 (cmsutil)

describe.runIf(HAVE.nss)('smime-core → NSS (cmsutil -D)', () => {
  let db = '';
  beforeAll(() => {
    db = makeNssDb(dir, ['alice-enc-2025', 'ec-enc'].map((n) => file(n, 'p12')));
  });

  const NO_AUTH = 'NSS 3.87 has no AuthEnvelopedData';
  const NO_OAEP = 'NSS 3.87 has no RSA-OAEP in CMS';
  const NO_ECDH = 'NSS 3.87 has no ECDH envelopes';
  for (const k of ENC) {
    const limit =
      k.recipient === 'edna-x25519'
        ? 'NSS 3.87 has no X25519 (it cannot even import the key)'
        : k.recipient === 'ec-enc'
          ? NO_ECDH
          : k.oaep
            ? NO_OAEP
            : k.cipher.endsWith('gcm')
              ? NO_AUTH
              : undefined;
    cell('nss', 'out', 'encryption', k.label, limit, async () => {
      const m = await encrypted(k);
      if (k.recipient === 'edna-x25519') {
        const imp = tryRun('pk12util', ['-i', file('edna-x25519', 'p12'), '-d', db, '-W', PASSWORD, '-K', '']);
        expect(imp.status).not.toBe(0);
        expect(imp.stderr + td.decode(imp.stdout)).toContain('SEC_ERROR_PKCS12_UNABLE_TO_IMPORT_KEY');
      }
      const r = await runAsync('cmsutil', ['-D', '-i', put(m.der, 'p7m'), '-d', db, '-p', '']);
      if (limit) {
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/SEC_ERROR_/);
        return;
      }
      expect(r.status).toBe(0);
      expect(Buffer.from(r.stdout, 'latin1').toString('utf8')).toBe(INNER);
    });
  }
  // RSA and ECDSA signatures: test/sign/interop-nss.test.ts. RSA-PSS here.
  const pss = SIG.find((k) => k.pss)!;
  cell('nss', 'out', 'signature', pss.label, undefined, async () => {
    const m = await signed(pss);
    expect(await nssVerify(db, put(m.der, 'p7m'), put(m.content!, 'txt'))).toContain('signer0.status=GoodSignature');
  });
  cell('nss', 'out', 'signed then encrypted', NESTED, undefined, async () => {
    const m = await signedThenEncrypted();
    const d = await runAsync('cmsutil', ['-D', '-i', put(m.der, 'p7m'), '-d', db, '-p', '']);
    expect(d.status).toBe(0);
    const parts = await signedParts(Buffer.from(d.stdout, 'latin1'));
    expect(await nssVerify(db, put(parts.der, 'p7m'), put(parts.content, 'txt'))).toContain('signer0.status=GoodSignature');
  });
  // as a sender
  for (const label of ['ECDH P-384 + AES-256-CBC', 'ECDH P-384 + AES-256-GCM']) {
    cell('nss', 'in', 'encryption', label, NO_ECDH, async () => {
      tryRun('certutil', ['-A', '-d', db, '-n', 'ec-enc-cert', '-t', ',,', '-i', file('ec-enc', 'cert')]);
      const r = await runAsync('cmsutil', ['-E', '-r', 'ecuser@example.com', '-i', join(VECTORS, 'openssl', 'plain.txt'), '-o', join(dir, `nss-ecdh-${++seq}.p7m`), '-d', db]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('SEC_ERROR_INVALID_ALGORITHM');
    });
  }
  const NO_CHOICE = 'cmsutil -E makes RSA v1.5 EnvelopedData only (no option for AuthEnvelopedData or RSA-OAEP)';
  for (const label of ['RSA v1.5 + AES-128-GCM', 'RSA v1.5 + AES-256-GCM', 'RSA-OAEP SHA-1 + AES-256-CBC', 'RSA-OAEP SHA-256 + AES-256-CBC', 'RSA-OAEP SHA-256 + AES-256-GCM']) {
    cell('nss', 'in', 'encryption', label, NO_CHOICE, async () => {
      const usage = await runAsync('cmsutil', []);
      expect(usage.stdout + usage.stderr).toContain('create a CMS enveloped data message');
      expect(usage.stdout + usage.stderr).not.toMatch(/gcm|oaep|authenv/i);
    });
  }
});

// -------------------------------------------------------------------------------------------------------------
// GnuPG 2.2 (gpgsm)

describe.runIf(HAVE.gpgsm && HAVE.openssl)('smime-core → gpgsm', () => {
  let home = '';
  const gpgsm = (args: string[]) =>
    runAsync('gpgsm', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', ...args], 'x\n');
  const legacyP12 = (name: string) => {
    const out = join(dir, `${name}.legacy.p12`);
    run('openssl', ['pkcs12', '-export', '-legacy', '-inkey', file(name, 'key'), '-in', file(name, 'cert'), '-out', out, '-passout', 'pass:x']);
    return out;
  };
  beforeAll(async () => {
    home = join(dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    writeFileSync(join(home, 'gpg-agent.conf'), 'allow-loopback-pinentry\n');
    writeFileSync(join(home, 'gpgsm.conf'), 'disable-crl-checks\ndisable-trusted-cert-crl-check\n');
    const fpr = td.decode(run('openssl', ['x509', '-in', ROOT, '-noout', '-fingerprint', '-sha1'])).split('=')[1]!.trim();
    writeFileSync(join(home, 'trustlist.txt'), `${fpr} S relax\n`);
    expect((await gpgsm(['--import', ROOT, ISSUING])).status).toBe(0);
    const r = await gpgsm(['--import', legacyP12('alice-enc-2025')]);
    expect(r.stderr).toContain('secret keys imported: 1');
  });
  afterAll(() => {
    if (home) tryRun('gpgconf', ['--homedir', home, '--kill', 'all']);
  });

  const NO_AUTH = 'gpgsm 2.2 has no AuthEnvelopedData';
  const NO_OAEP = 'gpgsm 2.2 has no RSA-OAEP';
  const NO_EC = 'gpgsm 2.2 cannot import EC keys from PKCS#12 (it crashes), so it has no ECDH';
  const NO_SKI = 'gpgsm 2.2 does not find a recipient identified by subjectKeyIdentifier (OpenSSL -keyid messages fail alike)';
  for (const k of ENC) {
    const limit =
      k.recipient === 'edna-x25519'
        ? 'gpgsm 2.2 has no X25519'
        : k.recipient === 'ec-enc'
          ? NO_EC
          : k.oaep
            ? NO_OAEP
            : k.cipher.endsWith('gcm')
              ? NO_AUTH
              : k.useSki
                ? NO_SKI
                : undefined;
    cell('gpgsm', 'out', 'encryption', k.label, limit, async () => {
      const m = await encrypted(k);
      if (k.recipient === 'ec-enc' || k.recipient === 'edna-x25519') {
        // the key can't get into gpgsm: the import fails (EC: a crash) or imports no secret key
        const imp = await gpgsm(['--import', legacyP12(k.recipient)]);
        expect(imp.stderr).not.toContain('secret keys imported: 1');
      }
      const out = join(dir, `gpgsm-out-${++seq}`);
      const r = await gpgsm(['-o', out, '--decrypt', put(m.der, 'p7m')]);
      if (limit) {
        expect(r.status).not.toBe(0);
        expect(r.stderr).toMatch(/decryption failed|No secret key|Buffer too short|not supported/i);
        if (k.useSki) {
          // OpenSSL's own -keyid message fails the same way: the limit is gpgsm's
          const der = cmsOf(readFileSync(join(VECTORS, 'openssl', 'enc-keyid.eml')));
          const o = await gpgsm(['-o', join(dir, `gpgsm-out-${++seq}`), '--decrypt', put(der, 'p7m')]);
          expect(o.status).not.toBe(0);
          expect(o.stderr).toContain('recp 0 - error getting info');
        }
        return;
      }
      expect(r.stderr).not.toMatch(/error|failed/i);
      expect(r.status).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe(INNER);
    });
  }
  // RSA and ECDSA signatures: test/sign/interop-gpgsm.test.ts. RSA-PSS here.
  const pss = SIG.find((k) => k.pss)!;
  cell('gpgsm', 'out', 'signature', pss.label, undefined, async () => {
    const m = await signed(pss);
    await gpgsm(['--import', CHAIN]);
    const r = await gpgsm(['--verify', put(m.der, 'p7s'), put(m.content!, 'txt')]);
    expect(r.stderr).toContain('Good signature');
    expect(r.status).toBe(0);
  });
  cell('gpgsm', 'out', 'signed then encrypted', NESTED, undefined, async () => {
    const m = await signedThenEncrypted();
    const out = join(dir, `gpgsm-out-${++seq}`);
    const d = await gpgsm(['-o', out, '--decrypt', put(m.der, 'p7m')]);
    expect(d.status).toBe(0);
    const parts = await signedParts(new Uint8Array(readFileSync(out)));
    await gpgsm(['--import', CHAIN]);
    const r = await gpgsm(['--verify', put(parts.der, 'p7s'), put(parts.content, 'txt')]);
    expect(r.stderr).toContain('Good signature');
  });
  // as a sender
  const ecFpr = () => td.decode(run('openssl', ['x509', '-in', file('ec-enc', 'cert'), '-noout', '-fingerprint', '-sha1'])).split('=')[1]!.trim().replaceAll(':', '');
  for (const [label, extra] of [['ECDH P-384 + AES-256-CBC', ['--cipher-algo', 'AES256']], ['ECDH P-384 + AES-256-GCM', []]] as const) {
    cell('gpgsm', 'in', 'encryption', label, 'gpgsm 2.2 refuses to encrypt to a key-agreement certificate', async () => {
      await gpgsm(['--import', file('ec-enc', 'cert')]);
      const r = await gpgsm([...extra, '-r', ecFpr(), '-o', join(dir, `gpgsm-ecdh-${++seq}.p7m`), '--encrypt', join(VECTORS, 'openssl', 'plain.txt')]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('Wrong key usage');
    });
  }
  for (const label of ['RSA v1.5 + AES-128-GCM', 'RSA v1.5 + AES-256-GCM']) {
    cell('gpgsm', 'in', 'encryption', label, 'gpgsm 2.2 has no AuthEnvelopedData (no GCM cipher to choose)', async () => {
      const r = await gpgsm(['--cipher-algo', label.includes('128') ? 'AES128-GCM' : 'AES256-GCM', '-r', 'alice@example.com', '-o', join(dir, `gpgsm-gcm-${++seq}.p7m`), '--encrypt', join(VECTORS, 'openssl', 'plain.txt')]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('selected cipher algorithm is invalid');
    });
  }
  cell('gpgsm', 'in', 'signature', 'ECDSA P-256 SHA-256, detached', 'gpgsm 2.2 cannot import EC keys from PKCS#12 (it crashes)', async () => {
    const r = await gpgsm(['--import', legacyP12('ec-sign')]);
    expect(r.stderr).not.toContain('secret keys imported: 1');
    expect(r.stderr).toMatch(/Segmentation fault|error/i);
  });
  cell('gpgsm', 'in', 'PKCS#12 import', 'PBES2 / AES-256-CBC / SHA-256 MAC (OpenSSL 3 default)', 'gpgsm 2.2 reads only legacy PKCS#12', async () => {
    const r = await runAsync('gpgsm', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--import', file('alice-sign', 'p12')], `${PASSWORD}\n`);
    expect(r.stderr).toMatch(/PBES2|error/i);
    expect(r.stderr).not.toContain('secret keys imported: 1');
  });
  cell('gpgsm', 'in', 'PKCS#12 import', 'legacy (RC2-40, 3DES, SHA-1 MAC)', undefined, async () => {
    const r = await runAsync('gpgsm', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase-fd', '0', '--import', file('alice-enc-2021', 'p12')], `${PASSWORD}\n`);
    expect(r.stderr).toContain('secret keys imported: 1');
  });
});

// -------------------------------------------------------------------------------------------------------------
// Bouncy Castle 1.72 (vectors/java/SmimePeer.java)

describe.runIf(HAVE.bc)('smime-core → Bouncy Castle (SmimePeer)', () => {
  let peer: ReturnType<typeof compileSmimePeer>;
  const bc = (args: string[]) => peer(args);
  beforeAll(() => {
    peer = compileSmimePeer(dir);
  });

  describe.concurrent('decrypts and verifies', () => {
    for (const k of ENC) {
      const limit = k.recipient === 'edna-x25519' ? 'Bouncy Castle 1.72 has no X25519 in CMS key agreement' : undefined;
      cell('bc', 'out', 'encryption', k.label, limit, async () => {
        const m = await encrypted(k);
        const out = join(dir, `bc-out-${++seq}`);
        const r = await bc(['decrypt', '--cert', file(k.recipient, 'cert'), '--key', file(k.recipient, 'key'), '--in', put(m.der, 'p7m'), '--out', out]);
        if (limit) {
          expect(r.status).not.toBe(0);
          expect(r.stderr).toMatch(/EC private key|agreement/i);
          return;
        }
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        expect(r.stdout).toContain(k.cipher.endsWith('gcm') ? 'type=authEnvelopedData' : 'type=envelopedData');
        expect(readFileSync(out, 'utf8')).toBe(INNER);
      });
    }
    for (const k of SIG) {
      cell('bc', 'out', 'signature', k.label, undefined, async () => {
        const m = await signed(k);
        const args = ['verify', '--in', put(m.der, 'p7s'), '--trust', ROOT];
        if (m.content) args.push('--content', put(m.content, 'txt'));
        const r = await bc(args);
        expect(r.stderr).toBe('');
        expect(r.stdout).toContain('status=valid');
        expect(r.stdout).toContain('smimeCapabilities');
        // Ed25519 (RFC 8419): id-Ed25519 with SHA-512 as the message digest
        if (k.ed25519) expect(r.stdout).toContain('digest=2.16.840.1.101.3.4.2.3 signature=1.3.101.112');
        expect(r.status).toBe(0);
      });
    }
    cell('bc', 'out', 'signature status', TAMPERED, undefined, async () => {
      const m = await signed(SIG[0]!);
      const altered = tamper(m.content!);
      expect(altered).not.toEqual(m.content);
      const r = await bc(['verify', '--in', put(m.der, 'p7s'), '--content', put(altered, 'txt'), '--trust', ROOT]);
      expect(r.stdout).toContain('status=invalid');
      expect(r.status).not.toBe(0);
    });
    cell('bc', 'out', 'signed then encrypted', NESTED, undefined, async () => {
      const m = await signedThenEncrypted();
      const out = join(dir, `bc-out-${++seq}`);
      const d = await bc(['decrypt', '--cert', file('alice-enc-2025', 'cert'), '--key', file('alice-enc-2025', 'key'), '--in', put(m.der, 'p7m'), '--out', out]);
      expect(d.status).toBe(0);
      const parts = await signedParts(new Uint8Array(readFileSync(out)));
      const r = await bc(['verify', '--in', put(parts.der, 'p7s'), '--content', put(parts.content, 'txt'), '--trust', ROOT]);
      expect(r.stdout).toContain('status=valid');
      expect(r.status).toBe(0);
    });
    // as a sender
    cell('bc', 'in', 'encryption', 'X25519 + AES-256-GCM', 'Bouncy Castle 1.72 has no X25519 in CMS key agreement', async () => {
      const r = await bc(['encrypt', '--recip', file('edna-x25519', 'cert'), '--auth', '--in', join(VECTORS, 'openssl', 'plain.txt'), '--out', join(dir, 'bc-x.p7m')]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain("can't identify EC private key");
    });
  });
});
