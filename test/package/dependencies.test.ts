/**
 * Only the dependencies src/ imports: every `dependencies` entry of package.json is imported (statically or lazily)
 * by some src file, and every bare specifier in src/ is a declared dependency, or a Node built-in in a file that may
 * use Node (src/cli/, the Node entry and src/crypto/node.ts; browser_safe.test.ts checks the rest of that rule on
 * the source text). What only tests, examples or the bench use belongs in devDependencies.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { REPO } from '../_helpers/env.js';
import { importGraph, NODE_ONLY } from '../architecture/imports.js';

/** The package a bare specifier names: `@noble/hashes/sha2.js` → `@noble/hashes`, `node:fs` → `node:fs`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const isBuiltin = (name: string): boolean => name.startsWith('node:') || builtinModules.includes(name);

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const DEPENDENCIES = Object.keys(pkg.dependencies ?? {});

/** Every bare import of src/: the file and the package it names. */
const BARE = [...importGraph(REPO, 'src')].flatMap(([file, edges]) =>
  edges.filter((e) => !e.specifier.startsWith('.') && !e.specifier.startsWith('/')).map((e) => ({ file, name: packageOf(e.specifier) })),
);

describe('runtime dependencies', () => {
  it('package.json declares some', () => {
    expect(packageOf('@noble/hashes/sha2.js')).toBe('@noble/hashes');
    expect(packageOf('reflect-metadata')).toBe('reflect-metadata');
    expect(DEPENDENCIES.length).toBeGreaterThan(0);
  });

  it('every declared dependency is imported by src/', () => {
    const used = new Set(BARE.map((b) => b.name));
    expect(DEPENDENCIES.filter((d) => !used.has(d))).toEqual([]);
  });

  it('every bare import in src/ is a declared dependency, or a Node built-in in a Node-only file', () => {
    const undeclared = BARE.filter(({ file, name }) => !DEPENDENCIES.includes(name) && !(isBuiltin(name) && NODE_ONLY.some((re) => re.test(file)))).map(
      ({ file, name }) => `${file}: ${name}`,
    );
    expect(undeclared).toEqual([]);
  });

  it('the optional peer dependency pkcs11js: optional, a devDependency for the tests, its install script approved, loaded lazily by src/pkcs11 only', () => {
    // The peer dependencies, each with its job here.
    expect(Object.keys(pkg.peerDependencies ?? {})).toEqual(['ldapts', 'pkcs11js']);
    expect(pkg.peerDependenciesMeta?.['pkcs11js']?.optional).toBe(true);
    expect(pkg.devDependencies?.['pkcs11js']).toBe(pkg.peerDependencies?.['pkcs11js']);
    expect(pkg.allowScripts?.['pkcs11js']).toBe(true);
    // Its job: src/pkcs11/binding.ts loads it through the optional-peer loader, a dynamic import() of a non-literal
    // specifier (so neither the main entry nor a bundler ever pulls the native module in); no other src file names it.
    const naming = [...importGraph(REPO, 'src').keys()].filter((f) => /['"]pkcs11js['"]/.test(readFileSync(join(REPO, f), 'utf8')));
    expect(naming).toEqual(['src/pkcs11/binding.ts']);
    expect(readFileSync(join(REPO, 'src/pkcs11/binding.ts'), 'utf8')).toMatch(/optionalPeer<\w+>\(\{\s*name: 'pkcs11js',/);
    expect(readFileSync(join(REPO, 'src/lib/optional_peer.ts'), 'utf8')).toMatch(/await import\(name\)/);
    expect(BARE.filter((b) => b.name === 'pkcs11js')).toEqual([]);
  });

  it('the optional peer dependency ldapts 8.x: optional, a devDependency for the tests, loaded lazily by src/ldap/index.ts only', () => {
    // 8.x: ldapts 9 needs Node 22, and the package supports Node 20.
    expect(pkg.peerDependencies?.['ldapts']).toMatch(/^\^8\./);
    expect(pkg.peerDependenciesMeta?.['ldapts']?.optional).toBe(true);
    expect(pkg.devDependencies?.['ldapts']).toBe(pkg.peerDependencies?.['ldapts']);
    const naming = [...importGraph(REPO, 'src').keys()].filter((f) => /['"]ldapts['"]/.test(readFileSync(join(REPO, f), 'utf8')));
    expect(naming).toEqual(['src/ldap/index.ts']);
    expect(readFileSync(join(REPO, 'src/ldap/index.ts'), 'utf8')).toMatch(/optionalPeer<\w+>\(\{\s*name: 'ldapts',/);
    expect(readFileSync(join(REPO, 'src/lib/optional_peer.ts'), 'utf8')).toMatch(/await import\(name\)/);
    expect(BARE.filter((b) => b.name === 'ldapts')).toEqual([]);
  });
});
