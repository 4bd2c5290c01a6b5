// The public-API report: what api-extractor would write, for a repository that builds with TypeScript 7 (whose
// compiler has no JavaScript API for api-extractor to load). The declarations (.d.ts) of src/ are emitted into a
// temporary directory; from each entry point of package.json's `exports` (its `types`), the exported names are
// followed through `export … from` and `export *`, and every declaration they reach (the exported ones, and the
// types those mention, through imports, down to other packages) is written out, comments stripped, whitespace
// collapsed, one file after the other in sorted order. The report is checked in (api/smime-core.api.md);
// test/package/api_report.test.ts fails with a diff when the API changes, and `npm run api:update` rewrites it.
//
//   node scripts/api-report.mjs            print the report
//   node scripts/api-report.mjs --update   rewrite api/smime-core.api.md
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
export const REPORT = join(REPO, 'api', 'smime-core.api.md');

/** Emits the declarations of src/ (tsconfig.build.json) into a new temporary directory; returns it. */
export function emitDeclarations() {
  const out = mkdtempSync(join(tmpdir(), 'smime-core-api-'));
  const tsc = join(REPO, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');
  execFileSync(tsc, ['-p', join(REPO, 'tsconfig.build.json'), '--emitDeclarationOnly', '--outDir', out], { cwd: REPO, stdio: 'pipe' });
  return out;
}

/** The text without comments (strings and template literals left alone). */
function stripComments(text) {
  let out = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end - 1;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    out += c;
  }
  return out;
}

/** The top-level statements of a declaration file (comments already stripped). */
function statements(text) {
  const out = [];
  let start = 0;
  let depth = 0;
  let quote = '';
  const push = (end) => {
    const s = text.slice(start, end).trim();
    if (s) out.push(s);
    start = end;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '{' || c === '(' || c === '[') depth++;
    else if (c === '}' || c === ')' || c === ']') {
      depth--;
      if (depth === 0 && c === '}') {
        const next = text.slice(i + 1).match(/^\s*(.)/s)?.[1];
        const continues = (next !== undefined && ';|&[.,)=>?:'.includes(next)) || /^\s*from\b/.test(text.slice(i + 1, i + 20));
        if (!continues) push(i + 1);
      }
    } else if (c === ';' && depth === 0) push(i + 1);
  }
  push(text.length);
  return out;
}

const DECL = /^(?:export\s+)?(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:function|class|interface|type|const|let|var|enum|namespace)\s+([A-Za-z_$][\w$]*)/;

/** Parses one .d.ts: its declarations by name, its imports, and its export statements. */
function parseFile(path) {
  const text = stripComments(readFileSync(path, 'utf8'));
  const decls = new Map(); // name -> statements
  const exported = new Set(); // names declared with `export`
  const imports = new Map(); // local -> { module, name }  (name '*' for a namespace import)
  const reexports = []; // { module?, names: [{ name, as }] } | { module, star: true }
  for (const s of statements(text)) {
    let m;
    if ((m = s.match(/^import\s+(?:type\s+)?([\s\S]*?)\s+from\s+['"]([^'"]+)['"]/))) {
      const [, clause, module] = m;
      const ns = clause.match(/\*\s+as\s+([\w$]+)/);
      if (ns) imports.set(ns[1], { module, name: '*', statement: s });
      const named = clause.match(/\{([\s\S]*)\}/);
      if (named) {
        for (const part of named[1].split(',').map((p) => p.trim().replace(/^type\s+/, '')).filter(Boolean)) {
          const [name, local] = part.split(/\s+as\s+/);
          imports.set(local ?? name, { module, name, statement: s });
        }
      }
      const def = clause.match(/^([\w$]+)/);
      if (def && def[1] !== 'type') imports.set(def[1], { module, name: 'default', statement: s });
      continue;
    }
    if (/^import\s+['"]/.test(s) || /^export\s*\{\s*\}\s*;?$/.test(s)) continue; // a side-effect import; `export {}`
    if ((m = s.match(/^export\s+\*\s+from\s+['"]([^'"]+)['"]/))) {
      reexports.push({ module: m[1], star: true });
      continue;
    }
    if ((m = s.match(/^export\s+(?:type\s+)?\{([\s\S]*)\}\s*(?:from\s+['"]([^'"]+)['"])?/))) {
      const names = m[1]
        .split(',')
        .map((p) => p.trim().replace(/^type\s+/, ''))
        .filter(Boolean)
        .map((p) => {
          const [name, as] = p.split(/\s+as\s+/);
          return { name, as: as ?? name };
        });
      if (names.length > 0) reexports.push({ module: m[2], names });
      continue;
    }
    if ((m = s.match(DECL))) {
      const name = m[1];
      if (!decls.has(name)) decls.set(name, []);
      decls.get(name).push(s);
      if (/^export\s/.test(s)) exported.add(name);
      continue;
    }
    throw new Error(`api-report: ${path}: a statement this script does not read: ${s.slice(0, 120)}`);
  }
  return { path, decls, exported, imports, reexports };
}

/** The report for the declarations in `dtsDir` (what `emitDeclarations` wrote). */
export function apiReport(dtsDir) {
  const cache = new Map();
  const file = (path) => {
    if (!cache.has(path)) cache.set(path, parseFile(path));
    return cache.get(path);
  };
  const resolveModule = (from, module) => (module.startsWith('.') ? resolve(dirname(from), module.replace(/\.js$/, '.d.ts')) : undefined);

  /** Where the export `name` of `path` is declared: { path, name }, { external, name }, or undefined. */
  const resolveExport = (path, name, seen = new Set()) => {
    const key = `${path}#${name}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const f = file(path);
    if (f.exported.has(name)) return { path, name };
    for (const r of f.reexports) {
      if (r.star) {
        const target = resolveModule(path, r.module);
        const found = target ? resolveExport(target, name, seen) : undefined;
        if (found) return found;
        continue;
      }
      const hit = r.names.find((n) => n.as === name);
      if (!hit) continue;
      if (r.module === undefined) return resolveLocal(path, hit.name, seen);
      const target = resolveModule(path, r.module);
      return target ? resolveExport(target, hit.name, seen) : { external: r.module, name: hit.name };
    }
    return undefined;
  };
  /** What a name used in `path` refers to. */
  const resolveLocal = (path, name, seen = new Set()) => {
    const f = file(path);
    if (f.decls.has(name)) return { path, name };
    const imp = f.imports.get(name);
    if (!imp) return undefined;
    if (imp.name === '*') return undefined;
    const target = resolveModule(path, imp.module);
    return target ? resolveExport(target, imp.name, seen) : { external: imp.module, name: imp.name };
  };
  /** Every exported name of a module. */
  const exportNames = (path, seen = new Set()) => {
    if (seen.has(path)) return [];
    seen.add(path);
    const f = file(path);
    const names = [...f.exported];
    for (const r of f.reexports) {
      if (r.star) {
        const target = resolveModule(path, r.module);
        if (target) names.push(...exportNames(target, seen).filter((n) => n !== 'default'));
      } else names.push(...r.names.map((n) => n.as));
    }
    return [...new Set(names)].sort();
  };

  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const entries = Object.entries(pkg.exports)
    .filter(([, v]) => typeof v === 'object' && v.types)
    .map(([k, v]) => ({ name: k === '.' ? pkg.name : posix.join(pkg.name, k), path: join(dtsDir, v.types.replace(/^\.\/dist\//, '')) }));

  const rel = (p) => relative(dtsDir, p).split('\\').join('/');
  const lines = ['# API report: smime-core', '', '<!-- Written by scripts/api-report.mjs (`npm run api:update`); checked by test/package/api_report.test.ts. -->', ''];
  const included = new Map(); // path -> Set(name)
  const work = [];
  const include = (target) => {
    if (!target || target.external) return;
    if (!included.has(target.path)) included.set(target.path, new Set());
    const set = included.get(target.path);
    if (set.has(target.name)) return;
    set.add(target.name);
    work.push(target);
  };
  for (const entry of entries) {
    lines.push(`## ${entry.name} (${rel(entry.path)})`, '');
    for (const name of exportNames(entry.path)) {
      const target = resolveExport(entry.path, name);
      if (!target) throw new Error(`api-report: ${entry.name}: cannot resolve the export ${name}`);
      lines.push(`- \`${name}\`: ${target.external ? `${target.external} ${target.name}` : `${rel(target.path)} ${target.name}`}`);
      include(target);
    }
    lines.push('');
  }
  const externals = new Map(); // path -> Set(import statements of other packages that reached declarations use)
  while (work.length > 0) {
    const { path, name } = work.pop();
    const f = file(path);
    for (const s of f.decls.get(name) ?? []) {
      for (const id of new Set(s.match(/[A-Za-z_$][\w$]*/g) ?? [])) {
        if (id === name) continue;
        const imp = f.decls.has(id) ? undefined : f.imports.get(id);
        if (imp && !imp.module.startsWith('.')) {
          if (!externals.has(path)) externals.set(path, new Set());
          externals.get(path).add(imp.statement.replace(/\s+/g, ' '));
        }
        include(resolveLocal(path, id));
      }
    }
  }
  lines.push('## Declarations', '');
  for (const path of [...included.keys()].sort((a, b) => (rel(a) < rel(b) ? -1 : 1))) {
    const f = file(path);
    lines.push(`### ${rel(path)}`, '', '```ts', ...[...(externals.get(path) ?? [])].sort());
    // The file's declarations in their order, each reached name once.
    const names = included.get(path);
    const seen = new Set();
    for (const [name, list] of f.decls) {
      if (!names.has(name)) continue;
      for (const s of list) if (!seen.has(s)) (seen.add(s), lines.push(...normalise(s)));
    }
    lines.push('```', '');
  }
  return lines.join('\n');
}

/** A statement with its whitespace collapsed, one line per source line, indented by its brace depth. */
function normalise(statement) {
  const out = [];
  let depth = 0;
  for (const raw of statement.split('\n')) {
    const line = raw.trim().replace(/\s+/g, ' ');
    if (!line) continue;
    const closes = line.match(/^[}\])]+/)?.[0].length ?? 0;
    out.push('  '.repeat(Math.max(0, depth - closes)) + line);
    for (const c of line.replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '')) {
      if (c === '{' || c === '(' || c === '[') depth++;
      else if (c === '}' || c === ')' || c === ']') depth--;
    }
  }
  return out;
}

/**
 * The lines that differ between two reports, as a unified-style listing (`-` only in `before`, `+` only in
 * `after`, one line of context around each change); empty when they are equal.
 */
export function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Longest common subsequence over lines (reports are a few hundred lines).
  const n = a.length;
  const m = b.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push([' ', a[i++], j++]);
    else if (j < m && (i === n || lcs[i][j + 1] >= lcs[i + 1][j])) ops.push(['+', b[j++]]);
    else ops.push(['-', a[i++]]);
  }
  const keep = new Set();
  ops.forEach(([op], k) => {
    if (op !== ' ') for (let d = -1; d <= 1; d++) keep.add(k + d);
  });
  const out = [];
  let last = -2;
  ops.forEach(([op, line], k) => {
    if (!keep.has(k)) return;
    if (k !== last + 1) out.push('@@');
    out.push(`${op} ${line}`);
    last = k;
  });
  return out.join('\n');
}

/** The report for the current sources (declarations emitted into a temporary directory, removed after). */
export function currentReport() {
  const dir = emitDeclarations();
  try {
    return apiReport(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = currentReport();
  if (process.argv.includes('--update')) {
    mkdirSync(dirname(REPORT), { recursive: true });
    const before = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '';
    writeFileSync(REPORT, report);
    console.log(before === report ? `${relative(REPO, REPORT)}: unchanged` : `${relative(REPO, REPORT)}: rewritten`);
  } else process.stdout.write(report);
}
