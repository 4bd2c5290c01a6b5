/**
 * The layer order of src/, written once, here, as data (ARCHITECTURE.md echoes it; this test is the source of truth).
 * Each file imports only from its own layer or from layers below it; layers on the same level sit side by side and
 * do not import each other. `import type` counts for the order (a type is a dependency too) but not for cycles (it
 * is erased at build time). Later capabilities extend this list; there is no exception list.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join, posix } from 'node:path';
import { REPO } from '../_helpers/env.js';
import { importGraph, type ImportEdge } from './imports.js';

/** One layer: a name and the files it claims (a path ending in `/` claims the folder, recursively). */
interface Layer {
  name: string;
  files: string[];
}

/** The layers from the bottom up. Each entry is one level; a level with several layers holds side-by-side layers. */
const LAYERS: Layer[][] = [
  [{ name: 'errors', files: ['src/errors.ts'] }],
  [{ name: 'lib', files: ['src/lib/'] }],
  [{ name: 'crypto', files: ['src/crypto/'] }],
  [{ name: 'certs', files: ['src/certs/'] }],
  [
    { name: 'mime', files: ['src/mime/'] },
    { name: 'cms', files: ['src/cms/'] },
  ],
  [{ name: 'path', files: ['src/path/'] }],
  [{ name: 'store', files: ['src/store/'] }],
  [{ name: 'operations', files: ['src/encrypt.ts', 'src/encrypt_stream.ts', 'src/decrypt.ts', 'src/decrypt_stream.ts', 'src/sign.ts', 'src/sign_stream.ts', 'src/verify.ts', 'src/verify_stream.ts', 'src/open.ts', 'src/open_stream.ts', 'src/inspect.ts', 'src/import_message.ts', 'src/certs_only.ts', 'src/ops/'] }],
  [
    { name: 'entries', files: ['src/index.ts', 'src/index.node.ts'] },
    // smime-core/pkcs11 (Node only): beside the entries; it uses errors, lib, crypto/external_key; only the CLI imports it.
    { name: 'pkcs11', files: ['src/pkcs11/'] },
    // smime-core/ldap (Node only): beside the entries; it uses lib, certs and cms's certs-only reader; only the CLI may import it.
    { name: 'ldap', files: ['src/ldap/'] },
  ],
  [{ name: 'cli', files: ['src/cli/'] }],
];

interface Placement {
  layer: string;
  level: number;
}

/** The layer claiming `file`, or undefined. */
function placeOf(file: string): Placement | undefined {
  for (const [level, layers] of LAYERS.entries())
    for (const layer of layers) if (layer.files.some((f) => (f.endsWith('/') ? file.startsWith(f) : file === f))) return { layer: layer.name, level };
  return undefined;
}

/** The src file a relative specifier names (`./x.js` is compiled from `./x.ts`). */
function resolveRelative(from: string, specifier: string): string {
  return posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.js$/, '.ts');
}

/** One relative import: the importing file, the imported src file, and the import's kind. */
interface Edge {
  from: string;
  to: string;
  edge: ImportEdge;
}

const GRAPH = importGraph(REPO, 'src');

/** Every relative edge of src/. */
const EDGES: Edge[] = [...GRAPH].flatMap(([from, edges]) =>
  edges.filter((e) => e.specifier.startsWith('.')).map((edge) => ({ from, to: resolveRelative(from, edge.specifier), edge })),
);

/** The edges that go up or sideways against LAYERS, as `from → to (layer → layer, up|sideways[, type-only])`. */
function layerViolations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to, edge } of edges) {
    const a = placeOf(from);
    const b = placeOf(to);
    if (!a || !b || a.layer === b.layer || b.level < a.level) continue;
    out.push(`${from} → ${to} (${a.layer} → ${b.layer}${b.level === a.level ? ', sideways' : ', up'}${edge.typeOnly ? ', type-only' : ''})`);
  }
  return out.sort();
}

/** The runtime import cycles of src/ (type-only imports excluded), each as its files in order, first file repeated. */
function runtimeCycles(edges: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to, edge } of edges) if (!edge.typeOnly) next.set(from, [...(next.get(from) ?? []), to]);
  // Tarjan's strongly connected components, then one concrete cycle through each component.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (next.get(v) ?? []).includes(v)) components.push(comp.sort());
    }
  };
  for (const v of [...new Set(edges.map((e) => e.from))].sort()) if (!index.has(v)) visit(v);
  return components.map((comp) => {
    // Breadth-first from the component's first file back to itself, staying inside the component.
    const inComp = new Set(comp);
    const start = comp[0]!;
    const parent = new Map<string, string>();
    const queue = [start];
    while (queue.length > 0) {
      const v = queue.shift()!;
      for (const w of next.get(v) ?? []) {
        if (!inComp.has(w)) continue;
        if (w === start) {
          const path = [v];
          while (path[0] !== start) path.unshift(parent.get(path[0]!)!);
          return [...path, start];
        }
        if (!parent.has(w)) {
          parent.set(w, v);
          queue.push(w);
        }
      }
    }
    return comp;
  });
}

describe('layers of src/', () => {
  it('every src file belongs to exactly one layer', () => {
    const unclaimed = [...GRAPH.keys()].filter((f) => placeOf(f) === undefined);
    expect(unclaimed).toEqual([]);
    const claims = [...GRAPH.keys()].filter((f) => LAYERS.flat().filter((l) => l.files.some((g) => (g.endsWith('/') ? f.startsWith(g) : f === g))).length > 1);
    expect(claims).toEqual([]);
  });

  it('every relative import names an existing src file', () => {
    const missing = EDGES.filter(({ to }) => !to.startsWith('src/') || !existsSync(join(REPO, to))).map(({ from, edge }) => `${from}: ${edge.specifier}`);
    expect(missing).toEqual([]);
    expect(EDGES.length).toBeGreaterThan(200);
  });

  it('no import goes up or sideways against the layer order', () => {
    expect(layerViolations(EDGES)).toEqual([]);
  });

  it('smime-core/pkcs11 uses only errors, lib, crypto/external_key and certs; only the CLI imports it', () => {
    const allowed = (to: string) => to.startsWith('src/pkcs11/') || to === 'src/errors.ts' || to.startsWith('src/lib/') || to === 'src/crypto/external_key.ts' || to.startsWith('src/certs/');
    const out = EDGES.filter(({ from, to }) => from.startsWith('src/pkcs11/') && !allowed(to)).map(({ from, to }) => `${from} → ${to}`);
    expect(out).toEqual([]);
    const into = EDGES.filter(({ from, to }) => to.startsWith('src/pkcs11/') && !from.startsWith('src/pkcs11/') && !from.startsWith('src/cli/')).map(({ from, to }) => `${from} → ${to}`);
    expect(into).toEqual([]);
    expect(EDGES.some(({ from }) => from === 'src/pkcs11/index.ts')).toBe(true);
  });

  it('smime-core/ldap uses only errors, lib, certs and the certs-only reader of cms; only the CLI imports it', () => {
    const allowed = (to: string) => to.startsWith('src/ldap/') || to === 'src/errors.ts' || to.startsWith('src/lib/') || to.startsWith('src/certs/') || to === 'src/cms/certs_only.ts';
    const out = EDGES.filter(({ from, to }) => from.startsWith('src/ldap/') && !allowed(to)).map(({ from, to }) => `${from} → ${to}`);
    expect(out).toEqual([]);
    const into = EDGES.filter(({ from, to }) => to.startsWith('src/ldap/') && !from.startsWith('src/ldap/') && !from.startsWith('src/cli/')).map(({ from, to }) => `${from} → ${to}`);
    expect(into).toEqual([]);
    expect(EDGES.some(({ from }) => from === 'src/ldap/index.ts')).toBe(true);
  });

  it('no runtime import cycle', () => {
    expect(runtimeCycles(EDGES).map((c) => c.join(' → '))).toEqual([]);
  });
});

describe('the layer checks themselves', () => {
  const edge = (from: string, to: string, typeOnly = false): Edge => ({ from, to, edge: { specifier: to, typeOnly, dynamic: false } });

  it('report an upward import, a sideways one between mime and cms, and a type-only one', () => {
    expect(
      layerViolations([
        edge('src/certs/crl.ts', 'src/cms/signed.ts'),
        edge('src/mime/entity.ts', 'src/cms/oids.ts'),
        edge('src/cms/enveloped.ts', 'src/store/store.ts', true),
        edge('src/lib/der.ts', 'src/errors.ts'),
        edge('src/cms/signed.ts', 'src/cms/oids.ts'),
        edge('src/cli/main.ts', 'src/cms/ktri.ts'),
      ]),
    ).toEqual([
      'src/certs/crl.ts → src/cms/signed.ts (certs → cms, up)',
      'src/cms/enveloped.ts → src/store/store.ts (cms → store, up, type-only)',
      'src/mime/entity.ts → src/cms/oids.ts (mime → cms, sideways)',
    ]);
  });

  it('report a runtime cycle with its files, and ignore one closed only by a type-only import', () => {
    expect(
      runtimeCycles([
        edge('src/open.ts', 'src/verify.ts'),
        edge('src/verify.ts', 'src/ops/a.ts'),
        edge('src/ops/a.ts', 'src/open.ts'),
        edge('src/sign.ts', 'src/store/store.ts'),
        edge('src/store/store.ts', 'src/sign.ts', true),
      ]),
    ).toEqual([['src/open.ts', 'src/verify.ts', 'src/ops/a.ts', 'src/open.ts']]);
  });
});
