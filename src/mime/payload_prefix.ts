/**
 * The first bytes of a payload that streams past (decryptStream, verifyStream): what its header protection (RFC 9788)
 * and the From binding of its signature are read from, in bounded memory. Held: the payload's header section (at most
 * `maxHeaderBytes`); when that section says its fields are protected (`hp`, `protected-headers="v1"`, a
 * message/rfc822 or message/global wrapper), also the next `maxHeaderBytes` bytes of the body, which hold a wrapped
 * message's header section and the Legacy Display Element where RFC 9788 §2.1.2 puts it (at the top of the main body
 * part): the window `legacyDisplayWindow` defines, in which the buffer functions look for it too. Any other payload is let go once its header section has been read, so a large unprotected message holds no
 * more than that.
 */
import { getHeader, parseEntity, type Header } from './entity.js';
import { parseContentType } from './header_params.js';
import { legacyDisplayWindow } from './header_protection.js';
import { headerSectionEnd } from './stream_head.js';

/** The first bytes of a payload, seen piece by piece (see the file comment). */
export class PayloadPrefix {
  readonly #maxHeaderBytes: number;
  #buf = new Uint8Array(0);
  #n = 0;
  /** The offset past the header section's empty line, once found. */
  #headEnd = -1;
  /** How many bytes to hold: the header section first, then possibly a look-ahead into the body. */
  #cap: number;
  #full = false;
  /** Every byte of the payload is held (its end was seen within the cap). */
  #whole = true;

  /** @param maxHeaderBytes the limit of a header section, and the look-ahead past it. */
  constructor(maxHeaderBytes: number) {
    this.#maxHeaderBytes = maxHeaderBytes;
    this.#cap = maxHeaderBytes + 4;
  }

  /** The next bytes of the payload (not kept: copied while they are needed). */
  see(b: Uint8Array): void {
    let rest = b;
    // Twice at most: the cap grows once, when the header section has ended and says its fields are protected.
    while (rest.length > 0) {
      if (this.#full) {
        this.#whole = false;
        return;
      }
      const take = Math.min(rest.length, this.#cap - this.#n);
      if (this.#n + take > this.#buf.length) {
        const bigger = new Uint8Array(Math.min(this.#cap, Math.max(this.#n + take, 2 * this.#buf.length, 4096)));
        bigger.set(this.#buf.subarray(0, this.#n));
        this.#buf = bigger;
      }
      this.#buf.set(rest.subarray(0, take), this.#n);
      const from = Math.max(0, this.#n - 3);
      this.#n += take;
      rest = rest.subarray(take);
      if (this.#headEnd < 0) {
        this.#headEnd = headerSectionEnd(this.#buf.subarray(0, this.#n), from);
        if (this.#headEnd >= 0) this.#cap = this.#protects() ? legacyDisplayWindow(this.#headEnd, this.#maxHeaderBytes) : this.#headEnd;
      }
      if (this.#n >= this.#cap) {
        if (this.#n > this.#cap) this.#whole = false;
        this.#full = true;
        this.#n = this.#cap;
      }
    }
  }

  /** The bytes held (a view). */
  get bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#n);
  }

  /** Whether the bytes held are the whole payload (so far: call once it has ended). */
  get whole(): boolean {
    return this.#whole;
  }

  /** The payload's header section (none when it is not MIME or its header section is larger than the limit). */
  headers(): Header[] {
    if (this.#headEnd < 0 || this.#headEnd > this.#maxHeaderBytes) return [];
    try {
      return parseEntity(this.#buf.subarray(0, this.#headEnd)).headers;
    } catch {
      return [];
    }
  }

  /** Whether the header section says its fields are protected (then the look-ahead is kept). */
  #protects(): boolean {
    try {
      const e = parseEntity(this.#buf.subarray(0, this.#headEnd), { maxHeaderBytes: this.#maxHeaderBytes });
      const ct = parseContentType(getHeader(e, 'content-type') ?? 'text/plain');
      return ct.params.hp !== undefined || ct.params['protected-headers'] === 'v1' || ct.type === 'message/rfc822' || ct.type === 'message/global';
    } catch {
      return false;
    }
  }
}
