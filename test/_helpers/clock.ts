/**
 * The sample identities' clock for child `node` processes (the built CLI run by `sh`, `spawn`): the environment that
 * preloads test/_helpers/reference_clock.mjs, which starts the child's clock at {@link REFERENCE_DATE}.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO } from './env.js';
import { REFERENCE_DATE } from './identities.js';

const PRELOAD = pathToFileURL(join(REPO, 'test', '_helpers', 'reference_clock.mjs')).href;

/**
 * Environment variables (over `process.env`) for a child `node` whose clock starts at {@link REFERENCE_DATE} and runs
 * on: NODE_OPTIONS gains the preload, SMIME_TEST_CLOCK names the time. Peers (OpenSSL and the rest) keep the real
 * clock: give them the time themselves (`OPENSSL_AT_REFERENCE`).
 */
export function referenceClockEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const options = base.NODE_OPTIONS ? `${base.NODE_OPTIONS} ` : '';
  return { NODE_OPTIONS: `${options}--import=${PRELOAD}`, SMIME_TEST_CLOCK: REFERENCE_DATE.toISOString() };
}
