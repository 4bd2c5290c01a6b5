/*
 * SmimePeer: the Bouncy Castle peer of the smime-core interop matrix (see ../README.md and ../generate-peers.sh).
 *
 * A small command-line program over Bouncy Castle's CMS API (bcprov, bcpkix, bcutil), compiled at run time:
 *
 *   javac -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar -d OUT SmimePeer.java
 *   java  -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar:OUT SmimePeer CMD ...
 *
 * It reads and writes raw DER ContentInfo (no MIME: the callers wrap and unwrap it). Keys are unencrypted PKCS#8
 * PEM, certificates PEM. Commands:
 *
 *   encrypt  --recip CERT [--recip CERT...] --in FILE --out DER
 *            [--auth] [--cipher aes128-cbc|aes256-cbc|aes128-gcm|aes256-gcm] [--oaep sha1|sha256] [--ski]
 *            [--kdf sha1|sha256|sha384|sha512] [--wrap aes128|aes256]
 *       EnvelopedData, or AuthEnvelopedData with --auth (or a -gcm cipher). RSA recipients get
 *       KeyTransRecipientInfo (PKCS#1 v1.5, or RSAES-OAEP with --oaep: the OAEP hash also for MGF1); EC P-256/384/521
 *       and X25519 recipients get KeyAgreeRecipientInfo (ephemeral-static, dhSinglePass-stdDH-<kdf>kdf-scheme).
 *
 *   sign     --cert CERT --key KEY [--chain PEM] --in FILE --out DER
 *            [--detached] [--ski] [--digest SHA-256|SHA-384|SHA-512] [--pss] [--caps] [--keypref CERT]
 *       SignedData with one signer (RSA PKCS#1 v1.5 or PSS, ECDSA, Ed25519). --ski identifies the signer by
 *       subjectKeyIdentifier (SignerInfo version 3); --caps adds SMIMECapabilities; --keypref adds the RFC 8551
 *       SMIMEEncryptionKeyPreference naming CERT by issuer and serial number.
 *
 *   decrypt  --cert CERT --key KEY --in DER --out FILE
 *       Opens EnvelopedData or AuthEnvelopedData for the recipient whose identifier matches CERT.
 *
 *   verify   --in DER [--content FILE] --trust ROOT [--certs PEM] [--out FILE]
 *       Verifies every signer (signature, then the certification path to ROOT at the signing time, without
 *       revocation checks). Writes the encapsulated content to --out for an opaque signature.
 *
 *   describe --in DER [--in DER...]
 *       Prints the structure of each, one JSON object a line: content type, content encryption, each RecipientInfo (type,
 *       identifier, key encryption with its OAEP hashes or key wrap), or each SignerInfo (identifier, digest,
 *       signature, signed attribute types) and whether the content is encapsulated. OIDs only.
 *
 *   certs    --in DER
 *       Reads a SignedData with CMSSignedData and prints "signers N" then each certificate of its certificates field
 *       as one line of base64 DER (a certs-only .p7c has no signer).
 *
 *   certs-only --cert PEM [--cert PEM...] --out DER
 *       Writes a certs-only SignedData (RFC 8551 §3.6: no signer, no content) holding every certificate of the PEM
 *       files, with CMSSignedDataGenerator over CMSAbsentContent, as BC encodes it by default.
 *
 *   compress --in FILE --out DER [--stream]
 *       CompressedData (RFC 3274) of FILE with CMSCompressedDataGenerator and ZlibCompressor (DER, eContentType
 *       id-data), or with --stream CMSCompressedDataStreamGenerator (BER: indefinite lengths, a constructed OCTET
 *       STRING).
 *
 *   uncompress --in DER --out FILE
 *       Reads a CompressedData with CMSCompressedData and writes its content expanded with ZlibExpanderProvider.
 *
 *   issue    --ca-cert CERT --ca-key KEY --pub PUBKEY --subject DN --email ADDR --serial HEX
 *            --not-before YYYY-MM-DD --not-after YYYY-MM-DD --ku LIST --out CERT
 *       An S/MIME end-entity certificate (sha256WithRSAEncryption) for a public key OpenSSL 3.0 cannot put in a
 *       request (X25519): basicConstraints CA:FALSE, keyUsage (critical), extendedKeyUsage emailProtection,
 *       subjectAltName, subjectKeyIdentifier and authorityKeyIdentifier, as vectors/pki/openssl.cnf's v3_smime.
 *
 * Every command prints one line of facts on stdout (content type, algorithms, signer, status) and exits 0 on
 * success; on failure it prints "error: ..." on stderr and exits 1 (2 for usage errors).
 *
 *   serve
 *       Runs commands read from stdin, one a line (its arguments separated by tabs), one after the other in this one
 *       JVM (the tests' runner, test/_helpers/peers.ts: starting a JVM per command was most of their time). For each
 *       it writes a line "STATUS OUT-LENGTH ERR-LENGTH", then the bytes the command printed on stdout and stderr.
 */

import java.io.ByteArrayInputStream;
import java.io.FileReader;
import java.io.IOException;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Security;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import javax.crypto.spec.OAEPParameterSpec;
import javax.crypto.spec.PSource;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.DERSet;
import org.bouncycastle.asn1.cms.Attribute;
import org.bouncycastle.asn1.cms.AttributeTable;
import org.bouncycastle.asn1.cms.CMSAttributes;
import org.bouncycastle.asn1.cms.ContentInfo;
import org.bouncycastle.asn1.cms.IssuerAndSerialNumber;
import org.bouncycastle.asn1.cms.Time;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.smime.SMIMEAttributes;
import org.bouncycastle.asn1.smime.SMIMECapabilitiesAttribute;
import org.bouncycastle.asn1.smime.SMIMECapabilityVector;
import org.bouncycastle.asn1.smime.SMIMEEncryptionKeyPreferenceAttribute;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cms.CMSAlgorithm;
import org.bouncycastle.cms.CMSAuthEnvelopedData;
import org.bouncycastle.cms.CMSAuthEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSEnvelopedData;
import org.bouncycastle.cms.CMSEnvelopedDataGenerator;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.CMSTypedData;
import org.bouncycastle.cms.DefaultSignedAttributeTableGenerator;
import org.bouncycastle.cms.KeyAgreeRecipientInformation;
import org.bouncycastle.cms.KeyTransRecipientInformation;
import org.bouncycastle.cms.RecipientInformation;
import org.bouncycastle.cms.RecipientInformationStore;
import org.bouncycastle.cms.SignerId;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.cms.jcajce.JceCMSContentEncryptorBuilder;
import org.bouncycastle.cms.jcajce.JceKeyAgreeEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyAgreeRecipientInfoGenerator;
import org.bouncycastle.cms.jcajce.JceKeyTransEnvelopedRecipient;
import org.bouncycastle.cms.jcajce.JceKeyTransRecipientInfoGenerator;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OutputEncryptor;
import org.bouncycastle.operator.jcajce.JcaAlgorithmParametersConverter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

public final class SmimePeer {
    private static final String BC = "BC";

    static final class Usage extends Exception {
        Usage(String m) { super(m); }
    }

    public static void main(String[] argv) throws IOException {
        Security.addProvider(new BouncyCastleProvider());
        if (argv.length == 1 && argv[0].equals("serve")) serve();
        else System.exit(run(argv));
    }

    /** One command: its exit status. */
    static int run(String[] argv) {
        if (argv.length == 0) {
            System.err.println("usage: SmimePeer encrypt|sign|decrypt|verify|issue [options] (see the source)");
            return 2;
        }
        try {
            Map<String, List<String>> o = options(argv);
            switch (argv[0]) {
                case "encrypt": encrypt(o); break;
                case "sign": sign(o); break;
                case "decrypt": decrypt(o); break;
                case "verify": return verify(o);
                case "issue": issue(o); break;
                case "describe": describe(o); break;
                case "certs": certsOf(o); break;
                case "certs-only": certsOnly(o); break;
                case "compress": compress(o); break;
                case "uncompress": uncompress(o); break;
                default: throw new Usage("unknown command " + argv[0]);
            }
            return 0;
        } catch (Usage u) {
            System.err.println("usage error: " + u.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println("error: " + e);
            for (Throwable c = e.getCause(); c != null; c = c.getCause()) System.err.println("  cause: " + c);
            return 1;
        }
    }

    /** The serve command (see the top of this file). */
    static void serve() throws IOException {
        java.io.PrintStream stdout = System.out;
        java.io.PrintStream stderr = System.err;
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
            System.setOut(new java.io.PrintStream(out, true));
            System.setErr(new java.io.PrintStream(err, true));
            int status;
            try {
                status = run(line.isEmpty() ? new String[0] : line.split("\t", -1));
            } catch (Throwable t) {
                System.err.println("error: " + t);
                status = 1;
            } finally {
                System.out.flush();
                System.err.flush();
                System.setOut(stdout);
                System.setErr(stderr);
            }
            byte[] o = out.toByteArray();
            byte[] e = err.toByteArray();
            stdout.write((status + " " + o.length + " " + e.length + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            stdout.write(o);
            stdout.write(e);
            stdout.flush();
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // options and files

    private static Map<String, List<String>> options(String[] argv) throws Usage {
        Map<String, List<String>> o = new HashMap<>();
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) throw new Usage("unexpected argument " + a);
            String name = a.substring(2);
            String value = "true";
            if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) value = argv[++i];
            o.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return o;
    }

    private static String req(Map<String, List<String>> o, String name) throws Usage {
        List<String> v = o.get(name);
        if (v == null || v.get(0).equals("true")) throw new Usage("--" + name + " is required");
        return v.get(0);
    }

    private static String opt(Map<String, List<String>> o, String name, String dflt) {
        List<String> v = o.get(name);
        return v == null ? dflt : v.get(0);
    }

    private static boolean flag(Map<String, List<String>> o, String name) {
        return o.containsKey(name);
    }

    private static byte[] read(String f) throws IOException {
        return Files.readAllBytes(Paths.get(f));
    }

    private static void write(String f, byte[] b) throws IOException {
        Files.write(Paths.get(f), b);
    }

    private static List<X509Certificate> certs(String file) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter().setProvider(BC);
        try (Reader r = new FileReader(file); PEMParser p = new PEMParser(r)) {
            for (Object x = p.readObject(); x != null; x = p.readObject()) {
                if (x instanceof X509CertificateHolder) out.add(conv.getCertificate((X509CertificateHolder) x));
            }
        }
        if (out.isEmpty()) throw new IOException("no certificate in " + file);
        return out;
    }

    private static X509Certificate cert(String file) throws Exception {
        return certs(file).get(0);
    }

    private static PrivateKey key(String file) throws Exception {
        try (Reader r = new FileReader(file); PEMParser p = new PEMParser(r)) {
            Object x = p.readObject();
            if (x instanceof PrivateKeyInfo) return new JcaPEMKeyConverter().setProvider(BC).getPrivateKey((PrivateKeyInfo) x);
            throw new IOException("not an unencrypted PKCS#8 key: " + file);
        }
    }

    private static PublicKey publicKey(String file) throws Exception {
        try (Reader r = new FileReader(file); PEMParser p = new PEMParser(r)) {
            Object x = p.readObject();
            if (x instanceof SubjectPublicKeyInfo) return new JcaPEMKeyConverter().setProvider(BC).getPublicKey((SubjectPublicKeyInfo) x);
            throw new IOException("not a public key: " + file);
        }
    }

    private static byte[] ski(X509Certificate c) throws IOException {
        byte[] ext = c.getExtensionValue(Extension.subjectKeyIdentifier.getId());
        if (ext == null) throw new IOException("certificate has no subjectKeyIdentifier: " + c.getSubjectX500Principal());
        return ASN1OctetString.getInstance(ASN1OctetString.getInstance(ext).getOctets()).getOctets();
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x & 0xff));
        return s.toString();
    }

    private static String kind(PublicKey k) {
        if (k instanceof RSAPublicKey) return "rsa";
        if (k instanceof ECPublicKey) return "ec";
        String a = k.getAlgorithm();
        if (a.equalsIgnoreCase("X25519") || a.equalsIgnoreCase("XDH")) return "x25519";
        if (a.equalsIgnoreCase("Ed25519") || a.equalsIgnoreCase("EdDSA")) return "ed25519";
        return a.toLowerCase();
    }

    // ------------------------------------------------------------------------------------------------------------
    // encrypt

    private static ASN1ObjectIdentifier cipherOid(String name) throws Usage {
        switch (name) {
            case "aes128-cbc": return CMSAlgorithm.AES128_CBC;
            case "aes192-cbc": return CMSAlgorithm.AES192_CBC;
            case "aes256-cbc": return CMSAlgorithm.AES256_CBC;
            case "aes128-gcm": return CMSAlgorithm.AES128_GCM;
            case "aes192-gcm": return CMSAlgorithm.AES192_GCM;
            case "aes256-gcm": return CMSAlgorithm.AES256_GCM;
            default: throw new Usage("unknown cipher " + name);
        }
    }

    private static ASN1ObjectIdentifier kdfOid(String name) throws Usage {
        switch (name) {
            case "sha1": return CMSAlgorithm.ECDH_SHA1KDF;
            case "sha224": return CMSAlgorithm.ECDH_SHA224KDF;
            case "sha256": return CMSAlgorithm.ECDH_SHA256KDF;
            case "sha384": return CMSAlgorithm.ECDH_SHA384KDF;
            case "sha512": return CMSAlgorithm.ECDH_SHA512KDF;
            default: throw new Usage("unknown kdf " + name);
        }
    }

    private static void encrypt(Map<String, List<String>> o) throws Exception {
        boolean auth = flag(o, "auth") || opt(o, "cipher", "").endsWith("-gcm");
        String cipher = opt(o, "cipher", auth ? "aes256-gcm" : "aes256-cbc");
        byte[] data = read(req(o, "in"));
        List<String> recips = o.get("recip");
        if (recips == null) throw new Usage("--recip is required");
        OutputEncryptor enc = new JceCMSContentEncryptorBuilder(cipherOid(cipher)).setProvider(BC).build();
        List<org.bouncycastle.cms.RecipientInfoGenerator> gens = new ArrayList<>();
        StringBuilder facts = new StringBuilder();
        for (String rf : recips) {
            X509Certificate rc = cert(rf);
            PublicKey pub = rc.getPublicKey();
            String k = kind(pub);
            if (k.equals("rsa")) {
                JceKeyTransRecipientInfoGenerator g;
                String oaep = opt(o, "oaep", null);
                if (oaep != null) {
                    String h = oaep.equals("sha1") ? "SHA-1" : oaep.equals("sha256") ? "SHA-256" : oaep.equals("sha384") ? "SHA-384" : "SHA-512";
                    OAEPParameterSpec spec = new OAEPParameterSpec(h, "MGF1", new MGF1ParameterSpec(h), PSource.PSpecified.DEFAULT);
                    AlgorithmIdentifier ai = new JcaAlgorithmParametersConverter().getAlgorithmIdentifier(PKCSObjectIdentifiers.id_RSAES_OAEP, spec);
                    g = flag(o, "ski") ? new JceKeyTransRecipientInfoGenerator(ski(rc), ai, pub) : new JceKeyTransRecipientInfoGenerator(rc, ai);
                    facts.append(" ktri=rsaes-oaep-").append(oaep);
                } else {
                    g = flag(o, "ski") ? new JceKeyTransRecipientInfoGenerator(ski(rc), pub) : new JceKeyTransRecipientInfoGenerator(rc);
                    facts.append(" ktri=rsaEncryption");
                }
                gens.add(g.setProvider(BC));
            } else if (k.equals("ec") || k.equals("x25519")) {
                KeyPairGenerator kpg;
                String kdf;
                if (k.equals("ec")) {
                    int bits = ((ECPublicKey) pub).getParams().getCurve().getField().getFieldSize();
                    String curve = bits <= 256 ? "P-256" : bits <= 384 ? "P-384" : "P-521";
                    kpg = KeyPairGenerator.getInstance("EC", BC);
                    kpg.initialize(new ECGenParameterSpec(curve));
                    kdf = opt(o, "kdf", bits <= 256 ? "sha256" : bits <= 384 ? "sha384" : "sha512");
                } else {
                    kpg = KeyPairGenerator.getInstance("X25519", BC);
                    kdf = opt(o, "kdf", "sha256");
                }
                String wrap = opt(o, "wrap", k.equals("x25519") || kdf.equals("sha256") ? "aes128" : "aes256");
                KeyPair eph = kpg.generateKeyPair();
                JceKeyAgreeRecipientInfoGenerator g = new JceKeyAgreeRecipientInfoGenerator(kdfOid(kdf), eph.getPrivate(), eph.getPublic(),
                        wrap.equals("aes128") ? CMSAlgorithm.AES128_WRAP : CMSAlgorithm.AES256_WRAP);
                if (flag(o, "ski")) g.addRecipient(ski(rc), pub);
                else g.addRecipient(rc);
                gens.add(g.setProvider(BC));
                facts.append(" kari=").append(k).append("-").append(kdf).append("kdf-").append(wrap).append("wrap");
            } else {
                throw new Usage("cannot encrypt to a " + k + " key");
            }
        }
        CMSTypedData content = new CMSProcessableByteArray(data);
        byte[] der;
        if (auth) {
            CMSAuthEnvelopedDataGenerator g = new CMSAuthEnvelopedDataGenerator();
            for (org.bouncycastle.cms.RecipientInfoGenerator r : gens) g.addRecipientInfoGenerator(r);
            der = g.generate(content, (org.bouncycastle.operator.OutputAEADEncryptor) enc).getEncoded();
        } else {
            CMSEnvelopedDataGenerator g = new CMSEnvelopedDataGenerator();
            for (org.bouncycastle.cms.RecipientInfoGenerator r : gens) g.addRecipientInfoGenerator(r);
            der = g.generate(content, enc).getEncoded();
        }
        write(req(o, "out"), der);
        System.out.println("encrypted type=" + (auth ? "authEnvelopedData" : "envelopedData") + " cipher=" + cipher + facts);
    }

    // ------------------------------------------------------------------------------------------------------------
    // sign

    private static void sign(Map<String, List<String>> o) throws Exception {
        X509Certificate sc = cert(req(o, "cert"));
        PrivateKey sk = key(req(o, "key"));
        byte[] data = read(req(o, "in"));
        String k = kind(sc.getPublicKey());
        String digest = opt(o, "digest", "SHA-256").replace("-", "");
        String alg;
        if (k.equals("rsa")) alg = digest + (flag(o, "pss") ? "withRSAandMGF1" : "withRSA");
        else if (k.equals("ec")) alg = digest + "withECDSA";
        else if (k.equals("ed25519")) alg = "Ed25519";
        else throw new Usage("cannot sign with a " + k + " key");
        ContentSigner signer = new JcaContentSignerBuilder(alg).setProvider(BC).build(sk);

        ASN1EncodableVector extra = new ASN1EncodableVector();
        if (flag(o, "caps")) {
            SMIMECapabilityVector caps = new SMIMECapabilityVector();
            caps.addCapability(NISTObjectIdentifiers.id_aes256_GCM);
            caps.addCapability(NISTObjectIdentifiers.id_aes128_GCM);
            caps.addCapability(NISTObjectIdentifiers.id_aes256_CBC);
            caps.addCapability(NISTObjectIdentifiers.id_aes128_CBC);
            extra.add(new SMIMECapabilitiesAttribute(caps));
        }
        String pref = opt(o, "keypref", null);
        if (pref != null) {
            X509Certificate pc = cert(pref);
            IssuerAndSerialNumber ias = new IssuerAndSerialNumber(new JcaX509CertificateHolder(pc).getIssuer(), pc.getSerialNumber());
            extra.add(new SMIMEEncryptionKeyPreferenceAttribute(ias));
        }
        JcaSignerInfoGeneratorBuilder sb = new JcaSignerInfoGeneratorBuilder(new JcaDigestCalculatorProviderBuilder().setProvider(BC).build());
        sb.setSignedAttributeGenerator(new DefaultSignedAttributeTableGenerator(new AttributeTable(extra)));

        CMSSignedDataGenerator g = new CMSSignedDataGenerator();
        if (flag(o, "ski")) g.addSignerInfoGenerator(sb.build(signer, ski(sc)));
        else g.addSignerInfoGenerator(sb.build(signer, sc));
        List<X509Certificate> all = new ArrayList<>();
        all.add(sc);
        String chain = opt(o, "chain", null);
        if (chain != null) all.addAll(certs(chain));
        if (pref != null && !cert(pref).equals(sc)) all.add(cert(pref));
        g.addCertificates(new JcaCertStore(all));
        boolean detached = flag(o, "detached");
        CMSSignedData sd = g.generate(new CMSProcessableByteArray(data), !detached);
        write(req(o, "out"), sd.getEncoded());
        System.out.println("signed alg=" + alg + " sid=" + (flag(o, "ski") ? "subjectKeyIdentifier" : "issuerAndSerialNumber")
                + (detached ? " detached" : " encapsulated") + (flag(o, "caps") ? " smimeCapabilities" : "")
                + (pref != null ? " encryptionKeyPreference" : ""));
    }

    // ------------------------------------------------------------------------------------------------------------
    // decrypt

    private static void decrypt(Map<String, List<String>> o) throws Exception {
        X509Certificate rc = cert(req(o, "cert"));
        PrivateKey rk = key(req(o, "key"));
        byte[] der = read(req(o, "in"));
        ContentInfo ci = ContentInfo.getInstance(der);
        RecipientInformationStore store;
        String type;
        String cipher;
        if (ci.getContentType().equals(PKCSObjectIdentifiers.id_ct_authEnvelopedData)) {
            CMSAuthEnvelopedData ad = new CMSAuthEnvelopedData(der);
            store = ad.getRecipientInfos();
            type = "authEnvelopedData";
            cipher = org.bouncycastle.asn1.cms.AuthEnvelopedData.getInstance(ci.getContent())
                    .getAuthEncryptedContentInfo().getContentEncryptionAlgorithm().getAlgorithm().getId();
        } else if (ci.getContentType().equals(PKCSObjectIdentifiers.envelopedData)) {
            CMSEnvelopedData ed = new CMSEnvelopedData(der);
            store = ed.getRecipientInfos();
            type = "envelopedData";
            cipher = ed.getEncryptionAlgOID();
        } else {
            throw new IOException("not EnvelopedData or AuthEnvelopedData: " + ci.getContentType());
        }
        X509CertificateHolder holder = new JcaX509CertificateHolder(rc);
        RecipientInformation found = null;
        for (RecipientInformation ri : store.getRecipients()) {
            if (ri.getRID().match(holder)) {
                found = ri;
                break;
            }
        }
        if (found == null) throw new IOException("no RecipientInfo names " + rc.getSubjectX500Principal());
        byte[] content;
        if (found instanceof KeyTransRecipientInformation) {
            content = found.getContent(new JceKeyTransEnvelopedRecipient(rk).setProvider(BC));
        } else if (found instanceof KeyAgreeRecipientInformation) {
            content = found.getContent(new JceKeyAgreeEnvelopedRecipient(rk).setProvider(BC));
        } else {
            throw new IOException("unsupported RecipientInfo " + found.getClass().getSimpleName());
        }
        write(req(o, "out"), content);
        System.out.println("decrypted type=" + type + " cipher=" + cipher + " keyEncryption=" + found.getKeyEncryptionAlgOID()
                + " recipient=" + (found instanceof KeyTransRecipientInformation ? "ktri" : "kari") + " bytes=" + content.length);
    }

    // ------------------------------------------------------------------------------------------------------------
    // verify

    @SuppressWarnings("unchecked")
    private static int verify(Map<String, List<String>> o) throws Exception {
        byte[] der = read(req(o, "in"));
        String contentFile = opt(o, "content", null);
        CMSSignedData sd = contentFile != null ? new CMSSignedData(new CMSProcessableByteArray(read(contentFile)), der) : new CMSSignedData(der);
        X509Certificate root = cert(req(o, "trust"));
        JcaX509CertificateConverter conv = new JcaX509CertificateConverter().setProvider(BC);
        List<X509Certificate> pool = new ArrayList<>();
        for (Object h : sd.getCertificates().getMatches(null)) pool.add(conv.getCertificate((X509CertificateHolder) h));
        String more = opt(o, "certs", null);
        if (more != null) pool.addAll(certs(more));
        Collection<SignerInformation> signers = sd.getSignerInfos().getSigners();
        if (signers.isEmpty()) throw new IOException("no signers");
        int status = 0;
        for (SignerInformation si : signers) {
            SignerId sid = si.getSID();
            Collection<X509CertificateHolder> m = sd.getCertificates().getMatches(sid);
            if (m.isEmpty()) {
                System.out.println("signer sid=" + sid + " status=no-certificate");
                status = Math.max(status, 3);
                continue;
            }
            X509Certificate sc = conv.getCertificate(m.iterator().next());
            boolean ok;
            try {
                ok = si.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider(BC).build(sc));
            } catch (Exception e) {
                System.err.println("signature check: " + e);
                ok = false;
            }
            Date at = new Date();
            AttributeTable sa = si.getSignedAttributes();
            if (sa != null && sa.get(CMSAttributes.signingTime) != null) {
                at = Time.getInstance(sa.get(CMSAttributes.signingTime).getAttrValues().getObjectAt(0)).getDate();
            }
            String chain = "ok";
            if (ok) {
                try {
                    X509CertSelector sel = new X509CertSelector();
                    sel.setCertificate(sc);
                    PKIXBuilderParameters p = new PKIXBuilderParameters(Collections.singleton(new TrustAnchor(root, null)), sel);
                    p.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(pool), BC));
                    p.setRevocationEnabled(false);
                    p.setDate(at);
                    CertPathBuilder.getInstance("PKIX", BC).build(p);
                } catch (Exception e) {
                    chain = "untrusted";
                    System.err.println("path: " + e.getMessage());
                }
            }
            String st = !ok ? "invalid" : chain.equals("ok") ? "valid" : chain;
            if (!st.equals("valid")) status = Math.max(status, ok ? 2 : 1);
            StringBuilder attrs = new StringBuilder();
            if (sa != null) {
                if (sa.get(SMIMEAttributes.smimeCapabilities) != null) attrs.append(" smimeCapabilities");
                if (sa.get(SMIMEAttributes.encrypKeyPref) != null) attrs.append(" encryptionKeyPreference");
            }
            System.out.println("signer subject=\"" + sc.getSubjectX500Principal().getName() + "\" sid="
                    + (sid.getSubjectKeyIdentifier() != null ? "ski:" + hex(sid.getSubjectKeyIdentifier()) : "issuerAndSerialNumber")
                    + " digest=" + si.getDigestAlgOID() + " signature=" + si.getEncryptionAlgOID() + attrs + " status=" + st);
        }
        String out = opt(o, "out", null);
        if (out != null && sd.getSignedContent() != null) write(out, (byte[]) sd.getSignedContent().getContent());
        return status;
    }

    // ------------------------------------------------------------------------------------------------------------
    // describe

    private static String q(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String alg(AlgorithmIdentifier a) {
        return "{\"oid\":" + q(a.getAlgorithm().getId()) + "}";
    }

    private static String rid(org.bouncycastle.asn1.cms.RecipientIdentifier r) {
        return r.isTagged() ? "subjectKeyIdentifier" : "issuerAndSerialNumber";
    }

    private static String recipients(org.bouncycastle.asn1.ASN1Set set) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < set.size(); i++) {
            ASN1Encodable info = org.bouncycastle.asn1.cms.RecipientInfo.getInstance(set.getObjectAt(i)).getInfo();
            if (info instanceof org.bouncycastle.asn1.cms.KeyTransRecipientInfo) {
                org.bouncycastle.asn1.cms.KeyTransRecipientInfo k = (org.bouncycastle.asn1.cms.KeyTransRecipientInfo) info;
                AlgorithmIdentifier ke = k.getKeyEncryptionAlgorithm();
                String extra = "";
                if (ke.getAlgorithm().equals(PKCSObjectIdentifiers.id_RSAES_OAEP)) {
                    org.bouncycastle.asn1.pkcs.RSAESOAEPparams p = org.bouncycastle.asn1.pkcs.RSAESOAEPparams.getInstance(ke.getParameters());
                    extra = ",\"oaepHash\":" + q(p.getHashAlgorithm().getAlgorithm().getId()) + ",\"mgfHash\":"
                            + q(AlgorithmIdentifier.getInstance(p.getMaskGenAlgorithm().getParameters()).getAlgorithm().getId());
                }
                out.add("{\"type\":\"ktri\",\"rid\":" + q(rid(k.getRecipientIdentifier())) + ",\"keyEncryption\":" + alg(ke) + extra + "}");
            } else if (info instanceof org.bouncycastle.asn1.cms.KeyAgreeRecipientInfo) {
                org.bouncycastle.asn1.cms.KeyAgreeRecipientInfo k = (org.bouncycastle.asn1.cms.KeyAgreeRecipientInfo) info;
                AlgorithmIdentifier ke = k.getKeyEncryptionAlgorithm();
                AlgorithmIdentifier wrap = AlgorithmIdentifier.getInstance(ke.getParameters());
                org.bouncycastle.asn1.cms.RecipientEncryptedKey rek =
                        org.bouncycastle.asn1.cms.RecipientEncryptedKey.getInstance(k.getRecipientEncryptedKeys().getObjectAt(0));
                String r = rek.getIdentifier().getIssuerAndSerialNumber() != null ? "issuerAndSerialNumber" : "subjectKeyIdentifier";
                org.bouncycastle.asn1.cms.OriginatorPublicKey opk = k.getOriginator().getOriginatorKey();
                out.add("{\"type\":\"kari\",\"rid\":" + q(r) + ",\"keyEncryption\":" + alg(ke) + ",\"keyWrap\":" + alg(wrap)
                        + ",\"originatorKey\":" + (opk != null ? alg(opk.getAlgorithm()) : "null") + ",\"ukm\":" + (k.getUserKeyingMaterial() != null) + "}");
            } else {
                out.add("{\"type\":" + q(info.getClass().getSimpleName()) + "}");
            }
        }
        return "[" + String.join(",", out) + "]";
    }

    private static void certsOf(Map<String, List<String>> o) throws Exception {
        CMSSignedData sd = new CMSSignedData(read(req(o, "in")));
        System.out.println("signers " + sd.getSignerInfos().size());
        for (Object h : sd.getCertificates().getMatches(null)) {
            System.out.println(java.util.Base64.getEncoder().encodeToString(((X509CertificateHolder) h).getEncoded()));
        }
    }

    private static void certsOnly(Map<String, List<String>> o) throws Exception {
        if (!o.containsKey("cert")) throw new Usage("--cert is required");
        List<X509Certificate> all = new ArrayList<>();
        for (String f : o.get("cert")) all.addAll(certs(f));
        CMSSignedDataGenerator g = new CMSSignedDataGenerator();
        g.addCertificates(new JcaCertStore(all));
        write(req(o, "out"), g.generate(new org.bouncycastle.cms.CMSAbsentContent()).getEncoded());
    }

    private static void compress(Map<String, List<String>> o) throws Exception {
        byte[] in = read(req(o, "in"));
        byte[] out;
        if (flag(o, "stream")) {
            java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
            java.io.OutputStream os = new org.bouncycastle.cms.CMSCompressedDataStreamGenerator()
                .open(bo, new org.bouncycastle.cms.jcajce.ZlibCompressor());
            os.write(in);
            os.close();
            out = bo.toByteArray();
        } else {
            out = new org.bouncycastle.cms.CMSCompressedDataGenerator()
                .generate(new CMSProcessableByteArray(in), new org.bouncycastle.cms.jcajce.ZlibCompressor()).getEncoded();
        }
        write(req(o, "out"), out);
        System.out.println("compressed " + in.length + " -> " + out.length);
    }

    private static void uncompress(Map<String, List<String>> o) throws Exception {
        org.bouncycastle.cms.CMSCompressedData cd = new org.bouncycastle.cms.CMSCompressedData(read(req(o, "in")));
        byte[] content = cd.getContent(new org.bouncycastle.cms.jcajce.ZlibExpanderProvider());
        write(req(o, "out"), content);
        org.bouncycastle.asn1.cms.CompressedData c = org.bouncycastle.asn1.cms.CompressedData.getInstance(cd.toASN1Structure().getContent());
        System.out.println("uncompressed " + c.getCompressionAlgorithmIdentifier().getAlgorithm().getId()
            + " " + cd.getCompressedContentType().getId() + " " + content.length);
    }

    private static void describe(Map<String, List<String>> o) throws Exception {
        if (!o.containsKey("in")) throw new Usage("--in is required");
        for (String f : o.get("in")) System.out.println(describe(read(f)));
    }

    private static String describe(byte[] der) throws Exception {
        ContentInfo ci = ContentInfo.getInstance(der);
        ASN1ObjectIdentifier ct = ci.getContentType();
        StringBuilder j = new StringBuilder("{\"contentType\":{\"oid\":" + q(ct.getId()) + "}");
        if (ct.equals(PKCSObjectIdentifiers.envelopedData)) {
            org.bouncycastle.asn1.cms.EnvelopedData e = org.bouncycastle.asn1.cms.EnvelopedData.getInstance(ci.getContent());
            j.append(",\"contentEncryption\":").append(alg(e.getEncryptedContentInfo().getContentEncryptionAlgorithm()));
            j.append(",\"recipientInfos\":").append(recipients(e.getRecipientInfos()));
        } else if (ct.equals(PKCSObjectIdentifiers.id_ct_authEnvelopedData)) {
            org.bouncycastle.asn1.cms.AuthEnvelopedData e = org.bouncycastle.asn1.cms.AuthEnvelopedData.getInstance(ci.getContent());
            AlgorithmIdentifier ce = e.getAuthEncryptedContentInfo().getContentEncryptionAlgorithm();
            org.bouncycastle.asn1.cms.GCMParameters gp = org.bouncycastle.asn1.cms.GCMParameters.getInstance(ce.getParameters());
            j.append(",\"contentEncryption\":{\"oid\":").append(q(ce.getAlgorithm().getId())).append(",\"nonceLength\":")
                    .append(gp.getNonce().length).append(",\"icvLength\":").append(gp.getIcvLen()).append("}");
            j.append(",\"recipientInfos\":").append(recipients(e.getRecipientInfos()));
        } else if (ct.equals(PKCSObjectIdentifiers.signedData)) {
            org.bouncycastle.asn1.cms.SignedData sd = org.bouncycastle.asn1.cms.SignedData.getInstance(ci.getContent());
            j.append(",\"encapsulated\":").append(sd.getEncapContentInfo().getContent() != null);
            j.append(",\"certificates\":").append(sd.getCertificates() == null ? 0 : sd.getCertificates().size());
            List<String> signers = new ArrayList<>();
            for (int i = 0; i < sd.getSignerInfos().size(); i++) {
                org.bouncycastle.asn1.cms.SignerInfo si = org.bouncycastle.asn1.cms.SignerInfo.getInstance(sd.getSignerInfos().getObjectAt(i));
                List<String> attrs = new ArrayList<>();
                if (si.getAuthenticatedAttributes() != null) {
                    for (int a = 0; a < si.getAuthenticatedAttributes().size(); a++) {
                        attrs.add(q(Attribute.getInstance(si.getAuthenticatedAttributes().getObjectAt(a)).getAttrType().getId()));
                    }
                }
                signers.add("{\"sid\":" + q(si.getSID().isTagged() ? "subjectKeyIdentifier" : "issuerAndSerialNumber")
                        + ",\"digest\":" + alg(si.getDigestAlgorithm()) + ",\"signature\":" + alg(si.getDigestEncryptionAlgorithm())
                        + ",\"signedAttributes\":[" + String.join(",", attrs) + "]}");
            }
            j.append(",\"signerInfos\":[").append(String.join(",", signers)).append("]");
        }
        return j.append("}").toString();
    }

    // ------------------------------------------------------------------------------------------------------------
    // issue

    private static Date day(String ymd) throws Exception {
        SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd");
        f.setTimeZone(TimeZone.getTimeZone("UTC"));
        return f.parse(ymd);
    }

    private static void issue(Map<String, List<String>> o) throws Exception {
        X509Certificate ca = cert(req(o, "ca-cert"));
        PrivateKey caKey = key(req(o, "ca-key"));
        PublicKey pub = publicKey(req(o, "pub"));
        JcaX509ExtensionUtils u = new JcaX509ExtensionUtils();
        X509v3CertificateBuilder b = new X509v3CertificateBuilder(new JcaX509CertificateHolder(ca).getSubject(),
                new BigInteger(req(o, "serial"), 16), day(req(o, "not-before")), day(req(o, "not-after")),
                new X500Name(req(o, "subject")), SubjectPublicKeyInfo.getInstance(pub.getEncoded()));
        int ku = 0;
        for (String s : req(o, "ku").split(",")) {
            switch (s) {
                case "digitalSignature": ku |= KeyUsage.digitalSignature; break;
                case "nonRepudiation": ku |= KeyUsage.nonRepudiation; break;
                case "keyEncipherment": ku |= KeyUsage.keyEncipherment; break;
                case "keyAgreement": ku |= KeyUsage.keyAgreement; break;
                default: throw new Usage("unknown key usage " + s);
            }
        }
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(ku));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_emailProtection));
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName(GeneralName.rfc822Name, req(o, "email"))));
        b.addExtension(Extension.subjectKeyIdentifier, false, u.createSubjectKeyIdentifier(pub));
        b.addExtension(Extension.authorityKeyIdentifier, false, u.createAuthorityKeyIdentifier(ca.getPublicKey()));
        X509CertificateHolder h = b.build(new JcaContentSignerBuilder("SHA256withRSA").setProvider(BC).build(caKey));
        String b64 = java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(h.getEncoded());
        write(req(o, "out"), ("-----BEGIN CERTIFICATE-----\n" + b64 + "\n-----END CERTIFICATE-----\n").getBytes());
        System.out.println("issued serial=" + req(o, "serial") + " subject=\"" + req(o, "subject") + "\" key=" + kind(pub));
    }
}
