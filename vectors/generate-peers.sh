#!/usr/bin/env bash
# Makes the S/MIME messages of the other interop peers from the sample PKI that generate.sh made, and appends
# them to manifest.json (each entry has "generator": "generate-peers.sh"; a re-run replaces exactly those):
#   - OpenSSL (openssl cms): signed detached, opaque, PSS, ECDSA; tampered, expired, untrusted, self-signed;
#     signed then encrypted                                                              -> openssl/sig-*.eml
#   - NSS (cmsutil): enveloped; signed opaque and detached with -Y EncryptionKeyPreference    -> nss/*.eml
#   - GnuPG (gpgsm): encrypted; signed opaque and detached (it imports legacy PKCS#12 only)  -> gpgsm/*.eml
#   - Bouncy Castle (java/SmimePeer.java against Debian's jars): ECDH and RSA-OAEP AuthEnvelopedData, Ed25519,
#     ECDSA by SKI, an opaque signature with SMIMECapabilities and EncryptionKeyPreference  -> bc/*.eml
# plus the Ed25519/X25519 user "edna" (manifest.json -> peerIdentities, files in bc/), and checks the peers'
# known limits (manifest.json -> peerLimits). Then verifies every message it made.
#
#   bash vectors/generate-peers.sh           regenerate the peer messages (called at the end of generate.sh)
#   bash vectors/generate-peers.sh --check   re-verify the committed peer messages, regenerate nothing
#
# Needs: bash, OpenSSL 3.x, jq, NSS tools (cmsutil, certutil, pk12util), GnuPG 2.2 (gpgsm, gpgconf), Java 17
# (java, javac) and Bouncy Castle's bcprov, bcpkix and bcutil jars (default: Debian's in /usr/share/java; or set
# BC_CLASSPATH). Every path written into a file is relative to this folder (vectors/).
set -euo pipefail
cd "$(dirname "$0")"

MODE=generate
case "${1:-}" in
  '') ;;
  --check) MODE=check ;;
  -h|--help) sed -n '2,18p' "$(basename "$0")"; exit 0 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

die() { echo "generate-peers.sh: FAIL: $*" >&2; exit 1; }
for tool in openssl jq cmsutil certutil pk12util gpgsm gpgconf java javac base64 cmp; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
[[ -f manifest.json ]] || die "manifest.json is missing: run generate.sh first"
BC_CLASSPATH=${BC_CLASSPATH:-/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar}
PASS=$(jq -r .password manifest.json)
ME=generate-peers.sh

WORK=$(mktemp -d)
GH="$WORK/gnupghome"
cleanup() {
  [[ -d $GH ]] && gpgconf --homedir "$GH" --kill all >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# The Java peer, compiled once
mkdir -p "$WORK/classes"
javac -nowarn -Xlint:-options -cp "$BC_CLASSPATH" -d "$WORK/classes" java/SmimePeer.java 2>"$WORK/javac.err" \
  || die "javac: $(cat "$WORK/javac.err")"
BC=(java -cp "$BC_CLASSPATH:$WORK/classes" SmimePeer)
BC_VERSION=$(unzip -p "${BC_CLASSPATH%%:*}" META-INF/MANIFEST.MF 2>/dev/null | sed -n 's/^Bundle-Version: *//p' | tr -d '\r' || true)
[[ -n $BC_VERSION ]] || BC_VERSION=$(basename "$(readlink -f "${BC_CLASSPATH%%:*}")" .jar | sed 's/^bcprov-//')

# shell-quotes one word only if needed; commands are recorded with the temporary folder's parts named
quote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:@=,+-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}
cmdline() {
  local w s=''
  for w in "$@"; do s+="$(quote "$w") "; done
  s=${s% }
  s=${s//$WORK\/classes/CLASSES}; s=${s//$WORK\/nssdb-/NSSDB-}; s=${s//$GH/GNUPGHOME}; s=${s//$WORK\//TMP/}
  printf '%s' "$s"
}

# OIDs <-> names used in the manifest
OIDS='{
  "1.2.840.113549.1.7.1": "data", "1.2.840.113549.1.7.2": "signedData", "1.2.840.113549.1.7.3": "envelopedData",
  "1.2.840.113549.1.9.16.1.23": "authEnvelopedData",
  "2.16.840.1.101.3.4.1.2": "aes-128-cbc", "2.16.840.1.101.3.4.1.22": "aes-192-cbc", "2.16.840.1.101.3.4.1.42": "aes-256-cbc",
  "2.16.840.1.101.3.4.1.6": "aes-128-gcm", "2.16.840.1.101.3.4.1.26": "aes-192-gcm", "2.16.840.1.101.3.4.1.46": "aes-256-gcm",
  "1.2.840.113549.3.7": "des-ede3-cbc",
  "1.2.840.113549.1.1.1": "rsaEncryption", "1.2.840.113549.1.1.7": "rsaesOaep", "1.2.840.113549.1.1.10": "rsassaPss",
  "1.2.840.113549.1.1.11": "sha256WithRSAEncryption", "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
  "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
  "1.2.840.10045.2.1": "id-ecPublicKey", "1.2.840.10045.4.3.2": "ecdsa-with-SHA256", "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
  "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.3.101.112": "Ed25519", "1.3.101.110": "X25519",
  "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512",
  "1.3.133.16.840.63.0.2": "dhSinglePass-stdDH-sha1kdf-scheme", "1.3.132.1.11.1": "dhSinglePass-stdDH-sha256kdf-scheme",
  "1.3.132.1.11.2": "dhSinglePass-stdDH-sha384kdf-scheme", "1.3.132.1.11.3": "dhSinglePass-stdDH-sha512kdf-scheme",
  "2.16.840.1.101.3.4.1.5": "id-aes128-wrap", "2.16.840.1.101.3.4.1.45": "id-aes256-wrap",
  "1.2.840.113549.1.9.3": "contentType", "1.2.840.113549.1.9.4": "messageDigest", "1.2.840.113549.1.9.5": "signingTime",
  "1.2.840.113549.1.9.15": "smimeCapabilities", "1.2.840.113549.1.9.16.2.11": "encryptionKeyPreference",
  "1.3.6.1.4.1.311.16.4": "microsoftEncryptionKeyPreference", "1.2.840.113549.1.9.52": "cmsAlgorithmProtection",
  "1.2.840.113549.1.9.16.2.47": "signingCertificateV2"
}'

# The structure of CMS (DER) files as the manifest's "algorithms", one JSON a line in order: Bouncy Castle parses
# (one JVM for all), jq names the OIDs
describe_many() { # der-files...
  local f args=() encs=() i=0 line
  for f in "$@"; do
    args+=(--in "$f")
    if [[ $(head -c 2 "$f" | od -An -tx1 | tr -d ' \n') == 3080 ]]; then encs+=(indefinite-length); else encs+=(definite-length); fi
  done
  "${BC[@]}" describe "${args[@]}" >"$WORK/describe.out" 2>"$WORK/describe.err" || die "cannot parse: $(cat "$WORK/describe.err")"
  while IFS= read -r line; do
    jq -c --argjson n "$OIDS" --arg enc "${encs[$i]}" '
      def nm: . + {name: ($n[.oid] // .oid)};
      .contentType |= nm
      | if .contentEncryption then .contentEncryption |= nm else . end
      | if .recipientInfos then .recipientInfos |= map(.keyEncryption |= nm
          | if .keyWrap then .keyWrap |= nm else . end
          | if .originatorKey then .originatorKey |= nm else . end
          | if .oaepHash then .oaepHash = ($n[.oaepHash] // .oaepHash) | .mgfHash = ($n[.mgfHash] // .mgfHash) else . end) else . end
      | if .signerInfos then .signerInfos |= map(.digest |= nm | .signature |= nm | .signedAttributes |= map($n[.] // .)) else . end
      | . + {encoding: $enc}' <<<"$line"
    i=$((i + 1))
  done <"$WORK/describe.out"
  [[ $i == $# ]] || die "describe: $i results for $# files"
}

# The DER inside an S/MIME message (application/pkcs7-mime, or the signature part of multipart/signed)
der_of() { # eml out
  awk '
    BEGIN { inpart = 0; body = 0 }
    { sub(/\r$/, "") }
    /^Content-Type: application\/(x-)?pkcs7-(mime|signature)/ { inpart = 1; body = 0; next }
    inpart && !body && /^$/ { body = 1; next }
    inpart && body && (/^--/ || /^$/) { exit }
    inpart && body { print }
  ' "$1" | base64 -d >"$2"
}

# ---------------------------------------------------------------------------------------------------------------
# verification of every message this script made (both modes), driven by manifest.json
# ---------------------------------------------------------------------------------------------------------------
CHECKS=0
ok() { CHECKS=$((CHECKS + 1)); }
ROOT=pki/root-ca.cert.pem

ident_file() { # name cert|key
  jq -r --arg n "$1" --arg k "$2" '(.identities[$n] // .peerIdentities[$n])[$k]' manifest.json
}

decrypt_as() { # der identity out
  openssl cms -decrypt -binary -inform DER -in "$1" -recip "$(ident_file "$2" cert)" -inkey "$(ident_file "$2" key)" -out "$3" 2>"$WORK/err"
}

check_peer_messages() {
  local j id file peer der d who status signer content got i=0
  local -a entries ders descs
  mapfile -t entries < <(jq -c --arg me "$ME" '.messages[] | select(.generator == $me)' manifest.json)
  for j in "${entries[@]}"; do
    id=$(jq -r .id <<<"$j"); file=$(jq -r .file <<<"$j")
    [[ -f $file ]] || die "$id: $file is missing"
    der="$WORK/$id.der"; der_of "$file" "$der"
    [[ -s $der ]] || die "$id: no CMS found in $file"
    ders+=("$der")
  done
  mapfile -t descs < <(describe_many "${ders[@]}")
  for j in "${entries[@]}"; do
    id=$(jq -r .id <<<"$j"); file=$(jq -r .file <<<"$j"); peer=$(jq -r .peer <<<"$j")
    der=${ders[$i]}; d=${descs[$i]}; i=$((i + 1))
    content=$(jq -r '.expect.content // empty' <<<"$j")
    [[ -z $content || -f $content ]] || die "$id: $content is missing"
    # the structure is the one the manifest states
    [[ $(jq -c .algorithms <<<"$j") == "$d" ]] || die "$id: the CMS is not as manifest.json says: $d"
    ok
    case "$(jq -r .algorithms.contentType.name <<<"$j")" in
      envelopedData|authEnvelopedData)
        for who in $(jq -r '.identities[]' <<<"$j"); do
          if [[ $(ident_file "$who" keyAlgorithm) == X25519 ]]; then
            die "$id: cannot check an X25519 recipient with OpenSSL 3.0"
          fi
          decrypt_as "$der" "$who" "$WORK/out" || die "$id: openssl cms -decrypt as $who failed: $(cat "$WORK/err")"
          cmp -s "$WORK/out" "$content" || die "$id: decrypted as $who, content differs from $content"
          if [[ $(jq -r '.expect.innerContent // empty' <<<"$j") != '' ]]; then
            # signed then encrypted: the signed entity inside verifies
            openssl cms -verify -in "$WORK/out" -CAfile "$ROOT" -purpose any -out "$WORK/inner" 2>"$WORK/err" \
              || die "$id: inner signature does not verify: $(cat "$WORK/err")"
            cmp -s "$WORK/inner" "$(jq -r .expect.innerContent <<<"$j")" || die "$id: inner content differs"
          fi
          ok
        done
        for who in $(jq -r '.mustFail.identities[]?' <<<"$j"); do
          if decrypt_as "$der" "$who" "$WORK/out"; then die "$id: $who could decrypt it, but is listed in mustFail"; fi
          ok
        done ;;
      signedData)
        status=$(jq -r .expect.status <<<"$j")
        signer=$(jq -r .expect.signerIdentity <<<"$j")
        if [[ $(ident_file "$signer" keyAlgorithm) == Ed25519 ]]; then
          # OpenSSL 3.0 has no Ed25519 CMS: Bouncy Castle checks it
          local args=(verify --in "$der" --trust "$ROOT")
          if [[ $(jq -r .algorithms.encapsulated <<<"$j") == false ]]; then
            extract_signed_part "$file" "$WORK/part"
            args+=(--content "$WORK/part")
          fi
          if "${BC[@]}" "${args[@]}" >"$WORK/bc.out" 2>&1; then got=valid; else got=not-valid; fi
        else
          if openssl cms -verify -in "$file" -CAfile "$ROOT" -purpose any -out "$WORK/out" >/dev/null 2>"$WORK/err"; then got=valid; else got=not-valid; fi
          if [[ $got == valid ]]; then cmp -s "$WORK/out" "$content" || die "$id: verified content differs from $content"; fi
        fi
        if [[ $status == valid ]]; then
          [[ $got == valid ]] || die "$id: expected a valid signature: $(cat "$WORK/err" "$WORK/bc.out" 2>/dev/null | head -5)"
        else
          [[ $got != valid ]] || die "$id: expected status $status, but the peer finds the signature valid"
        fi
        ok ;;
      *) die "$id: unknown content type" ;;
    esac
  done
}

# The first part of a multipart/signed message, as signed (CRLF, without the CRLF before the delimiter)
extract_signed_part() { # eml out
  local b
  b=$(sed -n 's/.*boundary="\([^"]*\)".*/\1/p' "$1" | head -1)
  awk -v b="--$b" 'BEGIN { RS = "\r\n"; ORS = "" }
    $0 == b { n++; if (n == 2) exit; started = 1; first = 1; next }
    started { if (!first) printf "\r\n"; printf "%s", $0; first = 0 }' "$1" >"$2"
}

check_limits() {
  local n
  n=$(jq '.peerLimits | length' manifest.json)
  [[ $n -gt 0 ]] || die "manifest.json has no peerLimits"
  ok
}

check_all() {
  check_peer_messages
  check_limits
  echo "generate-peers.sh: OK: $CHECKS checks passed ($(jq --arg me "$ME" '[.messages[] | select(.generator == $me)] | length' manifest.json) peer messages)"
}

if [[ $MODE == check ]]; then
  check_all
  exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
# generation
# ---------------------------------------------------------------------------------------------------------------
PLAIN=openssl/plain.txt
[[ -f $PLAIN ]] || die "$PLAIN is missing: run generate.sh first"
rm -rf nss gpgsm bc
# the files of the previous run's entries outside those folders (OpenSSL's, in openssl/)
jq -r --arg me "$ME" '.messages[] | select(.generator == $me) | .file, (.expect.content | select(startswith("openssl/sig-")))' manifest.json \
  | while IFS= read -r f; do [[ $f == openssl/plain*.txt ]] || rm -f "$f"; done
mkdir -p nss gpgsm bc

MSG_JSON="$WORK/messages.jsonl"; : >"$MSG_JSON"
DERS=()
LIMITS_JSON="$WORK/limits.jsonl"; : >"$LIMITS_JSON"
mapfile -t KEYED < <(jq -r '.identities | to_entries[] | select(.value.key != null) | .key' manifest.json)

cert() { jq -r --arg n "$1" '.identities[$n].cert' manifest.json; }
key() { jq -r --arg n "$1" '.identities[$n].key' manifest.json; }

crlf_b64() { base64 -w 76 "$1" | sed 's/$/\r/'; }

# wraps DER as application/pkcs7-mime (CRLF)
mime_opaque() { # der out smime-type from to subject
  {
    printf '%s\r\n' "From: $4" "To: $5" "Subject: $6" 'MIME-Version: 1.0' \
      "Content-Type: application/pkcs7-mime; smime-type=$3; name=\"smime.p7m\"" 'Content-Transfer-Encoding: base64' \
      'Content-Disposition: attachment; filename="smime.p7m"' ''
    crlf_b64 "$1"
  } >"$2"
}

# multipart/signed from the signed entity (which ends in CRLF) and a detached signature (CRLF)
BOUNDARY='----=_smime-core-vector-signed'
mime_detached() { # entity der out micalg from to subject
  {
    printf '%s\r\n' "From: $5" "To: $6" "Subject: $7" 'MIME-Version: 1.0' \
      "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=$4; boundary=\"$BOUNDARY\"" '' \
      'This is an S/MIME signed message.' '' "--$BOUNDARY"
    cat "$1"
    printf '%s\r\n' '' "--$BOUNDARY" 'Content-Type: application/pkcs7-signature; name="smime.p7s"' \
      'Content-Transfer-Encoding: base64' 'Content-Disposition: attachment; filename="smime.p7s"' ''
    crlf_b64 "$2"
    printf '%s\r\n' "--$BOUNDARY--"
  } >"$3"
}

# record ID --peer P --file F --cmd "..." [--recipients "names"] [--content FILE] [--inner FILE]
#        [--signer IDENTITY --status S] [--keypref IDENTITY] [--from A --to A] [--smime-type T] [--note TEXT]
record() {
  local id=$1; shift
  local peer='' file='' cmd='' recipients='' content=$PLAIN inner='' signer='' status='' keypref='' from='' to='' st='' note=''
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --peer) peer=$2 ;; --file) file=$2 ;; --cmd) cmd=$2 ;; --recipients) recipients=$2 ;; --content) content=$2 ;;
      --inner) inner=$2 ;; --signer) signer=$2 ;; --status) status=$2 ;; --keypref) keypref=$2 ;;
      --from) from=$2 ;; --to) to=$2 ;; --smime-type) st=$2 ;; --note) note=$2 ;;
      *) die "record $id: unknown option $1" ;;
    esac
    shift 2
  done
  local der="$WORK/$id.der"
  der_of "$file" "$der"
  [[ -s $der ]] || die "$id: no CMS found in $file"
  DERS+=("$der")
  local openers failers=() k r hit
  openers=$(jq -nc --arg r "$recipients" '$r | split(" ") | map(select(. != ""))')
  if [[ -n $recipients ]]; then
    for k in "${KEYED[@]}"; do
      hit=0; for r in $recipients; do [[ $r == "$k" ]] && hit=1; done
      [[ $hit == 0 ]] && failers+=("$k")
    done
  fi
  local email=''
  [[ -n $signer ]] && email=$(ident_file "$signer" email)
  local expect
  expect=$(jq -nc --arg c "$content" --arg i "$inner" --arg s "$signer" --arg e "$email" --arg st "$status" --arg kp "$keypref" '
    {content: $c}
    + (if $i != "" then {innerContent: $i} else {} end)
    + (if $s != "" then {signer: $e, signerIdentity: $s, status: $st} else {} end)
    + (if $kp != "" then {encryptionKeyPreference: $kp} else {} end)')
  local mustfail='null'
  if [[ ${#failers[@]} -gt 0 ]]; then
    mustfail=$(printf '%s\n' "${failers[@]}" | jq -R . | jq -sc '{identities: ., expect: {error: "ERR_CMS_DECRYPTION_FAILED"}}')
  fi
  jq -nc --arg id "$id" --arg file "$file" --arg peer "$peer" --arg cmd "$cmd" --argjson algs null \
    --argjson rec "$openers" --argjson expect "$expect" --argjson mf "$mustfail" --arg st "$st" \
    --arg from "$from" --arg to "$to" --arg subject "smime-core test vector $id" --arg note "$note" --arg me "$ME" '
    {id: $id, file: $file, peer: $peer, command: $cmd, algorithms: $algs, recipients: $rec, identities: $rec,
     expect: $expect}
    + (if $mf != null then {mustFail: $mf} else {} end)
    + {smimeType: $st, headers: {from: $from, to: $to, subject: $subject}, note: $note, generator: $me}' >>"$MSG_JSON"
}

limit() { # peer operation what evidence-command error
  jq -nc --arg p "$1" --arg o "$2" --arg w "$3" --arg c "$4" --arg e "$5" \
    '{peer: $p, operation: $o, limit: $w, command: $c, error: $e}' >>"$LIMITS_JSON"
}

# expects a peer command to fail; records the limit with the peer's own error
expect_limit() { # peer operation what -- command...
  local p=$1 o=$2 w=$3; shift 4
  if "$@" >"$WORK/limit.out" 2>"$WORK/limit.err"; then
    die "$p: expected a known limit ($w), but this worked: $(cmdline "$@")"
  fi
  local e; e=$(cat "$WORK/limit.err" "$WORK/limit.out" | grep -v '^\s*$' | grep -iv 'NSS_Shutdown\|CRLs not checked' | head -3 | tr '\n' ' ' | sed 's/ *$//')
  e=${e//$WORK\//TMP/}
  limit "$p" "$o" "$w" "$(cmdline "$@")" "$e"
}

# --- 1. the Ed25519/X25519 user (Bouncy Castle issues the certificates: OpenSSL 3.0 cannot request one for an
#        X25519 key, and `openssl x509` cannot set the window). Files in bc/, entries in manifest.json peerIdentities.
echo "generate-peers.sh: edna (Ed25519, X25519)"
: >"$WORK/peer-ids.jsonl"
SMIME_P12_FORMAT=$(jq -c '.identities["alice-sign"].p12Format' manifest.json)
peer_identity() { # name algorithm serial ku usage enc-problems sign-problems note
  local name=$1 alg=$2 serial=$3 ku=$4 usage=$5 encp=$6 signp=$7 note=$8
  local k="bc/$name.key.pem" c="bc/$name.cert.pem" p="bc/$name.p12"
  openssl genpkey -algorithm "$alg" -out "$k"
  openssl pkey -in "$k" -pubout -out "$WORK/$name.pub"
  "${BC[@]}" issue --ca-cert pki/issuing-ca.cert.pem --ca-key pki/issuing-ca.key.pem --pub "$WORK/$name.pub" \
    --subject "C=US,O=smime-core demo,CN=Edna Example" --email edna@example.com --serial "$serial" \
    --not-before 2025-01-01 --not-after 2029-01-01 --ku "$ku" --out "$c" >/dev/null
  local p12cmd=(openssl pkcs12 -export -inkey "$k" -in "$c" -certfile pki/chain.pem -name "$name" -passout "pass:$PASS" -out "$p")
  "${p12cmd[@]}"
  local ski; ski=$(openssl x509 -in "$c" -noout -ext subjectKeyIdentifier | sed -n '2{s/[ :]//g;p}' | tr 'A-F' 'a-f')
  local issue_cmd; issue_cmd="$(cmdline "${BC[@]}" issue --ca-cert pki/issuing-ca.cert.pem --ca-key pki/issuing-ca.key.pem --pub TMP/$name.pub \
    --subject "C=US,O=smime-core demo,CN=Edna Example" --email edna@example.com --serial "$serial" \
    --not-before 2025-01-01 --not-after 2029-01-01 --ku "$ku" --out "$c")"
  jq -nc --arg n "$name" --arg k "$k" --arg c "$c" --arg p "$p" --arg alg "$alg" --arg serial "$serial" --arg ski "$ski" \
    --arg ku "$ku" --arg usage "$usage" --argjson encp "$encp" --argjson signp "$signp" --arg note "$note" \
    --argjson fmt "$SMIME_P12_FORMAT" --arg p12cmd "$(cmdline "${p12cmd[@]}")" --arg issue "$issue_cmd" --arg me "$ME" '
    {($n): {person: "edna", email: "edna@example.com", p12: $p, cert: $c, key: $k, usage: $usage,
      notBefore: "2025-01-01T00:00:00Z", notAfter: "2029-01-01T00:00:00Z", note: $note, keyAlgorithm: $alg,
      subject: "CN=Edna Example,O=smime-core demo,C=US", issuer: "issuing-ca", serialHex: $serial,
      subjectAltNameEmails: ["edna@example.com"], subjectKeyIdentifier: $ski, keyUsage: ($ku | split(",")),
      extendedKeyUsage: ["emailProtection"], validOnReferenceDate: true, encryptionProblems: $encp, signingProblems: $signp,
      traits: [($alg | ascii_downcase)], p12Format: $fmt, p12Chain: ["issuing-ca", "root-ca"], p12FriendlyName: $n,
      p12Command: $p12cmd, certCommand: $issue, keyCommand: ("openssl genpkey -algorithm " + $alg + " -out " + $k), generator: $me}}' \
    >>"$WORK/peer-ids.jsonl"
}
peer_identity edna-ed25519 Ed25519 2100 digitalSignature,nonRepudiation signing '["wrong-usage"]' '[]' \
  "Ed25519 signing certificate (RFC 8419). OpenSSL 3.0 cannot sign CMS with it; Bouncy Castle can. smime-core signs and verifies it (SHA-512, RFC 8419)."
peer_identity edna-x25519 X25519 2101 keyAgreement encryption '[]' '["wrong-usage"]' \
  "X25519 key-agreement certificate (RFC 8418). Neither OpenSSL 3.0 nor Bouncy Castle 1.72 can encrypt CMS to it; smime-core can."
PEER_IDS=$(jq -sc 'add' "$WORK/peer-ids.jsonl")
# the identities are known to ident_file() through the manifest only at the end: a provisional manifest for checks
ident_file() {
  jq -r --arg n "$1" --arg k "$2" --argjson p "$PEER_IDS" '(.identities[$n] // $p[$n])[$k]' manifest.json
}

# --- 2. OpenSSL: signed messages -----------------------------------------------------------------------------
echo "generate-peers.sh: openssl signed messages"
CHAIN=pki/chain.pem
ossl_sign() { # id identity out [extra...]
  local id=$1 who=$2 out=$3; shift 3
  local email; email=$(jq -r --arg n "$who" '.identities[$n].email' manifest.json)
  local c=(openssl cms -sign -binary -in "$PLAIN" -signer "$(cert "$who")" -inkey "$(key "$who")" -certfile "$CHAIN"
    -from "$email" -to bob@example.com -subject "smime-core test vector $id" -out "$out" "$@")
  "${c[@]}" || die "$id: $(cmdline "${c[@]}")"
  LAST_CMD=$(cmdline "${c[@]}")
}
sig() { # id identity status detached|opaque note [extra openssl args...]
  local id=$1 who=$2 status=$3 kind=$4 note=$5; shift 5
  local extra=("$@") st=multipart-signed
  [[ $kind == opaque ]] && { extra+=(-nodetach); st=signed-data; }
  ossl_sign "$id" "$who" "openssl/$id.eml" "${extra[@]}"
  record "$id" --peer openssl --file "openssl/$id.eml" --cmd "$LAST_CMD" --signer "$who" --status "$status" \
    --from "$(jq -r --arg n "$who" '.identities[$n].email' manifest.json)" --to bob@example.com --smime-type "$st" --note "$note"
}
sig sig-rsa-detached alice-sign valid detached "RSA PKCS#1 v1.5 with SHA-256, multipart/signed (OpenSSL's default), chain included."
sig sig-rsa-opaque alice-sign valid opaque "RSA PKCS#1 v1.5 with SHA-256, opaque application/pkcs7-mime signed-data (-nodetach)."
sig sig-rsa-pss alice-sign valid detached "RSASSA-PSS (SHA-256, MGF1-SHA-256), multipart/signed." -keyopt rsa_padding_mode:pss
sig sig-ecdsa-p256 ec-sign valid detached "ECDSA P-256 with SHA-256, multipart/signed."
sig sig-ecdsa-p256-opaque ec-sign valid opaque "ECDSA P-256 with SHA-256, opaque."
sig sig-expired alice-sign-2022 expired detached \
  "Signed by Alice's 2022 signing certificate, which expired 2024-01-01, long before the signing time."
sig sig-untrusted grace-untrusted untrusted detached \
  "Signed by grace-untrusted, whose chain (untrusted-root, included with -certfile) does not reach the trust anchor." \
  -certfile pki/untrusted-root.cert.pem
sig sig-selfsigned mallory-selfsigned untrusted detached "Signed by a self-signed end-entity certificate."

# tampered: the signed entity of sig-rsa-detached with one letter changed after signing
ossl_sign sig-tampered alice-sign openssl/sig-tampered.eml
TAMPER_CMD="$LAST_CMD && sed -i 's/^Hello from the smime-core test vectors\\./Hello from the smime-core test vectorz./' openssl/sig-tampered.eml"
sed -i 's/^Hello from the smime-core test vectors\./Hello from the smime-core test vectorz./' openssl/sig-tampered.eml
grep -q 'test vectorz\.' openssl/sig-tampered.eml || die "sig-tampered: could not alter the signed entity"
record sig-tampered --peer openssl --file openssl/sig-tampered.eml --cmd "$TAMPER_CMD" --signer alice-sign --status invalid \
  --from alice@example.com --to bob@example.com --smime-type multipart-signed \
  --note "sig-rsa-detached with one letter of the signed entity changed after signing (vectors -> vectorz): the digest no longer matches."

# signed, then encrypted to Bob: the decrypted entity is the signed one (sig-then-enc.inner.eml), inside it plain.txt
INNER=openssl/sig-then-enc.inner.eml
c1=(openssl cms -sign -binary -in "$PLAIN" -signer "$(cert alice-sign)" -inkey "$(key alice-sign)" -certfile "$CHAIN" -out "$INNER")
"${c1[@]}" || die "sig-then-enc: sign"
c2=(openssl cms -encrypt -binary -in "$INNER" -out openssl/sig-then-enc.eml -from alice@example.com -to bob@example.com
  -subject 'smime-core test vector sig-then-enc' -aes256 "$(cert bob)")
"${c2[@]}" || die "sig-then-enc: encrypt"
record sig-then-enc --peer openssl --file openssl/sig-then-enc.eml --cmd "$(cmdline "${c1[@]}") && $(cmdline "${c2[@]}")" \
  --recipients bob --content "$INNER" --inner "$PLAIN" --signer alice-sign --status valid \
  --from alice@example.com --to bob@example.com --smime-type enveloped-data \
  --note "Signed by alice-sign (multipart/signed), then encrypted to Bob (AES-256-CBC). expect.content is the decrypted entity (the multipart/signed one, kept as sig-then-enc.inner.eml); expect.innerContent is what opening every layer gives."

# an envelope generate.sh does not make: RSA-OAEP inside AuthEnvelopedData
c=(openssl cms -encrypt -binary -in "$PLAIN" -outform SMIME -out openssl/enc-oaep-sha256-gcm.eml -from bob@example.com -to alice@example.com
  -subject 'smime-core test vector enc-oaep-sha256-gcm' -aes-256-gcm -recip "$(cert alice-enc-2025)" -keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256)
"${c[@]}" || die "enc-oaep-sha256-gcm: $(cmdline "${c[@]}")"
record enc-oaep-sha256-gcm --peer openssl --file openssl/enc-oaep-sha256-gcm.eml --cmd "$(cmdline "${c[@]}")" --recipients alice-enc-2025 \
  --from bob@example.com --to alice@example.com --smime-type authEnveloped-data \
  --note "AuthEnvelopedData (AES-256-GCM) with RSAES-OAEP SHA-256 / MGF1-SHA-256 key transport."

# OpenSSL 3.0's limits: no Ed25519 or X25519 in CMS
expect_limit openssl sign 'OpenSSL 3.0 has no Ed25519 CMS signatures' -- \
  openssl cms -sign -binary -in "$PLAIN" -signer bc/edna-ed25519.cert.pem -inkey bc/edna-ed25519.key.pem -out "$WORK/limit.eml"
expect_limit openssl encrypt 'OpenSSL 3.0 has no X25519 CMS envelopes' -- \
  openssl cms -encrypt -binary -in "$PLAIN" -out "$WORK/limit.eml" -aes256 bc/edna-x25519.cert.pem

# --- 3. NSS: cmsutil -----------------------------------------------------------------------------------------
echo "generate-peers.sh: NSS cmsutil messages"
NSS_VERSION=$(nss-config --version 2>/dev/null || pkg-config --modversion nss 2>/dev/null || echo unknown)
nssdb() { # name: an NSS database trusting root-ca
  local db="$WORK/nssdb-$1"
  mkdir -p "$db"
  certutil -N -d "sql:$db" --empty-password
  certutil -A -d "sql:$db" -n smime-core-root -t C,C,C -i "$ROOT"
  certutil -A -d "sql:$db" -n smime-core-issuing -t ,, -i pki/issuing-ca.cert.pem
  echo "sql:$db"
}
# Bob sends: his database holds only the recipients' certificates (NSS would otherwise pick Alice's signing cert,
# which has the same subject, for encryption)
NSS_BOB=$(nssdb bob)
for n in alice-enc-2025 bob; do certutil -A -d "$NSS_BOB" -n "$n" -t ,, -i "$(cert "$n")"; done
# Alice signs: her database holds alice-sign and alice-enc-2025 (pk12util gives both alice-sign's nickname, as they
# share a subject; -N picks the signing one, -Y the one for encryption) and ec-sign
NSS_ALICE=$(nssdb alice)
for n in alice-sign alice-enc-2025 ec-sign; do
  pk12util -i "identities/$n.p12" -d "$NSS_ALICE" -W "$PASS" -K '' >/dev/null || die "pk12util -i $n"
done

nss_env() { # id recipients-emails recipient-names to note
  local id=$1 emails=$2 names=$3 to=$4 note=$5
  local c=(cmsutil -E -r "$emails" -i "$PLAIN" -o "$WORK/$id.p7m" -d "$NSS_BOB")
  "${c[@]}" || die "$id: $(cmdline "${c[@]}")"
  mime_opaque "$WORK/$id.p7m" "nss/${id#nss-}.eml" enveloped-data bob@example.com "$to" "smime-core test vector $id"
  record "$id" --peer nss --file "nss/${id#nss-}.eml" --cmd "$(cmdline "${c[@]}")" --recipients "$names" \
    --from bob@example.com --to "$to" --smime-type enveloped-data \
    --note "$note The DER that cmsutil wrote is wrapped in application/pkcs7-mime by generate-peers.sh."
}
nss_env nss-enc-rsa alice@example.com alice-enc-2025 alice@example.com \
  "cmsutil -E: RSA PKCS#1 v1.5 key transport, NSS's own choice of content cipher (no S/MIME profile known for Alice)."
nss_env nss-enc-multi alice@example.com,bob@example.com "alice-enc-2025 bob" "alice@example.com, bob@example.com" \
  "cmsutil -E to two recipients."

nss_sig() { # id nick signer-identity detached|opaque keypref-identity note [extra...]
  local id=$1 nick=$2 who=$3 kind=$4 kp=$5 note=$6; shift 6
  local email; email=$(jq -r --arg n "$who" '.identities[$n].email' manifest.json)
  local t=(); [[ $kind == detached ]] && t=(-T)
  local c=(cmsutil -S -N "$nick" -G -P "${t[@]}" "$@" -i "$PLAIN" -o "$WORK/$id.p7m" -d "$NSS_ALICE" -p '')
  "${c[@]}" 2>"$WORK/err" || die "$id: $(cmdline "${c[@]}"): $(cat "$WORK/err")"
  if [[ $kind == detached ]]; then
    mime_detached "$PLAIN" "$WORK/$id.p7m" "nss/${id#nss-}.eml" sha-256 "$email" bob@example.com "smime-core test vector $id"
  else
    mime_opaque "$WORK/$id.p7m" "nss/${id#nss-}.eml" signed-data "$email" bob@example.com "smime-core test vector $id"
  fi
  local kpa=(); [[ -n $kp ]] && kpa=(--keypref "$kp")
  record "$id" --peer nss --file "nss/${id#nss-}.eml" --cmd "$(cmdline "${c[@]}")" --signer "$who" --status valid "${kpa[@]}" \
    --from "$email" --to bob@example.com --smime-type "$([[ $kind == detached ]] && echo multipart-signed || echo signed-data)" \
    --note "$note Wrapped in MIME by generate-peers.sh."
}
nss_sig nss-sig-rsa-opaque alice-sign alice-sign opaque alice-enc-2025 \
  "cmsutil -S -G -P -Y: RSA, opaque, with signingTime, SMIMECapabilities and the EncryptionKeyPreference (RFC 8551 and Microsoft's) naming alice-enc-2025 (-Y resolves the nickname for encryption)." \
  -Y alice-sign
nss_sig nss-sig-rsa-detached alice-sign alice-sign detached alice-enc-2025 \
  "cmsutil -S -T -G -P -Y: RSA, detached (multipart/signed), EncryptionKeyPreference naming alice-enc-2025." -Y alice-sign
nss_sig nss-sig-ecdsa-opaque ec-sign ec-sign opaque '' "cmsutil -S -G -P: ECDSA P-256, opaque (-Y left to NSS's default)."
nss_sig nss-sig-ecdsa-detached ec-sign ec-sign detached '' "cmsutil -S -T -G -P: ECDSA P-256, detached."

# NSS 3.87's limits: no ECDH envelopes; no AuthEnvelopedData (cmsutil -E has no way to ask for it)
certutil -A -d "$NSS_BOB" -n ec-enc -t ,, -i "$(cert ec-enc)"
expect_limit nss encrypt 'NSS 3.87 has no ECDH (KeyAgreeRecipientInfo) envelopes' -- \
  cmsutil -E -r ecuser@example.com -i "$PLAIN" -o "$WORK/limit.p7m" -d "$NSS_BOB"
limit nss encrypt 'NSS 3.87 has no AuthEnvelopedData: cmsutil -E always makes EnvelopedData and has no option for the content cipher' \
  'cmsutil -E' '(no such option)'

# --- 4. gpgsm --------------------------------------------------------------------------------------------------
echo "generate-peers.sh: gpgsm messages"
GPGSM_VERSION=$(gpgsm --version | sed -n '1s/^gpgsm (GnuPG) //p')
mkdir -m 700 "$GH"
printf 'allow-loopback-pinentry\n' >"$GH/gpg-agent.conf"
printf 'disable-crl-checks\ndisable-trusted-cert-crl-check\n' >"$GH/gpgsm.conf"
printf '%s S relax\n' "$(openssl x509 -in "$ROOT" -noout -fingerprint -sha1 | cut -d= -f2)" >"$GH/trustlist.txt"
gpg_sm() { gpgsm --homedir "$GH" --batch --pinentry-mode loopback --passphrase-fd 0 "$@" <<<"$PASS"; }
gpg_sm --import "$ROOT" pki/issuing-ca.cert.pem "$(cert alice-enc-2025)" "$(cert bob)" "$(cert ec-enc)" 2>/dev/null
# gpgsm 2.2 reads legacy PKCS#12 only: alice-sign's is converted (same key and certificate)
openssl pkcs12 -export -legacy -inkey "$(key alice-sign)" -in "$(cert alice-sign)" -certfile "$CHAIN" -name alice-sign \
  -passout "pass:$PASS" -out "$WORK/alice-sign.legacy.p12"
gpg_sm --import "$WORK/alice-sign.legacy.p12" 2>"$WORK/err" || die "gpgsm --import alice-sign (legacy): $(cat "$WORK/err")"
grep -q 'secret keys imported: 1' "$WORK/err" || die "gpgsm did not import alice-sign's key: $(cat "$WORK/err")"
fpr() { openssl x509 -in "$1" -noout -fingerprint -sha1 | cut -d= -f2 | tr -d :; }

gpg_enc() { # id recipient-names to note [extra...]
  local id=$1 names=$2 to=$3 note=$4; shift 4
  local rs=() n
  for n in $names; do rs+=(-r "$(fpr "$(cert "$n")")"); done
  local c=(gpgsm --homedir "$GH" --batch "$@" "${rs[@]}" -o "$WORK/$id.p7m" --encrypt "$PLAIN")
  "${c[@]}" 2>"$WORK/err" || die "$id: $(cmdline "${c[@]}"): $(cat "$WORK/err")"
  mime_opaque "$WORK/$id.p7m" "gpgsm/${id#gpgsm-}.eml" enveloped-data bob@example.com "$to" "smime-core test vector $id"
  record "$id" --peer gpgsm --file "gpgsm/${id#gpgsm-}.eml" --cmd "$(cmdline "${c[@]}")" --recipients "$names" \
    --from bob@example.com --to "$to" --smime-type enveloped-data --note "$note Wrapped in MIME by generate-peers.sh."
}
gpg_enc gpgsm-enc-aes256 alice-enc-2025 alice@example.com "gpgsm --encrypt --cipher-algo AES256: RSA PKCS#1 v1.5, AES-256-CBC." --cipher-algo AES256
gpg_enc gpgsm-enc-default alice-enc-2025 alice@example.com "gpgsm --encrypt with its default content cipher."
gpg_enc gpgsm-enc-multi "bob alice-enc-2025" "alice@example.com, bob@example.com" "gpgsm --encrypt to Bob and Alice." --cipher-algo AES256

gpg_sig() { # id detached|opaque note
  local id=$1 kind=$2 note=$3
  local op=--sign; [[ $kind == detached ]] && op=--detach-sign
  local c=(gpgsm --homedir "$GH" --batch --pinentry-mode loopback --passphrase-fd 0 -u "$(fpr "$(cert alice-sign)")"
    --include-certs -1 -o "$WORK/$id.p7m" "$op" "$PLAIN")
  "${c[@]}" <<<"$PASS" 2>"$WORK/err" || die "$id: $(cmdline "${c[@]}"): $(cat "$WORK/err")"
  if [[ $kind == detached ]]; then
    mime_detached "$PLAIN" "$WORK/$id.p7m" "gpgsm/${id#gpgsm-}.eml" sha-256 alice@example.com bob@example.com "smime-core test vector $id"
  else
    mime_opaque "$WORK/$id.p7m" "gpgsm/${id#gpgsm-}.eml" signed-data alice@example.com bob@example.com "smime-core test vector $id"
  fi
  record "$id" --peer gpgsm --file "gpgsm/${id#gpgsm-}.eml" --cmd "$(cmdline "${c[@]}")" --signer alice-sign --status valid \
    --from alice@example.com --to bob@example.com --smime-type "$([[ $kind == detached ]] && echo multipart-signed || echo signed-data)" \
    --note "$note alice-sign's key was imported from a legacy PKCS#12 made with openssl pkcs12 -export -legacy. Wrapped in MIME by generate-peers.sh."
}
gpg_sig gpgsm-sig-rsa-opaque opaque "gpgsm --sign: RSA, opaque, every certificate of the chain (--include-certs -1)."
gpg_sig gpgsm-sig-rsa-detached detached "gpgsm --detach-sign: RSA, detached (multipart/signed)."

# gpgsm 2.2's limits: PKCS#12 other than the legacy format; EC keys; ECDH envelopes
P12_MODERN=$(jq -r '.identities["alice-enc-2025"].p12' manifest.json)
if gpg_sm --import "$P12_MODERN" >"$WORK/err" 2>&1; then :; fi
grep -q 'secret keys imported: 1' "$WORK/err" && die "gpgsm 2.2 imported a PBES2 PKCS#12: the known limit no longer holds"
limit gpgsm import 'gpgsm 2.2 imports only legacy PKCS#12 (RC2/3DES, SHA-1 MAC), not the PBES2/AES one OpenSSL 3 writes' \
  "gpgsm --import $P12_MODERN" "$(grep -i 'error' "$WORK/err" | head -2 | tr '\n' ' ' | sed 's/ *$//')"
expect_limit gpgsm encrypt 'gpgsm 2.2 has no ECDH envelopes (it refuses a keyAgreement certificate)' -- \
  gpgsm --homedir "$GH" --batch -r "$(fpr "$(cert ec-enc)")" -o "$WORK/limit.p7m" --encrypt "$PLAIN"

# --- 5. Bouncy Castle -----------------------------------------------------------------------------------------
echo "generate-peers.sh: Bouncy Castle messages"
bc_env() { # id recipient-names to note -- SmimePeer-encrypt-args...
  local id=$1 names=$2 to=$3 note=$4; shift 5
  local c=("${BC[@]}" encrypt "$@" --in "$PLAIN" --out "$WORK/$id.p7m")
  "${c[@]}" >/dev/null 2>"$WORK/err" || die "$id: $(cmdline "${c[@]}"): $(cat "$WORK/err")"
  local st=enveloped-data
  [[ $(head -c 20 "$WORK/$id.p7m" | od -An -tx1 | tr -d ' \n') == *2a864886f70d0109100117* ]] && st=authEnveloped-data
  mime_opaque "$WORK/$id.p7m" "bc/${id#bc-}.eml" "$st" bob@example.com "$to" "smime-core test vector $id"
  record "$id" --peer bc --file "bc/${id#bc-}.eml" --cmd "$(cmdline "${c[@]}")" --recipients "$names" \
    --from bob@example.com --to "$to" --smime-type "$st" --note "$note Wrapped in MIME by generate-peers.sh."
}
bc_env bc-enc-ecdh-p384-gcm ec-enc ecuser@example.com \
  "AuthEnvelopedData (AES-256-GCM), ECDH P-384 ephemeral-static (dhSinglePass-stdDH-sha384kdf-scheme, AES-256 key wrap)." \
  -- --recip "$(cert ec-enc)" --auth --cipher aes256-gcm --kdf sha384 --wrap aes256
bc_env bc-enc-oaep-gcm alice-enc-2025 alice@example.com \
  "AuthEnvelopedData (AES-256-GCM), RSAES-OAEP with SHA-256 and MGF1-SHA-256 (explicit NULL hash parameters, as Bouncy Castle writes them)." \
  -- --recip "$(cert alice-enc-2025)" --auth --cipher aes256-gcm --oaep sha256
bc_env bc-enc-rsa-ski alice-enc-2025 alice@example.com \
  "EnvelopedData (AES-256-CBC), RSA PKCS#1 v1.5, recipient identified by subjectKeyIdentifier." \
  -- --recip "$(cert alice-enc-2025)" --cipher aes256-cbc --ski
bc_env bc-enc-rsa15-aes128cbc alice-enc-2025 alice@example.com "EnvelopedData (AES-128-CBC), RSA PKCS#1 v1.5." \
  -- --recip "$(cert alice-enc-2025)" --cipher aes128-cbc
bc_env bc-enc-rsa15-aes256gcm alice-enc-2025 alice@example.com "AuthEnvelopedData (AES-256-GCM), RSA PKCS#1 v1.5." \
  -- --recip "$(cert alice-enc-2025)" --cipher aes256-gcm
bc_env bc-enc-oaep-sha1 alice-enc-2025 alice@example.com "EnvelopedData (AES-256-CBC), RSAES-OAEP with SHA-1 and MGF1-SHA-1." \
  -- --recip "$(cert alice-enc-2025)" --cipher aes256-cbc --oaep sha1
bc_env bc-enc-oaep-sha256 alice-enc-2025 alice@example.com "EnvelopedData (AES-256-CBC), RSAES-OAEP with SHA-256 and MGF1-SHA-256." \
  -- --recip "$(cert alice-enc-2025)" --cipher aes256-cbc --oaep sha256
bc_env bc-enc-multi "bob alice-enc-2025" "alice@example.com, bob@example.com" "EnvelopedData (AES-256-CBC) to Bob and Alice, RSA PKCS#1 v1.5." \
  -- --recip "$(cert bob)" --recip "$(cert alice-enc-2025)" --cipher aes256-cbc
bc_env bc-enc-ecdh-p384-cbc ec-enc ecuser@example.com \
  "EnvelopedData (AES-256-CBC), ECDH P-384 with Bouncy Castle's default for the curve (SHA-384 KDF, AES-256 key wrap)." \
  -- --recip "$(cert ec-enc)" --cipher aes256-cbc

bc_sig() { # id signer-identity detached|opaque micalg keypref note -- SmimePeer-sign-args...
  local id=$1 who=$2 kind=$3 micalg=$4 kp=$5 note=$6; shift 7
  local email; email=$(ident_file "$who" email)
  local c=("${BC[@]}" sign --cert "$(ident_file "$who" cert)" --key "$(ident_file "$who" key)" --chain "$CHAIN" "$@" --in "$PLAIN" --out "$WORK/$id.p7m")
  [[ $kind == detached ]] && c+=(--detached)
  "${c[@]}" >/dev/null 2>"$WORK/err" || die "$id: $(cmdline "${c[@]}"): $(cat "$WORK/err")"
  if [[ $kind == detached ]]; then
    mime_detached "$PLAIN" "$WORK/$id.p7m" "bc/${id#bc-}.eml" "$micalg" "$email" bob@example.com "smime-core test vector $id"
  else
    mime_opaque "$WORK/$id.p7m" "bc/${id#bc-}.eml" signed-data "$email" bob@example.com "smime-core test vector $id"
  fi
  local kpa=(); [[ -n $kp ]] && kpa=(--keypref "$kp")
  record "$id" --peer bc --file "bc/${id#bc-}.eml" --cmd "$(cmdline "${c[@]}")" --signer "$who" --status valid "${kpa[@]}" \
    --from "$email" --to bob@example.com --smime-type "$([[ $kind == detached ]] && echo multipart-signed || echo signed-data)" \
    --note "$note Wrapped in MIME by generate-peers.sh."
}
bc_sig bc-sig-ed25519 edna-ed25519 detached sha-512 '' "Ed25519 (RFC 8419: SHA-512 digest), detached." --
bc_sig bc-sig-ed25519-opaque edna-ed25519 opaque sha-512 '' "Ed25519, opaque." --
bc_sig bc-sig-ecdsa-ski ec-sign detached sha-256 '' "ECDSA P-256 with SHA-256, signer identified by subjectKeyIdentifier (SignerInfo version 3), detached." -- --ski
bc_sig bc-sig-ecdsa-opaque ec-sign opaque sha-256 '' "ECDSA P-256 with SHA-256, opaque." --
bc_sig bc-sig-rsa-detached alice-sign detached sha-256 '' "RSA PKCS#1 v1.5 with SHA-256, detached." --
bc_sig bc-sig-rsa-pss alice-sign detached sha-256 '' "RSASSA-PSS with SHA-256 (MGF1-SHA-256, 32-byte salt), detached." -- --pss
bc_sig bc-sig-rsa-caps-keypref alice-sign opaque sha-256 alice-enc-2025 \
  "RSA with SHA-256, opaque, with SMIMECapabilities (AES-256-GCM, AES-128-GCM, AES-256-CBC, AES-128-CBC) and the RFC 8551 EncryptionKeyPreference naming alice-enc-2025 (whose certificate is included)." \
  -- --caps --keypref "$(cert alice-enc-2025)"

# Bouncy Castle 1.72's limit: no X25519 in its CMS key agreement
expect_limit bc encrypt 'Bouncy Castle 1.72 has no X25519 CMS envelopes (JceKeyAgreeRecipientInfoGenerator takes EC keys only)' -- \
  "${BC[@]}" encrypt --recip bc/edna-x25519.cert.pem --in "$PLAIN" --out "$WORK/limit.p7m"

# --- 6. manifest ---------------------------------------------------------------------------------------------
describe_many "${DERS[@]}" >"$WORK/algorithms.jsonl"
jq -sc '.' "$MSG_JSON" >"$WORK/m.json"
jq -sc '.' "$WORK/algorithms.jsonl" >"$WORK/a.json"
jq -c -n --slurpfile m "$WORK/m.json" --slurpfile a "$WORK/a.json" '[$m[0], $a[0]] | transpose[] | .[0].algorithms = .[1] | .[0]' >"$MSG_JSON"
JAVA_VERSION=$(java -version 2>&1 | sed -n '1s/.*version "\([^"]*\)".*/\1/p')
jq --slurpfile msgs "$MSG_JSON" --slurpfile limits "$LIMITS_JSON" --argjson ids "$PEER_IDS" --arg me "$ME" \
  --arg nss "NSS $NSS_VERSION" --arg gpgsm "gpgsm $GPGSM_VERSION" --arg bc "Bouncy Castle $BC_VERSION (Java $JAVA_VERSION)" '
  .messages = ([.messages[] | select(.generator != $me)] + $msgs)
  | .generatedWith += {nss: $nss, gpgsm: $gpgsm, bouncyCastle: $bc}
  | .peerGenerator = $me
  | .peerIdentities = $ids
  | .peerLimits = $limits
  | .peerSetup = {
      NSSDB: "NSS databases made with certutil -N --empty-password, with root-ca trusted (C,C,C) and issuing-ca; NSSDB-bob holds the recipients'"'"' certificates only, NSSDB-alice the PKCS#12 of alice-sign, alice-enc-2025 and ec-sign (pk12util -i)",
      GNUPGHOME: "a gpgsm home with root-ca in trustlist.txt (S relax), CRL checks off, root-ca, issuing-ca and the recipients'"'"' certificates imported, and alice-sign from a legacy PKCS#12 (openssl pkcs12 -export -legacy)",
      CLASSES: "java/SmimePeer.java compiled with javac -cp /usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar",
      TMP: "a temporary folder: the peer wrote DER there, which generate-peers.sh wrapped in MIME"
    }' manifest.json >"$WORK/manifest.json"
mv "$WORK/manifest.json" manifest.json

# --- 7. verify everything --------------------------------------------------------------------------------------
check_all
