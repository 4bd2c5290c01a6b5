// Certificates and CRLs for the hostile-input benchmarks, made with smime-core's own DER writer (dist/lib/der.js)
// and WebCrypto ECDSA P-256, not openssl: a benchmark makes thousands of them in a second. Shared by
// bench/security_chain.js and bench/security_pathval.js.
import { algorithmIdentifier, explicit, integer, octets, oid, seq, set, tlv } from '../dist/lib/der.js';
import { ecdsaP1363ToDer } from '../dist/crypto/signatures.js';
import { concat } from '../dist/lib/bytes.js';

const subtle = globalThis.crypto.subtle;

/** One day in ms. */
export const DAY = 86_400_000;
/** ecdsa-with-SHA256 (RFC 5758 §3.2): the signature algorithm of everything made here. */
export const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

/** UTF-8 bytes of a string. */
export const utf8 = (s) => new TextEncoder().encode(s);

/** A Name with one RDN: commonName = `cn` (UTF8String). */
export const name = (cn) => seq(set(seq(oid('2.5.4.3'), tlv(0x0c, utf8(cn)))));

/** A UTCTime (YYMMDDHHMMSSZ) for a date between 1950 and 2049. */
export const time = (d) => tlv(0x17, utf8(d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z')));

/** An Extension: `value` is the DER of the extension's value (wrapped in the extnValue OCTET STRING here). */
export const ext = (id, value, critical = true) => seq(oid(id), ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), octets(value));

/** A CA's extensions: basicConstraints cA TRUE; keyUsage keyCertSign and cRLSign. */
export const CA_EXTS = [ext('2.5.29.19', seq(Uint8Array.of(0x01, 0x01, 0xff))), ext('2.5.29.15', tlv(0x03, Uint8Array.of(1, 0x06)))];
/** An end entity's extensions: basicConstraints cA FALSE; keyUsage digitalSignature. */
export const EE_EXTS = [ext('2.5.29.19', seq()), ext('2.5.29.15', tlv(0x03, Uint8Array.of(7, 0x80)))];

/** A new ECDSA P-256 key pair (extractable). */
export const newKey = () => subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);

/** The SubjectPublicKeyInfo (DER) of a key pair. */
export const spkiOf = async (pair) => new Uint8Array(await subtle.exportKey('spki', pair.publicKey));

/** Joins byte arrays into one (lib/bytes.js's, re-exported for the bench modules). */
export { concat };

/** SEQUENCE { tbs, ecdsa-with-SHA256, BIT STRING signature } with `tbs` signed by `signingKey`. */
async function signed(tbs, signingKey) {
  const sig = new Uint8Array(await subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signingKey, tbs));
  return seq(tbs, algorithmIdentifier(ECDSA_SHA256), tlv(0x03, new Uint8Array([0, ...ecdsaP1363ToDer(sig)])));
}

let nextSerial = 1;

/**
 * An X.509 v3 certificate (DER) for `subject` issued by `issuer` (common names), holding `spki`, signed with
 * `signingKey` (the issuer's ECDSA P-256 private key), with `extensions` (made by `ext`). Valid from a day ago for
 * a year unless `notBefore`/`notAfter` say otherwise; the serial is a counter unless `serial` is given.
 */
export async function cert(subject, issuer, spki, signingKey, extensions, { notBefore, notAfter, serial } = {}) {
  const now = Date.now();
  const tbs = seq(
    explicit(0, integer(2)),
    integer(serial ?? nextSerial++),
    algorithmIdentifier(ECDSA_SHA256),
    name(issuer),
    seq(time(notBefore ?? new Date(now - DAY)), time(notAfter ?? new Date(now + 365 * DAY))),
    name(subject),
    spki,
    explicit(3, seq(...extensions)),
  );
  return signed(tbs, signingKey);
}

/**
 * A v2 CRL (DER) of `issuer` (a common name) signed with `signingKey`, revoking `serials` (numbers, dated a day
 * ago), current from a day ago for a week unless `thisUpdate`/`nextUpdate` say otherwise, with a cRLNumber.
 */
export async function crl(issuer, signingKey, serials, { thisUpdate, nextUpdate } = {}) {
  const now = Date.now();
  const revokedAt = time(new Date(now - DAY));
  const entries = serials.map((s) => seq(integer(s), revokedAt));
  const tbs = seq(
    integer(1),
    algorithmIdentifier(ECDSA_SHA256),
    name(issuer),
    time(thisUpdate ?? new Date(now - DAY)),
    time(nextUpdate ?? new Date(now + 7 * DAY)),
    ...(entries.length > 0 ? [seq(concat(entries))] : []),
    explicit(0, seq(ext('2.5.29.20', integer(1), false))),
  );
  return signed(tbs, signingKey);
}
