/**
 * The lexer behind the architecture tests: it finds every kind of import and re-export, tells type-only and dynamic
 * imports apart, and is not fooled by `import` inside comments, strings, template literals or regular expressions.
 */
import { describe, expect, it } from 'vitest';
import { importsOf } from './imports.js';

describe('importsOf', () => {
  it('reads static, side-effect, dynamic, type-only and re-export specifiers', () => {
    const src = [
      "import { a, type B } from './a.js';",
      "import type { C } from '../c.js';",
      "import * as x509 from '@peculiar/x509';",
      "import 'reflect-metadata';",
      'import {',
      '  d,',
      '  e,',
      "} from './multi.js';",
      "export * from './all.js';",
      "export { f } from './f.js';",
      "export type { G } from './g.js';",
      "const lazy = () => import('@noble/ciphers/chacha.js');",
      'export { lazy };',
      'export const h = 1;',
      "import type from './default-named-type.js';",
    ].join('\n');
    expect(importsOf(src)).toEqual([
      { specifier: './a.js', typeOnly: false, dynamic: false },
      { specifier: '../c.js', typeOnly: true, dynamic: false },
      { specifier: '@peculiar/x509', typeOnly: false, dynamic: false },
      { specifier: 'reflect-metadata', typeOnly: false, dynamic: false },
      { specifier: './multi.js', typeOnly: false, dynamic: false },
      { specifier: './all.js', typeOnly: false, dynamic: false },
      { specifier: './f.js', typeOnly: false, dynamic: false },
      { specifier: './g.js', typeOnly: true, dynamic: false },
      { specifier: '@noble/ciphers/chacha.js', typeOnly: false, dynamic: true },
      { specifier: './default-named-type.js', typeOnly: false, dynamic: false },
    ]);
  });

  it('ignores imports inside comments, strings, templates and regular expressions', () => {
    const src = [
      "/** So `import 'smime-core'` on Node gets them. */",
      "// import { x } from './commented.js';",
      "const s = \"import { y } from './string.js'\";",
      "const t = `import { z } from './template.js' ${'${'} ${ { a: 1 }.a } import('./in-template.js')`;",
      "const r = /import\\('.\\/regex.js'\\)/g; const u = 'http://example.com/*';",
      "const url = import.meta.url;",
      "import { real } from './real.js';",
    ].join('\n');
    expect(importsOf(src).map((e) => e.specifier)).toEqual(['./real.js']);
  });
});
