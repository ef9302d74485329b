#!/bin/bash
# test_ike_interop.sh - the IKEv2 interoperability matrix (docs/ike.md).
#   prop-*:   four IKE/ESP proposal pairs, each ipsecd <-> ipsecd and
#             against strongSwan (charon, kernel-libipsec) with ipsecd
#             initiating and with charon initiating; ping both ways
#             between the inner subnets; the negotiated algorithms in
#             "ipsecctl status --json" (and charon's "selected proposal"
#             log lines) must be exactly the configured ones.  The
#             responder is always given a decoy proposal first, so it
#             must skip one to agree.
#   ke-retry-*, multi-*, esn-*, pfs-*, defaults-*: INVALID_KE_PAYLOAD
#             and retry; several algorithms per transform type in one
#             proposal; ESN; a PFS group in the ESP proposal; both sides'
#             default proposals.
#   nopro-*:  IKE proposal mismatch (NO_PROPOSAL_CHOSEN in IKE_SA_INIT)
#             and ESP-only mismatch (IKE_AUTH answers NO_PROPOSAL_CHOSEN
#             for the Child SA); the ipsecd logs name what was offered.
#   v6-*:     IPv6 outer and inner addresses (ipsecd and strongSwan).
#   mix-*:    IPv6 inside IPv4 and IPv4 inside IPv6.
# One topology for all: A veth 192.0.2.10 / 2001:db8:1::10, lo 198.51.100.1
# and 2001:db8:a::1; B veth 192.0.2.20 / 2001:db8:1::20, lo 203.0.113.1
# and 2001:db8:b::1.  Daemons are started per scenario, ipsecd always in A;
# the peer in B is ipsecd or charon.
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries (default build/).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"
WAIT_STATE_TRIES=40
NSPING_COUNT=2

A4=192.0.2.10
B4=192.0.2.20
A6=2001:db8:1::10
B6=2001:db8:1::20
A4_IN=198.51.100.1
B4_IN=203.0.113.1
A6_IN=2001:db8:a::1
B6_IN=2001:db8:b::1
A4_NET=198.51.100.0/24
B4_NET=203.0.113.0/24
A6_NET=2001:db8:a::/48
B6_NET=2001:db8:b::/48
PSK="interop-test-psk-0123456789abcdef"
# Offered first by every responder; no initiator offers it.
DECOY_IKE=aes192-sha512-modp3072
DECOY_ESP=aes192-sha512

HAVE_SS=0
ss_available && HAVE_SS=1

tl_ns A interop-a && tl_ns B interop-b &&
	tl_veth "$A" veth0 "$B" veth0 &&
	ip -n "$A" addr add "$A4/24" dev veth0 &&
	ip -n "$B" addr add "$B4/24" dev veth0 &&
	ip -n "$A" addr add "$A6/64" dev veth0 nodad &&
	ip -n "$B" addr add "$B6/64" dev veth0 nodad &&
	ip -n "$A" addr add "$A4_IN/32" dev lo &&
	ip -n "$B" addr add "$B4_IN/32" dev lo &&
	ip -n "$A" addr add "$A6_IN/128" dev lo &&
	ip -n "$B" addr add "$B6_IN/128" dev lo || {
	tl_not_ok "topology"
	exit 1
}

# conf FILE LOCAL REMOTE LTS RTS START IKE ESP: one ipsecd's config
# (IKE, ESP empty: the defaults).
conf() {
	cat >"$1" <<-EOF
	[daemon]
	tun = ipsec0
	${KEYLOG:+keylog = $KEYLOG}

	[conn gw]
	local = $2
	remote = $3
	auth = psk
	psk = $PSK
	local_ts = $4
	remote_ts = $5
	${7:+ike = $7}
	${8:+esp = $8}
	start = $6
	EOF
	chmod 600 "$1"	# it holds the PSK
}


# wait_child NS: an IKE SA with an installed Child SA (up to 8 s).
wait_child() {
	local i
	for i in $(seq 1 40); do
		ctl "$1" status --json 2>/dev/null |
			grep -q '"spi_in": *"0x' && return 0
		sleep 0.2
	done
	return 1
}

# ike_algs FILE / child_algs FILE: the "algorithms" of the (first) IKE SA
# and of its Child SA in ipsecctl status --json.
ike_algs() {
	jq -r '.ike_sas[0].algorithms // "none"' "$1" 2>/dev/null
}
child_algs() {
	jq -r '.ike_sas[0].child_sas[0].algorithms // "none"' "$1" 2>/dev/null
}

# expect_algs IKE ESP: the status keywords for a proposal string with one
# algorithm per type (docs/ctl.md: encr[-integ]-prf-ke; a non-AEAD IKE
# proposal without a PRF gets the PRF of its integrity algorithm).
expect_ike() {
	local p=$1
	case $p in
	*gcm* | *chacha*) echo "$p" ;;
	*) # encr-integ-ke -> encr-integ-prfinteg-ke
		local e i k
		IFS=- read -r e i k <<<"$p"
		echo "$e-$i-prf$i-$k" ;;
	esac
}

# ss_name KEYWORD: strongSwan's log name of one algorithm keyword.
ss_name() {
	case $1 in
	aes128gcm16) echo AES_GCM_16_128 ;;
	aes256gcm16) echo AES_GCM_16_256 ;;
	aes256) echo AES_CBC_256 ;;
	chacha20poly1305) echo CHACHA20_POLY1305 ;;
	sha256) echo HMAC_SHA2_256_128 ;;
	prfsha256) echo PRF_HMAC_SHA2_256 ;;
	prfsha384) echo PRF_HMAC_SHA2_384 ;;
	x25519) echo CURVE_25519 ;;
	modp2048) echo MODP_2048 ;;
	ecp256) echo ECP_256 ;;
	ecp384) echo ECP_384 ;;
	esn) echo EXT_SEQ ;;
	*) echo "?$1" ;;
	esac
}

# ss_expect KEYWORDS: "A/B/C" in strongSwan names for "a-b-c".
ss_expect() {
	local out="" k
	for k in ${1//-/ }; do
		out="$out${out:+/}$(ss_name "$k")"
	done
	echo "$out"
}

# start_ipsecd NS TAG T: start ipsecd with $D/TAG.conf, PID in LAST_PID.
start_ipsecd() {
	tl_check "$3: ipsecd starts in $2" \
		tl_ipsecd "$1" "$D/$2.conf" "$D/$2.log"
	LAST_PID=$TL_BG_PID
}

# traffic T FAM: ping both ways between the inner addresses of FAM.
traffic() {
	local t=$1 fam=$2 a b
	if [ "$fam" = 6 ]; then a=$A6_IN b=$B6_IN; else a=$A4_IN b=$B4_IN; fi
	tl_check "$t: ping A -> B (IPv$fam inside)" \
		nsping "$A" "$a" "$b" "$D/ping-ab.txt"
	tl_check "$t: ping B -> A (IPv$fam inside)" \
		nsping "$B" "$b" "$a" "$D/ping-ba.txt"
}

# check_status T NS IKE ESP: ipsecctl status names exactly these.
check_status() {
	local t=$1 got want
	ctl "$2" status --json >"$D/status-$2.json" 2>&1
	want=$(expect_ike "$3")
	got=$(ike_algs "$D/status-$2.json")
	tl_check "$t: status IKE algorithms $got (want $want)" \
		[ "$got" = "$want" ]
	got=$(child_algs "$D/status-$2.json")
	want=${4%-esn}	# (status does not show ESN)
	tl_check "$t: status ESP algorithms $got (want $want)" \
		[ "$got" = "$want" ]
}

# check_ss T DIR IKE ESP: charon agrees on the algorithms (its log's
# "selected proposal" lines).
check_ss() {
	local t=$1 want_i want_e
	want_i="IKE:$(ss_expect "$(expect_ike "$3")")"
	want_e="ESP:$(ss_expect "$4")"
	[ "${4%-esn}" = "$4" ] && want_e="$want_e/NO_EXT_SEQ"
	tl_check "$t: charon selected $want_i" \
		grep -q "selected proposal: $want_i\$" "$2/charon.log"
	tl_check "$t: charon selected $want_e" \
		grep -q "selected proposal: $want_e\$" "$2/charon.log"
}

# ss_initiate: charon in $D/ss initiates (output kept in $D, not on the
# TAP stream).
ss_initiate() {
	ss_ctl "$D/ss" --initiate --child net --timeout 10 \
		>"$D/initiate.out" 2>&1
}

# fam_args FAM_OUT FAM_IN: set the addresses of one scenario.
fam_args() {
	if [ "$1" = 6 ]; then LA=$A6 RB=$B6; else LA=$A4 RB=$B4; fi
	if [ "$2" = 6 ]; then
		LNET=$A6_NET RNET=$B6_NET
	else
		LNET=$A4_NET RNET=$B4_NET
	fi
}

# ---- ipsecd <-> ipsecd: A initiates, B answers ----
# pair T IKE ESP [OUT IN]: a tunnel with these proposals; B is offered
# the decoys first.
pair() {
	ip_run "$1" "$2" "$3" "$DECOY_IKE, $2" "$DECOY_ESP, $3" "$2" "$3" \
		"${4:-4}" "${5:-4}"
}

# ip_run T A_IKE A_ESP B_IKE B_ESP WANT_IKE WANT_ESP OUT IN: A (start =
# on) configured with A_*, B with B_*; WANT_* must be negotiated.
ip_run() {
	local t=$1 ike=$6 esp=$7 pa pb
	D=$TL_TMP/$t
	mkdir -p "$D"
	fam_args "$8" "$9"
	conf "$D/a.conf" "$LA" "$RB" "$LNET" "$RNET" on "$2" "$3"
	conf "$D/b.conf" "$RB" "$LA" "$RNET" "$LNET" off "$4" "$5"
	start_ipsecd "$B" b "$t"
	pb=$LAST_PID
	start_ipsecd "$A" a "$t"
	pa=$LAST_PID
	tl_check "$t: A has a Child SA" wait_child "$A"
	tl_check "$t: B has a Child SA" wait_child "$B"
	traffic "$t" "$9"
	check_status "$t A" "$A" "$ike" "$esp"
	check_status "$t B" "$B" "$ike" "$esp"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- ipsecd in A, charon in B ----
# ss_pair T ROLE IKE ESP [OUT IN]: ROLE "init" (ipsecd initiates) or
# "resp" (charon initiates).  The responder gets the decoys first.
ss_pair() {
	local t=$1 role=$2 ike=$3 esp=$4 fo=${5:-4} fi=${6:-4}
	if [ "$role" = init ]; then
		ss_run "$t" init "$ike" "$esp" "$DECOY_IKE,$ike" \
			"$DECOY_ESP,$esp" "$ike" "$esp" "$fo" "$fi"
	else
		ss_run "$t" resp "$DECOY_IKE, $ike" "$DECOY_ESP, $esp" \
			"$ike" "$esp" "$ike" "$esp" "$fo" "$fi"
	fi
}

# ss_run T ROLE A_IKE A_ESP SS_IKE SS_ESP WANT_IKE WANT_ESP OUT IN: ipsecd
# configured with A_*, charon with SS_*; WANT_* (one algorithm per type)
# must be negotiated.
ss_run() {
	local t=$1 role=$2 aike=$3 aesp=$4 sike=$5 sesp=$6 ike=$7 esp=$8
	local fo=$9 fi=${10} pa start=off
	D=$TL_TMP/$t
	mkdir -p "$D/ss"
	fam_args "$fo" "$fi"
	[ "$role" = init ] && start=on
	tl_check "$t: charon starts in B" ss_start "$B" "$D/ss"
	SS_PID=$TL_BG_PID
	tl_check "$t: charon loads its connection" \
		ss_conf "$D/ss" "$RB" "$LA" "$RNET" "$LNET" "$PSK" "$sike" \
		"$sesp"
	conf "$D/a.conf" "$LA" "$RB" "$LNET" "$RNET" $start "$aike" "$aesp"
	start_ipsecd "$A" a "$t"
	pa=$LAST_PID
	if [ "$role" = resp ]; then
		tl_check "$t: charon initiates" ss_initiate
	fi
	tl_check "$t: ipsecd has a Child SA" wait_child "$A"
	traffic "$t" "$fi"
	check_status "$t" "$A" "$ike" "$esp"
	check_ss "$t" "$D/ss" "$ike" "$esp"
	tl_stop "$pa"
	tl_stop "$SS_PID"
}

# ---- the four proposal pairs ----
# charon with kernel-libipsec does all four ESP proposals itself (libipsec
# uses the crypto plugins: chapoly gives ChaCha20-Poly1305 for ESP), so no
# ESP proposal had to be replaced.
PROPS=(
	"aes128gcm16-prfsha256-x25519 aes128gcm16"
	"aes256-sha256-modp2048 aes256-sha256"
	"chacha20poly1305-prfsha256-ecp256 chacha20poly1305"
	"aes256gcm16-prfsha384-ecp384 aes256gcm16"
)


# ---- NO_PROPOSAL_CHOSEN ----
# The initiator offers aes128gcm16-prfsha256-x25519 / aes128gcm16; the
# responder accepts only aes256-sha256-modp2048 (KIND ike) or only ESP
# aes256-sha256 (KIND esp, IKE proposals agree).
NP_IKE=aes128gcm16-prfsha256-x25519
NP_ESP=aes128gcm16
NP_IKE_SA="IKE:aes128gcm16/prfsha256/x25519"
NP_ESP_SA="ESP:aes128gcm16/noesn"
NP_IKE_R=aes256-sha256-modp2048
NP_IKE_R_FMT=aes256-sha256-prfsha256-modp2048	# (with its implied PRF)
NP_ESP_R=aes256-sha256
NP_PEER="no proposal chosen: peer offered "
NP_CHILD_REFUSED="Child SA refused \(14 NO_PROPOSAL_CHOSEN\); we offered ESP "

# np_init_log T LOG KIND NS: the initiator ipsecd's view.
np_init_log() {
	local t=$1 log=$2 kind=$3 ns=$4
	if [ "$kind" = ike ]; then
		tl_check "$t: initiator log: no proposal chosen, names its offer" \
			wait_egrep "$log" "responder: no proposal chosen: we offered $NP_IKE\$"
		tl_check "$t: initiator has no ESTABLISHED IKE SA" \
			not wait_state "$ns" ESTABLISHED 1
	else
		tl_check "$t: initiator log: Child SA refused" \
			wait_egrep "$log" "$NP_CHILD_REFUSED$NP_ESP\$"
		np_no_child "$t: initiator" "$ns"
	fi
}

# np_resp_log T LOG KIND NS: the responder ipsecd's view.
np_resp_log() {
	local t=$1 log=$2 kind=$3 ns=$4
	if [ "$kind" = ike ]; then
		tl_check "$t: responder log names both offers" \
			wait_egrep "$log" \
			"$NP_PEER$NP_IKE_SA; we accept $NP_IKE_R_FMT\$"
		tl_check "$t: responder has no ESTABLISHED IKE SA" \
			not wait_state "$ns" ESTABLISHED 1
	else
		tl_check "$t: responder log names both ESP offers" \
			wait_egrep "$log" \
			"$NP_PEER$NP_ESP_SA; we accept $NP_ESP_R\$"
		np_no_child "$t: responder" "$ns"
	fi
}

# np_no_child T NS: the IKE SA is up (RFC 7296 §2.21.3), no Child SA.
np_no_child() {
	local n
	tl_check "$1: IKE SA ESTABLISHED" wait_state "$2" ESTABLISHED
	ctl "$2" status --json >"$D/status-$2.json" 2>&1
	n=$(jq '[.ike_sas[].child_sas[]] | length' "$D/status-$2.json")
	tl_check "$1: no Child SA (${n:-?})" [ "${n:-x}" = 0 ]
}

# nopro T KIND PEER ROLE: PEER ipsecd (A initiates, both logs checked) or
# ss with ROLE init (ipsecd initiates) or resp (charon initiates).
nopro() {
	local t=$1 kind=$2 peer=$3 role=${4:-init} pa pb
	local rike=$NP_IKE resp_esp=$NP_ESP
	D=$TL_TMP/$t
	mkdir -p "$D/ss"
	fam_args 4 4
	if [ "$kind" = ike ]; then
		rike=$NP_IKE_R
	else
		resp_esp=$NP_ESP_R
	fi
	if [ "$peer" = ipsecd ]; then
		conf "$D/a.conf" "$LA" "$RB" "$LNET" "$RNET" on "$NP_IKE" \
			"$NP_ESP"
		conf "$D/b.conf" "$RB" "$LA" "$RNET" "$LNET" off "$rike" \
			"$resp_esp"
		start_ipsecd "$B" b "$t"
		pb=$LAST_PID
		start_ipsecd "$A" a "$t"
		pa=$LAST_PID
		np_init_log "$t: A" "$D/a.log" "$kind" "$A"
		np_resp_log "$t: B" "$D/b.log" "$kind" "$B"
		tl_stop "$pa"
		tl_stop "$pb"
		return
	fi
	tl_check "$t: charon starts in B" ss_start "$B" "$D/ss"
	SS_PID=$TL_BG_PID
	if [ "$role" = init ]; then
		tl_check "$t: charon loads its connection" \
			ss_conf "$D/ss" "$RB" "$LA" "$RNET" "$LNET" "$PSK" \
			"$rike" "$resp_esp"
		conf "$D/a.conf" "$LA" "$RB" "$LNET" "$RNET" on "$NP_IKE" \
			"$NP_ESP"
	else
		tl_check "$t: charon loads its connection" \
			ss_conf "$D/ss" "$RB" "$LA" "$RNET" "$LNET" "$PSK" \
			"$NP_IKE" "$NP_ESP"
		conf "$D/a.conf" "$LA" "$RB" "$LNET" "$RNET" off "$rike" \
			"$resp_esp"
	fi
	start_ipsecd "$A" a "$t"
	pa=$LAST_PID
	if [ "$role" = init ]; then
		np_init_log "$t" "$D/a.log" "$kind" "$A"
		tl_check "$t: charon answered NO_PROPOSAL_CHOSEN" \
			grep -qE "generating IKE_(SA_INIT|AUTH) response .*N\(NO_PROP\)" \
			"$D/ss/charon.log"
	else
		tl_check "$t: charon's initiate fails" not ss_initiate
		np_resp_log "$t" "$D/a.log" "$kind" "$A"
		tl_check "$t: charon received NO_PROPOSAL_CHOSEN" \
			grep -q "received NO_PROPOSAL_CHOSEN" "$D/ss/charon.log"
	fi
	tl_stop "$pa"
	tl_stop "$SS_PID"
}

for p in "${PROPS[@]}"; do
	read -r ike esp <<<"$p"
	n=${ike%%-*}-${ike##*-}
	pair "prop-$n-ipsecd" "$ike" "$esp"
	if [ "$HAVE_SS" = 1 ]; then
		ss_pair "prop-$n-ss-init" init "$ike" "$esp"
		ss_pair "prop-$n-ss-resp" resp "$ike" "$esp"
	fi
done

# ---- negotiation details ----
# KE: the initiator's KE payload is ecp256, the responder wants x25519:
# INVALID_KE_PAYLOAD and a retry (RFC 7296 §1.2).  MULTI: several
# algorithms per type in one proposal; the responder picks.  ESN only
# between ipsecds: charon's kernel-libipsec refuses ESN ("IPsec SA: ESN
# not supported", then NO_PROPOSAL_CHOSEN for the Child SA).
KE_I=aes128gcm16-prfsha256-ecp256-x25519
KE_R=aes128gcm16-prfsha256-x25519
MULTI=aes128gcm16-aes256gcm16-prfsha256-prfsha384-x25519-ecp384
MULTI_R=aes256gcm16-prfsha384-x25519
ip_run ke-retry-ipsecd $KE_I aes128gcm16 $KE_R aes128gcm16 $KE_R \
	aes128gcm16 4 4
KE_ASKED="KE group 19, asking for x25519"
KE_RETRY="responder wants KE group 31; retrying"
tl_check "ke-retry-ipsecd: B asked for x25519" \
	grep -q "$KE_ASKED" "$TL_TMP/ke-retry-ipsecd/b.log"
tl_check "ke-retry-ipsecd: A retried with x25519" \
	grep -q "$KE_RETRY" "$TL_TMP/ke-retry-ipsecd/a.log"
ip_run multi-ipsecd $MULTI aes128gcm16-aes256gcm16 $MULTI_R aes256gcm16 \
	$MULTI_R aes256gcm16 4 4
ip_run esn-ipsecd $KE_R aes128gcm16-esn $KE_R aes128gcm16-esn $KE_R \
	aes128gcm16-esn 4 4
# An ESP proposal with a PFS group: IKE_AUTH carries no KE, so the group
# is left out there (RFC 7296 §1.2) and the Child SA has none.
ip_run pfs-ipsecd $KE_R aes128gcm16-x25519 $KE_R aes128gcm16-x25519 \
	$KE_R aes128gcm16 4 4
if [ "$HAVE_SS" = 1 ]; then
	ss_run ke-retry-ss-init init $KE_I aes128gcm16 $KE_R aes128gcm16 \
		$KE_R aes128gcm16 4 4
	ss_run ke-retry-ss-resp resp $KE_R aes128gcm16 $KE_I aes128gcm16 \
		$KE_R aes128gcm16 4 4
	tl_check "ke-retry-ss-init: ipsecd retried with x25519" \
		grep -q "$KE_RETRY" "$TL_TMP/ke-retry-ss-init/a.log"
	tl_check "ke-retry-ss-resp: ipsecd asked charon for x25519" \
		grep -q "$KE_ASKED" "$TL_TMP/ke-retry-ss-resp/a.log"
	ss_run multi-ss-init init $MULTI aes128gcm16-aes256gcm16 $MULTI_R \
		aes256gcm16 $MULTI_R aes256gcm16 4 4
	ss_run multi-ss-resp resp $MULTI_R aes256gcm16 $MULTI \
		aes128gcm16-aes256gcm16 $MULTI_R aes256gcm16 4 4
	ss_run pfs-ss-init init $KE_R aes128gcm16-x25519 $KE_R \
		aes128gcm16-x25519 $KE_R aes128gcm16 4 4
	ss_run pfs-ss-resp resp $KE_R aes128gcm16-x25519 $KE_R \
		aes128gcm16-x25519 $KE_R aes128gcm16 4 4
	# Both sides' defaults (charon's "default" keyword).  The responder's
	# preference wins: ours (docs/ike.md), or charon's, whose 5.9 default
	# list puts its CBC/HMAC proposal first (so x25519 -> INVALID_KE ->
	# modp2048).
	ss_run defaults-ss-resp resp "" "" default default \
		aes256gcm16-prfsha384-x25519 aes256gcm16 4 4
	ss_run defaults-ss-init init "" "" default default \
		aes256-sha256-modp2048 aes256-sha256 4 4
fi

for k in ike esp; do
	nopro "nopro-$k-ipsecd" $k ipsecd
	if [ "$HAVE_SS" = 1 ]; then
		nopro "nopro-$k-ss-init" $k ss init
		nopro "nopro-$k-ss-resp" $k ss resp
	fi
done

# ---- IPv6 outside (and inside) against strongSwan; mixed families ----
V6P=(aes256gcm16-prfsha384-ecp384 aes256gcm16)
MIXP=(aes128gcm16-prfsha256-x25519 aes128gcm16)
pair v6-ipsecd "${V6P[@]}" 6 6
pair mix-6in4-ipsecd "${MIXP[@]}" 4 6
pair mix-4in6-ipsecd "${MIXP[@]}" 6 4
if [ "$HAVE_SS" = 1 ]; then
	ss_pair v6-ss-init init "${V6P[@]}" 6 6
	ss_pair v6-ss-resp resp "${V6P[@]}" 6 6
	ss_pair mix-6in4-ss-init init "${MIXP[@]}" 4 6
	ss_pair mix-6in4-ss-resp resp "${MIXP[@]}" 4 6
	ss_pair mix-4in6-ss-init init "${MIXP[@]}" 6 4
	ss_pair mix-4in6-ss-resp resp "${MIXP[@]}" 6 4
fi

# A sanitizer build (make SAN=1) reports into the daemons' logs.
tl_check "no sanitizer report in any ipsecd log" \
	not grep -lE "Sanitizer|runtime error:" "$TL_TMP"/*/[ab].log

[ "$HAVE_SS" = 1 ] ||
	echo "# strongSwan (charon, swanctl) missing: interop skipped"
tl_summary
