#!/usr/bin/env node
/**
 * npm run interop:report — runs the interop tests with vitest's JSON reporter and writes docs/interop.md: the
 * interop matrix, rows peer × operation × algorithm, one column per direction (the peer's message opened by
 * smime-core; smime-core's message opened by the peer), each cell pass, FAIL, or the peer's named limit, and totals.
 *
 *   node scripts/interop-report.mjs                 run the tests, write docs/interop.md
 *   node scripts/interop-report.mjs --from R.json   render from an existing vitest JSON report instead
 *   node scripts/interop-report.mjs --out FILE      write elsewhere (default docs/interop.md)
 *
 * Cells come from the tags that start the test names of test/interop/matrix-*.test.ts,
 * `[peer|in|operation|algorithm]` or `[peer|out|…]`; a test named `… limit: TEXT` checks that a peer's known limit
 * still holds (the peer fails), and its cell says so. The NSS and gpgsm signature tests of test/sign/interop-*.test.ts
 * are mapped to cells by the table SIGN_TESTS below. Every other interop test is summed up per file.
 * Exits non-zero when a test failed (the report is written anyway).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MATRIX_FILES = ['test/interop/matrix-inbound.test.ts', 'test/interop/matrix-outbound.test.ts'];
const OTHER_FILES = [
  'test/sign/interop-nss.test.ts',
  'test/sign/interop-gpgsm.test.ts',
  'test/interop/openssl-envelope.test.ts',
  'test/interop/public-envelope.test.ts',
  'test/interop/compressed.test.ts',
];

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outFile = resolve(REPO, opt('--out') ?? 'docs/interop.md');

// ---------------------------------------------------------------------------------------------------------------
// run the tests

let jsonFile = opt('--from');
let vitestStatus = 0;
if (!jsonFile) {
  const dir = mkdtempSync(join(tmpdir(), 'smime-interop-report-'));
  jsonFile = join(dir, 'vitest.json');
  const files = [...MATRIX_FILES, ...OTHER_FILES].filter((f) => existsSync(join(REPO, f)));
  const vitest = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');
  console.log(`interop-report: vitest run ${files.join(' ')}`);
  const r = spawnSync(process.execPath, [vitest, 'run', ...files, '--reporter=json', `--outputFile=${jsonFile}`, '--reporter=dot'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  vitestStatus = r.status ?? 1;
  if (!existsSync(jsonFile)) {
    console.error('interop-report: vitest wrote no JSON report');
    process.exit(vitestStatus || 1);
  }
}
const report = JSON.parse(readFileSync(jsonFile, 'utf8'));

// ---------------------------------------------------------------------------------------------------------------
// tests → cells

/** The NSS and gpgsm signature tests of test/sign (a test PKI made at test time, not vectors/): name → tag. */
const SIGN_TESTS = [
  [/^NSS cmsutil → smime-core RSA opaque verifies/, 'nss|in|signature|RSA SHA-256, opaque'],
  [/^NSS cmsutil → smime-core RSA detached \(-T\) verifies/, 'nss|in|signature|RSA SHA-256, detached'],
  [/^NSS cmsutil → smime-core ECDSA P-256 opaque verifies/, 'nss|in|signature|ECDSA P-256 SHA-256, opaque'],
  [/^NSS cmsutil → smime-core ECDSA P-256 detached \(-T\) verifies/, 'nss|in|signature|ECDSA P-256 SHA-256, detached'],
  [/^NSS cmsutil → smime-core the encryption key preference/, 'nss|in|signature|RSA SHA-256, opaque, key preference'],
  [/^smime-core → NSS cmsutil -D RSA opaque:/, 'nss|out|signature|RSA SHA-256, opaque'],
  [/^smime-core → NSS cmsutil -D RSA detached:/, 'nss|out|signature|RSA SHA-256, detached'],
  [/^smime-core → NSS cmsutil -D RSA SHA-384 detached:/, 'nss|out|signature|RSA SHA-384, detached'],
  [/^smime-core → NSS cmsutil -D ECDSA P-256 opaque:/, 'nss|out|signature|ECDSA P-256 SHA-256, opaque'],
  [/^smime-core → NSS cmsutil -D ECDSA P-256 detached:/, 'nss|out|signature|ECDSA P-256 SHA-256, detached'],
  [/^smime-core → NSS cmsutil -D ECDSA P-384 detached:/, 'nss|out|signature|ECDSA P-384 SHA-384, detached'],
  [/^smime-core → NSS cmsutil -D a tampered one/, 'nss|out|signature status|RSA SHA-256, detached → invalid'],
  [/^gpgsm → smime-core RSA detached verifies/, 'gpgsm|in|signature|RSA SHA-256, detached'],
  [/^gpgsm → smime-core RSA opaque verifies/, 'gpgsm|in|signature|RSA SHA-256, opaque'],
  [/^smime-core → gpgsm --verify RSA detached:/, 'gpgsm|out|signature|RSA SHA-256, detached'],
  [/^smime-core → gpgsm --verify RSA opaque:/, 'gpgsm|out|signature|RSA SHA-256, opaque'],
  [/^smime-core → gpgsm --verify ECDSA P-256 detached:/, 'gpgsm|out|signature|ECDSA P-256 SHA-256, detached'],
  [/^smime-core → gpgsm --verify ECDSA P-256 opaque:/, 'gpgsm|out|signature|ECDSA P-256 SHA-256, opaque'],
  [/^smime-core → gpgsm --verify a tampered one/, 'gpgsm|out|signature status|RSA SHA-256, detached → invalid'],
];

/** Cells that have no test because smime-core itself does not make that kind of message. */
const NOT_APPLICABLE = [
  { dir: 'out', op: 'encryption', alg: /3DES/, text: 'n/a: smime-core decrypts 3DES but does not encrypt with it' },
  { dir: 'out', op: 'signature status', alg: /→ expired$/, text: 'n/a: smime-core does not sign with an expired certificate' },
  { dir: 'out', op: 'signature status', alg: /→ untrusted$/, text: "n/a: trust is the verifier's configuration" },
];

const PEERS = {
  openssl: { name: 'OpenSSL', version: () => run('openssl', ['version']).split(' ').slice(0, 2).join(' ') },
  nss: { name: 'NSS (cmsutil)', version: () => `NSS ${run('nss-config', ['--version']) || run('pkg-config', ['--modversion', 'nss'])}` },
  gpgsm: { name: 'GnuPG (gpgsm)', version: () => run('gpgsm', ['--version']).split('\n')[0] ?? '' },
  bc: {
    name: 'Bouncy Castle',
    version: () => {
      try {
        const jar = readlinkSync('/usr/share/java/bcprov.jar');
        const v = /bcprov-([\d.]+)\.jar/.exec(jar)?.[1];
        const java = /version "([^"]+)"/.exec(spawnSync('java', ['-version'], { encoding: 'utf8' }).stderr ?? '')?.[1];
        return `Bouncy Castle ${v ?? '?'}${java ? ` on Java ${java}` : ''}`;
      } catch {
        return 'Bouncy Castle (not installed)';
      }
    },
  },
};
const PEER_ORDER = Object.keys(PEERS);
const OP_ORDER = ['encryption', 'signature', 'signature status', 'signed then encrypted', 'PKCS#12 import', 'compressed data'];

function run(cmd, a) {
  const r = spawnSync(cmd, a, { encoding: 'utf8' });
  return r.error ? '' : String(r.stdout || r.stderr || '').trim();
}

const cells = new Map(); // "peer|op|alg" → { in: Cell, out: Cell }
const others = new Map(); // file → { passed, failed, skipped }
const failures = [];

function cellFor(peer, dir, op, alg) {
  const k = `${peer}|${op}|${alg}`;
  let row = cells.get(k);
  if (!row) cells.set(k, (row = { peer, op, alg, in: undefined, out: undefined }));
  row[dir] ??= { passed: 0, failed: 0, skipped: 0, limit: undefined, limitFailed: false, known: [] };
  return row[dir];
}

for (const file of report.testResults ?? []) {
  const rel = relative(REPO, file.name).split('\\').join('/');
  for (const t of file.assertionResults ?? []) {
    const status = t.status === 'passed' ? 'passed' : t.status === 'failed' ? 'failed' : 'skipped';
    const full = [...(t.ancestorTitles ?? []), t.title].join(' ');
    let tag = /^\[([^|\]]+)\|(in|out)\|([^|\]]+)\|([^\]]+)\]/.exec(t.title);
    let parts;
    if (tag) parts = [tag[1], tag[2], tag[3], tag[4]];
    else {
      const m = SIGN_TESTS.find(([re]) => re.test(full));
      if (m) parts = m[1].split('|');
    }
    if (!parts) {
      const o = others.get(rel) ?? { passed: 0, failed: 0, skipped: 0 };
      o[status]++;
      others.set(rel, o);
      if (status === 'failed') failures.push({ file: rel, name: full, message: firstLine(t.failureMessages) });
      continue;
    }
    const [peer, dir, op, alg] = parts;
    const c = cellFor(peer, dir, op, alg);
    const limit = /\blimit: (.*)$/.exec(t.title)?.[1];
    const known = /\[KNOWN FAILURE: (.*)\]$/.exec(t.title)?.[1];
    if (limit) {
      c.limit = limit;
      if (status === 'failed') c.limitFailed = true;
    }
    if (known && status === 'passed') c.known.push(known);
    c[status]++;
    if (status === 'failed') failures.push({ file: rel, name: full, message: firstLine(t.failureMessages) });
  }
}

function firstLine(msgs) {
  const m = String((msgs ?? [])[0] ?? '').split('\n')[0] ?? '';
  return m.replace(/\x1b\[[0-9;]*m/g, '').slice(0, 300);
}

function verdict(c, row, dir) {
  if (!c) {
    const na = NOT_APPLICABLE.find((n) => n.dir === dir && n.op === row.op && n.alg.test(row.alg));
    return na ? { kind: 'n/a', text: na.text } : { kind: 'none', text: '—' };
  }
  const n = c.passed + c.failed;
  if (c.limit) {
    if (c.limitFailed) return { kind: 'fail', text: `**FAIL**: the limit "${c.limit}" no longer holds` };
    if (c.failed) return { kind: 'fail', text: `**FAIL** (${c.failed} of ${n})` };
    if (!c.passed) return { kind: 'skipped', text: 'skipped (peer not installed)' };
    return { kind: 'limit', text: `limit: ${c.limit}` };
  }
  if (c.failed) return { kind: 'fail', text: `**FAIL** (${c.failed} of ${n})` };
  if (!c.passed) return { kind: 'skipped', text: 'skipped (peer not installed)' };
  if (c.known.length) return { kind: 'known', text: `known failure: ${[...new Set(c.known)].join('; ')}` };
  return { kind: 'pass', text: `pass (${c.passed})` };
}

// ---------------------------------------------------------------------------------------------------------------
// the document

const rows = [...cells.values()].sort(
  (a, b) =>
    PEER_ORDER.indexOf(a.peer) - PEER_ORDER.indexOf(b.peer) ||
    OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op) ||
    a.op.localeCompare(b.op) ||
    a.alg.localeCompare(b.alg),
);
const totals = { pass: 0, fail: 0, limit: 0, known: 0, skipped: 0, 'n/a': 0, none: 0 };
const perPeer = {};
const esc = (s) => String(s).replaceAll('|', '\\|');
const lines = [];
let tests = 0;
for (const r of rows) {
  for (const d of ['in', 'out']) {
    const c = r[d];
    if (c) tests += c.passed + c.failed;
  }
}

const versions = Object.fromEntries(PEER_ORDER.map((p) => [p, PEERS[p].version()]));
const when = new Date().toISOString().slice(0, 10);

lines.push('# Interop matrix');
lines.push('');
lines.push(
  `Generated by \`npm run interop:report\` (scripts/interop-report.mjs) on ${when} from a vitest run of ` +
    `${MATRIX_FILES.map((f) => `\`${f}\``).join(', ')} and the interop tests of ${OTHER_FILES.map((f) => `\`${f}\``).join(', ')}. ` +
    'Do not edit by hand: rerun the script.',
);
lines.push('');
lines.push('Peers at this run:');
lines.push('');
for (const p of PEER_ORDER) lines.push(`- **${PEERS[p].name}**: ${versions[p] || 'not installed'}`);
lines.push('');
lines.push(
  '**peer → smime-core**: a message the peer made (committed in `vectors/`, made by `vectors/generate.sh` and ' +
    '`vectors/generate-peers.sh`, described in `vectors/manifest.json`) opened by smime-core through the API and the ' +
    '`smime` CLI, checking the content, the signer and status, or the error; for NSS and gpgsm signatures also messages ' +
    'the peer makes at test time. **smime-core → peer**: a message smime-core makes at test time, opened by the peer ' +
    '(`openssl cms`, `cmsutil -D`, `gpgsm`, `vectors/java/SmimePeer.java`). A cell says **pass** (with the number of ' +
    'tests), **FAIL**, or **limit**: the peer cannot do it, and a test checks that it still cannot (so the cell turns ' +
    'to FAIL when a newer peer can). — means no test.',
);
lines.push('');

const tableFor = (peer) => {
  const out = [];
  out.push('| Operation | Algorithm | peer → smime-core | smime-core → peer |');
  out.push('|---|---|---|---|');
  for (const r of rows.filter((x) => x.peer === peer)) {
    const vin = verdict(r.in, r, 'in');
    const vout = verdict(r.out, r, 'out');
    for (const v of [vin, vout]) {
      totals[v.kind]++;
      perPeer[peer] ??= { pass: 0, fail: 0, limit: 0, known: 0, skipped: 0, 'n/a': 0, none: 0 };
      perPeer[peer][v.kind]++;
    }
    out.push(`| ${esc(r.op)} | ${esc(r.alg)} | ${esc(vin.text)} | ${esc(vout.text)} |`);
  }
  return out;
};

const body = [];
for (const p of PEER_ORDER) {
  if (!rows.some((r) => r.peer === p)) continue;
  body.push(`## ${PEERS[p].name} — ${versions[p] || 'not installed'}`);
  body.push('');
  body.push(...tableFor(p));
  body.push('');
}

lines.push('## Totals');
lines.push('');
lines.push(
  `${tests} tests in ${rows.length} rows. Cells: **${totals.pass} pass**, **${totals.fail} fail**, ` +
    `**${totals.limit} peer limits** (checked), ${totals.known} known failures, ${totals.skipped} skipped, ` +
    `${totals['n/a']} not applicable, ${totals.none} without a test.`,
);
lines.push('');
lines.push('| Peer | pass | fail | limit | known failure | skipped |');
lines.push('|---|---|---|---|---|---|');
for (const p of PEER_ORDER) {
  const t = perPeer[p];
  if (t) lines.push(`| ${PEERS[p].name} | ${t.pass} | ${t.fail} | ${t.limit} | ${t.known} | ${t.skipped} |`);
}
lines.push('');
lines.push(...body);

// the peers' limits as the generator saw them
const manifest = JSON.parse(readFileSync(join(REPO, 'vectors', 'manifest.json'), 'utf8'));
if (Array.isArray(manifest.peerLimits) && manifest.peerLimits.length) {
  lines.push('## Peer limits seen by vectors/generate-peers.sh');
  lines.push('');
  lines.push('| Peer | Operation | Limit | Command (from `vectors/`) | Error |');
  lines.push('|---|---|---|---|---|');
  for (const l of manifest.peerLimits) {
    lines.push(`| ${esc(l.peer)} | ${esc(l.operation)} | ${esc(l.limit)} | \`${esc(l.command)}\` | ${esc(l.error)} |`);
  }
  lines.push('');
}

if (others.size) {
  lines.push('## Other interop tests');
  lines.push('');
  lines.push('| File | passed | failed | skipped |');
  lines.push('|---|---|---|---|');
  for (const [f, o] of [...others.entries()].sort()) lines.push(`| \`${f}\` | ${o.passed} | ${o.failed} | ${o.skipped} |`);
  lines.push('');
}

if (failures.length) {
  lines.push('## Failures');
  lines.push('');
  for (const f of failures) lines.push(`- \`${f.file}\`: ${esc(f.name)} — ${esc(f.message)}`);
  lines.push('');
}

// no path of this machine in the document
let doc = lines.join('\n');
for (const p of [REPO, tmpdir()]) doc = doc.split(p).join('…');
writeFileSync(outFile, doc);
console.log(
  `interop-report: wrote ${relative(REPO, outFile)}: ${tests} tests, ${totals.pass} pass, ${totals.fail} fail, ${totals.limit} limits, ${totals.skipped} skipped`,
);
process.exit(vitestStatus || (totals.fail ? 1 : 0));
