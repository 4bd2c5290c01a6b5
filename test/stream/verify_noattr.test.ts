/**
 * verifyStream of SignerInfos without signed attributes (`openssl cms -sign -noattr`: the signature is over the content
 * itself, RFC 5652 §5.4) over content larger than the 1 MiB the reader keeps: RSA (PKCS#1 v1.5 and PSS) is checked
 * against the digest the reader computed as the content went by, with verifyMessage's status, reasons and content
 * (opaque and detached); a changed byte is `signature-mismatch` in both. ECDSA and Ed25519: verify_noattr_ec.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { verifyMessage, verifyStream, type CertificateStore, type VerifyResult } from '../../src/index.node.js';
import { storeWith } from '../_helpers/identities.js';
import { hasPeer, IN_CI, VECTORS } from '../_helpers/env.js';
import { collect, source } from './_streams.js';

const id = (n: string, ext: string) => join(VECTORS, 'identities', `${n}.${ext}.pem`);
/** 2 MiB of text lines (more than the 1 MiB verifyStream keeps), CRLF. */
const BODY = 'Content-Type: text/plain\r\n\r\n' + 'a line of a large message without signed attributes\r\n'.repeat(40000);

function sign(signer: string, extra: string[]): Uint8Array {
  return new Uint8Array(
    execFileSync('openssl', ['cms', '-sign', '-noattr', '-signer', id(signer, 'cert'), '-inkey', id(signer, 'key'), '-certfile', join(VECTORS, 'pki/chain.pem'), ...extra], {
      input: BODY,
      maxBuffer: 1 << 26,
    }),
  );
}

async function both(msg: Uint8Array, store: CertificateStore): Promise<{ stream: VerifyResult; buffer: VerifyResult; content: Uint8Array }> {
  const buffer = await verifyMessage(msg, { store, harvest: false });
  const { content, done } = await verifyStream(source(msg, 65536).stream, { store, harvest: false });
  const c = await collect(content);
  return { stream: await done, buffer, content: c };
}

const summary = (r: VerifyResult) => r.signers.map((s) => ({ status: s.status, reasons: s.reasons }));

describe.skipIf(!hasPeer('openssl') && !IN_CI)('verifyStream: no signed attributes over 2 MiB', () => {
  for (const [label, extra] of [
    ['RSA PKCS#1 v1.5, detached', []],
    ['RSA PKCS#1 v1.5, opaque', ['-nodetach']],
    ['RSA-PSS, opaque', ['-nodetach', '-keyopt', 'rsa_padding_mode:pss']],
  ] as const) {
    it(`${label}: valid, as verifyMessage says, on the digest`, async () => {
      const store = await storeWith(['alice-sign']);
      const msg = sign('alice-sign', [...extra]);
      const r = await both(msg, store);
      expect(summary(r.stream)).toEqual(summary(r.buffer));
      expect(r.stream.signers[0]?.status).toBe('valid');
      expect(Buffer.from(r.content).equals(Buffer.from(r.buffer.content))).toBe(true);
      // One changed byte deep in the content (past what the reader keeps): the signature no longer covers it. In the
      // detached form the content is the text; in the opaque one a base64 character in the middle of the eContent.
      const s = Buffer.from(msg).toString('latin1');
      const at = extra.length === 0 ? s.indexOf('a line of a large', s.length >> 1) : s.indexOf('\n', s.length >> 1) + 10;
      const bad = Buffer.from(s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1), 'latin1');
      const t = await both(new Uint8Array(bad), store);
      expect(summary(t.stream)).toEqual(summary(t.buffer));
      expect(t.stream.signers[0]?.reasons).toContain('signature-mismatch');
    });
  }
});
