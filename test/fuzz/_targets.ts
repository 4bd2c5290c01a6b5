/**
 * Fuzz targets: every entry point that takes untrusted bytes (decryptMessage, verifyMessage, openMessage,
 * importPkcs12, addCertificate with PEM, DER or a bundle, addCrl and the CRL parsing it leads to, the MIME
 * parser, and the streams decryptStream, verifyStream and openStream), each wrapped so a case can be checked the same way by the short pass, the long runner and the corpus
 * replay. The property (`runCase`): the call settles with a result or a `SmimeError` (never a TypeError, a crash,
 * or a secret in the message), and never writes its input: the input is compared with a snapshot afterwards, and
 * some of the time it is a Node Buffer view at a non-zero offset of a larger ArrayBuffer, whose bytes around the
 * view are checked too. Timing is measured and returned, never asserted: the runner flags slow cases.
 *
 * A stream target gets the input as a ReadableStream of views of it, cut into the case's pieces (`Plan.pieces`), reads
 * the whole content stream and awaits `done`: the call, every read and `done` settle with a result or a SmimeError,
 * the content errors exactly when `done` rejects, and no rejection goes unhandled. When the stream and its buffer
 * function (same store, same options) both succeed, their content must be the same bytes, and their signers the same
 * statuses and reasons (see `differential`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateStore, decryptMessage, decryptStream, openMessage, openStream, verifyMessage, verifyStream } from '../../src/index.js';
import { SmimeError } from '../../src/errors.js';
import { getHeader, parseEntity } from '../../src/mime/entity.js';
import { parseContentDisposition, parseContentType } from '../../src/mime/header_params.js';
import { splitMultipart } from '../../src/mime/multipart.js';
import { extractCms } from '../../src/mime/extract.js';
import { parseMultipartSigned } from '../../src/mime/multipart_signed.js';
import { VECTORS } from '../_helpers/env.js';
import { CHAIN, PASSWORD, REFERENCE_DATE, ROOT, manifest, storeWith } from '../_helpers/identities.js';
import { STREAM_OF, isStreamTarget, type StreamTarget, type TargetName } from './_seeds.js';
import { latin1, pieceSizes, type Pieces } from './_mutators.js';
import { source } from '../stream/_streams.js';
import { fixedRandomCrypto } from '../_helpers/fixed_random.js';
import type { SignerResult } from '../../src/ops/signer_result.js';

export { TARGET_NAMES, type TargetName } from './_seeds.js';

/** The sample vectors' reference date: every case runs at this time, so a replay sees what the fuzzer saw. */
export { REFERENCE_DATE };
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

const what = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

type Drained = { content: ReadableStream<Uint8Array>; done: Promise<unknown> };

const STREAMS: Record<StreamTarget, (input: ReadableStream<Uint8Array>, store: CertificateStore, crypto?: Crypto) => Promise<Drained>> = {
  decryptStream: (input, store, crypto) => decryptStream(input, { store, crypto }),
  verifyStream: (input, store, crypto) => verifyStream(input, { store, harvest: false, crypto }),
  openStream: (input, store, crypto) => openStream(input, { store, harvest: false, crypto }),
};

/** The buffer functions of the stream targets, with a chosen `crypto` (the differential's second look). */
const BUFFERS: Record<StreamTarget, (input: Uint8Array, store: CertificateStore, crypto: Crypto) => Promise<{ content: Uint8Array }>> = {
  decryptStream: (input, store, crypto) => decryptMessage(input, { store, crypto }),
  verifyStream: (input, store, crypto) => verifyMessage(input, { store, harvest: false, crypto }),
  openStream: (input, store, crypto) => openMessage(input, { store, harvest: false, crypto }),
};

/** What a stream target gave: its content, read to the end, and what `done` resolved to. */
interface StreamOutcome {
  content: Uint8Array;
  result: unknown;
}

/**
 * Runs a stream target: the call (its rejection goes to runCase), then the content read to its end and `done`
 * awaited whatever the read did (so its rejection is never unhandled). Throws a PropertyViolation for an error
 * that is not a SmimeError from either, or when one fails and the other not; else `done`'s SmimeError or the outcome.
 */
async function drainStream(target: StreamTarget, input: Uint8Array, ctx: TargetContext, pieces: Pieces | undefined, crypto?: Crypto): Promise<StreamOutcome> {
  const { content, done } = await STREAMS[target](source(input, pieceSizes(input.length, pieces), { views: true }).stream, ctx.store, crypto);
  const chunks: Uint8Array[] = [];
  let readFailed = false;
  let readError: unknown;
  const reader = content.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value.slice());
    }
  } catch (e) {
    readFailed = true;
    readError = e;
  }
  let doneFailed = false;
  let doneError: unknown;
  let result: unknown;
  try {
    result = await done;
  } catch (e) {
    doneFailed = true;
    doneError = e;
  }
  if (readFailed && !(readError instanceof SmimeError)) {
    throw new PropertyViolation(`${target}: reading content threw a non-SmimeError (${what(readError)})`, target, readError);
  }
  if (doneFailed && !(doneError instanceof SmimeError)) {
    throw new PropertyViolation(`${target}: done rejected with a non-SmimeError (${what(doneError)})`, target, doneError);
  }
  // README: a structure error, a truncated input or a limit errors `content` and rejects `done`; they fail together.
  if (readFailed !== doneFailed) {
    const e = readFailed ? readError : doneError;
    throw new PropertyViolation(`${target}: ${readFailed ? 'content errored but done resolved' : 'content ended but done rejected'} (${what(e)})`, target, e);
  }
  if (doneFailed) throw doneError;
  return { content: Buffer.concat(chunks), result };
}

/** Status and reasons of each signer, for the differential check. */
const signerKeys = (signers: readonly SignerResult[]): string[] => signers.map((s) => `${s.status} [${s.reasons.join('; ')}]`);

/**
 * The differential check: when the stream and its buffer function, on the same input and options, both succeed,
 * their content must be the same bytes and (verify, open) their signers the same statuses and reasons. Where only one
 * succeeds there is nothing to compare (decryptStream refuses what decryptMessage's trial-key fallback opens; openStream
 * refuses a partly protected message that openMessage opens).
 */
async function differential(target: StreamTarget, input: Uint8Array, ctx: TargetContext, out: StreamOutcome, pieces: Pieces | undefined): Promise<void> {
  const buffer = STREAM_OF[target];
  let r: { content: Uint8Array; signers?: SignerResult[] };
  try {
    r = (await TARGETS[buffer](input, ctx, {})) as typeof r;
  } catch (e) {
    if (e instanceof SmimeError) return;
    throw new PropertyViolation(`${target}: ${buffer} threw a non-SmimeError on the same input (${what(e)})`, target, e);
  }
  if (Buffer.compare(Buffer.from(r.content), out.content) !== 0 && !(await sameWithFixedRandom(target, input, ctx, pieces))) {
    throw new PropertyViolation(`${target}: content differs from ${buffer}'s (${out.content.length} bytes streamed, ${r.content.length} from ${buffer})`, target);
  }
  if (target === 'decryptStream') return;
  const s = (out.result as { signers: SignerResult[] }).signers;
  const b = r.signers ?? [];
  // README, "signStream and verifyStream": "An Ed25519 one over content above 1 MiB is `unsupported-in-stream: no
  // signed attributes` (verifyMessage checks it)": such a signer is left out of the comparison.
  const streamable = (x: SignerResult | undefined) => !x?.reasons.some((why) => why.startsWith('unsupported-in-stream'));
  const keep = s.map((x, i) => streamable(x) && streamable(b[i]));
  const a1 = signerKeys(s).filter((_, i) => keep[i]);
  const b1 = signerKeys(b).filter((_, i) => i >= s.length || keep[i]);
  if (s.length !== b.length || JSON.stringify(a1) !== JSON.stringify(b1)) {
    throw new PropertyViolation(`${target}: signers differ from ${buffer}'s: ${JSON.stringify(signerKeys(s))} vs ${JSON.stringify(signerKeys(b))}`, target);
  }
}

/**
 * Whether the stream and its buffer function give the same content when their random bytes are the same. A failed
 * RSA PKCS#1 v1.5 key transport goes on with a random content key (RFC 3218; src/cms/ktri.ts): under AES-CBC each call
 * then passes the padding check about once in 256 and returns its own garbage, so two calls differ by chance (about
 * 1e-4 per short pass, stop 26's survey). With one fixed fill both draw the same key: the same garbage, or a refusal
 * (nothing to compare). A real difference stays a difference.
 */
async function sameWithFixedRandom(target: StreamTarget, input: Uint8Array, ctx: TargetContext, pieces: Pieces | undefined): Promise<boolean> {
  const settle = async <T>(p: Promise<T>): Promise<T | undefined> => p.catch((e: unknown) => (e instanceof SmimeError ? undefined : Promise.reject(e)));
  const streamed = await settle(drainStream(target, input, ctx, pieces, fixedRandomCrypto()));
  const buffered = await settle(BUFFERS[target](input, ctx.store, fixedRandomCrypto()));
  if (!streamed || !buffered) return true; // one refuses: nothing to compare, as in differential()
  return Buffer.compare(Buffer.from(buffered.content), streamed.content) === 0;
}

/** A stream target: drained, then compared with its buffer function. */
const streamTarget =
  (target: StreamTarget) =>
  async (input: Input, ctx: TargetContext, how: Delivery): Promise<unknown> => {
    const out = await drainStream(target, input as Uint8Array, ctx, how.pieces);
    await differential(target, input as Uint8Array, ctx, out, how.pieces);
    return out.result;
  };

/** The targets: each takes the input, the context and how the input is handed over, and returns or throws. */
export const TARGETS: Record<TargetName, (input: Input, ctx: TargetContext, how: Delivery) => Promise<unknown>> = {
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
  decryptStream: streamTarget('decryptStream'),
  verifyStream: streamTarget('verifyStream'),
  openStream: streamTarget('openStream'),
};

/** Targets that take a string as well as bytes. */
const TAKES_STRING: ReadonlySet<TargetName> = new Set(['decrypt', 'verify', 'open', 'certificate', 'crl']);

/** How a case hands its input over. */
export interface Delivery {
  /** A Buffer view at a non-zero offset of a larger ArrayBuffer. */
  view?: boolean;
  /** A string (only for targets that take one, and only for ASCII input, so the bytes are the same). */
  asString?: boolean;
  /** The stream targets: the pieces of the stream (one piece when absent). */
  pieces?: Pieces;
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

/** Rejections nobody handled, seen since the first stream case (the stream targets check none is theirs). */
let unhandled: unknown[] | undefined;
function watchUnhandled(): unknown[] {
  if (!unhandled) {
    const seen: unknown[] = [];
    process.on('unhandledRejection', (reason) => void seen.push(reason));
    unhandled = seen;
  }
  return unhandled;
}

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
  const rejections = isStreamTarget(target) ? watchUnhandled() : undefined;
  const unhandledBefore = rejections?.length ?? 0;
  const t0 = performance.now();
  let r: CaseResult;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // A call that never settles (a promise nobody resolves) is a failure of its own; a synchronous endless loop can
  // not be caught in the process: the long runner leaves the case in progress in a file for that (see _fuzz.ts).
  const never = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PropertyViolation(`${target}: did not settle within ${SETTLE_MS / 1000} s`, target)), SETTLE_MS);
  });
  try {
    await Promise.race([TARGETS[target](arg, ctx, how), never]);
    r = { outcome: 'result', ms: performance.now() - t0 };
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof PropertyViolation) throw e;
    if (!(e instanceof SmimeError)) {
      throw new PropertyViolation(`${target}: threw a non-SmimeError (${what(e)})`, target, e);
    }
    if (target === 'pkcs12' && ctx.password.length >= 4 && e.message.includes(ctx.password)) {
      throw new PropertyViolation(`${target}: the password appears in an error message`, target, e);
    }
    r = { outcome: 'error', code: e.code, ms };
  } finally {
    clearTimeout(timer);
  }
  if (rejections) {
    // Node reports an unhandled rejection once the microtasks have run: after a macrotask, it has been seen.
    await new Promise((resolve) => setImmediate(resolve));
    if (rejections.length > unhandledBefore) {
      const e = rejections[unhandledBefore];
      throw new PropertyViolation(`${target}: a rejection went unhandled (${what(e)})`, target, e);
    }
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
