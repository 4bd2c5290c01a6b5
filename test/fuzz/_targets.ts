/**
 * Fuzz targets: every entry point that takes untrusted bytes (decryptMessage, verifyMessage, openMessage,
 * importPkcs12, addCertificate with PEM, DER or a bundle, addCrl and the CRL parsing it leads to, and the MIME
 * parser), each wrapped so a case can be checked the same way by the short pass, the long runner and the corpus
 * replay. The property (`runCase`): the call settles with a result or a `SmimeError` (never a TypeError, a crash,
 * or a secret in the message), and never writes its input: the input is compared with a snapshot afterwards, and
 * some of the time it is a Node Buffer view at a non-zero offset of a larger ArrayBuffer, whose bytes around the
 * view are checked too. Timing is measured and returned, never asserted: the runner flags slow cases.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateStore, decryptMessage, openMessage, verifyMessage } from '../../src/index.js';
import { SmimeError } from '../../src/errors.js';
import { getHeader, parseEntity } from '../../src/mime/entity.js';
import { parseContentDisposition, parseContentType } from '../../src/mime/header_params.js';
import { splitMultipart } from '../../src/mime/multipart.js';
import { extractCms } from '../../src/mime/extract.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { VECTORS } from '../_helpers/env.js';
import { CHAIN, PASSWORD, ROOT, manifest, storeWith } from '../_helpers/identities.js';
import type { TargetName } from './_seeds.js';
import { latin1 } from './_mutators.js';

export { TARGET_NAMES, type TargetName } from './_seeds.js';

/** The sample vectors' reference date: every case runs at this time, so a replay sees what the fuzzer saw. */
export const REFERENCE_DATE = new Date(`${manifest.referenceDate}T12:00:00Z`);
const now = () => REFERENCE_DATE;

/** What a target gets besides the input. */
export interface TargetContext {
  /** A store with the sample identities (vectors/identities), their chain, and the sample root as trust anchor. */
  store: CertificateStore;
  /** The password for the pkcs12 target. */
  password: string;
}

let ctxPromise: Promise<TargetContext> | undefined;

/** The shared context (built once per worker: the PKCS#12 imports are the slow part). */
export function targetContext(): Promise<TargetContext> {
  ctxPromise ??= (async () => {
    const own = [...new Set(manifest.messages.flatMap((m) => m.identities ?? []))].filter((n) => manifest.identities[n]);
    const store = await storeWith(own, [], { now });
    return { store, password: PASSWORD };
  })();
  return ctxPromise;
}

/** The fixed signed message the crl target verifies, so each fuzzed CRL is parsed and checked. */
const CRL_MESSAGE = (() => {
  let m: Uint8Array | undefined;
  return () => (m ??= new Uint8Array(readFileSync(join(VECTORS, 'openssl', 'sig-rsa-detached.eml'))));
})();

/** The MIME parser, as the library walks a message: every entity, every multipart, every S/MIME body. */
function walkMime(bytes: Uint8Array, depth = 0): number {
  if (depth > 40) return 0;
  const e = parseEntity(bytes);
  const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
  const cd = getHeader(e, 'content-disposition');
  if (cd !== undefined) parseContentDisposition(cd);
  let n = 1;
  if (ct.type === 'multipart/signed') {
    try {
      parseMultipartSigned(bytes);
    } catch (err) {
      if (!(err instanceof SmimeError)) throw err;
    }
  }
  if (ct.type.startsWith('multipart/') && ct.params.boundary) {
    for (const part of splitMultipart(e, ct.params.boundary)) n += walkMime(part, depth + 1);
  } else if (ct.type === 'message/rfc822') n += walkMime(e.body, depth + 1);
  else if (/pkcs7-mime|octet-stream/.test(ct.type)) {
    try {
      extractCms(bytes);
    } catch (err) {
      if (!(err instanceof SmimeError)) throw err;
    }
  }
  return n;
}

type Input = Uint8Array | string;

/** The targets: each takes the input and the context, and returns or throws. */
export const TARGETS: Record<TargetName, (input: Input, ctx: TargetContext) => Promise<unknown>> = {
  decrypt: (input, { store }) => decryptMessage(input, { store }),
  verify: (input, { store }) => verifyMessage(input, { store, harvest: false }),
  open: (input, { store }) => openMessage(input, { store, harvest: false }),
  pkcs12: async (input, { password }) => new CertificateStore({ now }).importPkcs12(input as Uint8Array, password),
  certificate: async (input) => {
    const store = new CertificateStore({ now });
    const added = await store.addCertificate(input);
    // The certificates must be usable once accepted: their views and the selection read them.
    for (const c of added) void c.subject;
    await store.findEncryptionCertificate('alice@example.com').catch((e: unknown) => {
      if (!(e instanceof SmimeError)) throw e;
    });
    return added.length;
  },
  crl: async (input) => {
    const store = new CertificateStore({ now });
    store.addTrustAnchor(ROOT());
    await store.addCertificate(CHAIN());
    store.addCrl(input);
    return verifyMessage(CRL_MESSAGE(), { store, harvest: false });
  },
  mime: async (input) => walkMime(typeof input === 'string' ? new Uint8Array(Buffer.from(input, 'latin1')) : input),
};

/** Targets that take a string as well as bytes. */
const TAKES_STRING: ReadonlySet<TargetName> = new Set(['decrypt', 'verify', 'open', 'certificate', 'crl']);

/** How a case hands its input over. */
export interface Delivery {
  /** A Buffer view at a non-zero offset of a larger ArrayBuffer. */
  view?: boolean;
  /** A string (only for targets that take one, and only for ASCII input, so the bytes are the same). */
  asString?: boolean;
}

export interface CaseResult {
  outcome: 'result' | 'error';
  /** The SmimeError's code. */
  code?: string;
  ms: number;
}

/** A violation of the property: what was wrong, with the original error when there was one. */
export class PropertyViolation extends Error {
  constructor(
    message: string,
    readonly target: TargetName,
    readonly error?: unknown,
  ) {
    super(message, error === undefined ? undefined : { cause: error });
  }
}

/** How long a case may take to settle before it is a failure (the runner flags > 2 s as slow long before). */
const SETTLE_MS = 30_000;

const isAscii = (b: Uint8Array): boolean => b.every((x) => x < 0x80);

/**
 * Runs one case and checks the property. Resolves with the outcome and its time; rejects with a PropertyViolation
 * when the call throws something other than a SmimeError, leaks the password in a message, or writes its input.
 */
export async function runCase(target: TargetName, input: Uint8Array, ctx: TargetContext, how: Delivery = {}): Promise<CaseResult> {
  let arg: Input;
  let whole: Uint8Array;
  if (how.asString && TAKES_STRING.has(target) && isAscii(input)) {
    arg = latin1(input);
    whole = input.slice();
  } else if (how.view) {
    const off = 1 + (input.length % 13);
    const ab = new ArrayBuffer(off + input.length + 16);
    new Uint8Array(ab).fill(0xa5).set(input, off);
    arg = Buffer.from(ab, off, input.length);
    whole = new Uint8Array(ab);
  } else {
    arg = input.slice();
    whole = arg;
  }
  const snapshot = whole.slice();
  const t0 = performance.now();
  let r: CaseResult;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A call that never settles (a promise nobody resolves) is a failure of its own; a synchronous endless loop can
  // not be caught in the process: the long runner leaves the case in progress in a file for that (see _fuzz.ts).
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PropertyViolation(`${target}: did not settle within ${SETTLE_MS / 1000} s`, target)), SETTLE_MS);
  });
  try {
    await Promise.race([TARGETS[target](arg, ctx), never]);
    r = { outcome: 'result', ms: performance.now() - t0 };
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof PropertyViolation) throw e;
    if (!(e instanceof SmimeError)) {
      const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new PropertyViolation(`${target}: threw a non-SmimeError (${what})`, target, e);
    }
    if (target === 'pkcs12' && ctx.password.length >= 4 && e.message.includes(ctx.password)) {
      throw new PropertyViolation(`${target}: the password appears in an error message`, target, e);
    }
    r = { outcome: 'error', code: e.code, ms };
  } finally {
    clearTimeout(timer);
  }
  for (let i = 0; i < whole.length; i++) {
    if (whole[i] !== snapshot[i]) {
      const hex = (x: number) => `0x${x.toString(16).padStart(2, '0')}`;
      const where = how.view && !(typeof arg === 'string') ? ' (a Buffer view)' : '';
      throw new PropertyViolation(`${target}: wrote its input${where}: byte ${i} ${hex(snapshot[i]!)} -> ${hex(whole[i]!)}`, target);
    }
  }
  return r;
}

/**
 * Failures others are fixing now (issue 10): a case that fails only this way is recorded, not a failure of the
 * short pass. Each names its finding; corpus.test.ts replays the saved case with `it.fails` until it is fixed.
 */
export interface KnownFinding {
  id: string;
  finding: string;
  matches(v: PropertyViolation): boolean;
}

/** The stack of the error behind a violation ('' when there was none). */
export const stackOf = (v: PropertyViolation): string => (v.error instanceof Error ? (v.error.stack ?? '') : '');

/** None open: the last ones (the Buffer#slice write in readSignerInfo, PKCS#12 bags before the MAC) are fixed. */
export const KNOWN: readonly KnownFinding[] = [];

/** The known finding a violation belongs to, if any. */
export function knownFinding(v: unknown): KnownFinding | undefined {
  if (!(v instanceof PropertyViolation)) return undefined;
  return KNOWN.find((k) => k.matches(v));
}
