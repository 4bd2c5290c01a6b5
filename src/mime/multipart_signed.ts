/**
 * multipart/signed (RFC 1847, RFC 8551 §3.5.3), both directions: taking a received one apart (exactly two parts;
 * a missing `protocol` parameter is tolerated when the second part is a PKCS #7 signature, a wrong one is not),
 * and building one around a signed entity and its detached signature.
 */
import { MIMEInvalid } from '../errors.js';
import { encodeBase64Lines } from '../lib/base64.js';
import { concat, equal, fromLatin1 as ascii, toHex } from '../lib/bytes.js';
import { randomBytes } from '../crypto/provider.js';
import { canonicalize } from './canonical.js';
import { getHeader, parseEntity, type Header, type MimeLimits } from './entity.js';
import { parseContentType } from './header_params.js';
import { splitMultipart } from './multipart.js';
import { decodeTransfer, fileNameOf } from './transfer_encoding.js';

const PKCS7_SIGNATURE = new Set(['application/pkcs7-signature', 'application/x-pkcs7-signature']);

/** A multipart/signed message taken apart. */
export interface MultipartSigned {
  /** The exact bytes of the first part (its headers and body), canonicalised to CRLF: what the signature covers. */
  signedPart: Uint8Array;
  /** The decoded DER/BER of the application/(x-)pkcs7-signature part. */
  signature: Uint8Array;
  /** The `micalg` parameter, lowercased, when present. */
  micalg?: string;
  /** The `protocol` parameter, lowercased (the signature part's type when the parameter is missing). */
  protocol: string;
}

/**
 * Takes a multipart/signed message (RFC 1847, RFC 8551 §3.5.3) apart. `MIMEInvalid` for another Content-Type,
 * a missing boundary, a protocol other than application/(x-)pkcs7-signature, a missing close delimiter, or a
 * missing or mistyped signature part.
 */
export function parseMultipartSigned(message: Uint8Array, limits?: Partial<MimeLimits>): MultipartSigned {
  if (!(message instanceof Uint8Array)) throw new TypeError('parseMultipartSigned: expected a Uint8Array');
  const e = parseEntity(message, limits);
  const { boundary, protocol, micalg } = multipartSignedParams(e);
  const parts = splitMultipart(e, boundary, limits);
  if (parts.length < 2) throw new MIMEInvalid('multipart/signed: missing signature part (only one body part)');
  if (parts.length > 2) throw new MIMEInvalid(`multipart/signed: expected 2 body parts, found ${parts.length}`);
  const sig = signaturePart(parts[1]!, limits);
  const r: MultipartSigned = { signedPart: canonicalize(parts[0]!), signature: sig.signature, protocol: protocol ?? sig.type };
  if (micalg !== undefined) r.micalg = micalg;
  return r;
}

/**
 * Internal (shared with the stream reader, issue 16): the parameters of a multipart/signed header section. `MIMEInvalid`
 * for another Content-Type, a missing boundary, or a protocol other than application/(x-)pkcs7-signature.
 */
export function multipartSignedParams(e: { headers: readonly Header[] }): { boundary: string; protocol?: string; micalg?: string } {
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  if (ct.type !== 'multipart/signed') throw new MIMEInvalid(`not a multipart/signed message: Content-Type is ${ct.type || '(empty)'}`);
  const boundary = ct.params.boundary;
  if (!boundary) throw new MIMEInvalid('multipart/signed: missing boundary parameter');
  const protocol = ct.params.protocol?.toLowerCase();
  if (protocol !== undefined && !PKCS7_SIGNATURE.has(protocol)) {
    throw new MIMEInvalid(`multipart/signed: protocol is "${protocol}", not application/pkcs7-signature`);
  }
  const r: { boundary: string; protocol?: string; micalg?: string } = { boundary };
  if (protocol !== undefined) r.protocol = protocol;
  if (ct.params.micalg !== undefined) r.micalg = ct.params.micalg.toLowerCase();
  return r;
}

/**
 * Internal (shared with the stream reader): the second part of a multipart/signed, checked to be the signature
 * (application/(x-)pkcs7-signature, or application/octet-stream named *.p7s) and decoded.
 */
export function signaturePart(part: Uint8Array, limits?: Partial<MimeLimits>): { signature: Uint8Array; type: string } {
  const sig = parseEntity(part, limits);
  const sct = parseContentType(getHeader(sig, 'content-type') ?? 'text/plain');
  let sigOk = PKCS7_SIGNATURE.has(sct.type);
  if (!sigOk && sct.type === 'application/octet-stream') sigOk = /\.p7s$/i.test(fileNameOf(sig, sct.params) ?? '');
  if (!sigOk) throw new MIMEInvalid(`multipart/signed: the second part is ${sct.type}, not application/pkcs7-signature`);
  return { signature: decodeTransfer(sig, 'multipart/signed signature part'), type: sct.type };
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  const first = needle[0]!;
  for (let i = hay.indexOf(first); i >= 0 && i + needle.length <= hay.length; i = hay.indexOf(first, i + 1)) {
    if (equal(hay.subarray(i, i + needle.length), needle)) return true;
  }
  return false;
}

/** A boundary that does not occur in the signed entity (RFC 2046 §5.1.1). */
function boundaryFor(entity: Uint8Array, crypto?: Crypto): string {
  for (;;) {
    const b = randomBoundary(crypto);
    if (!contains(entity, ascii(b))) return b;
  }
}

/**
 * Builds the multipart/signed message around the signed entity and the DER signature: `outerHeaders` (the
 * headers that stay outside, CRLF-ended), then the multipart/signed headers with `micalg`, the entity byte for byte
 * as part 1, and the signature as `smime.p7s` in base64. The boundary is random and does not occur in the entity.
 */
export function buildMultipartSigned(outerHeaders: Uint8Array, entity: Uint8Array, signature: Uint8Array, micalg: string, crypto?: Crypto): Uint8Array {
  const boundary = boundaryFor(entity, crypto);
  // The signed entity is part 1 byte for byte; the CRLF before the next delimiter belongs to the delimiter.
  return concat([outerHeaders, multipartSignedHead(boundary, micalg), entity, multipartSignedTail(boundary, signature)]);
}

/**
 * Internal (issue 16: signStream): a random boundary for a multipart/signed whose entity is not known yet. The stream
 * checks that the entity does not contain it as it passes ({@link BoundaryWatch}).
 */
export function randomBoundary(crypto?: Crypto): string {
  return `----=_smime_${toHex(randomBytes(12, crypto))}`;
}

/** Internal: what comes before the signed entity in {@link buildMultipartSigned} (after the outer headers). */
export function multipartSignedHead(boundary: string, micalg: string): Uint8Array {
  return ascii(
    'MIME-Version: 1.0\r\n' +
      `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=${micalg};\r\n` +
      ` boundary="${boundary}"\r\n` +
      '\r\n' +
      'This is an S/MIME signed message\r\n' +
      '\r\n' +
      `--${boundary}\r\n`,
  );
}

/** Internal: what comes after the signed entity in {@link buildMultipartSigned}: the signature part and the close delimiter. */
export function multipartSignedTail(boundary: string, signature: Uint8Array): Uint8Array {
  const sigHead = ascii(
    `\r\n--${boundary}\r\n` +
      'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n' +
      'Content-Transfer-Encoding: base64\r\n' +
      'Content-Disposition: attachment; filename="smime.p7s"\r\n' +
      'Content-Description: S/MIME Cryptographic Signature\r\n' +
      '\r\n',
  );
  return concat([sigHead, encodeBase64Lines(signature, 76), ascii(`--${boundary}--\r\n`)]);
}

/**
 * Internal: watches an entity that passes in pieces for a line that starts with "--boundary" (`MIMEInvalid` if one
 * comes: the random boundary of a streamed multipart/signed must not make a delimiter inside the entity, RFC 2046
 * §5.1.1). Only line starts are looked at (the buffer path, which knows the entity first, avoids the boundary
 * anywhere). Holds a count: how much of the current line's start matched.
 */
export class BoundaryWatch {
  readonly #needle: Uint8Array;
  /** Bytes of "--boundary" the current line starts with so far; -1 once it does not. */
  #matched = 0;

  constructor(boundary: string) {
    this.#needle = ascii('--' + boundary);
  }

  /** Looks at the next piece of the entity. */
  see(piece: Uint8Array): void {
    const needle = this.#needle;
    const len = piece.length;
    let i = 0;
    while (i < len) {
      if (this.#matched >= 0) {
        let m = this.#matched;
        while (i < len && m < needle.length && piece[i] === needle[m]) {
          i++;
          m++;
        }
        if (m === needle.length) throw new MIMEInvalid('multipart/signed: the signed entity contains the random boundary');
        if (i === len) {
          this.#matched = m;
          return;
        }
        this.#matched = -1;
      }
      const nl = piece.indexOf(10, i);
      if (nl < 0) return;
      i = nl + 1;
      this.#matched = 0;
    }
  }
}
