/**
 * The work limits: every count an attacker controls in a message, a certificate file or a PKCS#12 file has a
 * documented, public bound, checked before the expensive work it would cause. One table (`DEFAULT_LIMITS`), set per
 * store (`new CertificateStore({ limits })`) and changed per call (`options.limits`), validated like postal-mime's
 * `parseLimitOption` (a positive integer, or `Infinity` where the table says so).
 *
 * A limit that is hit throws `MIMELimitExceeded`, `CMSLimitExceeded` or `Pkcs12LimitExceeded`, whose `limit` field
 * names the key of this table; the path-building budget is the exception: beyond it a signer is `untrusted` with
 * the reason `path-building-limit` (a verdict, not an error).
 *
 * The defaults let every real message of the interop matrix and of the public vectors through, and stop each
 * hostile case of the security review early (README, "Limits").
 */
import { MIMELimitExceeded } from '../errors.js';

/** The limits, by name. */
export interface Limits {
  /** Total size of one input (message, certificate file, PKCS#12 file), in bytes. Default: no limit. */
  maxInputBytes: number;
  /** MIME nesting depth (multiparts, message/rfc822 and S/MIME layers). Default 32. */
  maxMimeDepth: number;
  /** Size of one MIME header section, in bytes. Default 1 MiB. */
  maxHeaderBytes: number;
  /** Header fields in one MIME entity. Default 1000. */
  maxHeaders: number;
  /** Body parts of one multipart. Default 1000. */
  maxParts: number;
  /** BER/DER nesting depth (checked while the SignedData or (Auth)EnvelopedData structure is parsed). Default 64. */
  maxBerDepth: number;
  /**
   * Elements in one constructed BER value (the entries of a SET OF, the chunks of a constructed string), checked
   * while the SignedData or (Auth)EnvelopedData structure is parsed. Default 1 048 576.
   */
  maxBerElements: number;
  /** RecipientInfos in one EnvelopedData/AuthEnvelopedData (each RecipientEncryptedKey of a KARI counts as one). Default 1024. */
  maxRecipientInfos: number;
  /**
   * Private-key operations to open one message: one per RecipientInfo that names one of our certificates, and,
   * when none of those opens it, one per key and RecipientInfo of the fallback (each key tried on each
   * RecipientInfo that names no certificate of ours). Refused before the first operation. Default 64.
   */
  maxKeyTrials: number;
  /** SignerInfos in one SignedData. Default 32. */
  maxSignerInfos: number;
  /** Certificates in one SignedData (or certs-only message given to verifyMessage/openMessage). Default 256. */
  maxCertificates: number;
  /** CRLs in one SignedData. Default 64. */
  maxCrls: number;
  /** Certificates in one PEM bundle or certs-only file (`.p7c`/`.p7b`) given to the store. Default 10 000. */
  maxPemCertificates: number;
  /** PBKDF2 and PKCS#12 KDF iterations (key encryption and MAC of a PKCS#12 file). Default 2 000 000. */
  maxPbkdf2Iterations: number;
  /**
   * All the key-derivation work of one PKCS#12 file: iterations × output blocks, summed over every PBKDF2 and
   * PKCS#12 KDF run (the MAC, each encrypted safe and shrouded key bag, each password encoding tried). Bounds a file
   * of many encrypted bags. Default 16 000 000: a file at the 2 000 000-iteration cap with legacy 3DES/RC2
   * encryption needs 12 000 000, a usual one (2 048 iterations) about 15 000.
   */
  maxPkcs12KdfWork: number;
  /** Certificate signature checks while building the paths of one verification call. Default 64. */
  maxPathSignatureChecks: number;
  /** Candidate paths (partial paths extended) while building the paths of one verification call. Default 1024. */
  maxPathCandidates: number;
  /**
   * Nodes and parent links of the certificate policy graph of one path (RFC 9618: the valid_policy_tree without
   * its exponential growth, OpenSSL CVE-2023-0464). Beyond it the path is refused with `policy-tree-limit`.
   * Default 1000.
   */
  maxPolicyNodes: number;
  /**
   * Name × subtree comparisons of the name constraints of one path. Beyond it the path is refused with
   * `name-constraints-limit`. Default 4096.
   */
  maxNameConstraintChecks: number;
  /**
   * What one `importFromMessage` call imports or opens, all nesting levels together: certificate files, PKCS#12
   * files, PKCS#7 objects, forwarded messages and S/MIME layers (other attachments do not count). Bounds the
   * PKCS#12 key derivations and nested verifications one message can cause. Default 64.
   */
  maxAttachments: number;
  /**
   * Bytes that one compressed layer (RFC 3274 CompressedData) may decompress to, counted as the bytes come out of
   * the decompressor; past it the decompression is cancelled and `CMSLimitExceeded` names this limit, so a
   * decompression bomb costs at most this much memory. Default 256 MiB.
   */
  maxDecompressedBytes: number;
  /**
   * Bytes out per compressed byte in one compressed layer, checked with `maxDecompressedBytes` as the bytes come
   * out (`CMSLimitExceeded` naming this limit). Default `Infinity` (deflate itself cannot pass about 1032: 1, and
   * `maxDecompressedBytes` bounds the memory); a server may set it (e.g. 100) so that a small message cannot expand
   * to the whole `maxDecompressedBytes`.
   */
  maxDecompressionRatio: number;
  /**
   * Bytes of CMS structure that a stream reader (`decryptStream`, `verifyStream`) holds whole while the content
   * streams: the RecipientInfos and algorithm identifiers before the encrypted content, the certificates, CRLs and
   * SignerInfos after the signed content. Past it, `CMSLimitExceeded` naming this limit. Default 16 MiB (the
   * certificates set of a SignedData can be large; the content itself never counts).
   */
  maxCmsHeaderBytes: number;
}

/** The default limits (see each field). */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxInputBytes: Infinity,
  maxMimeDepth: 32,
  maxHeaderBytes: 1024 * 1024,
  maxHeaders: 1000,
  maxParts: 1000,
  maxBerDepth: 64,
  maxBerElements: 1 << 20,
  maxRecipientInfos: 1024,
  maxKeyTrials: 64,
  maxSignerInfos: 32,
  maxCertificates: 256,
  maxCrls: 64,
  maxPemCertificates: 10_000,
  maxPbkdf2Iterations: 2_000_000,
  maxPkcs12KdfWork: 16_000_000,
  maxPathSignatureChecks: 64,
  maxPathCandidates: 1024,
  maxPolicyNodes: 1000,
  maxNameConstraintChecks: 4096,
  maxAttachments: 64,
  maxDecompressedBytes: 256 * 1024 * 1024,
  maxDecompressionRatio: Infinity,
  maxCmsHeaderBytes: 16 * 1024 * 1024,
});

/** The limits that may be `Infinity` (no limit). The others must be positive integers. */
const UNBOUNDED_ALLOWED: ReadonlySet<keyof Limits> = new Set(['maxInputBytes', 'maxDecompressionRatio']);

const KEYS = Object.keys(DEFAULT_LIMITS) as (keyof Limits)[];

/**
 * The defaults with each layer's changes applied in order (later layers win), validated: every given value must be
 * a positive integer (or `Infinity` for `maxInputBytes` and `maxDecompressionRatio`); an unknown key is a `TypeError` (a misspelt limit would
 * otherwise be silently ignored); 0, a negative number, NaN or a non-number is a `RangeError`, never "no limit".
 */
export function resolveLimits(what: string, ...layers: (Partial<Limits> | undefined)[]): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const layer of layers) {
    if (layer === undefined) continue;
    if (layer === null || typeof layer !== 'object') throw new TypeError(`${what}: limits must be an object`);
    for (const k of Object.keys(layer)) {
      if (!(KEYS as string[]).includes(k)) throw new TypeError(`${what}: unknown limit "${k}"`);
      const v: unknown = (layer as Record<string, unknown>)[k];
      if (v === undefined) continue;
      const ok =
        typeof v === 'number' &&
        v > 0 &&
        (Number.isSafeInteger(v) || (v === Infinity && UNBOUNDED_ALLOWED.has(k as keyof Limits)));
      if (!ok) {
        const shown = typeof v === 'number' ? String(v) : typeof v;
        throw new RangeError(
          `${what}: limit ${k} must be a positive integer${UNBOUNDED_ALLOWED.has(k as keyof Limits) ? ' or Infinity' : ''}, got ${shown}`,
        );
      }
      out[k as keyof Limits] = v;
    }
  }
  return out;
}

/**
 * The limits of one call (the defaults, the store's, then the call's changes), after checking the input's size
 * against `maxInputBytes` (MIMELimitExceeded).
 */
export function inputLimits(input: Uint8Array, what: string, ...layers: (Partial<Limits> | undefined)[]): Limits {
  const limits = resolveLimits(`${what}: options.limits`, ...layers);
  if (input.length > limits.maxInputBytes)
    throw new MIMELimitExceeded(`${what}: the input is ${input.length} bytes, more than maxInputBytes (${limits.maxInputBytes})`, {
      limit: 'maxInputBytes',
    });
  return limits;
}

/** The MIME parser's view of the limits. */
export function mimeLimits(l: Limits): { maxHeaderBytes: number; maxHeaders: number; maxParts: number; maxDepth: number } {
  return { maxHeaderBytes: l.maxHeaderBytes, maxHeaders: l.maxHeaders, maxParts: l.maxParts, maxDepth: l.maxMimeDepth };
}

/** The BER reader's view of the limits. */
export function berLimits(l: Pick<Limits, 'maxBerDepth' | 'maxBerElements'>): { maxDepth: number; maxChunks: number } {
  return { maxDepth: l.maxBerDepth, maxChunks: l.maxBerElements };
}

/**
 * A budget shared by the path building of one verification call: every certificate signature check (CRL
 * signatures included) and every candidate path spends from it. `spend` returns false once a count would go past
 * its limit. It also carries the per-path limits of path validation (policy graph, name constraints).
 */
export class PathBudget {
  signatureChecks = 0;
  candidates = 0;
  exhausted = false;
  readonly limits: Pick<Limits, 'maxPathSignatureChecks' | 'maxPathCandidates' | 'maxPolicyNodes' | 'maxNameConstraintChecks'>;
  constructor(limits: Pick<Limits, 'maxPathSignatureChecks' | 'maxPathCandidates'> & Partial<Limits> = DEFAULT_LIMITS) {
    this.limits = {
      maxPathSignatureChecks: limits.maxPathSignatureChecks,
      maxPathCandidates: limits.maxPathCandidates,
      maxPolicyNodes: limits.maxPolicyNodes ?? DEFAULT_LIMITS.maxPolicyNodes,
      maxNameConstraintChecks: limits.maxNameConstraintChecks ?? DEFAULT_LIMITS.maxNameConstraintChecks,
    };
  }

  /** Spends one signature check; false (and `exhausted`) when the budget has none left. */
  spendSignatureCheck(): boolean {
    if (this.signatureChecks >= this.limits.maxPathSignatureChecks) return !(this.exhausted = true);
    this.signatureChecks++;
    return true;
  }

  /** Spends one candidate path; false (and `exhausted`) when the budget has none left. */
  spendCandidate(): boolean {
    if (this.candidates >= this.limits.maxPathCandidates) return !(this.exhausted = true);
    this.candidates++;
    return true;
  }
}
