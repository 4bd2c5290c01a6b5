/** The one place that loads @peculiar/x509, after the Reflect polyfill it needs. */
import '../lib/reflect.js';
import * as x509 from '@peculiar/x509';

export { x509 };
export type X509Certificate = x509.X509Certificate;
