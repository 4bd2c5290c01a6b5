#!/usr/bin/env bash
# Builds the smime-core sample PKI, identities and OpenSSL-made S/MIME messages from nothing,
# writes manifest.json, then verifies every message with `openssl cms -decrypt`.
#
#   bash vectors/generate.sh           regenerate everything (keys are new each time; structure,
#                                      names, serials, dates and algorithms are fixed)
#   bash vectors/generate.sh --check   re-verify the committed files against manifest.json
#                                      without regenerating anything
#
# Needs: bash, OpenSSL 3.x (with the legacy provider, for the RC2-40 PKCS#12), jq, GNU date.
# Every path written into a file is relative to this folder (vectors/).
set -euo pipefail
cd "$(dirname "$0")"

PASS=smime-demo
REFERENCE_DATE=2026-11-29     # "today" for validOnReferenceDate / *Problems in the manifest

MODE=generate
case "${1:-}" in
  '') ;;
  --check) MODE=check ;;
  -h|--help) sed -n '2,11p' "$(basename "$0")"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

die() { echo "generate.sh: FAIL: $*" >&2; exit 1; }
for tool in openssl jq date cmp; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
case "$(openssl version)" in OpenSSL\ 3.*) ;; *) die "OpenSSL 3.x is required, found: $(openssl version)" ;; esac

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# verification (used by both modes; driven only by manifest.json and the files it names)
# ---------------------------------------------------------------------------------------------
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); }

iso() { openssl x509 -in "$1" -noout "-$2" -dateopt iso_8601 | sed 's/^[a-zA-Z]*=//; s/ /T/'; }
serial_of() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' | tr 'A-F' 'a-f'; }
ski_of() { openssl x509 -in "$1" -noout -ext subjectKeyIdentifier 2>/dev/null | sed -n '2{s/[ :]//g;p}' | tr 'A-F' 'a-f'; }
subject_of() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
san_of() { openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | sed -n '2{s/^ *//; s/email://g; s/, /,/g; p}'; }
eku_of() { # as the manifest names them
  local e; e=$(openssl x509 -in "$1" -noout -ext extendedKeyUsage 2>/dev/null | sed -n '2{s/^ *//; s/, /,/g; p}')
  [[ -z $e ]] && { echo '(none)'; return; }
  e=${e//E-mail Protection/emailProtection}; e=${e//TLS Web Server Authentication/serverAuth}; echo "${e//Any Extended Key Usage/anyExtendedKeyUsage}"
}
ku_of() {
  local k; k=$(openssl x509 -in "$1" -noout -ext keyUsage 2>/dev/null | sed -n '2{s/^ *//; s/, /,/g; p}')
  k=${k//Digital Signature/digitalSignature}; k=${k//Non Repudiation/nonRepudiation}; k=${k//Key Encipherment/keyEncipherment}
  echo "${k//Key Agreement/keyAgreement}"
}

# epoch seconds one day after an ISO date-time (a moment inside the validity window)
inside_window() { echo $(( $(date -u -d "$1" +%s) + 86400 )); }

check_pki() {
  local m=manifest.json name cert key
  for name in $(jq -r '.pki.cas | keys[]' "$m"); do
    cert=$(jq -r ".pki.cas[\"$name\"].cert" "$m"); key=$(jq -r ".pki.cas[\"$name\"].key" "$m")
    [[ -f $cert && -f $key ]] || die "pki $name: missing $cert or $key"
    [[ "$(openssl x509 -in "$cert" -noout -pubkey)" == "$(openssl pkey -in "$key" -pubout)" ]] \
      || die "pki $name: key does not match cert"
    ok
  done
  local root=pki/root-ca.cert.pem iss=pki/issuing-ca.cert.pem
  openssl verify -attime "$(inside_window 2019-01-01)" -CAfile "$root" "$root" >/dev/null || die "root-ca does not self-verify"
  openssl verify -attime "$(inside_window 2019-01-01)" -CAfile "$root" "$iss" >/dev/null || die "issuing-ca does not chain to root-ca"
  [[ "$(cat "$iss" "$root")" == "$(cat pki/chain.pem)" ]] || die "pki/chain.pem is not issuing-ca + root-ca"
  if openssl verify -attime "$(inside_window 2019-01-01)" -CAfile "$root" pki/untrusted-root.cert.pem >/dev/null 2>&1; then
    die "untrusted-root verifies against root-ca"
  fi
  ok; ok; ok; ok
}

check_identities() {
  local m=manifest.json name j p12 cert key issuer nb legacy info want p12cert
  for name in $(jq -r '.identities | keys[]' "$m"); do
    j=$(jq -c ".identities[\"$name\"]" "$m")
    p12=$(jq -r '.p12 // empty' <<<"$j"); cert=$(jq -r '.cert // empty' <<<"$j"); key=$(jq -r '.key // empty' <<<"$j")
    [[ -z $cert ]] && continue                                   # carol: no certificate at all
    [[ -f $cert && -f $key && -f $p12 ]] || die "$name: missing file"
    grep -q -- '-----BEGIN PRIVATE KEY-----' "$key" || die "$name: key is not unencrypted PKCS#8 PEM"
    [[ "$(openssl x509 -in "$cert" -noout -pubkey)" == "$(openssl pkey -in "$key" -pubout)" ]] \
      || die "$name: key does not match cert"
    # dates and serial in the manifest are those of the certificate
    [[ "$(openssl x509 -in "$cert" -noout -startdate -dateopt iso_8601 | sed 's/^notBefore=//; s/ /T/')" == "$(jq -r .notBefore <<<"$j")" ]] \
      || die "$name: notBefore differs from manifest"
    [[ "$(openssl x509 -in "$cert" -noout -enddate -dateopt iso_8601 | sed 's/^notAfter=//; s/ /T/')" == "$(jq -r .notAfter <<<"$j")" ]] \
      || die "$name: notAfter differs from manifest"
    [[ "$(serial_of "$cert")" == "$(jq -r .serialHex <<<"$j")" ]] || die "$name: serial differs from manifest"
    [[ "$(ski_of "$cert")" == "$(jq -r '.subjectKeyIdentifier // empty' <<<"$j")" ]] || die "$name: subjectKeyIdentifier differs from manifest"
    [[ "$(subject_of "$cert")" == "$(jq -r .subject <<<"$j")" ]] || die "$name: subject differs from manifest"
    [[ "$(san_of "$cert")" == "$(jq -r '(.subjectAltNameEmails // []) | join(",")' <<<"$j")" ]] || die "$name: subjectAltName differs from manifest"
    [[ "$(eku_of "$cert")" == "$(jq -r '(.extendedKeyUsage // ["(none)"]) | join(",")' <<<"$j")" ]] || die "$name: extendedKeyUsage differs from manifest"
    [[ "$(ku_of "$cert")" == "$(jq -r '.keyUsage | join(",")' <<<"$j")" ]] || die "$name: keyUsage differs from manifest"
    # chain: verify at a moment inside the cert's own window
    issuer=$(jq -r .issuer <<<"$j"); nb=$(inside_window "$(jq -r .notBefore <<<"$j")")
    case "$issuer" in
      issuing-ca)
        openssl verify -attime "$nb" -CAfile pki/root-ca.cert.pem -untrusted pki/issuing-ca.cert.pem "$cert" >/dev/null \
          || die "$name does not chain to root-ca" ;;
      untrusted-root)
        openssl verify -attime "$nb" -CAfile pki/untrusted-root.cert.pem "$cert" >/dev/null || die "$name does not chain to untrusted-root"
        if openssl verify -attime "$nb" -CAfile pki/root-ca.cert.pem -untrusted pki/issuing-ca.cert.pem "$cert" >/dev/null 2>&1; then
          die "$name verifies against the trust anchor"
        fi ;;
      self)
        if openssl verify -attime "$nb" -CAfile pki/root-ca.cert.pem -untrusted pki/issuing-ca.cert.pem "$cert" >/dev/null 2>&1; then
          die "$name verifies against the trust anchor"
        fi ;;
      *) die "$name: unknown issuer $issuer" ;;
    esac
    # PKCS#12: opens with the password, holds this cert, this key and the listed chain, in the listed format
    legacy=(); [[ $(jq -r .p12Format.id <<<"$j") == legacy-* ]] && legacy=(-legacy)
    info=$(openssl pkcs12 "${legacy[@]}" -info -noout -in "$p12" -passin "pass:$PASS" 2>&1) || die "$name: p12 does not open: $info"
    for want in "MAC: $(jq -r .p12Format.mac <<<"$j")," "Encrypted data: $(jq -r .p12Format.certBags <<<"$j")" \
                "Shrouded Keybag: $(jq -r .p12Format.keyBag <<<"$j")"; do
      grep -qF -- "$want" <<<"$info" || die "$name: p12 format is not as in the manifest (no '$want')"
    done
    [[ $(grep -c 'Certificate bag' <<<"$info") == $(( 1 + $(jq '.p12Chain | length' <<<"$j") )) ]] \
      || die "$name: p12 does not hold cert + chain as listed"
    p12cert=$(openssl pkcs12 "${legacy[@]}" -in "$p12" -passin "pass:$PASS" -nokeys -clcerts 2>/dev/null | openssl x509 -outform DER | openssl dgst -sha256 -r)
    [[ "$p12cert" == "$(openssl x509 -in "$cert" -outform DER | openssl dgst -sha256 -r)" ]] || die "$name: p12 holds another cert"
    [[ "$(openssl pkcs12 "${legacy[@]}" -in "$p12" -passin "pass:$PASS" -nocerts -nodes 2>/dev/null | openssl pkey -pubout)" == "$(openssl pkey -in "$key" -pubout)" ]] \
      || die "$name: p12 holds another key"
    if openssl pkcs12 "${legacy[@]}" -info -noout -in "$p12" -passin pass:wrong-password >/dev/null 2>&1; then
      die "$name: p12 opens with a wrong password"
    fi
    ok
  done
}

# decrypts $1 with identity $2 into $3; returns openssl's status
decrypt_as() {
  openssl cms -decrypt -binary -in "$1" -recip "identities/$2.cert.pem" -inkey "identities/$2.key.pem" -out "$3" 2>"$WORK/decrypt.err"
}

check_messages() {
  local m=manifest.json j id file content printed der hdr want n who
  local -a openers failers
  while IFS= read -r j; do
    id=$(jq -r .id <<<"$j"); file=$(jq -r .file <<<"$j"); content=$(jq -r .expect.content <<<"$j")
    [[ -f $file ]] || die "$id: $file is missing"
    [[ -f $content ]] || die "$id: expected content $content is missing"
    # the MIME wrapper
    hdr=$(sed '/^\r\?$/q' "$file")
    for want in "From: $(jq -r .headers.from <<<"$j")" "To: $(jq -r .headers.to <<<"$j")" "Subject: $(jq -r .headers.subject <<<"$j")" \
                "smime-type=$(jq -r .smimeType <<<"$j")"; do
      grep -qF -- "$want" <<<"$hdr" || die "$id: header '$want' missing"
    done
    # the CMS structure and algorithms
    printed=$(openssl cms -cmsout -print -in "$file") || die "$id: openssl cannot parse it"
    for want in $(jq -r '.algorithms | .contentType.oid, .contentEncryption.oid, (.recipientInfos[] | .keyEncryption.oid, (.keyWrap.name // empty | ":" + .))' <<<"$j"); do
      grep -qF -- "$want" <<<"$printed" || die "$id: '$want' not found in the CMS"
    done
    n=$(jq '[.algorithms.recipientInfos[] | select(.type == "ktri")] | length' <<<"$j")
    [[ $(grep -c 'd\.ktri:' <<<"$printed" || true) == "$n" ]] || die "$id: expected $n ktri"
    n=$(jq '[.algorithms.recipientInfos[] | select(.type == "kari")] | length' <<<"$j")
    [[ $(grep -c 'd\.kari:' <<<"$printed" || true) == "$n" ]] || die "$id: expected $n kari"
    n=$(jq '[.algorithms.recipientInfos[] | select(.rid == "subjectKeyIdentifier")] | length' <<<"$j")
    [[ $(grep -cE 'd\.(subjectKeyIdentifier|rKeyId):' <<<"$printed" || true) == "$n" ]] || die "$id: expected $n SKI recipient ids"
    if jq -e '.algorithms.recipientInfos[] | select((.keyEncryption.parameters | objects | .hash) == "sha256")' <<<"$j" >/dev/null; then
      grep -q ':sha256' <<<"$printed" && grep -q ':mgf1' <<<"$printed" || die "$id: OAEP-SHA256 parameters not found"
    fi
    sed '1,/^\r\?$/d' "$file" | openssl base64 -d -out "$WORK/der"
    der=$(head -c 2 "$WORK/der" | od -An -tx1 | tr -d ' \n')
    case "$(jq -r .algorithms.encoding <<<"$j")" in
      definite-length) [[ $der == 3082 || $der == 3083 ]] || die "$id: expected definite-length encoding, got $der" ;;
      indefinite-length)
        [[ $der == 3080 ]] || die "$id: expected indefinite-length BER, got $der"
        [[ $(openssl asn1parse -inform DER -in "$WORK/der" | grep -c 'l=4096 prim: *OCTET STRING' || true) -ge 2 ]] \
          || die "$id: expected the content in several 4096-byte OCTET STRING chunks" ;;
      *) die "$id: unknown encoding" ;;
    esac
    # who can open it, and who cannot
    mapfile -t openers < <(jq -r '.identities[]' <<<"$j")
    mapfile -t failers < <(jq -r '.mustFail.identities[]' <<<"$j")
    for who in "${openers[@]}"; do
      decrypt_as "$file" "$who" "$WORK/out" || die "$id: openssl cms -decrypt as $who failed: $(cat "$WORK/decrypt.err")"
      cmp -s "$WORK/out" "$content" || die "$id: decrypted as $who, content differs from $content"
      ok
    done
    for who in "${failers[@]}"; do
      if decrypt_as "$file" "$who" "$WORK/out"; then die "$id: $who could decrypt it, but is listed in mustFail"; fi
      ok
    done
  done < <(jq -c '.messages[] | select(.generator != "generate-peers.sh")' "$m")
}

check_all() {
  [[ -f manifest.json ]] || die "manifest.json is missing"
  jq -e . manifest.json >/dev/null || die "manifest.json is not JSON"
  check_pki
  check_identities
  check_messages
  echo "generate.sh: OK: $CHECKS checks passed ($(jq '.identities | length' manifest.json) identities, $(jq '.messages | length' manifest.json) messages)"
}

if [[ $MODE == check ]]; then
  check_all
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------------------------
rm -rf pki identities openssl manifest.json
mkdir -p pki identities openssl

CNF=pki/openssl.cnf
cat >"$CNF" <<'EOF'
# Minimal configuration for the smime-core demo PKI (written by generate.sh).
# The CA database lives in a temporary folder given by CA_DIR; the extension values for end-entity
# certificates come from the environment (SAN, KU, EKU). The defaults below are only fallbacks.
CA_DIR = .
SAN    = email:nobody@example.invalid
KU     = digitalSignature
EKU    = emailProtection

[ ca ]
default_ca = CA_default

[ CA_default ]
dir             = $ENV::CA_DIR
database        = $dir/index.txt
serial          = $dir/serial
new_certs_dir   = $dir/newcerts
default_md      = sha256
policy          = policy_any
preserve        = yes
unique_subject  = no
copy_extensions = none
email_in_dn     = yes

[ policy_any ]
countryName      = optional
organizationName = optional
commonName       = supplied
emailAddress     = optional

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = unused

[ v3_root_ca ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

[ v3_issuing_ca ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# the full S/MIME profile
[ v3_smime ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::KU
extendedKeyUsage       = $ENV::EKU
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# no subjectAltName: the address is only in the subject emailAddress
[ v3_smime_nosan ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::KU
extendedKeyUsage       = $ENV::EKU
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always

# no subjectKeyIdentifier ("none": OpenSSL 3 would otherwise add one by itself)
[ v3_smime_noski ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::KU
extendedKeyUsage       = $ENV::EKU
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = none
authorityKeyIdentifier = keyid:always

# no extendedKeyUsage
[ v3_smime_noeku ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, $ENV::KU
subjectAltName         = $ENV::SAN
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF

new_db() { # name first-serial-hex
  mkdir -p "$WORK/db/$1/newcerts"; : >"$WORK/db/$1/index.txt"; echo "$2" >"$WORK/db/$1/serial"
}
new_db root-ca 1000
new_db issuing-ca 2000
new_db untrusted-root 7000
new_db mallory 6D00

genkey() { # out spec (rsa:BITS | ec:CURVE)
  case "$2" in
    rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$1" 2>/dev/null ;;
    ec:*)  openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" -pkeyopt ec_param_enc:named_curve -out "$1" ;;
  esac
}
csr() { openssl req -new -config "$CNF" -key "$1" -subj "$2" -out "$3"; }
ymd() { echo "${1//-/}000000Z"; }   # 2025-06-01 -> 20250601000000Z

ca_sign() { # db ext start end csr out [selfsign-key | issuer-cert issuer-key]
  local db=$1 ext=$2 start=$3 end=$4 in=$5 out=$6; shift 6
  local signer
  if [[ $# == 1 ]]; then signer=(-selfsign -keyfile "$1"); else signer=(-cert "$1" -keyfile "$2"); fi
  CA_DIR="$WORK/db/$db" openssl ca -batch -notext -config "$CNF" "${signer[@]}" -in "$in" -out "$out" \
    -extensions "$ext" -startdate "$(ymd "$start")" -enddate "$(ymd "$end")" 2>"$WORK/ca.err" \
    || die "openssl ca failed for $out: $(cat "$WORK/ca.err")"
}


# --- 1. PKI ------------------------------------------------------------------------------------
echo "generate.sh: PKI"
PKI_JSON="$WORK/pki.jsonl"; : >"$PKI_JSON"
ca_entry() { # name keyalg issuer trustAnchor note
  local c="pki/$1.cert.pem"
  jq -nc --arg name "$1" --arg cert "$c" --arg key "pki/$1.key.pem" --arg subject "$(subject_of "$c")" \
    --arg keyAlgorithm "$2" --arg issuer "$3" --argjson trustAnchor "$4" --arg serial "$(serial_of "$c")" \
    --arg ski "$(ski_of "$c")" --arg nb "$(iso "$c" startdate)" --arg na "$(iso "$c" enddate)" --arg note "$5" \
    '{($name): {cert: $cert, key: $key, subject: $subject, keyAlgorithm: $keyAlgorithm, issuer: $issuer,
       trustAnchor: $trustAnchor, serialHex: $serial, subjectKeyIdentifier: $ski, notBefore: $nb, notAfter: $na, note: $note}}' >>"$PKI_JSON"
}

genkey pki/root-ca.key.pem rsa:3072
csr pki/root-ca.key.pem "/C=US/O=smime-core demo PKI/CN=smime-core Demo Root CA" "$WORK/root-ca.csr"
ca_sign root-ca v3_root_ca 2019-01-01 2045-01-01 "$WORK/root-ca.csr" pki/root-ca.cert.pem pki/root-ca.key.pem

genkey pki/issuing-ca.key.pem rsa:2048
csr pki/issuing-ca.key.pem "/C=US/O=smime-core demo PKI/CN=smime-core Demo Issuing CA" "$WORK/issuing-ca.csr"
ca_sign root-ca v3_issuing_ca 2019-01-01 2045-01-01 "$WORK/issuing-ca.csr" pki/issuing-ca.cert.pem pki/root-ca.cert.pem pki/root-ca.key.pem
cat pki/issuing-ca.cert.pem pki/root-ca.cert.pem >pki/chain.pem

genkey pki/untrusted-root.key.pem rsa:2048
csr pki/untrusted-root.key.pem "/C=US/O=Untrusted demo PKI/CN=Untrusted Demo Root CA" "$WORK/untrusted-root.csr"
ca_sign untrusted-root v3_root_ca 2019-01-01 2045-01-01 "$WORK/untrusted-root.csr" pki/untrusted-root.cert.pem pki/untrusted-root.key.pem

ca_entry root-ca RSA-3072 self true "The trust anchor."
ca_entry issuing-ca RSA-2048 root-ca false "Intermediate (pathlen 0); issues every end-entity certificate except grace-untrusted and mallory-selfsigned."
ca_entry untrusted-root RSA-2048 self false "A separate self-signed CA that is NOT the trust anchor; issues grace-untrusted."

# --- 2. identities -----------------------------------------------------------------------------
echo "generate.sh: identities"
ID_JSON="$WORK/identities.jsonl"; : >"$ID_JSON"
KEYED=()   # identity names that have a private key, in order

DUAL=digitalSignature,nonRepudiation,keyEncipherment
SIGN=digitalSignature,nonRepudiation
ENC=keyEncipherment
O="/C=US/O=smime-core demo"

# p12 formats: id, openssl options, and what `openssl pkcs12 -info` reports
p12_format() {
  case "$1" in
    pbes2) jq -nc '{id: "pbes2-aes256-sha256", options: [], mac: "sha256", iterations: 2048,
                    certBags: "PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256",
                    keyBag: "PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256"}' ;;
    legacy) jq -nc '{id: "legacy-rc2_40-3des-sha1", options: ["-legacy"], mac: "sha1", iterations: 2048,
                    certBags: "pbeWithSHA1And40BitRC2-CBC, Iteration 2048",
                    keyBag: "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048"}' ;;
    3des) jq -nc '{id: "pbe-sha1-3des-sha1", options: ["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1"], mac: "sha1", iterations: 2048,
                    certBags: "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048",
                    keyBag: "pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048"}' ;;
  esac
}

# identity NAME --person P --email E --cn CN --key rsa:2048 --ku KU --eku EKU|none --san SANVALUE|none
#          --from D --to D [--ext SECTION] [--issuer issuing-ca|untrusted-root|self] [--p12 pbes2|legacy|3des]
#          --usage U --enc-problems JSON --sign-problems JSON --traits JSON --note TEXT
identity() {
  local name=$1; shift
  local person='' email='' cn='' keyspec=rsa:2048 ku='' eku=emailProtection san='' from='' to='' ext=v3_smime
  local issuer=issuing-ca p12=pbes2 usage='' encp='[]' signp='[]' traits='[]' note='' subject_email=''
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --person) person=$2 ;; --email) email=$2 ;; --cn) cn=$2 ;; --key) keyspec=$2 ;; --ku) ku=$2 ;;
      --eku) eku=$2 ;; --san) san=$2 ;; --from) from=$2 ;; --to) to=$2 ;; --ext) ext=$2 ;;
      --issuer) issuer=$2 ;; --p12) p12=$2 ;; --usage) usage=$2 ;; --enc-problems) encp=$2 ;;
      --sign-problems) signp=$2 ;; --traits) traits=$2 ;; --note) note=$2 ;; --subject-email) subject_email=$2 ;;
      *) die "identity $name: unknown option $1" ;;
    esac
    shift 2
  done
  local key="identities/$name.key.pem" cert="identities/$name.cert.pem" p12file="identities/$name.p12"
  local subj="$O/CN=$cn"; [[ -n $subject_email ]] && subj="$subj/emailAddress=$subject_email"
  genkey "$key" "$keyspec"
  csr "$key" "$subj" "$WORK/$name.csr"
  local envs=(KU="$ku")
  [[ $eku != none ]] && envs+=(EKU="$eku")
  [[ $san != none ]] && envs+=(SAN="email:$san")
  # the extension values reach pki/openssl.cnf through the environment of a subshell
  case "$issuer" in
    issuing-ca)     ( export "${envs[@]}"; ca_sign issuing-ca "$ext" "$from" "$to" "$WORK/$name.csr" "$cert" pki/issuing-ca.cert.pem pki/issuing-ca.key.pem ) ;;
    untrusted-root) ( export "${envs[@]}"; ca_sign untrusted-root "$ext" "$from" "$to" "$WORK/$name.csr" "$cert" pki/untrusted-root.cert.pem pki/untrusted-root.key.pem ) ;;
    self)           ( export "${envs[@]}"; ca_sign mallory "$ext" "$from" "$to" "$WORK/$name.csr" "$cert" "$key" ) ;;
  esac
  # PKCS#12 with cert, key and the issuer chain
  local chain=() chainnames='[]'
  case "$issuer" in
    issuing-ca)     chain=(-certfile pki/chain.pem); chainnames='["issuing-ca","root-ca"]' ;;
    untrusted-root) chain=(-certfile pki/untrusted-root.cert.pem); chainnames='["untrusted-root"]' ;;
  esac
  local fmt; fmt=$(p12_format "$p12")
  local -a p12opts; mapfile -t p12opts < <(jq -r '.options[]' <<<"$fmt")
  openssl pkcs12 -export -inkey "$key" -in "$cert" "${chain[@]}" -name "$name" "${p12opts[@]}" \
    -passout "pass:$PASS" -out "$p12file" || die "pkcs12 -export failed for $name"
  local cmd="openssl pkcs12 -export -inkey $key -in $cert ${chain[*]} -name $name ${p12opts[*]} -passout pass:$PASS -out $p12file"
  cmd=${cmd//  / }

  local kujson ekujson
  kujson=$(jq -nc --arg k "$ku" '$k | split(",")')
  if [[ $eku == none ]]; then ekujson=null; else ekujson=$(jq -nc --arg k "$eku" '$k | split(",")'); fi
  local nb na valid
  nb=$(iso "$cert" startdate); na=$(iso "$cert" enddate)
  if [[ "$(date -u -d "$nb" +%s)" -le "$(date -u -d "$REFERENCE_DATE" +%s)" && "$(date -u -d "$REFERENCE_DATE" +%s)" -lt "$(date -u -d "$na" +%s)" ]]; then valid=true; else valid=false; fi
  local sanjson=null; [[ $san != none ]] && sanjson=$(jq -nc --arg s "$san" '[$s]')
  local skijson=null ski; ski=$(ski_of "$cert"); [[ -n $ski ]] && skijson=$(jq -nc --arg s "$ski" '$s')
  jq -nc --arg name "$name" --arg person "$person" --arg email "$email" --arg p12 "$p12file" --arg cert "$cert" --arg key "$key" \
    --arg usage "$usage" --arg nb "$nb" --arg na "$na" --arg note "$note" --arg keyAlgorithm "$keyspec" \
    --arg subject "$(subject_of "$cert")" --arg issuer "$issuer" --arg serial "$(serial_of "$cert")" \
    --argjson san "$sanjson" --argjson ski "$skijson" --argjson ku "$kujson" --argjson eku "$ekujson" \
    --argjson valid "$valid" --argjson encp "$encp" --argjson signp "$signp" --argjson traits "$traits" \
    --argjson fmt "$fmt" --argjson chain "$chainnames" --arg cmd "$cmd" \
    '{($name): {person: $person, email: $email, p12: $p12, cert: $cert, key: $key, usage: $usage,
       notBefore: $nb, notAfter: $na, note: $note,
       keyAlgorithm: ($keyAlgorithm | sub("^rsa:"; "RSA-") | sub("^ec:"; "EC-")), subject: $subject, issuer: $issuer,
       serialHex: $serial, subjectAltNameEmails: $san, subjectKeyIdentifier: $ski,
       keyUsage: $ku, extendedKeyUsage: $eku, validOnReferenceDate: $valid,
       encryptionProblems: $encp, signingProblems: $signp, traits: $traits,
       p12Format: $fmt, p12Chain: $chain, p12FriendlyName: $name, p12Command: $cmd}}' >>"$ID_JSON"
  KEYED+=("$name")
}

# Alice, the managed user: one current signing cert, an expired one, and three generations of encryption certs
identity alice-sign --person alice --email alice@example.com --cn "Alice Example" --san alice@example.com --ku $SIGN \
  --from 2025-06-01 --to 2028-06-01 --usage signing --enc-problems '["wrong-usage"]' \
  --note "Alice's current signing certificate."
identity alice-sign-2022 --person alice --email alice@example.com --cn "Alice Example" --san alice@example.com --ku $SIGN \
  --from 2022-01-01 --to 2024-01-01 --usage signing --enc-problems '["expired","wrong-usage"]' --sign-problems '["expired"]' \
  --traits '["expired"]' --note "Alice's previous signing certificate, expired."
identity alice-enc-2021 --person alice --email alice@example.com --cn "Alice Example" --san alice@example.com --ku $ENC \
  --from 2021-01-01 --to 2023-01-01 --p12 legacy --usage encryption --enc-problems '["expired"]' --sign-problems '["expired","wrong-usage"]' \
  --traits '["expired","legacy-p12"]' \
  --note "Alice's 2021 encryption certificate, expired. The 'Windows-era' PKCS#12: RC2-40 certificate bag, 3DES key bag, SHA-1 MAC (openssl pkcs12 -export -legacy). Needed to read old mail (enc-old-2021)."
identity alice-enc-2023 --person alice --email alice@example.com --cn "Alice Example" --san alice@example.com --ku $ENC \
  --from 2023-01-01 --to 2025-01-01 --p12 3des --usage encryption --enc-problems '["expired"]' --sign-problems '["expired","wrong-usage"]' \
  --traits '["expired","3des-p12"]' \
  --note "Alice's 2023 encryption certificate, expired. PKCS#12 with PBE-SHA1-3DES for both bags and a SHA-1 MAC. Needed to read old mail (enc-old-2023)."
identity alice-enc-2025 --person alice --email alice@example.com --cn "Alice Example" --san alice@example.com --ku $ENC \
  --from 2025-01-01 --to 2028-01-01 --usage encryption --sign-problems '["wrong-usage"]' \
  --note "Alice's current encryption certificate."
# Bob and the others
identity bob --person bob --email bob@example.com --cn "Bob Example" --san bob@example.com --ku $DUAL \
  --from 2025-01-01 --to 2029-01-01 --usage signing+encryption --note "Dual-use, valid: the ordinary correspondent."
identity dave --person dave --email dave@example.com --cn "Dave Example" --san dave@example.com --ku $DUAL \
  --from 2020-01-01 --to 2022-01-01 --usage signing+encryption --enc-problems '["expired"]' --sign-problems '["expired"]' \
  --traits '["expired"]' --note "Dual-use and otherwise fine, but expired."
identity erin-tls --person erin --email erin@example.com --cn "Erin Example" --san erin@example.com \
  --ku digitalSignature,keyEncipherment --eku serverAuth --from 2025-01-01 --to 2029-01-01 --usage tls \
  --enc-problems '["wrong-usage"]' --sign-problems '["wrong-usage"]' --traits '["eku-serverAuth-only"]' \
  --note "TLS server certificate (extendedKeyUsage serverAuth only): wrong usage for mail."
identity frank-signonly --person frank --email frank@example.com --cn "Frank Example" --san frank@example.com \
  --ku digitalSignature --from 2025-01-01 --to 2029-01-01 --usage signing --enc-problems '["wrong-usage"]' \
  --traits '["no-keyEncipherment"]' --note "keyUsage digitalSignature only: fine for signing, wrong usage for encryption."
identity grace-untrusted --person grace --email grace@example.com --cn "Grace Example" --san grace@example.com --ku $DUAL \
  --from 2025-01-01 --to 2029-01-01 --issuer untrusted-root --usage signing+encryption \
  --enc-problems '["untrusted"]' --sign-problems '["untrusted"]' --traits '["untrusted-issuer"]' \
  --note "Issued by untrusted-root, which is not the trust anchor; otherwise a fine dual-use certificate."
identity heidi-subject-email --person heidi --email heidi@example.com --cn "Heidi Example" --subject-email heidi@example.com \
  --san none --ext v3_smime_nosan --ku $DUAL --from 2025-01-01 --to 2029-01-01 --usage signing+encryption \
  --traits '["no-subjectAltName","email-in-subject"]' \
  --note "No subjectAltName; the address is only in the subject's emailAddress attribute."
identity ivan-noski --person ivan --email ivan@example.com --cn "Ivan Example" --san ivan@example.com --ku $ENC \
  --ext v3_smime_noski --from 2025-01-01 --to 2029-01-01 --usage encryption --sign-problems '["wrong-usage"]' \
  --traits '["no-subjectKeyIdentifier"]' \
  --note "Encryption certificate without a subjectKeyIdentifier extension: can only be addressed by issuer and serial number (openssl refuses -keyid for it)."
identity ec-sign --person erik --email ecuser@example.com --cn "Erik EC" --san ecuser@example.com --key ec:P-256 --ku $SIGN \
  --from 2025-01-01 --to 2029-01-01 --usage signing --enc-problems '["wrong-usage"]' --traits '["ec"]' \
  --note "ECDSA P-256 signing certificate."
identity ec-enc --person erik --email ecuser@example.com --cn "Erik EC" --san ecuser@example.com --key ec:P-384 --ku keyAgreement \
  --from 2025-01-01 --to 2029-01-01 --usage encryption --sign-problems '["wrong-usage"]' --traits '["ec","keyAgreement"]' \
  --note "P-384 key-agreement certificate (ECDH, RFC 5753 kari)."
identity mallory-selfsigned --person mallory --email mallory@example.com --cn "Mallory Example" --san mallory@example.com --ku $DUAL \
  --from 2025-01-01 --to 2029-01-01 --issuer self --usage signing+encryption \
  --enc-problems '["untrusted"]' --sign-problems '["untrusted"]' --traits '["self-signed","untrusted-issuer"]' \
  --note "Self-signed end-entity certificate (CA:FALSE): an untrusted signer."
identity judy-rsa1024 --person judy --email judy@example.com --cn "Judy Example" --san judy@example.com --key rsa:1024 --ku $DUAL \
  --from 2025-01-01 --to 2029-01-01 --usage signing+encryption \
  --enc-problems '["wrong-usage"]' --sign-problems '["weak-key"]' --traits '["rsa-1024"]' \
  --note "RSA-1024 dual-use certificate: too weak under the default policy (minRsaBits 2048). As an encryption certificate it counts as wrong-usage; as a signer it is weak-key."
identity kim-anyeku --person kim --email kim@example.com --cn "Kim Example" --san kim@example.com --ku $DUAL \
  --eku anyExtendedKeyUsage --from 2025-01-01 --to 2029-01-01 --usage signing+encryption --traits '["eku-any"]' \
  --note "extendedKeyUsage anyExtendedKeyUsage (RFC 5280: any purpose, so acceptable for mail)."
identity kim-noeku --person kim --email kim@example.com --cn "Kim Example" --san kim@example.com --ku $DUAL \
  --eku none --ext v3_smime_noeku --from 2025-01-01 --to 2029-01-01 --usage signing+encryption --traits '["no-eku"]' \
  --note "No extendedKeyUsage extension at all (unrestricted, so acceptable for mail)."
identity leo-case --person leo --email leo@example.com --cn "Leo Example" --san LEO@Example.COM --ku $DUAL \
  --from 2025-01-01 --to 2029-01-01 --usage signing+encryption --traits '["uppercase-san"]' \
  --note "subjectAltName is written LEO@Example.COM: addresses must match case-insensitively (at least in the domain)."

CAROL=$(jq -nc '{carol: {person: "carol", email: "carol@example.com", p12: null, cert: null, key: null, usage: "none",
  notBefore: null, notAfter: null, note: "Carol has no certificate at all.", encryptionProblems: ["none"], signingProblems: ["none"], traits: ["no-certificate"]}}')

# --- 3. messages -------------------------------------------------------------------------------
echo "generate.sh: messages"
PLAIN=openssl/plain.txt
LARGE=openssl/plain-large.txt
printf '%s\r\n' \
  'Content-Type: text/plain; charset=utf-8' \
  '' \
  'Hello from the smime-core test vectors.' \
  'This inner entity has CRLF line ends and a little UTF-8: Grüße, naïve, 日本語.' \
  'If you can read this, decryption worked.' >"$PLAIN"
# ~300 KiB (exactly 307200 bytes) so that -stream writes the content in several OCTET STRING chunks
{
  printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
  for ((i = 1; i <= 4799; i++)); do printf 'Line %05d of the large streaming entity, the quick brown fox.\r\n' "$i"; done
  printf 'End of the entity..\r\n'
} >"$LARGE"
[[ $(wc -c <"$LARGE") == 307200 ]] || die "plain-large.txt is $(wc -c <"$LARGE") bytes, not 307200"

MSG_JSON="$WORK/messages.jsonl"; : >"$MSG_JSON"

oid_of() {
  case "$1" in
    envelopedData) echo 1.2.840.113549.1.7.3 ;; authEnvelopedData) echo 1.2.840.113549.1.9.16.1.23 ;;
    aes-128-cbc) echo 2.16.840.1.101.3.4.1.2 ;; aes-256-cbc) echo 2.16.840.1.101.3.4.1.42 ;;
    aes-128-gcm) echo 2.16.840.1.101.3.4.1.6 ;; aes-256-gcm) echo 2.16.840.1.101.3.4.1.46 ;;
    des-ede3-cbc) echo 1.2.840.113549.3.7 ;;
    rsaEncryption) echo 1.2.840.113549.1.1.1 ;; rsaesOaep) echo 1.2.840.113549.1.1.7 ;;
    dhSinglePass-stdDH-sha1kdf-scheme) echo 1.3.133.16.840.63.0.2 ;;
    id-aes128-wrap) echo 2.16.840.1.101.3.4.1.5 ;; id-aes256-wrap) echo 2.16.840.1.101.3.4.1.45 ;;
    *) die "no OID for $1" ;;
  esac
}
alg() { jq -nc --arg n "$1" --arg o "$(oid_of "$1")" '{name: $n, oid: $o}'; }
ri_v15() { # identity [rid]
  jq -nc --arg r "$1" --arg rid "${2:-issuerAndSerialNumber}" --argjson ke "$(alg rsaEncryption)" \
    '{type: "ktri", recipient: $r, rid: $rid, keyEncryption: ($ke + {parameters: "NULL"})}'
}
ri_oaep() { # identity sha1|sha256
  local p
  if [[ $2 == sha1 ]]; then
    p='{"hash": "sha1", "mgf": "mgf1-sha1", "label": "empty", "encoded": "empty SEQUENCE (all defaults)"}'
  else
    p='{"hash": "sha256", "mgf": "mgf1-sha256", "label": "empty", "encoded": "hashFunc sha256 (parameters absent), maskGenFunc mgf1 with sha256, pSourceFunc absent"}'
  fi
  jq -nc --arg r "$1" --argjson ke "$(alg rsaesOaep)" --argjson p "$p" \
    '{type: "ktri", recipient: $r, rid: "issuerAndSerialNumber", keyEncryption: ($ke + {parameters: $p})}'
}
ri_kari() { # identity wrap
  jq -nc --arg r "$1" --argjson ke "$(alg dhSinglePass-stdDH-sha1kdf-scheme)" --argjson w "$(alg "$2")" \
    '{type: "kari", recipient: $r, rid: "issuerAndSerialNumber", originator: "originatorKey (id-ecPublicKey, parameters absent, ephemeral P-384 point)",
      ukm: "absent", keyEncryption: ($ke + {kdf: "ANSI X9.63 KDF with SHA-1"}), keyWrap: $w}'
}
quote() { # shell-quote one word only if needed
  if [[ $1 =~ ^[A-Za-z0-9_./:@=,+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

# message ID --in FILE --from ADDR --to ADDR --recipients "names" --content CIPHER --type envelopedData|authEnvelopedData
#         --ri JSON (repeatable, in order) [--encoding indefinite-length] [--note TEXT] -- openssl-cms-args...
message() {
  local id=$1; shift
  local in=$PLAIN from=bob@example.com to='' recipients='' cipher='' ctype=envelopedData encoding=definite-length note='' ris='[]'
  while [[ $1 != -- ]]; do
    case "$1" in
      --in) in=$2 ;; --from) from=$2 ;; --to) to=$2 ;; --recipients) recipients=$2 ;; --content) cipher=$2 ;;
      --type) ctype=$2 ;; --encoding) encoding=$2 ;; --note) note=$2 ;;
      --ri) ris=$(jq -c --argjson r "$2" '. + [$r]' <<<"$ris") ;;
      *) die "message $id: unknown option $1" ;;
    esac
    shift 2
  done
  shift
  local file="openssl/$id.eml" subject="smime-core test vector $id"
  local cmd=(openssl cms -encrypt -binary -in "$in" -outform SMIME -out "$file" -from "$from" -to "$to" -subject "$subject" "$@")
  "${cmd[@]}" || die "$id: ${cmd[*]}"
  local cmdline='' w
  for w in "${cmd[@]}"; do cmdline+="$(quote "$w") "; done
  local smimetype=enveloped-data; [[ $ctype == authEnvelopedData ]] && smimetype=authEnveloped-data
  local openers failers=() k r
  openers=$(jq -nc --arg r "$recipients" '$r | split(" ")')
  for k in "${KEYED[@]}"; do
    local hit=0; for r in $recipients; do [[ $r == "$k" ]] && hit=1; done
    [[ $hit == 0 ]] && failers+=("$k")
  done
  local algs
  algs=$(jq -nc --argjson ct "$(alg "$ctype")" --argjson ce "$(alg "$cipher")" --argjson ris "$ris" --arg enc "$encoding" \
    '{contentType: $ct, contentEncryption: $ce, recipientInfos: $ris, encoding: $enc}')
  if [[ $cipher == *gcm ]]; then
    algs=$(jq -c '.contentEncryption += {parameters: {nonceLength: 12, icvLength: 16}}' <<<"$algs")
  else
    local ivlen=16; [[ $cipher == des-ede3-cbc ]] && ivlen=8
    algs=$(jq -c --argjson iv "$ivlen" '.contentEncryption += {parameters: {ivLength: $iv}}' <<<"$algs")
  fi
  jq -nc --arg id "$id" --arg file "$file" --arg cmd "${cmdline% }" --argjson algs "$algs" --argjson rec "$openers" \
    --argjson fail "$(printf '%s\n' "${failers[@]}" | jq -R . | jq -sc .)" --arg content "$in" --arg note "$note" \
    --arg from "$from" --arg to "$to" --arg subject "$subject" --arg st "$smimetype" \
    '{id: $id, file: $file, peer: "openssl", command: $cmd, algorithms: $algs, recipients: $rec, identities: $rec,
      expect: {content: $content}, mustFail: {identities: $fail, expect: {error: "ERR_CMS_DECRYPTION_FAILED"}},
      smimeType: $st, headers: {from: $from, to: $to, subject: $subject}, note: $note}' >>"$MSG_JSON"
}

A=identities/alice-enc-2025.cert.pem
message enc-rsa15-aes256cbc --to alice@example.com --recipients alice-enc-2025 --content aes-256-cbc --ri "$(ri_v15 alice-enc-2025)" \
  --note "RSA PKCS#1 v1.5 key transport (OpenSSL's default) with AES-256-CBC (-aes256; OpenSSL 3.0's default cipher would be 3DES)." \
  -- -aes256 "$A"
message enc-rsa15-aes128cbc --to alice@example.com --recipients alice-enc-2025 --content aes-128-cbc --ri "$(ri_v15 alice-enc-2025)" \
  --note "RSA PKCS#1 v1.5 with AES-128-CBC." -- -aes128 "$A"
message enc-rsa15-des3 --to alice@example.com --recipients alice-enc-2025 --content des-ede3-cbc --ri "$(ri_v15 alice-enc-2025)" \
  --note "RSA PKCS#1 v1.5 with 3DES-CBC (des-ede3-cbc), the legacy cipher." -- -des3 "$A"
message enc-oaep-sha1 --to alice@example.com --recipients alice-enc-2025 --content aes-256-cbc --ri "$(ri_oaep alice-enc-2025 sha1)" \
  --note "RSAES-OAEP with all-default parameters (SHA-1, MGF1-SHA-1, empty label): the parameters are an empty SEQUENCE." \
  -- -aes256 -recip "$A" -keyopt rsa_padding_mode:oaep
message enc-oaep-sha256 --to alice@example.com --recipients alice-enc-2025 --content aes-256-cbc --ri "$(ri_oaep alice-enc-2025 sha256)" \
  --note "RSAES-OAEP with SHA-256 and MGF1-SHA-256 (OpenSSL uses the OAEP digest for MGF1 unless told otherwise)." \
  -- -aes256 -recip "$A" -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256
message enc-aes256gcm --to alice@example.com --recipients alice-enc-2025 --type authEnvelopedData --content aes-256-gcm \
  --ri "$(ri_v15 alice-enc-2025)" --note "AuthEnvelopedData (RFC 5083/5084)." -- -aes-256-gcm "$A"
message enc-aes128gcm --to alice@example.com --recipients alice-enc-2025 --type authEnvelopedData --content aes-128-gcm \
  --ri "$(ri_v15 alice-enc-2025)" --note "AuthEnvelopedData (RFC 5083/5084)." -- -aes-128-gcm "$A"
message enc-multi --to "alice@example.com, bob@example.com, dave@example.com" --from carol@example.com \
  --recipients "bob alice-enc-2025 dave" --content aes-256-cbc \
  --ri "$(ri_v15 bob)" --ri "$(ri_v15 alice-enc-2025)" --ri "$(ri_v15 dave)" \
  --note "Three recipients, in this order: bob, alice-enc-2025, dave (dave's certificate is expired; OpenSSL does not check)." \
  -- -aes256 identities/bob.cert.pem "$A" identities/dave.cert.pem
message enc-keyid --to alice@example.com --recipients alice-enc-2025 --content aes-256-cbc \
  --ri "$(ri_v15 alice-enc-2025 subjectKeyIdentifier)" --note "Recipient identified by subjectKeyIdentifier (-keyid): KeyTransRecipientInfo version 2." \
  -- -aes256 -keyid "$A"
message enc-stream --in "$LARGE" --to alice@example.com --recipients alice-enc-2025 --content aes-256-cbc --ri "$(ri_v15 alice-enc-2025)" \
  --encoding indefinite-length \
  --note "Streamed (-stream): indefinite-length BER, encryptedContent as a constructed [0] of OCTET STRING chunks (4096 bytes each, the last shorter); 300 KiB inner entity." \
  -- -stream -aes256 "$A"
message enc-old-2021 --to alice@example.com --recipients alice-enc-2021 --content aes-256-cbc --ri "$(ri_v15 alice-enc-2021)" \
  --note "Mail from years ago, to Alice's expired 2021 encryption certificate (whose p12 is the legacy RC2-40 one)." \
  -- -aes256 identities/alice-enc-2021.cert.pem
message enc-old-2023 --to alice@example.com --recipients alice-enc-2023 --content aes-256-cbc --ri "$(ri_v15 alice-enc-2023)" \
  --note "Mail to Alice's expired 2023 encryption certificate." \
  -- -aes256 identities/alice-enc-2023.cert.pem
message enc-to-bob-only --from alice@example.com --to bob@example.com --recipients bob --content aes-256-cbc --ri "$(ri_v15 bob)" \
  --note "Only Bob can open it: none of Alice's keys can (ERR_CMS_DECRYPTION_FAILED)." \
  -- -aes256 identities/bob.cert.pem
message enc-ivan-noski --to ivan@example.com --recipients ivan-noski --content aes-256-cbc --ri "$(ri_v15 ivan-noski)" \
  --note "To a certificate without subjectKeyIdentifier, by issuer and serial number." \
  -- -aes256 identities/ivan-noski.cert.pem
message enc-ecdh-p384-aes256cbc --to ecuser@example.com --recipients ec-enc --content aes-256-cbc --ri "$(ri_kari ec-enc id-aes256-wrap)" \
  --note "ECDH (RFC 5753) with OpenSSL's default KDF: dhSinglePass-stdDH-sha1kdf-scheme, AES-256 key wrap." \
  -- -aes256 identities/ec-enc.cert.pem
message enc-ecdh-p384-gcm --to ecuser@example.com --recipients ec-enc --type authEnvelopedData --content aes-256-gcm \
  --ri "$(ri_kari ec-enc id-aes256-wrap)" --note "ECDH (default KDF, AES-256 key wrap) inside AuthEnvelopedData with AES-256-GCM." \
  -- -aes-256-gcm identities/ec-enc.cert.pem

# --- 4. manifest -------------------------------------------------------------------------------
OPENSSL_VERSION=$(openssl version | awk '{print $1" "$2}')
jq -n --arg pass "$PASS" --arg ref "$REFERENCE_DATE" --arg ov "$OPENSSL_VERSION" \
  --slurpfile ids "$ID_JSON" --argjson carol "$CAROL" --slurpfile msgs "$MSG_JSON" --slurpfile cas "$PKI_JSON" '
{
  description: "smime-core sample PKI, identities and OpenSSL-made S/MIME messages. Every path is relative to vectors/; every command was run from vectors/.",
  generator: "generate.sh",
  generatedWith: {openssl: $ov},
  referenceDate: $ref,
  password: $pass,
  identities: (($ids | add) + $carol),
  people: (
    (($ids | add) + $carol) | to_entries | group_by(.value.person)
    | map({key: .[0].value.person, value: {email: .[0].value.email, identities: map(.key)}}) | from_entries
  ),
  messages: $msgs,
  pki: {
    config: "pki/openssl.cnf",
    trustAnchor: "root-ca",
    chain: "pki/chain.pem",
    chainContents: ["issuing-ca", "root-ca"],
    cas: ($cas | add)
  }
}' >manifest.json

# --- 5. verify everything ----------------------------------------------------------------------
check_all
bash generate-peers.sh   # then the other peers' messages (NSS, gpgsm, Bouncy Castle, OpenSSL signatures), appended to manifest.json
