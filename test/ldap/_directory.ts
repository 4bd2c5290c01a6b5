/** The sample directory of the smime-core/ldap tests: entries for the sample identities in a real slapd. */
import { join } from 'node:path';
import { certificatesFromPem } from './_pem.js';
import { run, VECTORS } from '../_helpers/env.js';
import { manifest } from '../_helpers/identities.js';
import type { SlapdEntry } from '../_helpers/slapd.js';

/** The DER certificate of a sample identity. */
export function der(name: string): Uint8Array {
  return certificatesFromPem(join(VECTORS, manifest.identities[name]!.cert))[0]!;
}

/** A certs-only PKCS#7 of a sample identity's certificate, made by OpenSSL. */
export function p7c(name: string): Uint8Array {
  return run('openssl', ['crl2pkcs7', '-nocrl', '-certfile', join(VECTORS, manifest.identities[name]!.cert), '-outform', 'DER']);
}

function person(uid: string, cn: string, mail: string, extra: SlapdEntry['attributes'] = {}): SlapdEntry {
  return { dn: `uid=${uid},ou=people,dc=example,dc=com`, attributes: { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid, cn, sn: cn.split(' ').pop()!, mail, ...extra } };
}

/**
 * bob: userCertificate;binary; ivan: userSMIMECertificate (a certs-only PKCS#7); alice: her expired 2021 and her
 * current 2025 encryption certificates; carol: an entry without a certificate; dave: his (expired) certificate in
 * a PKCS#7; and a decoy whose mail holds the characters a filter injection would use.
 */
export function sampleEntries(): SlapdEntry[] {
  return [
    { dn: 'ou=people,dc=example,dc=com', attributes: { objectClass: ['top', 'organizationalUnit'], ou: 'people' } },
    person('bob', 'Bob Example', 'bob@example.com', { 'userCertificate;binary': der('bob') }),
    person('ivan', 'Ivan Example', 'Ivan@Example.com', { userSMIMECertificate: p7c('ivan-noski') }),
    person('alice', 'Alice Example', 'alice@example.com', { 'userCertificate;binary': [der('alice-enc-2021'), der('alice-enc-2025')] }),
    person('carol', 'Carol Example', 'carol@example.com'),
    person('dave', 'Dave Example', 'dave@example.com', { userSMIMECertificate: p7c('dave') }),
  ];
}
