/**
 * RFC 9788 on bytes (src/mime/header_protection.ts): the protected payload's header section, the hp parameter, the
 * Header Confidentiality Policies and HP-Outer, the Legacy Display Element, and reading them back (mismatches,
 * malformed hp, the older forms).
 */
import { describe, expect, it } from 'vitest';
import { addLegacyDisplay, foldField, protectMessage, readHeaderProtection } from '../../src/mime/header_protection.js';
import { parseEntity, getHeader, getHeaders } from '../../src/mime/entity.js';
import { parseContentType } from '../../src/mime/header_params.js';

const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string) => te.encode(s);
const t = (u: Uint8Array) => td.decode(u);

const MSG =
  'From: Alice Lovelace <alice@example.com>\r\nTo: Bob <bob@example.com>, carol@example.com\r\nCc: Dave <dave@example.com>\r\n' +
  'Subject: The FooCorp contract\r\nDate: Tue, 26 Nov 2019 20:06:00 -0400\r\nMessage-ID: <m1@example.com>\r\nKeywords: secret\r\n' +
  'Comments: a comment\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nHello Bob.\r\n';

const headerSection = (raw: Uint8Array) => {
  const e = parseEntity(raw);
  return t(raw.subarray(0, e.headerEnd));
};

describe('composing (RFC 9788 §2-§4)', () => {
  it('hp="clear": every field inside, the same fields outside, no HP-Outer', () => {
    const p = protectMessage(b(MSG), { hp: 'clear' });
    const outer = t(p.outerHeaders);
    expect(outer).toBe(
      'From: Alice Lovelace <alice@example.com>\r\nTo: Bob <bob@example.com>, carol@example.com\r\nCc: Dave <dave@example.com>\r\n' +
        'Subject: The FooCorp contract\r\nDate: Tue, 26 Nov 2019 20:06:00 -0400\r\nMessage-ID: <m1@example.com>\r\nKeywords: secret\r\n' +
        'Comments: a comment\r\n',
    );
    const inner = parseEntity(p.inner);
    expect(headerSection(p.inner)).toBe(outer + 'Content-Type: text/plain; charset=us-ascii;\r\n hp="clear"\r\n\r\n');
    expect(parseContentType(getHeader(inner, 'content-type')!).params.hp).toBe('clear');
    expect(getHeaders(inner, 'hp-outer')).toEqual([]);
    expect(getHeaders(inner, 'mime-version')).toEqual([]); // structural: never a protected copy
    expect(t(inner.body)).toBe('Hello Bob.\r\n');
  });

  it('hp="cipher" with hcp_baseline: Subject is [...] outside, Keywords and Comments only inside, HP-Outer for each outer field', () => {
    const p = protectMessage(b(MSG), { hp: 'cipher' });
    expect(t(p.outerHeaders)).toBe(
      'From: Alice Lovelace <alice@example.com>\r\nTo: Bob <bob@example.com>, carol@example.com\r\nCc: Dave <dave@example.com>\r\n' +
        'Subject: [...]\r\nDate: Tue, 26 Nov 2019 20:06:00 -0400\r\nMessage-ID: <m1@example.com>\r\n',
    );
    const inner = parseEntity(p.inner);
    expect(getHeader(inner, 'subject')).toBe('The FooCorp contract');
    expect(getHeader(inner, 'keywords')).toBe('secret');
    expect(getHeader(inner, 'comments')).toBe('a comment');
    expect(getHeaders(inner, 'hp-outer').map((h) => h.value)).toEqual([
      'From: Alice Lovelace <alice@example.com>',
      'To: Bob <bob@example.com>, carol@example.com',
      'Cc: Dave <dave@example.com>',
      'Subject: [...]',
      'Date: Tue, 26 Nov 2019 20:06:00 -0400',
      'Message-ID: <m1@example.com>',
    ]);
    expect(parseContentType(getHeader(inner, 'content-type')!)).toEqual({ type: 'text/plain', params: { charset: 'us-ascii', hp: 'cipher' } });
    expect(t(p.inner)).toContain('HP-Outer: Subject: [...]\r\n');
  });

  it('hcp_shy: display names and the time of day go too', () => {
    const p = protectMessage(b(MSG), { hp: 'cipher', hcp: 'shy' });
    expect(t(p.outerHeaders)).toBe(
      'From: alice@example.com\r\nTo: bob@example.com, carol@example.com\r\nCc: dave@example.com\r\nSubject: [...]\r\n' +
        'Date: Wed, 27 Nov 2019 00:00:00 +0000\r\nMessage-ID: <m1@example.com>\r\n',
    );
    expect(getHeaders(parseEntity(p.inner), 'hp-outer').map((h) => h.value)).toContain('Date: Wed, 27 Nov 2019 00:00:00 +0000');
  });

  it('hcp_no_confidentiality: everything outside, still recorded in HP-Outer', () => {
    const p = protectMessage(b(MSG), { hp: 'cipher', hcp: 'none' });
    expect(t(p.outerHeaders)).toContain('Subject: The FooCorp contract\r\nDate');
    expect(t(p.outerHeaders)).toContain('Keywords: secret\r\n');
    expect(getHeaders(parseEntity(p.inner), 'hp-outer')).toHaveLength(8);
  });

  it('a policy function: null keeps a field inside only; a long value is folded and unfolds to the same', () => {
    const long = 'x'.repeat(30) + ' ' + 'y'.repeat(30) + ' ' + 'z'.repeat(30);
    const p = protectMessage(b(MSG), { hp: 'cipher', hcp: (name, value) => (name.toLowerCase() === 'to' ? null : name === 'Subject' ? long : value) });
    expect(t(p.outerHeaders)).not.toContain('To:');
    const outer = parseEntity(b(t(p.outerHeaders) + '\r\n'));
    expect(getHeader(outer, 'subject')).toBe(long);
    expect(t(p.outerHeaders).split('\r\n').every((l) => l.length <= 78)).toBe(true);
    expect(getHeaders(parseEntity(p.inner), 'hp-outer').map((h) => h.value)).toContain(`Subject: ${long}`);
    expect(() => protectMessage(b(MSG), { hp: 'cipher', hcp: () => 42 as unknown as string })).toThrow(TypeError);
  });

  it('a message without a Content-Type gets text/plain with hp; one without any header field is refused', () => {
    const p = protectMessage(b('From: a@example.com\r\nSubject: s\r\n\r\nbody\r\n'), { hp: 'clear' });
    expect(headerSection(p.inner)).toBe('From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain; charset=us-ascii;\r\n hp="clear"\r\n\r\n');
    expect(() => protectMessage(b('Content-Type: text/plain\r\n\r\nx'), { hp: 'clear' })).toThrow(/no header fields/);
  });

  it('an hp parameter already there is replaced, not doubled', () => {
    const p = protectMessage(b('From: a@example.com\r\nContent-Type: text/plain; hp="clear"\r\n\r\nx'), { hp: 'cipher' });
    const ct = getHeader(parseEntity(p.inner), 'content-type')!;
    expect(ct.match(/hp=/g)).toHaveLength(1);
    expect(parseContentType(ct).params.hp).toBe('cipher');
  });

  it('the Legacy Display Element: the hidden Subject in the text, hp-legacy-display="1"; off by default', () => {
    const off = protectMessage(b(MSG), { hp: 'cipher' });
    expect(t(off.inner)).not.toContain('hp-legacy-display');
    const p = protectMessage(b(MSG), { hp: 'cipher', legacyDisplay: true });
    const inner = parseEntity(p.inner);
    const ct = parseContentType(getHeader(inner, 'content-type')!);
    expect(ct.params).toEqual({ charset: 'us-ascii', 'hp-legacy-display': '1', hp: 'cipher' });
    expect(t(inner.body)).toBe('Subject: The FooCorp contract\r\n\r\nHello Bob.\r\n');
    // Nothing hidden (hcp_no_confidentiality): no element.
    expect(t(protectMessage(b(MSG), { hp: 'cipher', legacyDisplay: true, hcp: 'none' }).inner)).not.toContain('hp-legacy-display');
  });

  it('the Legacy Display Element in a multipart/alternative: in the text/plain and the text/html alternatives', () => {
    const alt =
      'From: a@example.com\r\nSubject: <secret> & co\r\nContent-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nplain\r\n' +
      '--b1\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<html><body class=3D"x">html</body></html>\r\n--b1--\r\n';
    const p = protectMessage(b(alt), { hp: 'cipher', legacyDisplay: true });
    const s = t(p.inner);
    expect(s).toContain('Content-Type: text/plain;\r\n hp-legacy-display="1"\r\n\r\nSubject: <secret> & co\r\n\r\nplain\r\n');
    expect(s).toContain('<body class=3D"x">\r\n<div class=3D"header-protection-legacy-display">\r\n<pre>Subject: &lt;secret&gt; &amp; co</pre>\r\n</div>\r\nhtml</body>');
    const r = readHeaderProtection(p.inner, parseEntity(b(t(p.outerHeaders) + '\r\n')).headers, true);
    expect(r?.legacyDisplay).toBe('Subject: <secret> & co');
    // A base64 text part can't take it: left alone.
    expect(addLegacyDisplay(b('Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n'), ['Subject: s'])).toBeUndefined();
  });

  it('LF line ends and folded fields: canonical CRLF inside and out, folds kept, values read back unfolded', () => {
    const lf = 'From: a@example.com\nTo: b@example.com,\n  c@example.com\nSubject: =?utf-8?q?caf=C3=A9?=\nContent-Type: text/plain\n\nline\n';
    const p = protectMessage(b(lf), { hp: 'cipher' });
    expect(t(p.outerHeaders)).toBe('From: a@example.com\r\nTo: b@example.com,\r\n  c@example.com\r\nSubject: [...]\r\n');
    expect(t(p.inner)).not.toMatch(/[^\r]\n/);
    const r = readHeaderProtection(p.inner, parseEntity(b(t(p.outerHeaders) + '\r\n')).headers, true)!;
    expect(r.mismatches).toEqual([]);
    expect(r.headers.find((h) => h.name === 'Subject')?.value).toBe('=?utf-8?q?caf=C3=A9?=');
    expect(r.exposed?.find((h) => h.name === 'To')?.value).toBe('b@example.com,  c@example.com');
  });

  it('foldField refuses line breaks (header injection)', () => {
    expect(() => foldField('Subject', 'a\r\nBcc: x@example.com')).toThrow();
  });
});

describe('reading (RFC 9788 §4)', () => {
  const outerOf = (s: string) => parseEntity(b(s + '\r\n')).headers;

  it('hp="cipher": protected headers, exposed fields from HP-Outer, no mismatch when the outside is as sent', () => {
    const p = protectMessage(b(MSG), { hp: 'cipher' });
    const r = readHeaderProtection(p.inner, outerOf(t(p.outerHeaders)), true)!;
    expect(r.form).toBe('hp');
    expect(r.hp).toBe('cipher');
    expect(r.headers.find((h) => h.name === 'Subject')?.value).toBe('The FooCorp contract');
    expect(r.headers.some((h) => /^hp-outer$/i.test(h.name))).toBe(false);
    expect(r.exposed?.find((h) => h.name === 'Subject')?.value).toBe('[...]');
    expect(r.mismatches).toEqual([]);
    expect(r.problems).toEqual([]);
  });

  it('hp="cipher": an outer field changed, added or removed in transit is a mismatch; relay fields are not', () => {
    const p = protectMessage(b(MSG), { hp: 'cipher' });
    const tampered = t(p.outerHeaders).replace('Subject: [...]', 'Subject: URGENT: pay now').replace(/Cc: .*\r\n/, '') + 'Reply-To: mallory@evil.example\r\n';
    const r = readHeaderProtection(p.inner, outerOf('Received: from x by y; Tue, 26 Nov 2019 20:06:01 -0400\r\n' + tampered), true)!;
    expect(r.mismatches).toEqual([
      { name: 'cc', outer: [], expected: ['Dave <dave@example.com>'] },
      { name: 'subject', outer: ['URGENT: pay now'], expected: ['[...]'] },
      { name: 'reply-to', outer: ['mallory@evil.example'], expected: [] },
    ]);
  });

  it('hp="clear": the outer fields are compared with the protected ones (refolding is not a mismatch)', () => {
    const p = protectMessage(b(MSG), { hp: 'clear' });
    const refolded = t(p.outerHeaders).replace('To: Bob <bob@example.com>, carol@example.com', 'To: Bob <bob@example.com>,\r\n  carol@example.com');
    expect(readHeaderProtection(p.inner, outerOf(refolded), false)!.mismatches).toEqual([]);
    const forged = t(p.outerHeaders).replace('From: Alice Lovelace <alice@example.com>', 'From: Mallory <mallory@evil.example>');
    expect(readHeaderProtection(p.inner, outerOf(forged), false)!.mismatches).toEqual([
      { name: 'from', outer: ['Mallory <mallory@evil.example>'], expected: ['Alice Lovelace <alice@example.com>'] },
    ]);
  });

  it('malformed hp, hp="cipher" without encryption, HP-Outer with hp="clear": reported, the protected headers still the ones shown', () => {
    const bad = b('From: a@example.com\r\nSubject: real\r\nContent-Type: text/plain; hp="ciphre"\r\n\r\nx');
    const r = readHeaderProtection(bad, outerOf('From: a@example.com\r\nSubject: fake'), true)!;
    expect(r.problems).toEqual(['hp-malformed: "ciphre"']);
    expect(r.hp).toBeUndefined();
    expect(r.headers.find((h) => h.name === 'Subject')?.value).toBe('real');
    const cipher = protectMessage(b(MSG), { hp: 'cipher' });
    expect(readHeaderProtection(cipher.inner, outerOf(t(cipher.outerHeaders)), false)!.problems).toEqual(['hp-cipher-without-encryption']);
    const clearWithOuter = b('From: a@example.com\r\nHP-Outer: Subject: x\r\nContent-Type: text/plain; hp="clear"\r\n\r\nx');
    expect(readHeaderProtection(clearWithOuter, [], false)!.problems).toEqual(['hp-outer-without-cipher']);
    const badOuter = b('From: a@example.com\r\nHP-Outer: no colon here\r\nContent-Type: text/plain; hp="cipher"\r\n\r\nx');
    expect(readHeaderProtection(badOuter, [], true)!.problems).toEqual(['hp-outer-malformed']);
  });

  it('a malformed body under hp does not hide the protected headers (the Legacy Display search gives up quietly)', () => {
    const broken = b('From: a@example.com\r\nSubject: real\r\nContent-Type: multipart/mixed; boundary="q"; hp="clear"\r\n\r\n--q\r\nnot a header line\r\n\r\nx\r\n--q--\r\n');
    const r = readHeaderProtection(broken, [], false)!;
    expect(r.headers.find((h) => h.name === 'Subject')?.value).toBe('real');
    expect(r.legacyDisplay).toBeUndefined();
  });

  it('no protection: undefined (a plain payload, binary content)', () => {
    expect(readHeaderProtection(b('Content-Type: text/plain\r\n\r\nx'), [], true)).toBeUndefined();
    expect(readHeaderProtection(new Uint8Array([0x30, 0x80, 0, 0]), [], true)).toBeUndefined();
  });

  it('RFC 8551 §3.1 message/rfc822 wrapper, with forwarded=no and without', () => {
    const wrapped = (param: string) =>
      b(`Content-Type: message/rfc822${param}\r\n\r\nFrom: alice@example.com\r\nSubject: inner subject\r\nContent-Type: text/plain\r\n\r\nhi\r\n`);
    for (const p of ['; forwarded=no', '']) {
      const r = readHeaderProtection(wrapped(p), outerOf('From: alice@example.com\r\nSubject: outer'), false)!;
      expect(r.form).toBe('message-rfc822');
      expect(r.headers).toEqual([
        { name: 'From', value: 'alice@example.com' },
        { name: 'Subject', value: 'inner subject' },
      ]);
      expect(r.mismatches).toEqual([{ name: 'subject', outer: ['outer'], expected: ['inner subject'] }]);
    }
    // A forwarded attachment without a From is not a wrapper.
    expect(readHeaderProtection(b('Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nhi'), [], false)).toBeUndefined();
  });
});
