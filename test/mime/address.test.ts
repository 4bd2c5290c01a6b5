/**
 * The RFC 5322 address parser (src/mime/address.ts): display names, quoted strings, comments, groups, encoded
 * words and the obsolete forms give the right mailboxes; what the grammar refuses is unparsable; the comparison key
 * folds ASCII case and IDNA forms of the domain but nothing else; the From binding of a header section.
 */
import { describe, expect, it } from 'vitest';
import { addressKey, certAddressKey, domainKey, fromBinding, isMessageHeader, parseAddrSpec, parseAddressList } from '../../src/mime/address.js';
import type { Header } from '../../src/mime/entity.js';

const addrs = (v: string) => parseAddressList(v)?.mailboxes.map((m) => m.address);
const hdrs = (...pairs: [string, string][]): Header[] => pairs.map(([name, value]) => ({ name, value, raw: new Uint8Array() }));

describe('parseAddressList: valid forms', () => {
  const cases: [string, string[]][] = [
    ['alice@example.com', ['alice@example.com']],
    ['Alice <alice@example.com>', ['alice@example.com']],
    ['<alice@example.com>', ['alice@example.com']],
    ['"Smith, Alice" <alice@example.com>', ['alice@example.com']],
    ['"mallory@example.com" <alice@example.com>', ['alice@example.com']],
    ['"Alice \\"the boss\\" <x@y>" <alice@example.com>', ['alice@example.com']],
    ['=?utf-8?q?Al=C3=AFce?= <alice@example.com>', ['alice@example.com']],
    ['=?UTF-8?B?QWxpY2UgQA==?= <alice@example.com>', ['alice@example.com']],
    ['Alice (the (nested) boss) <alice@example.com> (work)', ['alice@example.com']],
    ['alice(comment)@(another)example.com', ['alice@example.com']],
    ['alice @ example . com', ['alice@example.com']],
    ['Alice < alice@example.com >', ['alice@example.com']],
    ['Alice\r\n <alice@example.com>', ['alice@example.com']],
    ['alice . smith@example.com', ['alice.smith@example.com']],
    ['"alice"@example.com', ['alice@example.com']],
    ['"alice smith"@example.com', ['"alice smith"@example.com']],
    ['John Q. Public <jqp@example.com>', ['jqp@example.com']],
    ['<@relay1.example,@relay2.example:alice@example.com>', ['alice@example.com']],
    ['Alice <,@relay.example:alice@example.com>', ['alice@example.com']],
    ['alice@[192.0.2.1]', ['alice@[192.0.2.1]']],
    ['alice@example.com, Bob <bob@example.com>', ['alice@example.com', 'bob@example.com']],
    [', , alice@example.com, ,', ['alice@example.com']],
    ['Team: alice@example.com, Bob <bob@example.com>;', ['alice@example.com', 'bob@example.com']],
    ['Undisclosed recipients:;', []],
    ['Ünal <ünal@bücher.example>', ['ünal@bücher.example']],
  ];
  for (const [value, expected] of cases) it(value, () => expect(addrs(value)).toEqual(expected));

  it('keeps display names and group names', () => {
    const l = parseAddressList('"Smith, Alice" <alice@example.com>, Team: Bob <bob@example.com>;')!;
    expect(l.groups).toBe(1);
    expect(l.mailboxes[0]).toMatchObject({ display: 'Smith, Alice', local: 'alice', domain: 'example.com' });
    expect(l.mailboxes[1]).toMatchObject({ display: 'Bob', group: 'Team' });
  });
});

describe('parseAddressList: unparsable', () => {
  const bad = [
    '',
    'alice',
    'mallory@example.com <alice@example.com>',
    'Smith, Alice <alice@example.com>',
    'Alice <alice@example.com',
    'Alice alice@example.com>',
    '<alice@example.com> bob@example.com',
    '"unterminated <alice@example.com>',
    '(unterminated <alice@example.com>',
    'alice@example.com)',
    'alice@@example.com',
    'alice@',
    '@example.com',
    'alice.@example.com',
    'Team: alice@example.com',
    'Outer: Inner: alice@example.com;;',
    'alice@example.com\u0001',
    'alice@[bad[literal]',
  ];
  for (const value of bad) it(JSON.stringify(value), () => expect(parseAddressList(value)).toBeUndefined());
});

describe('comparison keys', () => {
  it('folds ASCII case in both parts, keeps non-ASCII local parts exact', () => {
    expect(addressKey('Alice', 'Example.COM')).toBe('alice@example.com');
    expect(addressKey('Ünal', 'example.com')).not.toBe(addressKey('ünal', 'example.com'));
    // U+212A KELVIN SIGN lowercases (and NFC-normalises) to "k": it must stay a different mailbox.
    expect(addressKey('\u212Aim', 'example.com')).not.toBe(addressKey('kim', 'example.com'));
  });

  it('compares an internationalised domain as its A-label', () => {
    expect(domainKey('Bücher.Example')).toBe('xn--bcher-kva.example');
    expect(domainKey('XN--BCHER-KVA.example')).toBe('xn--bcher-kva.example');
    expect(addressKey('info', 'bücher.example')).toBe(addressKey('info', 'xn--bcher-kva.example'));
  });

  it('gives the URL parser no name it would rewrite', () => {
    expect(domainKey('ex%61mple.com')).toBe('ex%61mple.com');
    expect(domainKey('0x7f.1')).toBe('0x7f.1');
  });

  it('parses certificate addresses the same way', () => {
    expect(certAddressKey('"alice"@Example.com')).toBe('alice@example.com');
    expect(certAddressKey('not an address')).toBe('not an address');
    expect(parseAddrSpec('alice@example.com trailing')).toBeUndefined();
  });
});

describe('fromBinding and isMessageHeader', () => {
  it('no From: undefined', () => {
    expect(fromBinding(hdrs(['Content-Type', 'text/plain']))).toBeUndefined();
  });
  it('two From headers, unparsable From, From without mailbox', () => {
    expect(fromBinding(hdrs(['From', 'a@x.example'], ['from', 'b@x.example']))).toEqual({ kind: 'problem', reason: 'two From headers' });
    expect(fromBinding(hdrs(['From', 'mallory@x.example <a@x.example>']))).toEqual({ kind: 'problem', reason: 'unparsable From' });
    expect(fromBinding(hdrs(['From', 'Nobody:;']))).toEqual({ kind: 'problem', reason: 'From has no mailbox' });
  });
  it('every From mailbox, and one valid Sender', () => {
    const b = fromBinding(hdrs(['From', 'a@x.example, b@x.example'], ['Sender', 'S <s@x.example>']));
    expect(b?.kind === 'mailboxes' && b.from.map((m) => m.address)).toEqual(['a@x.example', 'b@x.example']);
    expect(b?.kind === 'mailboxes' && b.sender?.address).toBe('s@x.example');
    const twoSenders = fromBinding(hdrs(['From', 'a@x.example, b@x.example'], ['Sender', 's@x.example'], ['Sender', 't@x.example']));
    expect(twoSenders?.kind === 'mailboxes' && twoSenders.sender).toBeUndefined();
  });
  it('a message header has an RFC 5322 message field; a bare MIME entity does not', () => {
    expect(isMessageHeader(hdrs(['MIME-Version', '1.0'], ['Content-Type', 'text/plain']))).toBe(false);
    expect(isMessageHeader(hdrs(['Content-Type', 'text/plain'], ['Subject', 'hi']))).toBe(true);
    expect(isMessageHeader(hdrs(['Message-ID', '<1@x>']))).toBe(true);
  });
});
