/**
 * The commands and options of `smime`: one table, from which the parser and every `--help` text are made, so an
 * option cannot exist without being listed. Each command accepts only its own options; anything else is a usage
 * error (exit 2) with a one-line hint.
 */
import { CONTENT_CIPHERS } from '../index.node.js';
import { EXIT_TABLE } from './exit_codes.js';

/** The commands. */
export const COMMANDS = ['encrypt', 'decrypt', 'sign', 'verify', 'open', 'inspect', 'import', 'certs', 'export-certs'] as const;
/** One command's name. */
export type Command = (typeof COMMANDS)[number];

/** A usage error: exit 2, one line on stderr with a hint to `--help`. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: Command,
  ) {
    super(message);
  }
}

interface OptionSpec {
  name: string;
  /** The value's placeholder; absent for a flag. */
  arg?: string;
  /** The value may be left out (`--oaep` alone means sha256). */
  optionalValue?: boolean;
  /** May be given more than once. */
  multi?: boolean;
  help: string;
  commands: readonly Command[];
}

const MESSAGE: readonly Command[] = ['encrypt', 'decrypt', 'sign', 'verify', 'open'];
const WITH_IDENTITY: readonly Command[] = MESSAGE;
/** The commands that read a --store file (every one but inspect, which reads one file and no store). */
const WITH_STORE: readonly Command[] = [...MESSAGE, 'import', 'certs', 'export-certs'];
/** The commands that write the --store file back (what they learned): created by them when it does not exist. */
export const STORE_WRITERS: readonly Command[] = ['import', 'verify', 'open'];
/** The commands whose PKCS#12 password forms exist: those with --identity, and import (PKCS#12 files it installs). */
const WITH_PKCS12: readonly Command[] = [...WITH_IDENTITY, 'import'];
/** The commands that use a private key, and so may take it from a PKCS#11 token. */
const WITH_TOKEN: readonly Command[] = ['decrypt', 'sign', 'open'];

/** One kind of secret the CLI takes, and the forms it can be given in (secrets.ts reads them). */
export interface SecretKind {
  /** The options' prefix: `password` gives --password-file, --password-env, --password-fd. */
  readonly name: string;
  /** Its short name in messages ("password", "PIN"). */
  readonly noun: string;
  /** What it is, for the help ("the PKCS#12 password"). */
  readonly what: string;
  /** The environment variable read when no option gives it. */
  readonly env: string;
  /** The placeholder of `--NAME VALUE` when that form exists (visible to other users in the process list). */
  readonly onCommandLine?: string;
  /** The commands that take it. */
  readonly commands: readonly Command[];
}

/** The PKCS#12 password of --identity files. */
export const PASSWORD: SecretKind = { name: 'password', noun: 'password', what: 'the PKCS#12 password', env: 'SMIME_PASSWORD', onCommandLine: 'PASS', commands: WITH_PKCS12 };
/** The password of the --store file (it is encrypted and authenticated under it). */
export const STORE_PASSWORD: SecretKind = { name: 'store-password', noun: 'store password', what: "the --store file's password", env: 'SMIME_STORE_PASSWORD', commands: WITH_STORE };
/** The password of the --ldap-bind DN. */
export const LDAP_PASSWORD: SecretKind = { name: 'ldap-password', noun: 'LDAP password', what: "the --ldap-bind DN's password", env: 'SMIME_LDAP_PASSWORD', commands: ['encrypt'] };
/** The PIN of the --pkcs11 token. */
export const PIN: SecretKind = { name: 'pin', noun: 'PIN', what: "the token's PIN", env: 'SMIME_PIN', commands: WITH_TOKEN };

/** The options of a secret: its file, environment and descriptor forms, and the command-line form if it has one. */
function secretOptions(k: SecretKind): OptionSpec[] {
  const opts: OptionSpec[] = [
    { name: `${k.name}-file`, arg: 'FILE', help: `read ${k.what} from the first line of FILE`, commands: k.commands },
    { name: `${k.name}-env`, arg: 'NAME', help: `read ${k.what} from the environment variable NAME`, commands: k.commands },
    { name: `${k.name}-fd`, arg: 'N', help: `read ${k.what} from the first line of file descriptor N`, commands: k.commands },
  ];
  if (k.onCommandLine) opts.push({ name: k.name, arg: k.onCommandLine, help: `${k.what} on the command line (visible to other users: prefer the above)`, commands: k.commands });
  return opts;
}

/** Every option, in the order `--help` lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  { name: 'in', arg: 'FILE', help: 'input (default stdin)', commands: [...MESSAGE, 'inspect'] },
  { name: 'out', arg: 'FILE', help: 'output (default stdout); nothing is written on failure', commands: [...MESSAGE, 'export-certs'] },
  { name: 'fsync', help: 'make --out durable: flushed to the disk before it replaces FILE (survives a crash; slower)', commands: [...MESSAGE, 'export-certs'] },
  { name: 'report', arg: 'FILE|-', help: 'write a JSON report of what was done; - is stdout (then --out is required)', commands: MESSAGE },
  { name: 'store', arg: 'FILE', help: 'a saved store: read; written back by import, verify, open, encrypt --ldap', commands: WITH_STORE },
  ...secretOptions(STORE_PASSWORD),
  { name: 'identity', arg: 'FILE', multi: true, help: 'your PKCS#12 file, or a PEM file with certificate and PKCS#8 key (repeatable)', commands: WITH_IDENTITY },
  ...secretOptions(PASSWORD),
  { name: 'pkcs11', arg: 'MODULE', help: 'also use the keys on a PKCS#11 token, through this module (.so, .dylib, .dll)', commands: WITH_TOKEN },
  { name: 'token', arg: 'LABEL', help: 'the token with this label (default: the only token present)', commands: WITH_TOKEN },
  { name: 'slot', arg: 'N', help: 'the token in slot N (instead of --token)', commands: WITH_TOKEN },
  ...secretOptions(PIN),
  { name: 'cert', arg: 'FILE', multi: true, help: "other people's certificates and intermediates: PEM, DER, PEM bundle, .p7c (repeatable)", commands: [...MESSAGE, 'export-certs'] },
  { name: 'trust', arg: 'FILE', multi: true, help: 'trust anchors (repeatable); import: saved into the store (nothing else becomes one)', commands: [...MESSAGE, 'import'] },
  { name: 'crl', arg: 'FILE', multi: true, help: 'certificate revocation lists, PEM or DER (repeatable)', commands: MESSAGE },
  { name: 'online', arg: 'hard', optionalValue: true, help: 'check revocation online (OCSP, CRL distribution points) and fetch missing intermediates (AIA); unreachable: a note, =hard: untrusted', commands: ['verify', 'open', 'encrypt'] },
  { name: 'offline', help: 'nothing goes to the network (the default)', commands: ['verify', 'open', 'encrypt'] },
  { name: 'allow-weak', help: 'accept SHA-1/MD5 signatures (old mail)', commands: MESSAGE },
  { name: 'min-rsa-bits', arg: 'N', help: 'smallest RSA key accepted (default 2048)', commands: MESSAGE },
  { name: 'to', arg: 'EMAIL', multi: true, help: 'a recipient (repeatable, at least one)', commands: ['encrypt'] },
  { name: 'ldap', arg: 'URL', help: 'look up recipients without a certificate in this LDAP directory (ldap:// or ldaps://)', commands: ['encrypt'] },
  { name: 'ldap-base', arg: 'DN', help: 'where to search the directory (required with --ldap)', commands: ['encrypt'] },
  { name: 'ldap-bind', arg: 'DN', help: 'bind as this DN (default: anonymous)', commands: ['encrypt'] },
  ...secretOptions(LDAP_PASSWORD),
  { name: 'from', arg: 'EMAIL', help: 'encrypt: the sender, who gets a readable copy; sign: the signer (required)', commands: ['encrypt', 'sign'] },
  { name: 'cipher', arg: CONTENT_CIPHERS.join('|'), help: 'content cipher (default: what every recipient advertised, else aes-256-cbc)', commands: ['encrypt'] },
  { name: 'oaep', arg: 'sha1|sha256|sha384|sha512', optionalValue: true, help: 'RSA-OAEP key transport (alone: sha256) instead of PKCS#1 v1.5', commands: ['encrypt'] },
  { name: 'keyid', help: 'name RSA recipients by subject key identifier instead of issuer and serial', commands: ['encrypt'] },
  { name: 'bcc', arg: 'EMAIL', multi: true, help: 'a Bcc recipient (repeatable): each gets a message of their own, written to --out.bcc-EMAIL', commands: ['encrypt'] },
  { name: 'protect-headers', help: 'header protection (RFC 9788): From, To, Subject… go inside the signature or encryption', commands: ['encrypt', 'sign'] },
  { name: 'hcp', arg: 'baseline|shy|none', help: 'with --protect-headers, what stays outside an encrypted message (default baseline: Subject [...]); sign: encryption follows', commands: ['encrypt', 'sign'] },
  { name: 'legacy-display', help: 'with --protect-headers, repeat hidden fields in the text for readers without header protection', commands: ['encrypt', 'sign'] },
  { name: 'opaque', help: 'opaque signed-data instead of multipart/signed', commands: ['sign'] },
  { name: 'digest', arg: 'sha256|sha384|sha512', help: 'digest algorithm (default sha256)', commands: ['sign'] },
  { name: 'pss', help: 'RSASSA-PSS signatures instead of PKCS#1 v1.5', commands: ['sign'] },
  { name: 'at', arg: 'ISO-TIME', help: 'judge certificates at this time instead of now', commands: ['verify', 'open'] },
  { name: 'verify-at', arg: 'now|signing-time', help: "signing-time trusts the signer's claimed signingTime (archives)", commands: ['verify', 'open'] },
  { name: 'email', arg: 'EMAIL', help: 'certs: only the certificates naming this address; export-certs: whose certificates (required)', commands: ['certs', 'export-certs'] },
  { name: 'pem', help: 'write PEM (-----BEGIN PKCS7-----) instead of DER', commands: ['export-certs'] },
  { name: 'json', help: 'print JSON instead of text', commands: ['inspect', 'certs'] },
  { name: 'help', help: 'this help', commands: COMMANDS },
];

const SUMMARY: Record<Command, string> = {
  encrypt: 'smime encrypt --to EMAIL [options]   encrypt a MIME message for its recipients',
  decrypt: 'smime decrypt --identity FILE|--pkcs11 MODULE [options]   decrypt a message with your identity',
  sign: 'smime sign --from EMAIL --identity FILE|--pkcs11 MODULE [options]   sign a MIME message',
  verify: 'smime verify [options]   verify a signed message; exit 1 unless every signer is valid',
  open: 'smime open [options]   unwrap every layer (decrypt, verify) and write the innermost content',
  inspect: 'smime inspect [FILE] [--json]   tell what a file is: certificate, PKCS#12, S/MIME message',
  import: 'smime import --store FILE [options] FILE...   install messages, PKCS#12 files, certificates, .p7c into the store',
  certs: 'smime certs --store FILE [--email EMAIL] [--json]   list the certificates of the store and their roles',
  'export-certs': 'smime export-certs --email EMAIL --out FILE [options]   write the address\'s certificates as a certs-only .p7c',
};

function optionLines(cmd: Command): string {
  const rows = OPTIONS.filter((o) => o.commands.includes(cmd)).map((o) => {
    const value = o.arg ? (o.optionalValue ? ` [${o.arg}]` : ` ${o.arg}`) : '';
    return [`  --${o.name}${value}`, o.help] as const;
  });
  const width = Math.min(36, Math.max(...rows.map(([l]) => l.length)) + 2);
  return rows.map(([l, h]) => (l.length + 2 > width ? `${l}\n${' '.repeat(width)}${h}` : `${l.padEnd(width)}${h}`)).join('\n') + '\n';
}

/** `smime <command> --help`: the command and every one of its options. */
export function commandHelp(cmd: Command): string {
  const pw = PASSWORD.commands.includes(cmd)
    ? `\nWithout a password the empty one is tried (some PKCS#12 files have it), then a prompt without echo when\nstdin is a terminal; ${PASSWORD.env} is read when no option gives one.\n`
    : '';
  const pin = PIN.commands.includes(cmd)
    ? `\nWith --pkcs11, the token's certificates and keys join the --identity files. Without a PIN option,\n${PIN.env} is read, else a prompt without echo when stdin is a terminal.\n`
    : '';
  const store = STORE_PASSWORD.commands.includes(cmd)
    ? `\nWith --store, the store's password comes from its options, else ${STORE_PASSWORD.env}, else a prompt\nwithout echo when stdin is a terminal. A command that writes the store back takes FILE.lock first.\n`
    : '';
  return `usage: ${SUMMARY[cmd]}\n\noptions:\n${optionLines(cmd)}${pw}${pin}${store}\n${EXIT_TABLE}`;
}

/** `smime --help`: the commands. */
export function generalHelp(): string {
  return `usage: smime <command> [options]   (smime <command> --help for its options)

commands:
${COMMANDS.map((c) => `  ${SUMMARY[c]}`).join('\n')}

  smime --version   the version
  smime --help      this help

${EXIT_TABLE}`;
}

/** Parsed arguments: the command, single-valued options and flags, repeatable options, the positional arguments. */
export interface Args {
  command: Command;
  single: Map<string, string | true>;
  multi: Map<string, string[]>;
  positional: string[];
}

/** What the command line asks for: run a command, or print help or the version. */
export type Parsed = { kind: 'run'; args: Args } | { kind: 'help'; command?: Command } | { kind: 'version' };

function isCommand(s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s);
}

/** Parses argv (without node and the script). Throws UsageError. */
export function parseArgs(argv: readonly string[]): Parsed {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('no command given');
  if (first === '--help' || first === '-h' || first === 'help') {
    const c = rest[0];
    if (c !== undefined && !isCommand(c)) throw new UsageError(`unknown command: ${c}`);
    return c === undefined ? { kind: 'help' } : { kind: 'help', command: c };
  }
  if (first === '--version' || first === '-V' || first === 'version') return { kind: 'version' };
  if (first.startsWith('-')) throw new UsageError(`unknown option ${first} (the command comes first)`);
  if (!isCommand(first)) throw new UsageError(`unknown command: ${first}`);
  const command = first;
  const a: Args = { command, single: new Map(), multi: new Map(), positional: [] };
  for (let i = 0; i < rest.length; i++) {
    const tok = rest[i]!;
    if (tok === '-h') return { kind: 'help', command };
    if (tok === '--') {
      a.positional.push(...rest.slice(i + 1));
      break;
    }
    if (tok.startsWith('-') && !tok.startsWith('--') && tok !== '-') throw new UsageError(`unknown option ${tok} for smime ${command}`, command);
    if (!tok.startsWith('--') || tok === '-') {
      a.positional.push(tok);
      continue;
    }
    let name = tok.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = OPTIONS.find((o) => o.name === name);
    if (!spec || !spec.commands.includes(command)) {
      const elsewhere = spec ? ` (it belongs to smime ${spec.commands.join(', ')})` : '';
      throw new UsageError(`unknown option --${name} for smime ${command}${elsewhere}`, command);
    }
    if (name === 'help') return { kind: 'help', command };
    if (!spec.arg) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`, command);
      a.single.set(name, true);
      continue;
    }
    if (spec.optionalValue) {
      if (value === undefined && rest[i + 1] !== undefined && !rest[i + 1]!.startsWith('--')) value = rest[++i];
      a.single.set(name, value ?? true);
      continue;
    }
    if (value === undefined) {
      value = rest[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value (${spec.arg})`, command);
    }
    if (spec.multi) a.multi.set(name, [...(a.multi.get(name) ?? []), value]);
    else if (a.single.has(name)) throw new UsageError(`--${name} given twice`, command);
    else a.single.set(name, value);
  }
  if (command === 'import' && a.positional.length === 0) throw new UsageError('import needs at least one FILE', command);
  if (command !== 'inspect' && command !== 'import' && a.positional.length > 0) throw new UsageError(`unexpected argument: ${a.positional[0]} (the input is --in FILE)`, command);
  if (command === 'inspect' && a.positional.length > 1) throw new UsageError('inspect takes one FILE', command);
  return { kind: 'run', args: a };
}

/** The hint after a usage error: one line. */
export function usageHint(e: UsageError): string {
  return `smime: ${e.message} (see 'smime ${e.command ?? ''}${e.command ? ' ' : ''}--help')\n`;
}
