/**
 * @peculiar/x509 (through tsyringe) needs a Reflect metadata polyfill before it is loaded. This is the one module
 * with a side effect (listed under `sideEffects` in package.json); src/certs/x509.ts imports it first.
 */
import 'reflect-metadata';
