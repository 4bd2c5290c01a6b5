/**
 * Interop matrix, inbound: every message of vectors/manifest.json, from every peer (OpenSSL, NSS cmsutil, gpgsm,
 * Bouncy Castle; see vectors/generate.sh and vectors/generate-peers.sh), goes through the public API and through
 * the `smime` CLI, and the result is checked against the manifest:
 * - encrypted: each identity in `identities` decrypts it to `expect.content`; for the peer messages, a store with
 *   every `mustFail` identity is refused with `expect.error` (OpenSSL's envelopes get that check, and more, in
 *   openssl-envelope.test.ts);
 * - signed: verifyMessage gives `expect.signer` with `expect.status` and the signed entity `expect.content`; an
 *   `expect.encryptionKeyPreference` is harvested into the store;
 * - signed then encrypted: openMessage opens both layers to `expect.innerContent` with the signer's status.
 * The peers are not needed here (the messages are committed). Each test name starts with a tag
 * `[peer|in|operation|algorithm]` that scripts/interop-report.mjs turns into a cell of docs/interop.md.
 *
 * Signatures are verified at the manifest's reference date (the stores' clock, `atReference`; the CLI's too), not
 * at the real clock: the sample signer certificates expire from 2028 on.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptMessage, openMessage, verifyMessage, type CertificateStore } from '../../src/index.js';
import { cli as runCli } from '../_helpers/cli.js';
import { atReference, manifest, PASSWORD, storeWith, vfile } from '../_helpers/identities.js';
import { tmp, VECTORS } from '../_helpers/env.js';

/** The CLI in-process, its store judging the sample identities at the reference date. */
const cli = (args: string[], stdin?: Uint8Array) => runCli(args, stdin, { now: atReference });

type Alg = { name: string; oid: string; parameters?: unknown };
interface RecipientInfoAlg {
  type: 'ktri' | 'kari';
  rid: string;
  recipient?: string;
  keyEncryption: Alg & { parameters?: { hash?: string } | string };
  oaepHash?: string;
  keyWrap?: Alg;
}
interface Algorithms {
  contentType: Alg;
  contentEncryption?: Alg;
  recipientInfos?: RecipientInfoAlg[];
  signerInfos?: { sid: string; digest: Alg; signature: Alg; signedAttributes: string[] }[];
  encapsulated?: boolean;
  encoding: string;
}
interface Entry {
  id: string;
  file: string;
  peer: string;
  algorithms: Algorithms;
  recipients?: string[];
  identities?: string[];
  expect: {
    content?: string;
    innerContent?: string;
    signer?: string;
    signerIdentity?: string;
    status?: string;
    encryptionKeyPreference?: string;
    error?: string;
  };
  mustFail?: { identities: string[]; expect: { error: string } };
  generator?: string;
}
interface PeerIdentity {
  email: string;
  p12: string;
  cert: string;
  key: string;
  keyAlgorithm: string;
  serialHex: string;
}

const ENTRIES = manifest.messages as unknown as Entry[];
const IDS = { ...(manifest.identities as unknown as Record<string, PeerIdentity>), ...((manifest.peerIdentities ?? {}) as Record<string, PeerIdentity>) };

/**
 * Cases smime-core fails today, each with the reason (and the error seen). The test stays and is expected to fail
 * (`it.fails`): when the library is fixed it fails loudly, and the entry must go. Key: `<message id>|<check>`,
 * check = api | cli | mustFail.
 */
const KNOWN_FAILURES: Record<string, string> = {};

const known = (id: string, check: string) => KNOWN_FAILURES[`${id}|${check}`];
function test(name: string, id: string, check: string, fn: () => Promise<void>) {
  const reason = known(id, check);
  if (reason) it.fails(`${name} [KNOWN FAILURE: ${reason}]`, fn);
  else it(name, fn);
}

// -------------------------------------------------------------------------------------------------------------
// labels for the matrix

const CIPHER: Record<string, string> = {
  'aes-128-cbc': 'AES-128-CBC',
  'aes-192-cbc': 'AES-192-CBC',
  'aes-256-cbc': 'AES-256-CBC',
  'aes-128-gcm': 'AES-128-GCM',
  'aes-256-gcm': 'AES-256-GCM',
  'des-ede3-cbc': '3DES-CBC',
};

function curveOf(identity: string | undefined): string {
  const k = identity ? IDS[identity]?.keyAlgorithm ?? '' : '';
  return k.replace(/^EC-/, '') || 'EC';
}

function keyManagement(ri: RecipientInfoAlg): string {
  let s: string;
  if (ri.type === 'kari') {
    if (/X25519/i.test(ri.keyEncryption.name)) s = 'X25519';
    else s = `ECDH ${curveOf(ri.recipient)}`;
  } else if (ri.keyEncryption.name === 'rsaesOaep') {
    const p = ri.keyEncryption.parameters;
    const h = ri.oaepHash ?? (typeof p === 'object' && p ? p.hash : undefined) ?? 'sha1';
    s = `RSA-OAEP ${h.toUpperCase().replace('SHA', 'SHA-')}`;
  } else s = 'RSA v1.5';
  if (ri.rid === 'subjectKeyIdentifier') s += ' by SKI';
  return s;
}

function envelopeLabel(e: Entry): string {
  const a = e.algorithms;
  const ris = a.recipientInfos ?? [];
  // kari entries of generate-peers.sh name no recipient: take it from the entry's recipients, in order
  const named = ris.map((r, i) => ({ ...r, recipient: r.recipient ?? e.recipients?.[i] }));
  const kinds = [...new Set(named.map(keyManagement))];
  let s = kinds.join(' + ');
  if (ris.length > 1) s += ` (${ris.length} recipients)`;
  s += ` + ${CIPHER[a.contentEncryption?.name ?? ''] ?? a.contentEncryption?.name}`;
  return s;
}

function signatureLabel(e: Entry, a: Algorithms = e.algorithms): string {
  const si = a.signerInfos?.[0];
  const digest = (si?.digest.name ?? 'sha256').toUpperCase().replace('SHA', 'SHA-');
  const sig = si?.signature.name ?? '';
  let s: string;
  if (sig === 'Ed25519') s = 'Ed25519';
  else if (/ecdsa/i.test(sig)) s = `ECDSA ${curveOf(e.expect.signerIdentity)} ${digest}`;
  else if (sig === 'rsassaPss') s = `RSA-PSS ${digest}`;
  else s = `RSA ${digest}`;
  if (si?.sid === 'subjectKeyIdentifier') s += ' by SKI';
  s += a.encapsulated ? ', opaque' : ', detached';
  if (e.expect.encryptionKeyPreference) s += ', key preference';
  return s;
}

/** peer|in|operation|algorithm */
function tag(e: Entry, operation: string, algorithm: string): string {
  return `[${e.peer}|in|${operation}|${algorithm}]`;
}

// -------------------------------------------------------------------------------------------------------------
// stores and the CLI

const storeCache = new Map<string, Promise<CertificateStore>>();
function cachedStore(names: string[]): Promise<CertificateStore> {
  const k = [...names].sort().join(',');
  let s = storeCache.get(k);
  if (!s) storeCache.set(k, (s = storeWith(names.filter((n) => manifest.identities[n]))));
  return s;
}


const abs = (rel: string) => join(VECTORS, rel);
const ROOT_FILE = abs('pki/root-ca.cert.pem');
const CHAIN_FILE = abs('pki/chain.pem');
const isEnvelope = (e: Entry) => /^(authE|e)nvelopedData$/.test(e.algorithms?.contentType?.name ?? '');
const isSigned = (e: Entry) => e.algorithms?.contentType?.name === 'signedData';

// -------------------------------------------------------------------------------------------------------------

describe('interop matrix, inbound: vectors/manifest.json through the API and the CLI', () => {
  it('has messages from every peer', () => {
    const peers = new Set(ENTRIES.map((e) => e.peer));
    for (const p of ['openssl', 'nss', 'gpgsm', 'bc']) expect(peers.has(p), p).toBe(true);
    expect(ENTRIES.filter(isSigned).length).toBeGreaterThanOrEqual(15);
  });

  for (const e of ENTRIES) {
    describe(e.id, () => {
      // --- encrypted (possibly with a signed entity inside) ------------------------------------------------------
      if (isEnvelope(e) && !e.expect.innerContent) {
        const t = tag(e, 'encryption', envelopeLabel(e));
        for (const who of e.identities ?? []) {
          test(`${t} ${e.id}: the API decrypts it with ${who}`, e.id, 'api', async () => {
            const store = await cachedStore([who]);
            const r = await decryptMessage(vfile(e.file), { store });
            expect(r.content).toEqual(vfile(e.expect.content!));
            expect(r.recipient.serialNumber.toLowerCase()).toBe(IDS[who]!.serialHex.toLowerCase());
            expect(r.authenticated).toBe(e.algorithms.contentType.name === 'authEnvelopedData');
          });
        }
        if (e.mustFail && e.mustFail.identities.length > 0 && e.generator) {
          test(`${t} ${e.id}: every other identity is refused with ${e.mustFail.expect.error}`, e.id, 'mustFail', async () => {
            const store = await cachedStore(e.mustFail!.identities);
            const err = await decryptMessage(vfile(e.file), { store }).catch((x: unknown) => x);
            expect((err as { code?: string }).code).toBe(e.mustFail!.expect.error);
          });
        }
        const first = (e.identities ?? [])[0];
        if (first) {
          test(`${t} ${e.id}: the CLI decrypts it with ${first}`, e.id, 'cli', async () => {
            const dir = tmp('smime-matrix-in-');
            const out = join(dir, 'out.eml');
            const report = join(dir, 'report.json');
            const r = await cli(['decrypt', '--identity', abs(IDS[first]!.p12), '--password', PASSWORD, '--in', abs(e.file), '--out', out, '--report', report]);
            expect(r.err).toBe('');
            expect(r.code).toBe(0);
            expect(new Uint8Array(readFileSync(out))).toEqual(vfile(e.expect.content!));
            const rep = JSON.parse(readFileSync(report, 'utf8')) as { recipient: { serialNumber: string } };
            expect(rep.recipient.serialNumber.toLowerCase()).toBe(IDS[first]!.serialHex.toLowerCase());
          });
        }
      }

      // --- signed then encrypted ---------------------------------------------------------------------------------
      if (isEnvelope(e) && e.expect.innerContent) {
        const t = tag(e, 'signed then encrypted', `RSA SHA-256, detached, then ${envelopeLabel(e)}`);
        const who = (e.identities ?? [])[0]!;
        test(`${t} ${e.id}: the API opens both layers with ${who}`, e.id, 'api', async () => {
          const store = await storeWith([who]);
          const d = await decryptMessage(vfile(e.file), { store });
          expect(d.content).toEqual(vfile(e.expect.content!));
          const r = await openMessage(vfile(e.file), { store });
          expect(r.content).toEqual(vfile(e.expect.innerContent!));
          expect(r.layers.map((l) => l.type)).toEqual(['enveloped', 'signed']);
          expect(r.signers.map((s) => [s.email, s.status])).toEqual([[e.expect.signer, e.expect.status]]);
        });
        test(`${t} ${e.id}: the CLI opens both layers with ${who}`, e.id, 'cli', async () => {
          const dir = tmp('smime-matrix-in-');
          const out = join(dir, 'out.eml');
          const report = join(dir, 'report.json');
          const r = await cli(['open', '--identity', abs(IDS[who]!.p12), '--password', PASSWORD, '--cert', CHAIN_FILE, '--trust', ROOT_FILE, '--in', abs(e.file), '--out', out, '--report', report]);
          expect(r.err).toBe('');
          expect(r.code).toBe(0);
          expect(new Uint8Array(readFileSync(out))).toEqual(vfile(e.expect.innerContent!));
          const rep = JSON.parse(readFileSync(report, 'utf8')) as { signers: { email: string; status: string }[] };
          expect(rep.signers.map((s) => [s.email, s.status])).toEqual([[e.expect.signer, e.expect.status]]);
        });
      }

      // --- signed ------------------------------------------------------------------------------------------------
      if (isSigned(e)) {
        const status = e.expect.status!;
        const t = status === 'valid' ? tag(e, 'signature', signatureLabel(e)) : tag(e, 'signature status', `${signatureLabel(e)} → ${status}`);
        test(`${t} ${e.id}: the API verifies it (${e.expect.signer} ${status})`, e.id, 'api', async () => {
          const store = await storeWith([]);
          const r = await verifyMessage(vfile(e.file), { store });
          expect(r.signers.map((s) => [s.email, s.status])).toEqual([[e.expect.signer, status]]);
          expect(r.detached).toBe(!e.algorithms.encapsulated);
          if (status === 'invalid') expect(r.content).not.toEqual(vfile(e.expect.content!));
          else expect(r.content).toEqual(vfile(e.expect.content!));
          const pref = e.expect.encryptionKeyPreference;
          if (pref) {
            const p = store.preference(e.expect.signer!);
            expect(p?.certificate?.serialNumber.toLowerCase()).toBe(IDS[pref]!.serialHex.toLowerCase());
            expect(p?.capabilities?.length ?? 0).toBeGreaterThan(0);
          }
        });
        test(`${t} ${e.id}: the CLI verifies it (${status})`, e.id, 'cli', async () => {
          const dir = tmp('smime-matrix-in-');
          const out = join(dir, 'out.eml');
          const report = join(dir, 'report.json');
          const r = await cli(['verify', '--cert', CHAIN_FILE, '--trust', ROOT_FILE, '--in', abs(e.file), '--out', out, '--report', report]);
          const rep = JSON.parse(readFileSync(report, 'utf8')) as { signers: { email: string; status: string }[] };
          expect(rep.signers.map((s) => [s.email, s.status])).toEqual([[e.expect.signer, status]]);
          if (status === 'valid') {
            expect(r.err).toBe('');
            expect(r.code).toBe(0);
            expect(new Uint8Array(readFileSync(out))).toEqual(vfile(e.expect.content!));
          } else {
            expect(r.code).toBe(1);
            expect(r.err).toContain(`${e.expect.signer}: ${status}`);
          }
        });
      }
    });
  }
});
