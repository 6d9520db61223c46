#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with the openssl CLI, into DIR (default: ./certs):
#   ca.pem/ca.key            a test CA (RSA 2048)
#   rsa.pem/rsa.key          RSA 2048 leaf for localhost, example.test, *.wild.test, 127.0.0.1
#   ec.pem/ec.key            ECDSA P-256 leaf for ec.test
#   other.pem/other.key      RSA 2048 leaf for localhost (a second certificate, for swaps)
#   expired.pem/expired.key  a leaf whose notAfter has passed
#   mismatch.pem + rsa.key   a certificate with a key that is not its own (use ec.key)
# Idempotent: nothing is made again while DIR/done exists.
set -euo pipefail
dir=${1:-certs}
mkdir -p "$dir"
cd "$dir"
[ -e done ] && exit 0
exec 9>lock
flock 9
[ -e done ] && exit 0

quiet() { "$@" >/dev/null 2>&1 || { "$@"; exit 1; }; }

quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
  -subj /CN=shoal-test-ca -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign

# leaf NAME KEYSPEC DAYS SAN...
leaf() {
  local name=$1 keyspec=$2 days=$3
  shift 3
  local san
  san=$(IFS=,; echo "$*")
  if [ "$keyspec" = ec ]; then
    quiet openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$name.key"
  else
    quiet openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key"
  fi
  quiet openssl req -new -key "$name.key" -out "$name.csr" -subj "/CN=$name.test"
  printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" \
    >"$name.ext"
  quiet openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial \
    -days "$days" -extfile "$name.ext" -out "$name.pem"
  rm -f "$name.csr" "$name.ext"
}

leaf rsa rsa 3650 DNS:localhost DNS:example.test 'DNS:*.wild.test' IP:127.0.0.1
leaf ec ec 3650 DNS:ec.test
leaf other rsa 3650 DNS:localhost DNS:example.test IP:127.0.0.1
leaf expired rsa -1 DNS:localhost
cp other.pem mismatch.pem
chmod 0644 ./*.pem
chmod 0600 ./*.key
touch done
