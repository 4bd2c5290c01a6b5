/**
 * src/ must run in browsers: no Node-only API (Buffer, node:* modules, process, require) outside the Node-only files
 * (src/cli, the Node entry src/index.node.ts and the one module that builds Node's crypto provider,
 * src/crypto/node.ts; the list is NODE_ONLY in test/architecture/imports.ts, shared with dependencies.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../_helpers/env.js';
import { NODE_ONLY, sourceFiles } from '../architecture/imports.js';

const FORBIDDEN = [/\bBuffer\b/, /from ['"]node:/, /from ['"](fs|path|os|crypto|child_process|stream)['"]/, /\bprocess\./, /\brequire\(/];

describe('browser-safe sources', () => {
  it('src/ uses no Node-only API outside src/cli, src/index.node.ts and src/crypto/node.ts', () => {
    const offenders: string[] = [];
    const files = sourceFiles(REPO, 'src');
    expect(files.length).toBeGreaterThan(40);
    for (const rel of files) {
      if (NODE_ONLY.some((a) => a.test(rel))) continue;
      const code = readFileSync(join(REPO, rel), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1');
      for (const re of FORBIDDEN) if (re.test(code)) offenders.push(`${rel}: ${re}`);
    }
    expect(offenders).toEqual([]);
  });
});
