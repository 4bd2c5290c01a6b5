/**
 * The one place that loads @peculiar/x509. Importing src/lib/reflect.ts first gives it (through tsyringe) the
 * Reflect metadata it needs while it loads; once it has loaded, that is removed again, so importing smime-core
 * leaves no `Reflect.getMetadata` behind in the application (test/package/reflect.test.ts).
 */
import { releaseReflectMetadata } from '../lib/reflect.js';
import * as x509 from '@peculiar/x509';

releaseReflectMetadata();

export { x509 };
/**
 * A certificate as `@peculiar/x509` models it: `subject`, `issuer`, `serialNumber`, `notBefore`/`notAfter`,
 * `getExtension()`, `publicKey`, `rawData` (the DER). Every certificate in a public result has this type.
 */
export type X509Certificate = x509.X509Certificate;
