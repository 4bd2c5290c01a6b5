/**
 * asn1js with explicit parse limits. asn1js 4 defaults to 10 000 nodes and 16 MiB of content, and pkijs's
 * `fromBER` passes no options at all, so stock pkijs can't re-parse its own output above about 5 MiB
 * (see the pkijs research notes, §6). Every asn1js parse in smime-core goes through `parseAsn1` so the limits are
 * set in one place: high enough for a 64 MiB message, and still bounded against hostile input.
 */
import * as asn1js from 'asn1js';
import { CMSInvalid, CMSLimitExceeded } from '../errors.js';
import { toArrayBuffer } from '../lib/bytes.js';

export interface Asn1Limits {
  maxDepth: number;
  maxNodes: number;
  maxContentLength: number;
}

/** For the small structures (certificates, RecipientInfos, SignerInfos, PKCS#12 bags). */
export const ASN1_LIMITS: Asn1Limits = { maxDepth: 64, maxNodes: 200_000, maxContentLength: 256 * 1024 * 1024 };

/** Parses exactly one BER value that fills `der`. Throws CMSInvalid / CMSLimitExceeded. */
export function parseAsn1(der: Uint8Array, what = 'ASN.1', limits: Asn1Limits = ASN1_LIMITS): asn1js.AsnType {
  let res: ReturnType<typeof asn1js.fromBER>;
  try {
    res = asn1js.fromBER(toArrayBuffer(der), { ...limits, copyInput: false });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (/maximum|exceed/i.test(msg)) throw new CMSLimitExceeded(`${what}: ${msg}`);
    throw new CMSInvalid(`${what}: ${msg}`);
  }
  if (res.offset === -1) {
    const err = (res.result as { error?: string }).error ?? 'parse error';
    if (/maximum|exceed/i.test(err)) throw new CMSLimitExceeded(`${what}: ${err}`);
    throw new CMSInvalid(`${what}: ${err}`);
  }
  return res.result;
}

/** Builds a pkijs object from DER bytes, mapping any pkijs schema error to CMSInvalid. */
export function parsePkijs<T>(der: Uint8Array, Ctor: new (p: { schema: unknown }) => T, what: string): T {
  const schema = parseAsn1(der, what);
  try {
    return new Ctor({ schema });
  } catch (e) {
    throw new CMSInvalid(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
