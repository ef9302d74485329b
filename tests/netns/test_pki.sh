#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/netns/test_pki.sh - `ipsecctl pki` end to end, no network needed:
# files and their modes under any umask, no overwriting, no following
# symlinks, nothing left behind on failure; an intermediate CA (`pki ca
# sub --ca ca`) and the chain files of what it issues; the results read
# by `openssl verify`, `openssl pkcs12` and strongSwan's `pki --print`.
# Uses IPSECCTL (default build/ipsecctl).  Creates no namespaces.
# shellcheck shell=bash
set -u
. "$(dirname "$0")/lib.sh"

IPSECCTL=${IPSECCTL:-$TL_ROOT/build/ipsecctl}
D=$TL_TMP/pki
mkdir -p "$D"

if [ ! -x "$IPSECCTL" ]; then
	tl_not_ok "ipsecctl binary at $IPSECCTL"
	tl_summary
	exit 1
fi
have() { command -v "$1" >/dev/null 2>&1; }
mode() { stat -c %a "$1"; }
pk() { "$IPSECCTL" pki "$@" --dir "$D"; }

# 1. A CA, a server and a client under a tight umask, then a wide one.
(umask 077 && pk ca ca >/dev/null)
tl_check "pki ca writes ca.key 600 / ca.crt 644 under umask 077" \
	test "$(mode "$D/ca.key")" = 600 -a "$(mode "$D/ca.crt")" = 644
(umask 000 && pk server gw.example --san DNS:gw.example \
	--san IP:192.0.2.10 >/dev/null)
tl_check "pki server under umask 000: key 600, cert 644" \
	test "$(mode "$D/gw.example.key")" = 600 -a \
	"$(mode "$D/gw.example.crt")" = 644
(umask 022 && pk client alice@example.org --p12-pass 's3cret pass' \
	>/dev/null)
tl_check "pki client writes key 600, cert 644, p12 600" \
	test "$(mode "$D/alice@example.org.key")" = 600 -a \
	"$(mode "$D/alice@example.org.crt")" = 644 -a \
	"$(mode "$D/alice@example.org.p12")" = 600
pk server rsa.example --type rsa3072 >/dev/null
pk server ed.example --type ed25519 >/dev/null
pk client bob --p12-legacy --p12-pass pw12 >/dev/null
tl_check "rsa3072, ed25519 and legacy-p12 variants written" \
	test -s "$D/rsa.example.crt" -a -s "$D/ed.example.crt" -a \
	-s "$D/bob.p12"

# 2. Never overwrite, never follow a symlink, leave nothing half-done.
sum=$(sha256sum "$D/gw.example.key" "$D/gw.example.crt")
pk server gw.example --san DNS:gw.example >/dev/null 2>&1
rc=$?
tl_check "second 'pki server gw.example' fails (exit $rc)" test "$rc" = 1
tl_check "existing key and cert unchanged" \
	test "$sum" = "$(sha256sum "$D/gw.example.key" "$D/gw.example.crt")"
echo keep >"$D/target"
ln -s "$D/target" "$D/trap.key"
pk server trap >/dev/null 2>&1
tl_check "a symlink in the key's place is not followed" \
	test "$(cat "$D/target")" = keep -a ! -e "$D/trap.crt"
rm -f "$D/trap.key"
echo x >"$D/late.crt"
pk server late >/dev/null 2>&1
tl_check "cert exists -> the new key is removed again" \
	test ! -e "$D/late.key" -a "$(cat "$D/late.crt")" = x
pk client nopass </dev/null >/dev/null 2>&1
rc=$?
tl_check "client without terminal or --p12-pass fails, no files" \
	test "$rc" = 1 -a ! -e "$D/nopass.key" -a ! -e "$D/nopass.crt"
pk server nocagw --ca missing >/dev/null 2>&1
rc=$?
tl_check "missing CA fails (exit $rc), no files" \
	test "$rc" = 1 -a ! -e "$D/nocagw.key"
pk server bad --san 'DNS:a.example,DNS:b.example' >/dev/null 2>&1
rc=$?
tl_check "SAN with a comma refused as usage (exit $rc)" \
	test "$rc" = 2 -a ! -e "$D/bad.key"
pk server bad --type dsa >/dev/null 2>&1
tl_check "unknown --type is a usage error" test $? = 2
pk server ../escape >/dev/null 2>&1
tl_check "NAME with a slash is a usage error" test $? = 2
pk ca ca2 --san DNS:x >/dev/null 2>&1
tl_check "--san on a CA is a usage error" test $? = 2

# The password prompt, on a pseudo terminal made by script(1).
prompt() { # NAME PASS1 PASS2
	(sleep 0.5; printf '%s\n' "$2"; sleep 0.3; printf '%s\n' "$3"
	 sleep 0.5) | timeout 20 script -qec \
		"'$IPSECCTL' pki client '$1' --dir '$D'" /dev/null >/dev/null
}
if have script; then
	prompt typed pw1234 pw1234
	tl_check "client asks for the p12 password on a terminal" \
		test -s "$D/typed.p12"
	if have openssl; then
		tl_check "the typed password opens the p12" \
			eval 'openssl pkcs12 -in "$D/typed.p12" \
			-passin pass:pw1234 -nodes >/dev/null 2>&1'
	fi
	prompt typo pw1234 pw12345
	tl_check "two different passwords: no files" \
		test ! -e "$D/typo.key" -a ! -e "$D/typo.p12"
else
	echo "# skip: script(1) not installed"
fi

# 3. What OpenSSL makes of it.
if have openssl; then
	tl_check "openssl verify accepts server, client, rsa, ed25519" \
		eval 'openssl verify -CAfile "$D/ca.crt" "$D/gw.example.crt" \
		"$D/alice@example.org.crt" "$D/rsa.example.crt" \
		"$D/ed.example.crt" >/dev/null'
	tl_check "openssl verify refuses them without our CA" \
		eval '! openssl verify -CAfile "$D/gw.example.crt" \
		"$D/ed.example.crt" >/dev/null 2>&1'
	ext=$(openssl x509 -in "$D/gw.example.crt" -noout -ext \
		subjectAltName,extendedKeyUsage,keyUsage,basicConstraints)
	tl_check "server: SAN DNS+IP, serverAuth, digitalSignature, CA:FALSE" \
		eval 'grep -q "DNS:gw.example, IP Address:192.0.2.10" \
		<<<"$ext" && grep -q "TLS Web Server Authentication" \
		<<<"$ext" && grep -q "Digital Signature" <<<"$ext" &&
		grep -q "CA:FALSE" <<<"$ext"'
	ext=$(openssl x509 -in "$D/alice@example.org.crt" -noout -ext \
		subjectAltName,extendedKeyUsage)
	tl_check "client: SAN email, clientAuth" \
		eval 'grep -q "email:alice@example.org" <<<"$ext" &&
		grep -q "TLS Web Client Authentication" <<<"$ext"'
	ext=$(openssl x509 -in "$D/ca.crt" -noout -ext \
		basicConstraints,keyUsage)
	tl_check "CA: CA:TRUE critical, keyCertSign + cRLSign" \
		eval 'grep -q "critical" <<<"$ext" &&
		grep -q "CA:TRUE" <<<"$ext" &&
		grep -q "Certificate Sign, CRL Sign" <<<"$ext"'
	tl_check "ECDSA P-256 by default" \
		eval 'openssl pkey -in "$D/gw.example.key" -noout -text |
		grep -q "NIST CURVE: P-256"'
	tl_check "p12 opens with its password (key, cert and CA)" \
		eval 'test "$(openssl pkcs12 -in "$D/alice@example.org.p12" \
		-passin "pass:s3cret pass" -nodes 2>/dev/null |
		grep -c "BEGIN")" = 3'
	tl_check "p12 refuses a wrong password" \
		eval '! openssl pkcs12 -in "$D/alice@example.org.p12" \
		-passin pass:wrong -nodes >/dev/null 2>&1'
	tl_check "--p12-legacy uses 3DES and a SHA-1 MAC" \
		eval 'openssl pkcs12 -in "$D/bob.p12" -passin pass:pw12 \
		-info -noout 2>&1 | grep -q "MAC: sha1" &&
		openssl pkcs12 -in "$D/bob.p12" -passin pass:pw12 -info \
		-noout 2>&1 | grep -q "TripleDES"'
else
	echo "# skip: openssl not installed"
fi

# 4. An intermediate CA: `pki ca sub --ca ca`, and certificates from it.
enddate() { date -d "$(openssl x509 -in "$1" -noout -enddate |
	cut -d= -f2)" +%s; }
(umask 000 && pk ca sub --ca ca >/dev/null)
rc=$?
tl_check "pki ca sub --ca ca (exit $rc): key 600, cert 644, no chain" \
	test "$rc" = 0 -a "$(mode "$D/sub.key")" = 600 -a \
	"$(mode "$D/sub.crt")" = 644 -a ! -e "$D/sub.chain.pem"
(umask 000 && pk server leaf.example --ca sub >/dev/null)
tl_check "server from sub: key 600, cert and chain 644" \
	test "$(mode "$D/leaf.example.key")" = 600 -a \
	"$(mode "$D/leaf.example.crt")" = 644 -a \
	"$(mode "$D/leaf.example.chain.pem")" = 644
tl_check "chain file: the leaf, then sub" \
	test "$(cat "$D/leaf.example.crt" "$D/sub.crt")" = \
	"$(cat "$D/leaf.example.chain.pem")"
pk ca edsub --ca ca --type ed25519 >/dev/null &&
	pk server edleaf --ca edsub --type rsa3072 >/dev/null
tl_check "ed25519 intermediate issues an rsa3072 server" \
	test -s "$D/edleaf.chain.pem"
pk client carol --ca sub --p12-pass pw34 >/dev/null
tl_check "client from sub: key 600, p12 600, chain written" \
	test "$(mode "$D/carol.key")" = 600 -a \
	"$(mode "$D/carol.p12")" = 600 -a -s "$D/carol.chain.pem"
pk ca sub2 --ca sub >/dev/null 2>&1
rc=$?
tl_check "no CA below a pathlen 0 intermediate (exit $rc), no files" \
	test "$rc" = 1 -a ! -e "$D/sub2.key" -a ! -e "$D/sub2.crt"
pk ca notca --ca gw.example >/dev/null 2>&1
rc=$?
tl_check "a server certificate is no parent (exit $rc), no files" \
	test "$rc" = 1 -a ! -e "$D/notca.key"
pk ca orphan --ca missing >/dev/null 2>&1
rc=$?
tl_check "missing parent fails (exit $rc), no files" \
	test "$rc" = 1 -a ! -e "$D/orphan.key"
pk ca self --ca self >/dev/null 2>&1
tl_check "a CA as its own parent is a usage error" test $? = 2
sum=$(sha256sum "$D/sub.key" "$D/sub.crt")
pk ca sub --ca ca >/dev/null 2>&1
rc=$?
tl_check "second 'pki ca sub --ca ca' fails (exit $rc), files unchanged" \
	test "$rc" = 1 -a "$sum" = "$(sha256sum "$D/sub.key" "$D/sub.crt")"
pk server long --ca sub --days 36500 >/dev/null 2>"$D/long.err"
tl_check "--days beyond the CA's end: shortened, with a note" \
	grep -q "shortened" "$D/long.err"
if have openssl; then
	tl_check "long ends no later than sub, sub no later than ca" \
		test "$(enddate "$D/long.crt")" -le "$(enddate "$D/sub.crt")" \
		-a "$(enddate "$D/sub.crt")" -le "$(enddate "$D/ca.crt")"
	ext=$(openssl x509 -in "$D/sub.crt" -noout -ext \
		basicConstraints,keyUsage)
	tl_check "sub: CA:TRUE, pathlen:0, critical, keyCertSign + cRLSign" \
		eval 'grep -q "Basic Constraints: critical" <<<"$ext" &&
		grep -q "CA:TRUE, pathlen:0" <<<"$ext" &&
		grep -q "Key Usage: critical" <<<"$ext" &&
		grep -q "Certificate Sign, CRL Sign" <<<"$ext"'
	tl_check "sub: issuer is ca, authorityKeyIdentifier = ca's SKI" \
		eval 'test "$(openssl x509 -in "$D/sub.crt" -noout -issuer)" \
		= "issuer=CN = ca" &&
		test "$(openssl x509 -in "$D/sub.crt" -noout -ext \
		authorityKeyIdentifier | sed -n "2p" | tr -d " ")" = \
		"$(openssl x509 -in "$D/ca.crt" -noout -ext \
		subjectKeyIdentifier | sed -n "2p" | tr -d " ")" -a \
		-n "$(openssl x509 -in "$D/ca.crt" -noout -ext \
		subjectKeyIdentifier | sed -n "2p")"'
	tl_check "openssl verify: sub signed by ca, not self-signed" \
		eval 'openssl verify -CAfile "$D/ca.crt" "$D/sub.crt" \
		>/dev/null && ! openssl verify -CAfile "$D/sub.crt" \
		"$D/sub.crt" >/dev/null 2>&1'
	tl_check "openssl verify: leaf via -untrusted sub (and the chain)" \
		eval 'openssl verify -CAfile "$D/ca.crt" -untrusted \
		"$D/sub.crt" "$D/leaf.example.crt" "$D/carol.crt" \
		"$D/long.crt" >/dev/null &&
		openssl verify -CAfile "$D/ca.crt" -untrusted \
		"$D/leaf.example.chain.pem" "$D/leaf.example.crt" >/dev/null &&
		openssl verify -CAfile "$D/ca.crt" -untrusted \
		"$D/edsub.crt" "$D/edleaf.crt" >/dev/null'
	tl_check "openssl verify: leaf without -untrusted sub fails" \
		eval '! openssl verify -CAfile "$D/ca.crt" \
		"$D/leaf.example.crt" >/dev/null 2>&1'
	tl_check "client p12 from sub: key, cert and sub" \
		eval 'test "$(openssl pkcs12 -in "$D/carol.p12" \
		-passin pass:pw34 -nodes 2>/dev/null |
		grep -c "BEGIN")" = 3 && openssl pkcs12 -in "$D/carol.p12" \
		-passin pass:pw34 -nodes 2>/dev/null | grep -q "subject=CN = sub"'
fi
if have pki; then
	out=$(pki --print --in "$D/sub.crt" 2>/dev/null)
	tl_check "pki --print: sub is a CA with pathlen 0" \
		eval 'grep -q "flags:     CA CRLSign" <<<"$out" &&
		grep -q "pathlen:   0" <<<"$out"'
	tl_check "pki --verify: leaf trusted through sub, not without it" \
		eval 'pki --verify --in "$D/leaf.example.crt" --cacert \
		"$D/ca.crt" --cacert "$D/sub.crt" 2>/dev/null |
		grep -q "certificate trusted" && ! pki --verify --in \
		"$D/leaf.example.crt" --cacert "$D/ca.crt" 2>/dev/null |
		grep -q "certificate trusted"'
fi

# 5. strongSwan reads the same files.
if have pki; then
	out=$(pki --print --in "$D/gw.example.crt" 2>/dev/null)
	tl_check "pki --print: server altNames and flags" \
		eval 'grep -q "altNames:  gw.example, 192.0.2.10" <<<"$out" &&
		grep -q "flags:     serverAuth ikeIntermediate" <<<"$out"'
	out=$(pki --print --in "$D/ed.example.crt" 2>/dev/null)
	tl_check "pki --print: Ed25519 certificate" \
		eval 'grep -q "pubkey:    ED25519" <<<"$out"'
	tl_check "pki --print reads the keys (PKCS#8 PEM)" \
		eval 'pki --print --type priv --in "$D/gw.example.key" \
		2>/dev/null | grep -q "ECDSA 256 bits" &&
		pki --print --type priv --in "$D/rsa.example.key" \
		2>/dev/null | grep -q "RSA 3072 bits"'
	tl_check "pki --verify: chain to our CA" \
		eval 'pki --verify --in "$D/alice@example.org.crt" --cacert \
		"$D/ca.crt" 2>/dev/null | grep -q "certificate trusted"'
else
	echo "# skip: strongSwan pki not installed"
fi

tl_summary
