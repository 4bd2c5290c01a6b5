/**
 * inspectFile(): what a file is, read without any key or password: certificates (PEM or DER), a PKCS#12 file (its
 * safes and the bags readable without the password), or an S/MIME message (its layers from the outside in: the
 * recipients of an encryption layer by issuer and serial number or key identifier, the signers of a signed layer).
 * Nothing is decrypted or verified, so an encryption layer is the last one shown. The `smime inspect` command
 * prints it.
 */
import { x509, type X509Certificate } from './certs/x509.js';
import { certInfo, type CertInfo } from './certs/cert_info.js';
import { loadCertificates } from './certs/load.js';
import { pkcs12Outline, type Pkcs12Outline } from './certs/pkcs12.js';
import { refMatches, ATTR, type CertRef } from './cms/attributes.js';
import { readContentInfo } from './cms/enveloped.js';
import { parseContentAlgorithm } from './cms/content_cipher.js';
import { parseKtri } from './cms/ktri.js';
import { KA_OIDS, parseKari } from './cms/kari.js';
import { OIDS, oidName } from './cms/oids.js';
import { parseSignedData } from './cms/signed.js';
import type { RecipientId } from './cms/recipient_id.js';
import { parseTime } from './lib/time.js';
import { extractCms, smimeKindOf } from './mime/extract.js';
import { parseMultipartSigned } from './mime/multipart_signed.js';
import { CMSInvalid, CMSLimitExceeded, MIMEInvalid, MIMELimitExceeded, SmimeError } from './errors.js';
import { TAG, children, decodeOid, readTlv, withBerLimits } from './lib/der.js';
import { latin1, toBytes, toHex } from './lib/bytes.js';
import { berLimits, inputLimits, mimeLimits, type Limits } from './lib/limits.js';

/** How a recipient or a signer names its certificate: issuer and serial number, or a subject key identifier. */
export interface InspectedCertRef {
  /** The issuer's distinguished name (RFC 4514 string), with `serialNumber`. */
  issuer?: string;
  /** The serial number in hex (lower case, as in the certificate). */
  serialNumber?: string;
  /** The subject key identifier in hex, when the reference is one. */
  subjectKeyIdentifier?: string;
}

/** One recipient of an encryption layer. */
export interface InspectedRecipient extends InspectedCertRef {
  /** 'keyTransport' (RSA), 'keyAgreement' (ECDH) or the RecipientInfo's kind ('kek', 'password', 'other'). */
  type: 'keyTransport' | 'keyAgreement' | 'kek' | 'password' | 'other';
  /** The key transport or agreement algorithm, e.g. 'rsaEncryption', 'rsaesOaep'. */
  algorithm?: string;
}

/** One signer of a signed layer. */
export interface InspectedSigner extends InspectedCertRef {
  /** The digest algorithm, e.g. 'SHA-256'. */
  digest: string;
  /** The signer's certificate, when the message carries it. */
  certificate?: X509Certificate;
  /** The certificate's email addresses (lower case). */
  emails: string[];
  /** The signingTime attribute the signer claims (not verified). */
  signingTime?: Date;
}

/** One layer of an S/MIME message, outermost first. */
export type InspectedLayer =
  | {
      /** EnvelopedData or AuthEnvelopedData: the last layer shown, the rest is encrypted. */
      type: 'enveloped' | 'authEnveloped';
      /** The content cipher, e.g. 'aes-256-gcm'. */
      cipher: string;
      /** Every recipient the message names, in order. */
      recipients: InspectedRecipient[];
    }
  | {
      /** SignedData: multipart/signed or opaque. */
      type: 'signed';
      /** multipart/signed (true) or opaque signed-data (false). */
      detached: boolean;
      /** Every SignerInfo, in order (not verified). */
      signers: InspectedSigner[];
      /** How many certificates the message carries. */
      certificates: number;
    };

/** A certificate found by {@link inspectFile}, with the email addresses it is for. */
export interface InspectedCertificate {
  /** The certificate. */
  certificate: X509Certificate;
  /** Lower-cased addresses from SAN rfc822Name (or SmtpUTF8Mailbox), failing those from the subject emailAddress. */
  emails: string[];
}

/** What {@link inspectFile} found. */
export type Inspection =
  | {
      /** PEM (one or a bundle) or DER certificates. */
      kind: 'certificates';
      /** The certificates, in file order. */
      certificates: InspectedCertificate[];
    }
  | ({
      /** A PKCS#12 (.p12/.pfx) file, outlined without its password. */
      kind: 'pkcs12';
    } & Pkcs12Outline)
  | {
      /** An S/MIME message (or bare CMS). */
      kind: 'smime';
      /** Its layers, outermost first. */
      layers: InspectedLayer[];
    };

/** The options of `inspectFile`. */
export interface InspectOptions {
  /** Changes to the default work limits (`maxInputBytes`, the MIME and BER limits). */
  limits?: Partial<Limits>;
}

const DEPTH = 8;

/** Key agreement schemes by OID ('stdDhSha1kdf', …), for the recipients' `algorithm`. */
const KA_NAMES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(KA_OIDS).map(([name, oid]) => [oid, name]));

function nameString(der: Uint8Array): string {
  try {
    return new x509.Name(der as Uint8Array<ArrayBuffer>).toString();
  } catch {
    return `(unreadable name ${toHex(der.subarray(0, 16))}…)`;
  }
}

function refOf(r: RecipientId | CertRef): InspectedCertRef {
  if ('ski' in r) return { subjectKeyIdentifier: toHex(r.ski) };
  return { issuer: nameString(r.issuer), serialNumber: toHex(r.serial) };
}

function wrapCert(info: CertInfo): X509Certificate {
  return new x509.X509Certificate(info.der as Uint8Array<ArrayBuffer>);
}

/** A DER SEQUENCE that is a PFX: version INTEGER 3 then a ContentInfo. */
function looksLikePfx(der: Uint8Array): boolean {
  try {
    const top = readTlv(der, 0);
    const [v, ci] = children(der, top);
    return !!v && v.tagNo === TAG.INTEGER && v.contentEnd - v.contentStart === 1 && der[v.contentStart] === 3 && !!ci && ci.tagNo === TAG.SEQUENCE;
  } catch {
    return false;
  }
}

function looksLikeCertificate(der: Uint8Array): CertInfo | undefined {
  try {
    return certInfo(der);
  } catch {
    return undefined;
  }
}

function recipients(der: Uint8Array, content: ReturnType<typeof readContentInfo>['content'], maxRecipientInfos: number): { cipher: string; recipients: InspectedRecipient[] } {
  const f = children(der, content);
  let i = 1;
  if (f[i] && f[i]!.cls === 2 && f[i]!.tagNo === 0) i++;
  const riSet = f[i++];
  if (!riSet || riSet.tagNo !== TAG.SET) throw new CMSInvalid('EnvelopedData: missing recipientInfos');
  const ris = children(der, riSet);
  if (ris.length > maxRecipientInfos) throw new CMSLimitExceeded(`more than ${maxRecipientInfos} RecipientInfos`, { limit: 'maxRecipientInfos' });
  const eci = f[i];
  const alg = eci ? children(der, eci)[1] : undefined;
  if (!alg) throw new CMSInvalid('EnvelopedData: missing encryptedContentInfo');
  const cipher = parseContentAlgorithmName(der.subarray(alg.start, alg.end));
  const out: InspectedRecipient[] = [];
  for (const ri of ris) {
    if (ri.cls === 0 && ri.tagNo === TAG.SEQUENCE) {
      const k = parseKtri(der, ri);
      out.push({ type: 'keyTransport', algorithm: oidName(k.algorithmOid), ...refOf(k.rid) });
    } else if (ri.cls === 2 && ri.tagNo === 1) {
      const k = parseKari(der, ri);
      for (const r of k.recipients) out.push({ type: 'keyAgreement', algorithm: KA_NAMES[k.keyAgreement] ?? oidName(k.keyAgreement), ...refOf(r.rid) });
    } else if (ri.cls === 2 && ri.tagNo === 2) out.push({ type: 'kek' });
    else if (ri.cls === 2 && ri.tagNo === 3) out.push({ type: 'password' });
    else out.push({ type: 'other' });
  }
  return { cipher, recipients: out };
}

function parseContentAlgorithmName(alg: Uint8Array): string {
  try {
    return parseContentAlgorithm(alg).name;
  } catch (e) {
    if (!(e instanceof SmimeError)) throw e;
    // An algorithm we do not decrypt is still named.
    const t = readTlv(alg, 0);
    const oidT = children(alg, t)[0];
    return oidT ? oidName(decodeOid(alg, oidT)) : 'unknown';
  }
}

function signers(der: Uint8Array, limits: Limits): { signers: InspectedSigner[]; certificates: number; content?: Uint8Array } {
  const sd = parseSignedData(der, limits);
  const list = sd.signerInfos.map((si): InspectedSigner => {
    const cert = sd.certificates.find((c) => refMatches(si.sid, c));
    let signingTime: Date | undefined;
    for (const a of si.signedAttrs ?? []) {
      if (a.type !== ATTR.signingTime || !a.values[0]) continue;
      try {
        signingTime = parseTime(si.buf, a.values[0]);
      } catch {
        /* a malformed time is just not shown */
      }
    }
    const s: InspectedSigner = { ...refOf(si.sid), digest: oidName(si.digestAlgorithm.oid), emails: cert ? cert.emails : [] };
    if (cert) s.certificate = wrapCert(cert);
    if (signingTime) s.signingTime = signingTime;
    return s;
  });
  const r: { signers: InspectedSigner[]; certificates: number; content?: Uint8Array } = { signers: list, certificates: sd.certificates.length };
  if (sd.eContent) r.content = sd.eContent;
  return r;
}

function smimeLayers(bytes: Uint8Array, limits: Limits): InspectedLayer[] {
  const mime = mimeLimits(limits);
  const layers: InspectedLayer[] = [];
  let cur: Uint8Array | undefined = bytes;
  while (cur) {
    let kind;
    try {
      kind = smimeKindOf(cur, limits);
    } catch (e) {
      if (layers.length === 0) throw e;
      break; // inner content that is not MIME: the content
    }
    if (kind.kind === 'other') {
      if (layers.length === 0) throw new MIMEInvalid(`not an S/MIME message: Content-Type is ${kind.type || '(none)'}`);
      break;
    }
    if (layers.length >= Math.min(DEPTH, limits.maxMimeDepth)) throw new MIMELimitExceeded(`inspectFile: more than ${layers.length} S/MIME layers`, { limit: 'maxMimeDepth' });
    if (kind.kind === 'multipart-signed') {
      const ms = parseMultipartSigned(cur, mime);
      const s = withBerLimits(berLimits(limits), () => signers(ms.signature, limits));
      layers.push({ type: 'signed', detached: true, signers: s.signers, certificates: s.certificates });
      cur = ms.signedPart;
      continue;
    }
    const { der } = extractCms(cur, mime);
    let ci;
    try {
      ci = withBerLimits(berLimits(limits), () => readContentInfo(der));
    } catch (e) {
      if (layers.length > 0 && kind.kind === 'der') break;
      throw e;
    }
    if (ci.type === OIDS.envelopedData || ci.type === OIDS.authEnvelopedData) {
      const r = withBerLimits(berLimits(limits), () => recipients(der, ci.content, limits.maxRecipientInfos));
      layers.push({ type: ci.type === OIDS.envelopedData ? 'enveloped' : 'authEnveloped', cipher: r.cipher, recipients: r.recipients });
      break; // the rest is encrypted
    }
    if (ci.type === OIDS.signedData) {
      const s = withBerLimits(berLimits(limits), () => signers(der, limits));
      layers.push({ type: 'signed', detached: false, signers: s.signers, certificates: s.certificates });
      cur = s.content;
      continue;
    }
    if (layers.length === 0) throw new MIMEInvalid(`not an S/MIME message: the CMS content type is ${oidName(ci.type)}`);
    break;
  }
  return layers;
}

/**
 * Tells what a file is without any key or password: certificates (PEM, a PEM bundle, or DER), a PKCS#12 file (its
 * outline: safes, encrypted safes, the bags readable without the password), or an S/MIME message (its layers,
 * outermost first: an encryption layer's cipher and recipients, a signed layer's signers as the message names
 * them; nothing is decrypted or verified). Anything else is `MIMEInvalid` ("not an S/MIME message"); malformed
 * input is the matching `SmimeError`.
 *
 * @example
 * ```ts
 * const what = inspectFile(bytes);
 * if (what.kind === 'smime') for (const l of what.layers) console.log(l.type);
 * ```
 */
export function inspectFile(input: Uint8Array | string, options: InspectOptions = {}): Inspection {
  const bytes = toBytes(input, 'inspectFile: input');
  const limits = inputLimits(bytes, 'inspectFile', undefined, options.limits);
  if (bytes.length > 0 && bytes[0] === 0x30) {
    const cert = looksLikeCertificate(bytes);
    if (cert) return { kind: 'certificates', certificates: [{ certificate: wrapCert(cert), emails: cert.emails }] };
    if (looksLikePfx(bytes)) return { kind: 'pkcs12', ...pkcs12Outline(bytes, limits) };
    return { kind: 'smime', layers: smimeLayers(bytes, limits) };
  }
  const head = latin1(bytes.subarray(0, Math.min(bytes.length, 1 << 16)));
  if (/-----BEGIN (X509 |TRUSTED )?CERTIFICATE-----/.test(head) && !/^content-type:/im.test(head.slice(0, head.indexOf('-----BEGIN')))) {
    return { kind: 'certificates', certificates: loadCertificates(bytes, limits.maxPemCertificates).map((d) => {
        const info = certInfo(d);
        return { certificate: wrapCert(info), emails: info.emails };
      }),
     };
  }
  return { kind: 'smime', layers: smimeLayers(bytes, limits) };
}
