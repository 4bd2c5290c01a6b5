/**
 * `npm run demo` (dist/cli/demo.js, built by `npm run build`): it runs to the end and tells the story, including
 * issue 15's two scenes: Alice installing her PKCS#12 from a mail she sent herself, Bob's store saved and restored.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { REPO } from '../_helpers/env.js';
import { checkBuilt, sh } from './_sh.js';

describe('npm run demo', () => {
  it('runs to the end; Alice installs her PKCS#12 from the attachment; Bob\'s restored store opens and verifies', async () => {
    checkBuilt();
    const r = await sh('"$NODE" "$DEMO"', { DEMO: join(REPO, 'dist', 'cli', 'demo.js') });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\ndemo finished\n$/);
    expect(r.stdout).toContain('== Alice mails her PKCS#12 to herself and installs it on her new laptop from the attachment');
    expect(r.stdout).toContain('the laptop asks Alice for the password of "alice-enc-2025.p12"');
    expect(r.stdout).toContain('installed identity serial 2004 (valid until 2028-01-01)');
    expect(r.stdout).toContain('trust anchors added by the mail: 0');
    expect(r.stdout).toContain('Bob\'s reply opens on the laptop: "Thanks!"');
    expect(r.stdout).toContain('second run: CertificateStore.import → 1 identity, 1 intermediate, 2 contact, 1 anchor');
    expect(r.stdout).toContain('the signed and encrypted mail still opens: "Hi Bob, the numbers are attached in spirit."; signer alice@example.com: valid');
    expect(r.stdout).toContain("Alice's preferred encryption cert is remembered: serial 2004");
    expect(r.stdout).toContain('a wrong password: ERR_STORE_BAD_PASSWORD');
    // Issue 17: an encrypted message whose Subject is [...] outside and real inside.
    expect(r.stdout).toContain('what every server sees: Subject: [...]');
    expect(r.stdout).toContain('what Bob sees: Subject: Quarterly numbers (hp="cipher", signer alice@example.com: valid)');
  }, 60_000);
});
