#!/bin/bash
# test_ike_reload_cert.sh - certificate files and ipsecctl reload
# (docs/ike.md "Reload"), and how each side authenticated in ipsecctl
# status (docs/ctl.md "Status": local_auth, remote_auth).
#   status:  A and B authenticate with ECDSA P-256 certificates from
#            `ipsecctl pki`; each status names the method (14, RFC 7427),
#            key, signature algorithm, and the subject and serial of its
#            own and of the peer's certificate (compared with openssl).
#   renew:   B's cert and key files are replaced by a renewed pair (same
#            subject, new serial) with its config unchanged; reload logs
#            the two files and counts the conn as unchanged; the IKE SA
#            up stays (same SPI, old serial, ping); a new IKE SA (down/up
#            on A) shows the new serial on both sides.
#   broken:  a garbage key file: reload fails with file:line in the log;
#            the running conn still works, also for a new IKE SA.
#   crl:     (needs strongSwan's pki) A's crl file gets a CRL revoking
#            B's new certificate: reload names the crl file, the IKE SA
#            up stays, the next IKE_AUTH is refused as revoked.
# Topology: A veth0 192.0.2.10, lo 198.51.100.1; B veth0 192.0.2.20, lo
# 203.0.113.1.  TAP-style output; IPSECD/IPSECCTL override the binaries
# (e.g. IPSECD=build/h2/ipsecd); exit status 1 on failure.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ike_lib.sh"
IPSECD=$(realpath "$IPSECD")
IPSECCTL=$(realpath "$IPSECCTL")

A_IN=198.51.100.1
B_IN=203.0.113.1
P=$TL_TMP/pki
D=$TL_TMP/run

# authf NS WHICH FIELD: FIELD of WHICH (local_auth, remote_auth) of the
# established IKE SA of conn gw ("null" before IKE_AUTH, "" if none).
authf() {
	ctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
for s in d.get("ike_sas", []):
    if s.get("name") == "gw" and s.get("state") == "ESTABLISHED":
        a = s.get(sys.argv[1])
        print("null" if a is None else a.get(sys.argv[2]))
        break
' "$2" "$3"
}

# spi NS: spi_i of the established IKE SA.
spi() {
	ctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
for s in json.load(sys.stdin).get("ike_sas", []):
    if s.get("state") == "ESTABLISHED":
        print(s["spi_i"])
        break
'
}

# jf FILE KEY...: the values of top-level keys of a JSON file.
jf() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(str(d.get(k)) for k in sys.argv[2:]))
' "$@" 2>/dev/null
}

both_up() { wait_state "$A" ESTABLISHED && wait_state "$B" ESTABLISHED; }

serial() { openssl x509 -in "$1" -noout -serial | sed 's/^serial=//'; }

# is NS WHICH FIELD WANT: the field is WANT (printed if not).
is() {
	local got
	got=$(authf "$1" "$2" "$3")
	[ "$got" = "$4" ] && return 0
	echo "# $1 $2.$3: '$got', want '$4'" >&2
	return 1
}

ping_ab() { nsping "$A" "$A_IN" "$B_IN" "$D/ping.txt"; }

# renew DIR NAME: put NAME's new certificate and key where DIR's config
# points, as an admin would (mv over the old files).
renew() {
	cp "$P/$2.crt" "$1/cert.tmp" && mv "$1/cert.tmp" "$1/gw.crt" &&
		install -m 600 "$P/$2.key" "$1/key.tmp" &&
		mv "$1/key.tmp" "$1/gw.key"
}

# conf FILE LOCAL REMOTE LTS RTS START DIR [LINES...]
conf() {
	local f=$1
	{
		printf '[daemon]\ntun = ipsec0\n\n[conn gw]\n'
		printf 'local = %s\nremote = %s\n' "$2" "$3"
		printf 'local_ts = %s\nremote_ts = %s\n' "$4" "$5"
		printf 'ike = aes128gcm16-prfsha256-x25519\nesp = aes128gcm16\n'
		printf 'start = %s\nauth = pubkey\n' "$6"
		printf 'cert = %s/gw.crt\nkey = %s/gw.key\nca = %s/ca.crt\n' \
			"$7" "$7" "$P"
		shift 7
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$f"
}

# down_up: a new IKE SA from A (a new IKE_AUTH on both sides).
down_up() {
	local old
	old=$(spi "$A")
	ctl "$A" down gw >/dev/null || return 1
	ctl "$A" up gw >/dev/null || return 1
	for _ in $(seq 1 40); do
		local now
		now=$(spi "$A")
		[ -n "$now" ] && [ "$now" != "$old" ] && return 0
		sleep 0.2
	done
	return 1
}

main() {
	local crl=
	mkdir -p "$P" "$D/a" "$D/b" || return 1
	if ! (cd "$P" && for a in "ca ca" \
		"server gw-a --san DNS:gw-a.example" \
		"server gw-b --san DNS:gw-b.example" \
		"server gw-b2 --cn gw-b --san DNS:gw-b.example"; do
		# shellcheck disable=SC2086
		"$IPSECCTL" pki $a >/dev/null || exit 1
	done); then
		tl_not_ok "ipsecctl pki makes the certificates"
		return
	fi
	cp "$P/gw-a.crt" "$D/a/gw.crt" && install -m 600 "$P/gw-a.key" \
		"$D/a/gw.key" && renew "$D/b" gw-b || return 1
	if command -v pki >/dev/null; then
		crl="crl = $D/a/ca.crl"
		pki --signcrl --cacert "$P/ca.crt" --cakey "$P/ca.key" \
			--outform pem >"$D/a/ca.crl" 2>/dev/null &&
			pki --signcrl --cacert "$P/ca.crt" --cakey "$P/ca.key" \
				--cert "$P/gw-b2.crt" --outform pem \
				>"$P/revoked.crl" 2>/dev/null || crl=
	fi
	conf "$D/a.conf" 192.0.2.10 192.0.2.20 198.51.100.0/24 \
		203.0.113.0/24 on "$D/a" ${crl:+"$crl"}
	conf "$D/b.conf" 192.0.2.20 192.0.2.10 203.0.113.0/24 \
		198.51.100.0/24 off "$D/b"
	ike_topo h2rc || { tl_not_ok "topology"; return; }
	ip -n "$A" addr add "$A_IN/32" dev lo
	ip -n "$B" addr add "$B_IN/32" dev lo
	tl_ipsecd "$B" "$D/b.conf" "$D/b.log" &&
		tl_ipsecd "$A" "$D/a.conf" "$D/a.log" ||
		{ tl_not_ok "both daemons start"; return; }

	# ---- status ----
	tl_check "status: A and B ESTABLISHED" both_up
	local sa sb sb2
	sa=$(serial "$P/gw-a.crt")
	sb=$(serial "$P/gw-b.crt")
	sb2=$(serial "$P/gw-b2.crt")
	tl_check "status: A's remote_auth is method 14 (RFC 7427)" \
		is "$A" remote_auth method 14
	tl_check "status: A's remote_auth method_name digital-signature" \
		is "$A" remote_auth method_name digital-signature
	tl_check "status: A's remote_auth key ECDSA P-256" \
		is "$A" remote_auth key "ECDSA P-256"
	tl_check "status: A's remote_auth signature ecdsa-sha256" \
		is "$A" remote_auth signature ecdsa-sha256
	tl_check "status: A's remote_auth cert_subject CN=gw-b" \
		is "$A" remote_auth cert_subject CN=gw-b
	tl_check "status: A's remote_auth cert_serial is gw-b's ($sb)" \
		is "$A" remote_auth cert_serial "$sb"
	tl_check "status: A's local_auth cert_serial is gw-a's" \
		is "$A" local_auth cert_serial "$sa"
	tl_check "status: B's remote_auth cert_serial is gw-a's ($sa)" \
		is "$B" remote_auth cert_serial "$sa"
	tl_check "status: B's local_auth cert_subject CN=gw-b" \
		is "$B" local_auth cert_subject CN=gw-b
	ctl "$A" status >"$D/a-status.txt" 2>&1
	local want="remote auth: digital-signature (14), ECDSA P-256"
	want+=", ecdsa-sha256, cert \"CN=gw-b\", serial $sb"
	tl_check "status: text view names both sides' authentication" \
		grep -qF "$want" "$D/a-status.txt"
	tl_check "status: ping A -> B" ping_ab

	# ---- renew B's certificate behind an unchanged config ----
	local spi_b0
	spi_b0=$(spi "$B")
	renew "$D/b" gw-b2
	ctl "$B" --json reload >"$D/reload1.json" 2>&1
	tl_check "renew: reload answers 0 changed, 1 unchanged" \
		test "$(jf "$D/reload1.json" changed unchanged)" = "0 1"
	tl_check "renew: reload counts new_cert_files 1" \
		test "$(jf "$D/reload1.json" new_cert_files)" = 1
	want="conn gw: new contents in cert $D/b/gw.crt, key $D/b/gw.key:"
	want+=" used by new IKE SAs; 1 IKE SA up keeps the old ones"
	tl_check "renew: B logs the cert and key files, SA kept" \
		grep -qF "$want" "$D/b.log"
	tl_check "renew: B's IKE SA stays (same SPI)" \
		test "$(spi "$B")" = "$spi_b0"
	tl_check "renew: the SA up still shows the old serial on A" \
		is "$A" remote_auth cert_serial "$sb"
	tl_check "renew: ping A -> B through the kept SA" ping_ab
	tl_check "renew: a new IKE SA comes up (down/up on A)" down_up
	tl_check "renew: A's remote_auth cert_serial is the new one ($sb2)" \
		is "$A" remote_auth cert_serial "$sb2"
	tl_check "renew: B's local_auth cert_serial is the new one" \
		is "$B" local_auth cert_serial "$sb2"
	tl_check "renew: ping A -> B through the new SA" ping_ab
	ctl "$B" --json reload >"$D/reload2.json" 2>&1
	tl_check "renew: a second reload sees no new files" \
		test "$(jf "$D/reload2.json" new_cert_files)" = 0

	# ---- a broken key file: the old conn keeps working ----
	local cl kl
	cl=$(grep -n '^cert = ' "$D/b.conf" | cut -d: -f1)
	kl=$(grep -n '^key = ' "$D/b.conf" | cut -d: -f1)
	printf 'not a key\n' >"$D/b/gw.key"
	chmod 600 "$D/b/gw.key"
	tl_check "broken: reload fails" not ctl "$B" reload 2>/dev/null
	tl_check "broken: B logs the error at b.conf:LINE of cert or key" \
		grep -qE "$D/b.conf:($cl|$kl): \[conn gw\] (cert|key): .*gw.key" \
		"$D/b.log"
	tl_check "broken: B's IKE SA is still ESTABLISHED" \
		wait_state "$B" ESTABLISHED
	tl_check "broken: a new IKE SA still comes up with the loaded key" \
		down_up
	tl_check "broken: ... and authenticates with the new cert" \
		is "$A" remote_auth cert_serial "$sb2"
	tl_check "broken: ping A -> B" ping_ab

	# ---- a new CRL: applied at the next IKE_AUTH ----
	if [ -z "$crl" ]; then
		tl_ok "crl # SKIP strongSwan's pki is not installed"
		return
	fi
	cp "$P/revoked.crl" "$D/a/ca.crl.tmp" &&
		mv "$D/a/ca.crl.tmp" "$D/a/ca.crl"
	ctl "$A" reload >/dev/null 2>&1
	want="conn gw: new contents in crl $D/a/ca.crl: used by new IKE SAs;"
	want+=" 1 IKE SA up keeps"
	tl_check "crl: A logs the new crl file, the SA up stays" \
		grep -qF "$want" "$D/a.log"
	tl_check "crl: A's IKE SA still ESTABLISHED" wait_state "$A" ESTABLISHED
	tl_check "crl: ping A -> B through the kept SA" ping_ab
	ctl "$A" down gw >/dev/null
	ctl "$A" up gw >/dev/null
	tl_check "crl: the next IKE_AUTH refuses B's revoked certificate" \
		wait_egrep "$D/a.log" 'authentication failed.*revoked'
}

main
tl_summary
