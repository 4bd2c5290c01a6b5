/**
 * The module specifiers of a TypeScript source file, read by a small lexer (comments, strings, template literals and
 * regular-expression literals are skipped, so an `import` inside a string or a comment does not count). Used by the
 * architecture tests, which need every edge of src/'s import graph with whether it exists at run time.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One `import … from`, `import '…'`, `import('…')` or `export … from` of a file. */
export interface ImportEdge {
  /** The specifier as written: `./x.js`, `@noble/hashes/sha2.js`, `node:fs`. */
  specifier: string;
  /** `import type …` or `export type … from`: erased by the compiler (the tsconfig sets verbatimModuleSyntax). */
  typeOnly: boolean;
  /** `import('…')`: loaded when first called, not when the module is evaluated. */
  dynamic: boolean;
}

interface Token {
  kind: 'word' | 'string' | 'punct';
  text: string;
}

/** Characters after which a `/` starts a regular-expression literal rather than a division. */
const REGEX_AFTER = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/** Splits source into words, string literals (their value) and punctuation; comments and regexes are dropped. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  /** Brace depth at which each open template-literal substitution (`${`) started. */
  const templateStack: number[] = [];
  let depth = 0;
  let i = 0;
  const n = src.length;

  const readTemplate = (): void => {
    // i is just after the opening backtick or the closing brace of a substitution.
    while (i < n) {
      const c = src[i]!;
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        out.push({ kind: 'string', text: '' });
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        templateStack.push(depth);
        depth++;
        out.push({ kind: 'punct', text: '(' });
        return;
      } else i++;
    }
  };

  while (i < n) {
    const c = src[i]!;
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      while (j < n && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') {
          text += src[j + 1] ?? '';
          j += 2;
        } else text += src[j++];
      }
      out.push({ kind: 'string', text });
      i = j + 1;
    } else if (c === '`') {
      i++;
      readTemplate();
    } else if (c === '/') {
      const prev = out[out.length - 1];
      const isRegex = !prev || (prev.kind === 'punct' && REGEX_AFTER.has(prev.text)) || (prev.kind === 'word' && REGEX_AFTER_WORDS.has(prev.text));
      if (isRegex) {
        let j = i + 1;
        let inClass = false;
        while (j < n && src[j] !== '\n') {
          const d = src[j]!;
          if (d === '\\') j += 2;
          else if (d === '[') (inClass = true), j++;
          else if (d === ']') (inClass = false), j++;
          else if (d === '/' && !inClass) break;
          else j++;
        }
        j++;
        while (j < n && /[a-z]/i.test(src[j]!)) j++;
        out.push({ kind: 'string', text: '' });
        i = j;
      } else {
        out.push({ kind: 'punct', text: '/' });
        i++;
      }
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(src[j]!)) j++;
      out.push({ kind: 'word', text: src.slice(i, j) });
      i = j;
    } else if (/\d/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(src[j]!)) j++;
      out.push({ kind: 'word', text: src.slice(i, j) });
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '{') {
      depth++;
      out.push({ kind: 'punct', text: c });
      i++;
    } else if (c === '}') {
      depth--;
      i++;
      if (templateStack.length > 0 && templateStack[templateStack.length - 1] === depth) {
        templateStack.pop();
        out.push({ kind: 'punct', text: ')' });
        readTemplate();
      } else out.push({ kind: 'punct', text: c });
    } else {
      out.push({ kind: 'punct', text: c });
      i++;
    }
  }
  return out;
}

/** Every import and re-export specifier of a TypeScript source text. */
export function importsOf(src: string): ImportEdge[] {
  const t = tokenize(src);
  const edges: ImportEdge[] = [];
  for (let k = 0; k < t.length; k++) {
    const tok = t[k]!;
    if (tok.kind !== 'word' || (tok.text !== 'import' && tok.text !== 'export')) continue;
    const prev = t[k - 1];
    if (prev && prev.kind === 'punct' && prev.text === '.') continue; // `import.meta`, `x.import`
    const next = t[k + 1];
    if (!next) continue;
    if (tok.text === 'import' && next.kind === 'punct' && next.text === '(') {
      const arg = t[k + 2];
      if (arg?.kind === 'string' && t[k + 3]?.text === ')') edges.push({ specifier: arg.text, typeOnly: false, dynamic: true });
      continue;
    }
    if (tok.text === 'import' && next.kind === 'string') {
      edges.push({ specifier: next.text, typeOnly: false, dynamic: false });
      continue;
    }
    if (tok.text === 'import' && next.kind === 'punct' && next.text === '.') continue;
    // A declaration `import …` / `export …`: look for `from '<specifier>'` before the statement ends.
    const typeOnly = next.kind === 'word' && next.text === 'type' && !(t[k + 2]?.kind === 'word' && t[k + 2]!.text === 'from');
    let braces = 0;
    for (let m = k + 1; m < t.length; m++) {
      const u = t[m]!;
      if (u.kind === 'punct' && u.text === '{') braces++;
      else if (u.kind === 'punct' && u.text === '}') braces--;
      else if (braces === 0 && u.kind === 'word' && u.text === 'from' && t[m + 1]?.kind === 'string') {
        edges.push({ specifier: t[m + 1]!.text, typeOnly, dynamic: false });
        break;
      } else if (braces === 0 && u.kind === 'punct' && (u.text === ';' || u.text === '=' || u.text === '(')) break;
      else if (braces === 0 && u.kind === 'word' && m > k + 1 && ['function', 'class', 'const', 'let', 'var', 'interface', 'enum', 'abstract', 'async', 'default', 'declare', 'namespace'].includes(u.text)) break;
      else if (braces < 0) break;
    }
  }
  return edges;
}

/** Every `.ts` file under `dir`, as paths relative to `root` with forward slashes, sorted. */
export function sourceFiles(root: string, dir: string): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const p = join(d, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  return walk(join(root, dir))
    .map((p) => relative(root, p).split('\\').join('/'))
    .sort();
}

/** The imports of every `.ts` file under `dir`, keyed by the file's path relative to `root`. */
export function importGraph(root: string, dir: string): Map<string, ImportEdge[]> {
  return new Map(sourceFiles(root, dir).map((f) => [f, importsOf(readFileSync(join(root, f), 'utf8'))]));
}

/** The files that must (or may) use Node's API: the CLI, the Node entry, the module that builds Node's crypto, the PKCS#11 entry (smime-core/pkcs11) and the LDAP entry (smime-core/ldap). */
export const NODE_ONLY = [/^src\/cli\//, /^src\/index\.node\.ts$/, /^src\/crypto\/node\.ts$/, /^src\/pkcs11\//, /^src\/ldap\//];
