/**
 * The optional-peer loader (src/lib/optional_peer.ts) that smime-core/pkcs11 (pkcs11js) and smime-core/ldap (ldapts)
 * share: a package that is not installed, or lacks what the entry uses, is TokenUnavailable (ERR_TOKEN_UNAVAILABLE)
 * naming the peer and its install command, Node's own failure on `cause`; one import shared by concurrent callers;
 * a failure forgotten, so a later call tries again.
 */
import { describe, expect, it } from 'vitest';
import { SmimeError, TokenUnavailable } from '../../src/errors.js';
import { optionalPeer, optionalPeerMissing } from '../../src/lib/optional_peer.js';

/** A package name no registry has (a scope and name npm does not allow: an uppercase letter). */
const NOWHERE = '@smime-core-test/No-Such-Peer';

/** node:os (always there) as a peer, with `pick`. */
const osPeer = <T>(pick: (mod: unknown) => T | undefined) => ({ name: 'node:os', neededBy: 'smime-core/test', install: 'npm install os', pick });
/** node:os's EOL, what the node:os peers below pick. */
const eolOf = (m: unknown) => (m as typeof import('node:os')).EOL;

describe('optionalPeer', () => {
  it('a package that is not installed: TokenUnavailable, ERR_TOKEN_UNAVAILABLE, the peer and the install command', async () => {
    let picked = 0;
    const load = optionalPeer({
      name: NOWHERE,
      neededBy: 'smime-core/test',
      install: 'npm install no-such-peer',
      pick: () => {
        picked++;
        return 1;
      },
    });
    const e = await load().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(TokenUnavailable);
    expect(e).toBeInstanceOf(SmimeError);
    expect((e as TokenUnavailable).code).toBe('ERR_TOKEN_UNAVAILABLE');
    expect((e as Error).message).toBe(`smime-core/test needs the optional peer dependency ${NOWHERE}: npm install no-such-peer`);
    // Node's own failure is kept for whoever debugs it.
    expect(((e as Error).cause as { code?: string }).code).toBe('ERR_MODULE_NOT_FOUND');
    expect(picked).toBe(0);
  });

  it('a label names the peer in the message instead of the package name', async () => {
    const load = optionalPeer({ name: NOWHERE, neededBy: 'smime-core/test', label: 'no-such-peer 8.x', install: 'npm install no-such-peer@8', pick: () => 1 });
    await expect(load()).rejects.toThrow(new TokenUnavailable('smime-core/test needs the optional peer dependency no-such-peer 8.x: npm install no-such-peer@8'));
  });

  it('a module without what the entry uses (pick gives undefined, or throws) is the same error', async () => {
    const hostile = () => {
      throw new Error('a hostile getter');
    };
    for (const pick of [(m: unknown) => (m as { NoSuchExport?: number }).NoSuchExport, hostile]) {
      const e = await optionalPeer(osPeer(pick))().catch((err: unknown) => err);
      expect(e).toBeInstanceOf(TokenUnavailable);
      expect((e as Error).message).toBe('smime-core/test needs the optional peer dependency node:os: npm install os');
      expect((e as Error).cause).toBeInstanceOf(Error);
    }
  });

  it('picks from the module namespace; concurrent and later calls share one import', async () => {
    let picked = 0;
    const load = optionalPeer(
      osPeer((m) => {
        picked++;
        return eolOf(m);
      }),
    );
    const [a, b] = await Promise.all([load(), load()]);
    expect(a).toBe((await import('node:os')).EOL);
    expect(b).toBe(a);
    expect(await load()).toBe(a);
    expect(picked).toBe(1);
  });

  it('a failure is forgotten: every caller that shared it rejects, and the next call imports again', async () => {
    let attempts = 0;
    // Missing at first (as before `npm install`), there afterwards.
    const load = optionalPeer(osPeer((m) => (++attempts === 1 ? undefined : eolOf(m))));
    const first = await Promise.allSettled([load(), load()]);
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(attempts).toBe(1);
    expect(await load()).toBe((await import('node:os')).EOL);
    expect(attempts).toBe(2);
  });

  it('optionalPeerMissing is the one error shape, with its cause', () => {
    const cause = new Error('dlopen failed');
    const e = optionalPeerMissing({ name: 'pkcs11js', neededBy: 'smime-core/pkcs11', install: 'npm install pkcs11js' }, cause);
    expect(e).toBeInstanceOf(TokenUnavailable);
    expect(e.code).toBe('ERR_TOKEN_UNAVAILABLE');
    expect(e.message).toBe('smime-core/pkcs11 needs the optional peer dependency pkcs11js: npm install pkcs11js');
    expect(e.cause).toBe(cause);
  });
});
