import { it } from 'vitest';
import { startRevocationPki } from '../_helpers/revocation_pki.js';
it('x', async () => { const t=Date.now(); const p = await startRevocationPki(); console.log('started', Date.now()-t, p.ports, p.dir); await p.stop(); console.log('stopped'); }, 60000);
