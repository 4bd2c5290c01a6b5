/**
 * src/ must run in browsers: no Node-only API (Buffer, node:* modules, process, require) outside src/cli and the one
 * module that builds Node's crypto provider (src/crypto/node.ts).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from '../_helpers/env.js';

const ALLOWED = [/^src\/cli\//, /^src\/crypto\/node\.ts$/];
const FORBIDDEN = [/\bBuffer\b/, /from ['"]node:/, /from ['"](fs|path|os|crypto|child_process|stream)['"]/, /\bprocess\./, /\brequire\(/];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('browser-safe sources', () => {
  it('src/ uses no Node-only API outside src/cli and src/crypto/node.ts', () => {
    const offenders: string[] = [];
    for (const file of walk(join(REPO, 'src'))) {
      const rel = relative(REPO, file).split('\\').join('/');
      if (ALLOWED.some((a) => a.test(rel))) continue;
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1');
      for (const re of FORBIDDEN) if (re.test(code)) offenders.push(`${rel}: ${re}`);
    }
    expect(offenders).toEqual([]);
  });
});
