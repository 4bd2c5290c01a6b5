/** planProtection: the entity to encrypt is read straight from the message when the message holds it as is. */
import { describe, expect, test } from 'vitest';
import { planProtection, splitForProtection } from '../../src/mime/protection.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

describe('planProtection', () => {
  test('a view of the message when the Content-* headers come last and everything is canonical', () => {
    const msg = bytes('From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: 7bit\r\n\r\nbody\r\nmore');
    const plan = planProtection(msg);
    expect(plan.inner).toBeDefined();
    expect(plan.inner!.buffer).toBe(msg.buffer);
    expect(str(plan.inner!)).toBe(str(splitForProtection(msg).inner));
    expect(plan.inner!.length).toBe(plan.innerLength);
    const folded = bytes('Subject: s\r\nContent-Type: multipart/mixed;\r\n boundary=x\r\n\r\n--x--\r\n');
    expect(str(planProtection(folded).inner!)).toBe(str(splitForProtection(folded).inner));
  });

  test('written out otherwise', () => {
    for (const m of [
      'Content-Type: text/plain\r\nSubject: s\r\n\r\nbody', // a header that stays outside comes after
      'Content-Type: text/plain\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: 7bit\r\n\r\nbody', // dropped in between
      'Subject: s\r\nContent-Type: text/plain\n\r\nbody', // a header with a bare LF
      'Subject: s\r\nContent-Type: text/plain\r\n\r\nbody\nmore', // a bare LF in the body
      'Subject: s\r\nContent-Type: text/plain\r\n\nbody', // an LF empty line
      'Subject: s\r\n\r\nbody', // no Content-Type: the default is written in
    ]) {
      const msg = bytes(m);
      const plan = planProtection(msg);
      expect(plan.inner, m).toBeUndefined();
      const out = new Uint8Array(plan.innerLength);
      expect(plan.writeInner(out, 0)).toBe(plan.innerLength);
      expect(str(out)).toBe(str(splitForProtection(msg).inner));
    }
  });
});
