/**
 * @peculiar/x509 (through tsyringe) needs a Reflect metadata polyfill before it is loaded. This is the one module
 * with a side effect; src/certs/x509.ts imports it first. The package declares no `sideEffects` list: bundlers do not
 * match such lists alike (Vite 8 dropped this module with one), and a browser bundle without the polyfill fails at
 * load (test/browser/chromium.test.ts bundles the package with Vite and runs it in Chromium).
 */
import 'reflect-metadata';
