/**
 * The CLI is a layer over the public API (issue 12): src/cli/ imports nothing of the library but its entry point
 * (index.node.ts, the `node` export condition), and what it needs from there is public.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import * as api from '../../src/index.node.js';
import { CertificateStore, CONTENT_CIPHERS, encryptMessage, nodeCrypto } from '../../src/index.node.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli');

/** Every module specifier a file imports or re-exports (static imports, type-only ones included, marked). */
function specifiers(file: string): { spec: string; typeOnly: boolean }[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/^\s*(import type|export type|import|export)\b[^;]*?\bfrom\s+'([^']+)'/gms)].map((m) => ({ spec: m[2]!, typeOnly: m[1]!.endsWith('type') }));
}

/** The package's other public entries (smime-core/pkcs11, smime-core/ldap): their types only (nothing loaded). */
const TYPE_ONLY_ENTRIES = ['../pkcs11/index.js', '../ldap/index.js'];
/** The CLI modules that import nothing (every other one must show imports: a check that the parser saw them). */
const NO_IMPORTS = ['malloc_tuning.ts'];

describe('the CLI imports only the public API', () => {
  const files = readdirSync(CLI).filter((f) => f.endsWith('.ts'));

  test('src/cli holds its modules', () => {
    expect(files.sort()).toEqual(['atomic_write.ts', 'bin.ts', 'demo.ts', 'describe.ts', 'exit_codes.ts', 'ldap.ts', 'main.ts', 'malloc_tuning.ts', 'options.ts', 'secrets.ts', 'stdio.ts', 'store_file.ts', 'stream_io.ts', 'streamed_ops.ts', 'token.ts']);
  });

  test.each(files)('%s: node builtins, sibling CLI modules and ../index.node.js only (the other entries: types only)', (f) => {
    const specs = specifiers(join(CLI, f));
    if (NO_IMPORTS.includes(f)) expect(specs).toEqual([]);
    else expect(specs.length).toBeGreaterThan(0);
    for (const { spec: s, typeOnly } of specs) {
      const ok = s.startsWith('node:') || /^\.\/[a-z_]+\.js$/.test(s) || s === '../index.node.js' || (typeOnly && TYPE_ONLY_ENTRIES.includes(s));
      expect(ok, `${f} imports ${s}${typeOnly ? ' (types)' : ''}`).toBe(true);
    }
  });

  test('the dynamic imports are smime-core/pkcs11 in token.ts and smime-core/ldap in ldap.ts (loaded only for --pkcs11, --ldap and --online; they load pkcs11js, ldapts themselves)', () => {
    const dynamic = files.flatMap((f) => [...readFileSync(join(CLI, f), 'utf8').matchAll(/(?<!\.)\bimport\(\s*([^)]+?)\s*\)/g)].map((m) => `${f}: ${m[1]}`));
    expect(dynamic.sort()).toEqual(["ldap.ts: '../ldap/index.js'", "token.ts: '../pkcs11/index.js'"]);
  });

  test('main.ts and demo.ts do use the entry point', () => {
    expect(specifiers(join(CLI, 'main.ts')).map((x) => x.spec)).toContain('../index.node.js');
    expect(specifiers(join(CLI, 'demo.ts')).map((x) => x.spec)).toContain('../index.node.js');
  });
});

describe('what the CLI needs is public', () => {
  test('nodeCrypto is exported by the Node entry point and gives a working Crypto', async () => {
    expect(typeof api.nodeCrypto).toBe('function');
    const c = nodeCrypto();
    expect(nodeCrypto()).toBe(c);
    const d = new Uint8Array(await c.subtle.digest('SHA-256', new TextEncoder().encode('abc')));
    expect(Buffer.from(d).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('CONTENT_CIPHERS lists the seven content ciphers, frozen', () => {
    expect(CONTENT_CIPHERS).toEqual(['aes-128-cbc', 'aes-192-cbc', 'aes-256-cbc', 'aes-128-gcm', 'aes-192-gcm', 'aes-256-gcm', 'chacha20-poly1305']);
    expect(Object.isFrozen(CONTENT_CIPHERS)).toBe(true);
  });

  test('encryptMessage refuses a name outside CONTENT_CIPHERS with a RangeError naming them', async () => {
    const store = new CertificateStore();
    const err = await encryptMessage('Subject: x\r\n\r\nhi', { store, to: ['a@example.com'], cipher: 'aes-512-gcm' as never }).catch((e) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(/^encryptMessage: options\.cipher must be one of /);
    for (const c of CONTENT_CIPHERS) expect((err as Error).message).toContain(c);
  });
});
