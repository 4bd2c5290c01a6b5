/**
 * multipart/signed read from a stream (issue 16: verifyStream): on the delimiter scanner (mime/multipart_stream.ts),
 * the first part is handed on as it comes (made canonical, CRLF, as `parseMultipartSigned` makes `signedPart`) and the
 * second part (the signature) collected, bounded. The same refusals as `parseMultipartSigned` (`MIMEInvalid`).
 */
import { MIMEInvalid, MIMELimitExceeded } from '../errors.js';
import { concat } from '../lib/bytes.js';
import { CanonicalLineEnds } from './canonical_stream.js';
import { DelimiterScanner } from './multipart_stream.js';

/** The limits of a {@link MultipartSignedScanner}. */
export interface MultipartSignedScanLimits {
  /** The signature part's size (raw, as transferred): `MIMELimitExceeded`, limit 'maxCmsHeaderBytes'. */
  maxSignaturePartBytes: number;
  /** The longest candidate delimiter line held (a "--boundary" followed by padding): `MIMELimitExceeded`. */
  maxLineBytes: number;
}

/**
 * The scanner: `push` body pieces (the bytes after the multipart/signed header section), then `finish`, which returns
 * the raw second part. `part1` receives the first part's canonical bytes as they are known.
 */
export class MultipartSignedScanner {
  readonly #scanner: DelimiterScanner;
  readonly #boundary: string;
  readonly #canon = new CanonicalLineEnds();
  /** 0: preamble, 1: the signed part, 2: the signature part, 3: epilogue. */
  #segment = 0;
  #sig: Uint8Array[] = [];
  #sigBytes = 0;

  constructor(boundary: string, part1: (canonical: Uint8Array) => void, limits: MultipartSignedScanLimits) {
    this.#boundary = boundary;
    this.#scanner = new DelimiterScanner(
      boundary,
      {
        data: (bytes) => {
          if (this.#segment === 1) for (const c of this.#canon.write(bytes)) part1(c);
          else if (this.#segment === 2) {
            this.#sigBytes += bytes.length;
            if (this.#sigBytes > limits.maxSignaturePartBytes) {
              throw new MIMELimitExceeded(`multipart/signed: the signature part is larger than ${limits.maxSignaturePartBytes} bytes`, { limit: 'maxCmsHeaderBytes' });
            }
            this.#sig.push(bytes.slice());
          }
        },
        delimiter: (_line, close) => {
          if (this.#segment === 1) for (const c of this.#canon.end()) part1(c);
          if (close) {
            if (this.#segment === 0) throw new MIMEInvalid('multipart: the first delimiter is the close delimiter (no body parts)');
            if (this.#segment === 1) throw new MIMEInvalid('multipart/signed: missing signature part (only one body part)');
            this.#segment = 3;
            return;
          }
          if (this.#segment === 2) throw new MIMEInvalid('multipart/signed: expected 2 body parts, found more');
          this.#segment++;
        },
      },
      limits.maxLineBytes,
    );
  }

  /** Scans the next piece of the body. */
  push(piece: Uint8Array): void {
    this.#scanner.push(piece);
  }

  /** The end of the body: the raw signature part (its headers and body); `MIMEInvalid` when a delimiter is missing. */
  finish(): Uint8Array {
    this.#scanner.finish();
    if (this.#segment === 0) throw new MIMEInvalid(`multipart: no delimiter line "--${this.#boundary}" found`);
    if (this.#segment !== 3) throw new MIMEInvalid(`multipart: missing close delimiter "--${this.#boundary}--"`);
    return concat(this.#sig);
  }
}
