/**
 * ContentInfoPrefix (src/cms/content_info_stream.ts): the three stream readers (EnvelopeStreamReader,
 * SignedDataStreamReader, CompressedStreamReader) check the ContentInfo around their content with one piece of code,
 * so the same malformed prefix gives the same CMSInvalid in each, at every chunk size; a ContentInfo of another type is
 * refused by each with its own "not …" message.
 */
import { describe, expect, it } from 'vitest';
import { CMSInvalid } from '../../src/errors.js';
import { EnvelopeStreamReader } from '../../src/cms/enveloped_reader.js';
import { SignedDataStreamReader } from '../../src/cms/signed_stream.js';
import { CompressedStreamReader } from '../../src/cms/compressed_reader.js';
import { DEFAULT_LIMITS } from '../../src/lib/limits.js';
import { OIDS } from '../../src/cms/oids.js';
import { integer, oid, seq, tlv } from '../../src/lib/der.js';

const READERS = {
  EnvelopedData: { type: OIDS.envelopedData, not: 'not an encrypted message' },
  SignedData: { type: OIDS.signedData, not: 'not a signed message' },
  CompressedData: { type: OIDS.compressedData, not: 'not compressed data' },
} as const;
type Name = keyof typeof READERS;

/** The error a reader of `name` ends `der` with, pushed in pieces of `size`. */
async function failure(name: Name, der: Uint8Array, size: number): Promise<unknown> {
  try {
    if (name === 'SignedData') {
      const r = new SignedDataStreamReader(() => undefined);
      for (let i = 0; i < der.length; i += size) r.push(der.subarray(i, i + size));
      r.finish();
    } else {
      const r = name === 'EnvelopedData' ? new EnvelopeStreamReader([]) : new CompressedStreamReader(DEFAULT_LIMITS);
      for (let i = 0; i < der.length; i += size) await r.push(der.subarray(i, i + size));
      await r.finish();
    }
  } catch (e) {
    return e;
  }
  throw new Error(`${name}: no error`);
}


describe('the ContentInfo around a streamed CMS structure', () => {
  it('the same malformed prefix is the same CMSInvalid in the three readers', async () => {
    for (const name of Object.keys(READERS) as Name[]) {
      const type = oid(READERS[name].type);
      const cases: [Uint8Array, string][] = [
        [tlv(0x31, type), 'not a CMS ContentInfo (expected a SEQUENCE)'],
        [seq(integer(1), tlv(0xa0, seq())), 'ContentInfo: missing contentType'],
        [seq(type, tlv(0xa1, seq())), 'ContentInfo: missing content'],
        [seq(type, tlv(0xa0, integer(0))), `${name}: expected a SEQUENCE`],
      ];
      for (const [der, message] of cases) {
        for (const size of [1, 3, der.length]) {
          const e = await failure(name, der, size);
          expect(e, `${name}: ${message} in pieces of ${size}`).toBeInstanceOf(CMSInvalid);
          expect((e as Error).message).toBe(message);
        }
      }
      // Another reader's type: refused with this reader's own message.
      const other = (Object.keys(READERS) as Name[]).find((n) => n !== name)!;
      const e = await failure(name, seq(oid(READERS[other].type), tlv(0xa0, seq())), 4);
      expect(e).toBeInstanceOf(CMSInvalid);
      expect((e as Error).message).toMatch(new RegExp(`^${READERS[name].not}: the CMS content type is`));
    }
  });
});
