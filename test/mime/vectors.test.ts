/**
 * The public S/MIME messages in ../shared/vectors (see each folder's PROVENANCE.md): every multipart/signed one
 * goes through parseMultipartSigned, every application/pkcs7-mime one through extractCms. With openssl present,
 * the results are checked byte for byte: the detached signature must verify over our signed part exactly when the
 * provenance says it is valid, and our extracted DER must equal what `openssl cms -inform SMIME` extracts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { getHeader, parseEntity } from '../../src/mime/entity.js';
import { parseContentType } from '../../src/mime/header_params.js';
import { extractCms } from '../../src/mime/extract.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { hasPeer, run, shared, sharedAvailable, tmp, tryRun } from '../_helpers/env.js';

const HAVE_SHARED = sharedAvailable();
const HAVE_OPENSSL = HAVE_SHARED && hasPeer('openssl', ['version']);
const str = (b: Uint8Array) => Buffer.from(b).toString('latin1');

const SIGNED_DATA = '1.2.840.113549.1.7.2';
const ENVELOPED_DATA = '1.2.840.113549.1.7.3';

/** The contentType OID of a ContentInfo (DER or BER), read by hand. */
function contentTypeOid(der: Uint8Array): string {
  let i = 0;
  expect(der[i++]).toBe(0x30);
  const l = der[i++]!;
  if (l > 0x80) i += l & 0x7f;
  expect(der[i++]).toBe(0x06);
  const n = der[i++]!;
  const b = der.subarray(i, i + n);
  const arcs = [Math.floor(b[0]! / 40), b[0]! % 40];
  let v = 0;
  for (let k = 1; k < b.length; k++) {
    v = v * 128 + (b[k]! & 0x7f);
    if (!(b[k]! & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

/** multipart/signed: file → [micalg, protocol, signature valid over the signed part (per PROVENANCE.md)]. */
const MULTIPART_SIGNED: Record<string, [string, string, boolean]> = {
  'rfc4134/4.8.eml': ['sha1', 'application/pkcs7-signature', true],
  'bc-java-mail/3nnn_smime.eml': ['sha256', 'application/pkcs7-signature', true],
  'bc-java-mail/circular.eml': ['sha1', 'application/x-pkcs7-signature', true],
  'bc-java-mail/embeddedmulti.message': ['sha1', 'application/x-pkcs7-signature', true],
  'bc-java-mail/extra-nl.eml': ['sha1', 'application/pkcs7-signature', true],
  'bc-java-mail/multi-alternative.eml': ['sha1', 'application/x-pkcs7-signature', true],
  'bc-java-mail/openssl-signed-sha256-non-default-salt-length.eml': ['sha-256', 'application/pkcs7-signature', true],
  'bc-java-mail/qp-soft-break.eml': ['sha1', 'application/x-pkcs7-signature', true],
  'bc-java-mail/quotable.message': ['sha1', 'application/x-pkcs7-signature', true],
  'bc-java-mail/validator.expired.eml': ['sha1', 'application/pkcs7-signature', true],
  'bc-java-mail/validator.revoked.eml': ['sha1', 'application/pkcs7-signature', true],
  'bc-java-mail/validator.validMail.eml': ['sha1', 'application/pkcs7-signature', true],
  'thunderbird-comm-central/alice.dsig.SHA256.multipart.eml': ['sha-256', 'application/pkcs7-signature', true],
  // Body altered after signing.
  'thunderbird-comm-central/alice.dsig.SHA256.multipart.bad.eml': ['sha-256', 'application/pkcs7-signature', false],
  // The detached signature also carries a different eContent.
  'thunderbird-comm-central/alice.dsig.SHA256.multipart.mismatch-econtent.eml': ['sha-256', 'application/pkcs7-signature', false],
  // Outer signature over an enveloped part: fails (digest failure) per PROVENANCE.md.
  'thunderbird-comm-central/alice.env.dsig.SHA256.multipart.eml': ['sha-256', 'application/pkcs7-signature', false],
  'thunderbird-comm-central/alice.future.dsig.SHA256.multipart.eml': ['sha-256', 'application/pkcs7-signature', true],
  'thunderbird-comm-central/alice.plain.sig.SHA256.opaque.dave.dsig.SHA256.multipart.eml': ['sha-256', 'application/pkcs7-signature', true],
  'simple-java-mail/outlook-486-valid-signed.eml': ['sha1', 'application/x-pkcs7-signature', true],
  'simple-java-mail/tb52-signed.eml': ['sha-512', 'application/pkcs7-signature', true],
  'lamps-protected-headers-2019/smime-multipart-signed.eml': ['sha-256', 'application/pkcs7-signature', true],
};

/** application/pkcs7-mime: file → [kind from smime-type, contentType OID of the DER]. */
const PKCS7_MIME: Record<string, [string, string]> = {
  'rfc4134/4.9.eml': ['signed', SIGNED_DATA],
  'rfc4134/5.3.eml': ['enveloped', ENVELOPED_DATA],
  // .NET labels enveloped-data as smime-type=signed-data: kind is only the label, the OID tells the truth.
  'bc-java-mail/dotnet_encrypted_mail.eml': ['signed', ENVELOPED_DATA],
  'bc-java-mail/outlook_2010_beta_sime_msg.eml': ['enveloped', ENVELOPED_DATA],
  'bc-java-mail/test128.message': ['enveloped', ENVELOPED_DATA],
  'bc-java-mail/test192.message': ['enveloped', ENVELOPED_DATA],
  'bc-java-mail/test256.message': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/alice.env.eml': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/alice.dsig.SHA256.multipart.env.eml': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/alice.env.sig.SHA256.opaque.eml': ['signed', SIGNED_DATA],
  'thunderbird-comm-central/alice.html.sig.SHA256.opaque.eml': ['signed', SIGNED_DATA],
  'thunderbird-comm-central/alice.sig.SHA256.opaque.eml': ['signed', SIGNED_DATA],
  'thunderbird-comm-central/alice.sig.SHA256.opaque.env.eml': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/fran-oaep_ossl.env': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/fran-oaep-label_ossl.env': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/fran-oaep-sha256hash_ossl.env': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/fran-oaep-sha256hash-sha256mgf_ossl.env': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/fran-ec_ossl-aes128-sha256.env': ['enveloped', ENVELOPED_DATA],
  'thunderbird-comm-central/fran-ec_ossl-aes256-sha512.env': ['enveloped', ENVELOPED_DATA],
  'simple-java-mail/outlookcom-opaque-signed.eml': ['signed', SIGNED_DATA],
  'simple-java-mail/tb52-encrypted.eml': ['enveloped', ENVELOPED_DATA],
  'simple-java-mail/tb52-signed-encrypted.eml': ['enveloped', ENVELOPED_DATA],
  'lamps-protected-headers-2019/smime-onepart-signed.eml': ['signed', SIGNED_DATA],
  'lamps-protected-headers-2019/smime-sign+enc.eml': ['enveloped', ENVELOPED_DATA],
};


describe.skipIf(!HAVE_SHARED)('public vectors', () => {
  let dir = '';
  beforeAll(() => {
    dir = tmp('smime-vectors-');
  });

  /** openssl's own SMIME extraction, and ours, both re-encoded by openssl: must be identical. */
  function sameAsOpenssl(file: string, ours: Uint8Array) {
    const theirs = run('openssl', ['cms', '-cmsout', '-inform', 'SMIME', '-in', file, '-outform', 'DER']);
    const p = join(dir, 'ours.der');
    writeFileSync(p, ours);
    const mine = run('openssl', ['cms', '-cmsout', '-inform', 'DER', '-in', p, '-outform', 'DER']);
    expect(Buffer.from(mine).equals(Buffer.from(theirs))).toBe(true);
  }

  test('rfc4134 4.8: multipart/signed whose signature is the detached 4.3 over the sample content', () => {
    const r = parseMultipartSigned(shared('rfc4134/4.8.eml'));
    // The message is LF-only; the first part is an empty header section and the sample content.
    expect(str(r.signedPart)).toBe('\r\nThis is some sample content.');
    expect(r.micalg).toBe('sha1');
    expect(r.protocol).toBe('application/pkcs7-signature');
    expect(contentTypeOid(r.signature)).toBe(SIGNED_DATA);
  });

  test('rfc4134 5.3: the enveloped-data message carries 5.1.bin', () => {
    const x = extractCms(shared('rfc4134/5.3.eml'));
    expect(x.kind).toBe('enveloped');
    expect(x.smimeType).toBe('enveloped-data');
    expect(Buffer.from(x.der).equals(Buffer.from(shared('rfc4134/5.1.bin')))).toBe(true);
    // The raw DER is accepted as is.
    expect(extractCms(shared('rfc4134/5.1.bin')).kind).toBe('unknown');
  });

  describe('multipart/signed', () => {
    test.each(Object.entries(MULTIPART_SIGNED))('%s', (rel, [micalg, protocol, valid]) => {
      const msg = shared(rel);
      const r = parseMultipartSigned(msg);
      expect(r.micalg).toBe(micalg);
      expect(r.protocol).toBe(protocol);
      expect(contentTypeOid(r.signature)).toBe(SIGNED_DATA);
      expect(/(^|[^\r])\n/.test(str(r.signedPart))).toBe(false); // canonical CRLF
      expect(() => parseEntity(r.signedPart)).not.toThrow();
      // extractCms points the caller to parseMultipartSigned.
      expect(() => extractCms(msg)).toThrow(/parseMultipartSigned/);
      if (!HAVE_OPENSSL) return;
      const file = join(dir, 'msg.eml');
      writeFileSync(file, msg);
      sameAsOpenssl(file, r.signature);
      writeFileSync(join(dir, 'sig.der'), r.signature);
      writeFileSync(join(dir, 'part'), r.signedPart);
      const v = tryRun('openssl', ['cms', '-verify', '-noverify', '-binary', '-inform', 'DER', '-in', join(dir, 'sig.der'), '-content', join(dir, 'part'), '-out', join(dir, 'out')]);
      expect({ rel, ok: v.status === 0 }).toEqual({ rel, ok: valid });
    });
  });

  describe('application/pkcs7-mime', () => {
    test.each(Object.entries(PKCS7_MIME))('%s', (rel, [kind, oid]) => {
      const msg = shared(rel);
      const x = extractCms(msg);
      expect(x.kind).toBe(kind);
      expect(contentTypeOid(x.der)).toBe(oid);
      expect(parseContentType(getHeader(x, 'content-type')!).type).toMatch(/^application\/(x-)?pkcs7-mime$/);
      expect(() => parseMultipartSigned(msg)).toThrow(/not a multipart\/signed message/);
      if (!HAVE_OPENSSL) return;
      const file = join(dir, 'msg.eml');
      writeFileSync(file, msg);
      sameAsOpenssl(file, x.der);
    });
  });
});
