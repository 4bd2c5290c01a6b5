/** The one place that loads @peculiar/x509, after the Reflect polyfill it needs. */
import '../lib/reflect.js';
import * as x509 from '@peculiar/x509';

export { x509 };
/**
 * A certificate as `@peculiar/x509` models it: `subject`, `issuer`, `serialNumber`, `notBefore`/`notAfter`,
 * `getExtension()`, `publicKey`, `rawData` (the DER). Every certificate in a public result has this type.
 */
export type X509Certificate = x509.X509Certificate;
