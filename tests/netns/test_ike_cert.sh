#!/bin/bash
# test_ike_cert.sh - IKEv2 with certificates (docs/pki.md, auth = pubkey).
#   pki:      certificates from `ipsecctl pki` and, separately, from
#             strongSwan's `pki` tool (and openssl for a keyUsage case).
#   ii-*:     ipsecd <-> ipsecd: ECDSA P-256 with DN IDs (the default
#             local_id); RSA-3072 signing with PSS, P-384, Ed25519, one
#             intermediate CA (`ipsecctl pki ca sub --ca ca`, the chain
#             file it writes as cert =), IDs as FQDN/email, certificate
#             one way and PSK the other, send_cert = ifasked (CERTREQ both
#             ways).  Each: ESTABLISHED on both, ping both ways.
#   ss-*:     strongSwan (charon) as the peer, ECDSA P-256, both roles,
#             once with strongSwan-made certificates and DN IDs, once
#             with ipsecctl-made ones, FQDN IDs and send_cert = ifasked;
#             RSA-3072 PSS, Ed25519, our certificate + its PSK, and our
#             certificate from an intermediate CA sent in the chain.
#   neg-*:    the initiator's certificate is refused by the responder:
#             untrusted CA, expired, revoked (CRL), ID not in the
#             certificate, keyUsage without digitalSignature, a leaf of
#             the intermediate CA without its chain; and the reverse
#             direction against charon.  Each: no IKE SA, the
#             refusing side logs why, the other AUTHENTICATION_FAILED.
# Topology: A veth 192.0.2.10, lo 198.51.100.1; B veth 192.0.2.20, lo
# 203.0.113.1.  TAP-style output; IPSECD/IPSECCTL override the binaries
# (default build/; e.g. IPSECD=build/h1/ipsecd for an O= build).
set -u
# Two pings per direction and 8 s for a state, as before ike_lib.sh.
NSPING_COUNT=${NSPING_COUNT:-2}
WAIT_STATE_TRIES=${WAIT_STATE_TRIES:-40}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"
IPSECD=$(realpath "$IPSECD")
IPSECCTL=$(realpath "$IPSECCTL")

A_IN=198.51.100.1
B_IN=203.0.113.1
A_NET=198.51.100.0/24
B_NET=203.0.113.0/24
P=$TL_TMP/pki	# ipsecctl pki
S=$TL_TMP/sspki	# strongSwan pki (and openssl)
PSK="cert-test-psk-0123456789abcdef"

# topo TAG: ike_lib.sh's two gateways, each with its inside address.
topo() {
	ike_topo "$1" &&
		ip -n "$A" addr add "$A_IN/32" dev lo &&
		ip -n "$B" addr add "$B_IN/32" dev lo
}

# ping_both DIR: through the tunnel, A -> B and B -> A.
ping_both() {
	nsping "$A" "$A_IN" "$B_IN" "$1/ping-ab.txt" &&
		nsping "$B" "$B_IN" "$A_IN" "$1/ping-ba.txt"
}

both_up() { wait_state "$A" ESTABLISHED && wait_state "$B" ESTABLISHED; }

# ---- certificates ----
sspki() { pki "$@" 2>/dev/null; }

make_pki() {
	mkdir -p "$P" "$S" || return 1
	(
		cd "$P" || exit 1
		q() { "$IPSECCTL" pki "$@" >/dev/null; }
		q ca ca && q ca other &&
			q server gw-a --san DNS:gw-a.example \
				--san email:gw-a@example.org &&
			q server gw-b --san DNS:gw-b.example &&
			q server rsa-a --type rsa3072 --san DNS:gw-a.example &&
			q server rsa-b --type rsa3072 --san DNS:gw-b.example &&
			q server p384-a --type ecdsa384 --san DNS:gw-a.example &&
			q server p384-b --type ecdsa384 --san DNS:gw-b.example &&
			q server ed-a --type ed25519 --san DNS:gw-a.example &&
			q server ed-b --type ed25519 --san DNS:gw-b.example &&
			q server rogue-a --ca other --san DNS:gw-a.example &&
			q ca sub --ca ca
	) || return 1
	# strongSwan's pki: a CA, gw-a and gw-b with DN subjects, an
	# expired and a revoked gw-a, the CRL.
	(
		cd "$S" || exit 1
		umask 077
		sspki --gen --type ecdsa --size 256 --outform pem >ca.key &&
			sspki --self --ca --in ca.key --type ecdsa \
				--dn "C=CH, O=example, CN=ss CA" \
				--outform pem >ca.crt || exit 1
		for n in gw-a gw-b expired revoked; do
			sspki --gen --type ecdsa --size 256 --outform pem \
				>"$n.key" || exit 1
		done
		iss() { # NAME CN SAN [ARGS...]
			local n=$1 cn=$2 san=$3
			shift 3
			sspki --pub --in "$n.key" --type ecdsa |
				sspki --issue --cacert ca.crt --cakey ca.key \
					--dn "C=CH, O=example, CN=$cn" \
					--san "$san" "$@" --outform pem >"$n.crt"
		}
		iss gw-a gw-a gw-a.example && iss gw-b gw-b gw-b.example &&
			iss expired gw-a gw-a.example --dateform %Y-%m-%d \
				--not-before 2020-01-01 --not-after 2021-01-01 &&
			iss revoked gw-a gw-a.example &&
			sspki --signcrl --cacert ca.crt --cakey ca.key \
				--cert revoked.crt --outform pem >ca.crl || exit 1
		# keyUsage keyEncipherment only: no signatures (openssl).
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
			-out badku.key 2>/dev/null &&
			printf '%s\n' 'keyUsage=critical,keyEncipherment' \
				'subjectAltName=DNS:gw-a.example' >badku.ext &&
			openssl req -new -key badku.key -subj "/CN=gw-a" \
				2>/dev/null |
			openssl x509 -req -CA ca.crt -CAkey ca.key \
				-CAcreateserial -days 30 -extfile badku.ext \
				-out badku.crt 2>/dev/null
	) || return 1
	chmod 600 "$S"/*.key "$P"/*.key
}

# An intermediate: sub (from make_pki, `pki ca sub --ca ca`) issues
# sub-a, and `pki server` writes sub-a.chain.pem (sub-a, then sub) for
# cert =, so that ipsecd sends sub in a second CERT payload.  The peers
# trust only ca.crt.
make_sub() {
	local d=$P
	openssl verify -CAfile "$d/ca.crt" "$d/sub.crt" >/dev/null 2>&1 &&
		not openssl verify -CAfile "$d/sub.crt" "$d/sub.crt" \
			>/dev/null 2>&1 &&
		(cd "$d" && "$IPSECCTL" pki server sub-a --ca sub \
			--san DNS:gw-a.example >/dev/null) &&
		test "$(grep -c 'BEGIN CERTIFICATE' "$d/sub-a.chain.pem")" = 2
}

# conf FILE LOCAL REMOTE LTS RTS START [KEY = VALUE lines...]
conf() {
	local f=$1 l=$2 r=$3 lts=$4 rts=$5 start=$6
	shift 6
	{
		printf '[daemon]\ntun = ipsec0\n\n[conn gw]\n'
		printf 'local = %s\nremote = %s\n' "$l" "$r"
		printf 'local_ts = %s\nremote_ts = %s\n' "$lts" "$rts"
		printf 'ike = aes128gcm16-prfsha256-x25519\nesp = aes128gcm16\n'
		printf 'start = %s\n' "$start"
		printf '%s\n' "$@"
	} >"$f"
}

# cert_kv DIR NAME [CA...]: our certificate and key, trusted CAs.
cert_kv() {
	local d=$1 n=$2 cas=${3:-$1/ca.crt}
	printf '%s\n' "auth = pubkey" "cert = $d/$n.crt" "key = $d/$n.key" \
		"ca = $cas"
}

STOP=()
stop_all() {
	local p
	for p in "${STOP[@]}"; do tl_stop "$p"; done
	STOP=()
}

# pair T A_LINES B_LINES: run B (responder) and A (start = on); both
# configs get the given extra lines (newline-separated strings).
run_pair() {
	local t=$1 d=$TL_TMP/$1
	mkdir -p "$d"
	local IFS=$'\n'
	# shellcheck disable=SC2086
	conf "$d/b.conf" "$B_OUT" "$A_OUT" "$B_NET" "$A_NET" off $3
	# shellcheck disable=SC2086
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" on $2
	unset IFS
	tl_ipsecd "$B" "$d/b.conf" "$d/b.log" || return 1
	STOP+=("$TL_BG_PID")
	tl_ipsecd "$A" "$d/a.conf" "$d/a.log" || return 1
	STOP+=("$TL_BG_PID")
}

# ok_pair T A_LINES B_LINES: established, ping both ways.
ok_pair() {
	local t=$1 d=$TL_TMP/$1
	if ! run_pair "$@"; then
		tl_not_ok "$t: both daemons start"
		stop_all
		return
	fi
	tl_check "$t: A and B ESTABLISHED" both_up
	tl_check "$t: ping A -> B and B -> A through the tunnel" \
		ping_both "$d"
	tl_check "$t: B logs A authenticated by certificate" \
		grep -q 'authenticated by certificate' "$d/b.log"
	stop_all
}

# neg_pair T WHY A_LINES B_LINES: B refuses A with WHY in its log; A
# logs AUTHENTICATION_FAILED; no tunnel.
neg_pair() {
	local t=$1 why=$2 d=$TL_TMP/$1
	shift 2
	if ! run_pair "$t" "$@"; then
		tl_not_ok "$t: both daemons start"
		stop_all
		return
	fi
	tl_check "$t: B refuses: $why" \
		wait_grep "$d/b.log" "authentication failed.*$why"
	tl_check "$t: A logs AUTHENTICATION_FAILED from B" \
		wait_grep "$d/a.log" 'AUTHENTICATION_FAILED'
	tl_check "$t: no IKE SA ESTABLISHED" \
		not sh -c "'$IPSECCTL' -S '$(tl_sock "$A")' status --json |
			grep -q ESTABLISHED"
	stop_all
}

# ---- ipsecd <-> ipsecd ----
scenario_ii() {
	topo ii || { tl_not_ok "ii: topology"; return; }
	ok_pair ii-p256-dn "$(cert_kv "$P" gw-a)" "$(cert_kv "$P" gw-b)
remote_id = CN=gw-a"
	ok_pair ii-rsa3072-pss "$(cert_kv "$P" rsa-a)
rsa_pss = yes
local_id = gw-a.example" "$(cert_kv "$P" rsa-b)
rsa_pss = yes
local_id = gw-b.example
remote_id = gw-a.example"
	# send_cert = ifasked: each side sends its certificate only
	# because the other's CERTREQ asks for it (RFC 7296 §3.7).
	ok_pair ii-p384-ifasked "$(cert_kv "$P" p384-a)
send_cert = ifasked" "$(cert_kv "$P" p384-b)
send_cert = ifasked"
	ok_pair ii-ed25519 "$(cert_kv "$P" ed-a)
local_id = gw-a.example" "$(cert_kv "$P" ed-b)"
	if make_sub; then
		ok_pair ii-intermediate "auth = pubkey
cert = $P/sub-a.chain.pem
key = $P/sub-a.key
ca = $P/ca.crt
local_id = gw-a.example" "$(cert_kv "$P" gw-b)"
	else
		tl_not_ok "ii-intermediate: make an intermediate CA"
	fi
	ok_pair ii-email-id "$(cert_kv "$P" gw-a)
local_id = gw-a@example.org" "$(cert_kv "$P" gw-b)
remote_id = gw-a@example.org"
	# Mixed: A signs with its certificate, B proves the PSK.
	ok_pair ii-mixed "auth = pubkey
remote_auth = psk
psk = $PSK
cert = $P/gw-a.crt
key = $P/gw-a.key
local_id = gw-a.example
remote_id = $B_OUT" "auth = psk
remote_auth = pubkey
psk = $PSK
ca = $P/ca.crt
remote_id = gw-a.example"

	# Refused certificates (B checks A's).
	local bcas="$P/ca.crt, $S/ca.crt" bss
	bss="$(cert_kv "$P" gw-b "$bcas")
crl = $S/ca.crl"
	neg_pair neg-untrusted 'unable to get local issuer' \
		"$(cert_kv "$P" rogue-a)" "$bss"
	neg_pair neg-expired 'expired' "$(cert_kv "$S" expired)" "$bss"
	neg_pair neg-revoked 'revoked' "$(cert_kv "$S" revoked)" "$bss"
	neg_pair neg-id 'does not match its certificate' \
		"$(cert_kv "$P" gw-a)
local_id = gw-x.example" "$bss"
	neg_pair neg-keyusage 'keyUsage' "$(cert_kv "$S" badku)
local_id = gw-a.example" "$bss"
	# The intermediate's leaf without its chain file: B (trusting only
	# ca.crt) cannot build the path, so the chain above is what works.
	[ -f "$P/sub-a.crt" ] && neg_pair neg-no-chain \
		'unable to get local issuer' "auth = pubkey
cert = $P/sub-a.crt
key = $P/sub-a.key
ca = $P/ca.crt
local_id = gw-a.example" "$bss"
	neg_pair neg-remote-id 'is not remote_id' "$(cert_kv "$P" gw-a)" \
		"$(cert_kv "$P" gw-b)
remote_id = CN=gw-z"
	# A key file others can read is refused at startup, file:line.
	local d=$TL_TMP/neg-keymode
	mkdir -p "$d"
	cp "$P/gw-a.key" "$d/k.key" && chmod 644 "$d/k.key"
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" off \
		"auth = pubkey" "cert = $P/gw-a.crt" "key = $d/k.key" \
		"ca = $P/ca.crt"
	ip netns exec "$A" timeout 5 "$IPSECD" -f -c "$d/a.conf" \
		-S "$d/sock" >"$d/a.log" 2>&1
	tl_check "neg-keymode: ipsecd refuses a key of mode 644 (file:line)" \
		grep -q "a.conf:[0-9]*: \[conn gw\] key: .*chmod 600" "$d/a.log"
}

# ---- strongSwan ----
# ss_conf_cert DIR ROLE_ID REMOTE_ID CERT KEY CA: charon in B.
ss_conf_cert() {
	local d=$1
	mkdir -p "$d/x509" "$d/x509ca" "$d/private"
	cp "$4" "$d/x509/me.crt" && cp "$5" "$d/private/me.key" &&
		cp "$6" "$d/x509ca/ca.crt" || return 1
	cat >"$d/swanctl.conf" <<-CONF
	connections {
	    gw {
	        version = 2
	        local_addrs = $B_OUT
	        remote_addrs = $A_OUT
	        proposals = aes128gcm16-prfsha256-x25519
	        local { auth = ${SS_LAUTH:-pubkey}
	                certs = me.crt
	                id = "$2" }
	        remote { auth = ${SS_RAUTH:-pubkey}
	                 id = "$3" }
	        children {
	            net {
	                mode = tunnel
	                local_ts = $B_NET
	                remote_ts = $A_NET
	                esp_proposals = aes128gcm16
	            }
	        }
	    }
	}
	secrets { ike-gw { id-l = "$2"
	                   id-r = "$3"
	                   secret = "$PSK" } }
	CONF
	SWANCTL_DIR=$d ss_ctl "$d" --load-all --noprompt \
		--file "$d/swanctl.conf" >"$d/load.out" 2>&1
}

# The same with charon proving a PSK instead of signing.
ss_conf_psk() { SS_LAUTH=psk ss_conf_cert "$@"; }

ss_up() {
	local _
	for _ in $(seq 1 25); do
		ss_ctl "$1" --list-sas 2>/dev/null | grep -q ESTABLISHED &&
			return 0
		sleep 0.2
	done
	return 1
}

# scenario_ss ROLE KIND: ipsecd in A, charon in B.  ROLE init: ipsecd
# initiates; resp: charon does.  KIND ss: strongSwan-made certificates,
# DN IDs; ip: ipsecctl-made, FQDN IDs.
scenario_ss() {
	local role=$1 kind=$2 t=ss-$1-$2 d=$TL_TMP/ss-$1-$2 start=off
	local lines
	mkdir -p "$d/ss"
	topo "ss$role$kind" || { tl_not_ok "$t: topology"; return; }
	[ "$role" = init ] && start=on
	tl_check "$t: charon starts in B" ss_start "$B" "$d/ss"
	STOP+=("$TL_BG_PID")
	case $kind in
	ss)
		tl_check "$t: charon loads its certificate and connection" \
			ss_conf_cert "$d/ss" "C=CH, O=example, CN=gw-b" \
			"C=CH, O=example, CN=gw-a" "$S/gw-b.crt" "$S/gw-b.key" \
			"$S/ca.crt"
		lines=$(cert_kv "$S" gw-a)
		lines+=$'\nremote_id = C=CH, O=example, CN=gw-b'
		;;
	rsa | ed)
		tl_check "$t: charon loads its certificate and connection" \
			ss_conf_cert "$d/ss" gw-b.example gw-a.example \
			"$P/$kind-b.crt" "$P/$kind-b.key" "$P/ca.crt"
		lines=$(cert_kv "$P" "$kind-a")
		lines+=$'\nlocal_id = gw-a.example\nremote_id = gw-b.example'
		[ "$kind" = rsa ] && lines+=$'\nrsa_pss = yes'
		;;
	sub)
		# ipsecd's certificate comes from an intermediate CA that
		# only ipsecd has: it sends it after its own (RFC 7296 §3.6).
		tl_check "$t: charon loads its certificate and connection" \
			ss_conf_cert "$d/ss" gw-b.example gw-a.example \
			"$P/gw-b.crt" "$P/gw-b.key" "$P/ca.crt"
		lines="auth = pubkey"$'\n'"cert = $P/sub-a.chain.pem"$'\n'
		lines+="key = $P/sub-a.key"$'\n'"ca = $P/ca.crt"$'\n'
		lines+="local_id = gw-a.example"$'\n'
		lines+="remote_id = gw-b.example"
		;;
	mixed)
		# ipsecd signs, charon proves the PSK.
		tl_check "$t: charon loads its certificate and connection" \
			ss_conf_psk "$d/ss" gw-b.example \
			gw-a.example "$P/gw-b.crt" "$P/gw-b.key" "$P/ca.crt"
		lines="auth = pubkey"$'\n'"cert = $P/gw-a.crt"$'\n'
		lines+="key = $P/gw-a.key"$'\n'"remote_auth = psk"$'\n'
		lines+="psk = $PSK"$'\n'"local_id = gw-a.example"$'\n'
		lines+="remote_id = gw-b.example"
		;;
	*)
		tl_check "$t: charon loads its certificate and connection" \
			ss_conf_cert "$d/ss" gw-b.example gw-a.example \
			"$P/gw-b.crt" "$P/gw-b.key" "$P/ca.crt"
		lines=$(cert_kv "$P" gw-a)
		lines+=$'\nlocal_id = gw-a.example\nremote_id = gw-b.example'
		lines+=$'\nsend_cert = ifasked'
		;;
	esac
	local IFS=$'\n'
	# shellcheck disable=SC2086
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" $start $lines
	unset IFS
	if ! tl_ipsecd "$A" "$d/a.conf" "$d/a.log"; then
		tl_not_ok "$t: ipsecd starts"
		stop_all
		return
	fi
	STOP+=("$TL_BG_PID")
	if [ "$role" = resp ]; then
		ss_ctl "$d/ss" --initiate --child net --timeout 15 \
			>"$d/initiate.out" 2>&1
	fi
	tl_check "$t: ipsecd's IKE SA is ESTABLISHED" \
		wait_state "$A" ESTABLISHED
	tl_check "$t: charon lists the IKE SA ESTABLISHED" ss_up "$d/ss"
	tl_check "$t: ping A -> B and B -> A through the tunnel" \
		ping_both "$d"
	if [ "$kind" != mixed ]; then
		tl_check "$t: ipsecd verified charon's certificate" \
			grep -q 'authenticated by certificate' "$d/a.log"
	fi
	tl_check "$t: charon verified ipsecd's signature" \
		grep -q "authentication of '.*gw-a.*' with .* successful" \
		"$d/ss/charon.log"
	stop_all
}

# scenario_ss_neg: charon (responder) refuses ipsecd's ID; ipsecd
# (responder) refuses charon's certificate from an untrusted CA.
scenario_ss_neg() {
	local t=ss-neg d=$TL_TMP/ss-neg
	mkdir -p "$d/ss" "$d/ss2"
	topo ssneg || { tl_not_ok "$t: topology"; return; }
	tl_check "$t: charon starts in B" ss_start "$B" "$d/ss"
	STOP+=("$TL_BG_PID")
	ss_conf_cert "$d/ss" gw-b.example gw-a.example "$P/gw-b.crt" \
		"$P/gw-b.key" "$P/ca.crt"
	local IFS=$'\n'
	# shellcheck disable=SC2046
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" on \
		$(cert_kv "$P" rogue-a) "local_id = gw-a.example"
	unset IFS
	tl_ipsecd "$A" "$d/a.conf" "$d/a.log" && STOP+=("$TL_BG_PID")
	tl_check "$t: charon refuses ipsecd's certificate (untrusted CA)" \
		wait_grep "$d/ss/charon.log" 'no trusted .* public key found\|constraint check failed\|no issuer certificate found'
	tl_check "$t: ipsecd logs AUTHENTICATION_FAILED from charon" \
		wait_grep "$d/a.log" 'AUTHENTICATION_FAILED'
	stop_all
	# Reverse: charon initiates with a certificate ipsecd does not
	# trust (its CA is strongSwan's, ipsecd trusts only ipsecctl's).
	ike_topo ssneg2 || { tl_not_ok "$t: topology 2"; return; }
	tl_check "$t: charon starts in B (2)" ss_start "$B" "$d/ss2"
	STOP+=("$TL_BG_PID")
	ss_conf_cert "$d/ss2" "C=CH, O=example, CN=gw-b" gw-a.example \
		"$S/gw-b.crt" "$S/gw-b.key" "$P/ca.crt"
	IFS=$'\n'
	# shellcheck disable=SC2046
	conf "$d/a2.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" off \
		$(cert_kv "$P" gw-a) "local_id = gw-a.example"
	unset IFS
	tl_ipsecd "$A" "$d/a2.conf" "$d/a2.log" && STOP+=("$TL_BG_PID")
	ss_ctl "$d/ss2" --initiate --child net --timeout 8 \
		>"$d/initiate.out" 2>&1
	tl_check "$t: ipsecd refuses charon's certificate (untrusted CA)" \
		wait_grep "$d/a2.log" 'authentication failed.*unable to get local issuer'
	tl_check "$t: charon logs AUTHENTICATION_FAILED from ipsecd" \
		grep -q 'AUTHENTICATION_FAILED' "$d/ss2/charon.log"
	stop_all
}

if ! command -v pki >/dev/null || ! command -v openssl >/dev/null; then
	echo "not ok - strongSwan's pki and openssl are needed"
	exit 1
fi
if make_pki; then
	tl_ok "pki: certificates made with ipsecctl pki, strongSwan pki, openssl"
else
	tl_not_ok "pki: certificates made with ipsecctl pki, strongSwan pki, openssl"
	tl_summary
	exit 1
fi
scenario_ii
if ss_available; then
	scenario_ss init ss
	scenario_ss resp ip
	scenario_ss init ip
	scenario_ss resp ss
	scenario_ss init rsa
	scenario_ss resp ed
	scenario_ss resp mixed
	[ -f "$P/sub-a.chain.pem" ] && scenario_ss init sub
	scenario_ss_neg
else
	echo "# strongSwan (charon, swanctl) missing: interop skipped"
fi
tl_summary
