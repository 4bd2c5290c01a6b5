// The hostile inputs of the security review (issue 10), each timed until it settles (a verdict or a limit error),
// against the same operation on a normal message measured in the same run. Before the limits, each of these took
// seconds (3–74 s); now each must settle in well under a second. The gate is a ratio to that normal operation.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateStore, decryptMessage, encryptMessage, signMessage, verifyMessage } from '../dist/index.node.js';
import { extractCms } from '../dist/mime/extract.js';
import { children, integer, readTlv, seq, set, tlv } from '../dist/lib/der.js';
import { PASSWORD, REPO, VECTORS, bobStore, check, fmt, makeMessage, measure } from './_utils.js';

/** A hostile input's time above this many times the normal operation's fails the run. */
export const SECURITY_GATE = 200;

const manifest = JSON.parse(readFileSync(join(VECTORS, 'manifest.json'), 'utf8'));
const p12 = (name) => new Uint8Array(readFileSync(join(VECTORS, manifest.identities[name].p12)));
const pem = (rel) => readFileSync(join(VECTORS, rel), 'utf8');

/** The elements of a constructed value, as byte ranges. */
function kids(der) {
  return children(der, readTlv(der, 0)).map((t) => der.subarray(t.start, t.end));
}

/** ContentInfo → [contentType, inner SEQUENCE's fields]. */
function unwrap(ci) {
  const [type, ctx] = kids(ci);
  return { type, fields: kids(kids(ctx)[0]) };
}
const rewrap = (type, fields) => seq(type, tlv(0xa0, seq(...fields)));

/** A verdict with the limit that decided it, if any: 'untrusted (policy-tree-limit)'. */
const verdict = (v) => `${v.status}${v.reasons.filter((r) => r.endsWith('-limit')).map((r) => ` (${r})`).join('')}`;

/**
 * Runs `f` and returns how it settled: each signer's verdict (verifyMessage), the verdict (verifyCertificate), 'ok',
 * or the error's code and limit.
 */
async function settle(f) {
  try {
    const r = await f();
    if (r?.signers) return r.signers.map(verdict).join(',');
    return typeof r?.status === 'string' && Array.isArray(r.reasons) ? verdict(r) : 'ok';
  } catch (e) {
    if (!e?.code) throw e;
    return `${e.code}${e.limit ? ` (${e.limit})` : ''}`;
  }
}

async function cases() {
  const bob = await bobStore();
  const { message } = makeMessage(1024, { from: 'bob@example.com', to: 'bob@example.com' });
  const signed = await signMessage(message, { store: bob, from: 'bob@example.com', detached: false });
  const sd = extractCms(signed).der;
  const encrypted = await encryptMessage(message, { store: bob, to: ['bob@example.com'] });
  const out = [];

  // 10 000 SignerInfos.
  {
    const { type, fields } = unwrap(sd);
    const si = kids(fields[fields.length - 1])[0];
    const many = rewrap(type, [...fields.slice(0, -1), set(...Array.from({ length: 10_000 }, () => si))]);
    out.push({
      name: 'verifyMessage, 10 000 SignerInfos',
      hostile: () => verifyMessage(many, { store: bob, harvest: false }),
      normal: () => verifyMessage(sd, { store: bob, harvest: false }),
      normalName: 'verifyMessage 1 KiB',
    });
  }
  // 1000 RecipientInfos naming nobody, 5 RSA identities.
  {
    const five = new CertificateStore();
    for (const n of ['bob', 'alice-sign', 'alice-enc-2021', 'alice-enc-2023', 'alice-enc-2025']) await five.importPkcs12(p12(n), PASSWORD);
    const der = extractCms(encrypted).der;
    const { type, fields } = unwrap(der);
    const ri = new Uint8Array(kids(fields[1])[0]);
    // Flip the last byte of the serial number in rid (IssuerAndSerialNumber): it names nobody now.
    const [, rid] = kids(ri);
    const serial = kids(rid)[1];
    ri[serial.byteOffset - ri.byteOffset + serial.length - 1] ^= 0x5a;
    const nobody = rewrap(type, [fields[0], set(...Array.from({ length: 1000 }, () => ri)), ...fields.slice(2)]);
    out.push({
      name: 'decryptMessage, 1000 RecipientInfos naming nobody, 5 RSA identities',
      hostile: () => decryptMessage(nobody, { store: five }),
      normal: () => decryptMessage(der, { store: bob }),
      normalName: 'decryptMessage 1 KiB',
    });
  }
  // A PEM bundle of 100 000 certificates.
  {
    const one = pem('pki/root-ca.cert.pem');
    const bundle = one.repeat(100_000);
    out.push({
      name: 'addCertificate, PEM bundle of 100 000 certificates',
      hostile: () => new CertificateStore().addCertificate(bundle),
      normal: () => new CertificateStore().addCertificate(one),
      normalName: 'addCertificate, one PEM certificate',
    });
  }
  // A PKCS#12 whose MAC asks for 10 million iterations.
  {
    const file = p12('bob');
    const [version, authSafe, macData] = kids(file);
    const [mac, salt] = kids(macData);
    const hostileP12 = seq(version, authSafe, seq(mac, salt, integer(10_000_000)));
    out.push({
      name: 'importPkcs12, MAC with 10 000 000 iterations',
      hostile: () => new CertificateStore().importPkcs12(hostileP12, PASSWORD),
      normal: () => new CertificateStore().importPkcs12(file, PASSWORD),
      normalName: 'importPkcs12 (PBES2, 2048 iterations)',
    });
  }
  return out;
}

/** Optional modules that add their own hostile rows ({ name, hostile, normal, normalName, expectOk? }). */
async function moduleCases(quick) {
  const out = [];
  for (const [file, fn] of [
    ['security_chain.js', 'chainCases'],
    ['security_pathval.js', 'pathValidationCases'],
  ]) {
    let mod;
    try {
      mod = await import(join(REPO, 'bench', file));
    } catch (e) {
      if (e?.code === 'ERR_MODULE_NOT_FOUND') continue;
      throw e;
    }
    if (typeof mod[fn] === 'function') out.push(...(await mod[fn]({ quick })));
  }
  return out;
}

/** The rows of the security table and the gate's failures. */
export async function securityRows({ quick }) {
  const rows = [];
  const failures = [];
  const all = [...(await cases()), ...(await moduleCases(quick))];
  for (const c of all) {
    const outcome = await settle(c.hostile);
    check(outcome !== 'ok' || c.expectOk, `${c.name}: settles with a verdict or a limit error (got ${outcome})`);
    const t = await measure({ hostile: () => settle(c.hostile), normal: c.normal }, { rounds: quick ? 2 : 3, iterations: 1, gcEach: false });
    const ratio = t.hostile / t.normal;
    if (ratio > SECURITY_GATE) failures.push(`${c.name}: ${fmt(t.hostile, 1)} ms = ${ratio.toFixed(0)}× ${c.normalName}`);
    rows.push([c.name, outcome, fmt(t.hostile, 2), c.normalName, fmt(t.normal, 2), `${ratio.toFixed(1)}×`]);
  }
  return { rows, failures };
}
