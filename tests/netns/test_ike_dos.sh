#!/bin/bash
# test_ike_dos.sh - IKE_SA_INIT against unauthenticated peers (RFC 7296
# §2.6 COOKIE, §2.5, §3.10.1, §1.2), two gateways in namespaces.
#   flood:  a python3 flooder (tests/netns/ike_flood.py) sends well-formed
#           IKE_SA_INIT requests with random SPIs from many ports to B
#           (cookie_threshold = 4); B answers with COOKIEs, its half-open
#           IKE SAs stay at the threshold, its memory stays flat; while
#           the flood goes on, A (start = on, x25519 first, B only takes
#           ecp256) gets a COOKIE, then INVALID_KE_PAYLOAD, and still
#           establishes; ping through the tunnel; the flood's half-open
#           SAs time out; error answers to an unknown critical payload
#           and to major version 3.
#   ss:     strongSwan (charon) initiates to ipsecd with cookie_threshold
#           = 0: it gets a COOKIE, comes back with it, and connects.
# Topology: A veth 192.0.2.10 (+ .11 for the flooder), lo 198.51.100.1;
#           B veth 192.0.2.20, lo 203.0.113.1.
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries (default build/).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"
WAIT_STATE_TRIES=75
FLOOD=$(cd "$(dirname "$0")" && pwd)/ike_flood.py

A_FLOOD=192.0.2.11
A_IN=198.51.100.1
B_IN=203.0.113.1
A_NET=198.51.100.0/24
B_NET=203.0.113.0/24
PSK="dos-test-psk-0123456789abcdef"

topo() {
	ike_topo "$1" &&
		ip -n "$A" addr add "$A_FLOOD/24" dev veth0 &&
		ip -n "$A" addr add "$A_IN/32" dev lo &&
		ip -n "$B" addr add "$B_IN/32" dev lo
}

# connecting NS: IKE SAs of the daemon in NS that are CONNECTING.
connecting() {
	ctl "$1" status --json 2>/dev/null | grep -o '"state": *"CONNECTING"' |
		wc -l
}

rss_kb() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status"
}


# ---- flood ----
scenario_flood() {
	local t=flood d=$TL_TMP/flood pa pb pf n max=0 rss0 rss1 line
	mkdir -p "$d"
	topo dos || { tl_not_ok "$t: topology"; return; }
	# B: the gateway for A, and a %any connection the flood is for.
	cat >"$d/b.conf" <<-EOF
	[daemon]
	tun = ipsec0
	cookie_threshold = 4

	[conn gw]
	local = $B_OUT
	remote = $A_OUT
	psk = $PSK
	local_ts = $B_NET
	remote_ts = $A_NET
	ike = aes128gcm16-prfsha256-ecp256
	esp = aes128gcm16

	[conn road]
	local = $B_OUT
	remote = %any
	psk = $PSK
	local_ts = $B_NET
	remote_ts = 192.0.2.128/25
	ike = aes128gcm16-prfsha256-x25519
	esp = aes128gcm16
	EOF
	cat >"$d/a.conf" <<-EOF
	[daemon]
	tun = ipsec0

	[conn gw]
	local = $A_OUT
	remote = $B_OUT
	psk = $PSK
	local_ts = $A_NET
	remote_ts = $B_NET
	ike = aes128gcm16-prfsha256-x25519-ecp256
	esp = aes128gcm16
	start = on
	EOF
	tl_check "$t: B (responder, cookie_threshold = 4) starts" \
		tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	rss0=$(rss_kb "$pb")
	tl_bg "$A" "$d/flood.out" python3 "$FLOOD" flood "$A_FLOOD" "$B_OUT" \
		14 800
	pf=$TL_BG_PID
	sleep 3
	# A starts during the flood, logging at debug to show the cookie.
	IPSECD_DEBUG=1 tl_check "$t: A (initiator, start = on) starts" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	for _ in 1 2 3 4 5 6; do
		n=$(connecting "$B")
		[ "$n" -gt "$max" ] && max=$n
		sleep 0.5
	done
	tl_check "$t: A's IKE SA is ESTABLISHED during the flood" \
		wait_state "$A" ESTABLISHED
	tl_check "$t: A was asked for a cookie" \
		grep -q 'responder asks for a cookie' "$d/a.log"
	tl_check "$t: then for another KE group (COOKIE, INVALID_KE)" \
		grep -q 'responder wants KE group 19' "$d/a.log"
	tl_check "$t: ping A -> B through the tunnel during the flood" \
		nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab.txt"
	wait "$pf" 2>/dev/null
	line=$(cat "$d/flood.out")
	echo "# flooder: $line; B's half-open SAs at most $max"
	n=$(echo "$line" | sed -n 's/.*sent=\([0-9]*\).*/\1/p')
	tl_check "$t: the flooder sent thousands of requests (${n:-0})" \
		test "${n:-0}" -ge 3000
	n=$(echo "$line" | sed -n 's/.*cookie=\([0-9]*\).*/\1/p')
	tl_check "$t: B answered the flood with COOKIEs (${n:-0})" \
		test "${n:-0}" -ge 1000
	tl_check "$t: B's half-open IKE SAs stayed bounded ($max <= 4 + 1)" \
		test "$max" -le 5
	rss1=$(rss_kb "$pb")
	echo "# B's RSS: ${rss0:-?} kB before, ${rss1:-?} kB after"
	tl_check "$t: B's memory stayed flat (+$((rss1 - rss0)) kB)" \
		test $((rss1 - rss0)) -lt 4096
	tl_check "$t: B logs the front door's counters" \
		wait_grep "$d/b.log" 'front door: .* [1-9][0-9]* COOKIE answers' 60
	grep 'front door' "$d/b.log" | tail -n1 | sed 's/^/# /'
	# The probes: answered statelessly (§3.10.1, §2.5).
	ip netns exec "$A" python3 "$FLOOD" probe "$A_FLOOD" "$B_OUT" \
		>"$d/probe.out" 2>&1
	sed 's/^/# probe /' "$d/probe.out"
	tl_check "$t: unknown critical payload -> UNSUPPORTED_CRITICAL_PAYLOAD" \
		grep -q '^critical: 1 version=0x20 data=200' "$d/probe.out"
	tl_check "$t: major version 3 -> INVALID_MAJOR_VERSION from 2.0" \
		grep -q '^version3: 5 version=0x20' "$d/probe.out"
	tl_check "$t: B survived" kill -0 "$pb"
	# RFC 7296 §2.6 / IKE_HALF_OPEN_S: the flood's SAs time out.
	tl_check "$t: the flood's half-open IKE SAs time out" \
		wait_grep "$d/b.log" 'half-open IKE SA from .* timed out' 175
	sleep 1
	n=$(connecting "$B")
	tl_check "$t: no half-open IKE SA left on B ($n)" test "$n" -eq 0
	tl_check "$t: ping A -> B still works" \
		nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab2.txt"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- strongSwan initiates to ipsecd, which always wants a cookie ----
scenario_ss() {
	local t=ss-cookie d=$TL_TMP/ss pb pc
	mkdir -p "$d/ss"
	topo sscookie || { tl_not_ok "$t: topology"; return; }
	cat >"$d/b.conf" <<-EOF
	[daemon]
	tun = ipsec0
	cookie_threshold = 0

	[conn gw]
	local = $B_OUT
	remote = $A_OUT
	psk = $PSK
	local_ts = $B_NET
	remote_ts = $A_NET
	ike = aes128gcm16-prfsha256-x25519
	esp = aes128gcm16
	EOF
	tl_check "$t: ipsecd starts in B (cookie_threshold = 0)" \
		tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: charon starts in A" ss_start "$A" "$d/ss"
	pc=$TL_BG_PID
	tl_check "$t: charon loads its connection" \
		ss_conf "$d/ss" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" "$PSK" \
		aes128gcm16-prfsha256-x25519 aes128gcm16
	tl_check "$t: charon initiates" \
		ss_ctl "$d/ss" --initiate --child net --timeout 15 \
		>"$d/initiate.out" 2>&1
	tl_check "$t: ipsecd's IKE SA is ESTABLISHED" \
		wait_state "$B" ESTABLISHED
	tl_check "$t: ipsecd sent a COOKIE and accepted it" \
		wait_grep "$d/b.log" 'front door: .* [1-9][0-9]* COOKIE answers, [1-9][0-9]* cookies accepted' 80
	tl_check "$t: ping B -> A through the tunnel" \
		nsping "$B" "$B_IN" "$A_IN" "$d/ping-ba.txt"
	# charon's file log is flushed when it exits.
	tl_stop "$pc"
	tl_check "$t: charon got a COOKIE and sent it back" \
		grep -q 'request 0 \[ N(COOKIE) SA KE' "$d/ss/charon.log"
	tl_stop "$pb"
}

# ---- a bad cookie_threshold is a configuration error ----
scenario_conf() {
	local t=conf d=$TL_TMP/conf
	mkdir -p "$d"
	tl_ns C conf || { tl_not_ok "$t: namespace"; return; }
	printf '[daemon]\ncookie_threshold = -1\n' >"$d/bad.conf"
	tl_check "$t: cookie_threshold = -1 is refused with a message" \
		sh -c "! timeout 10 ip netns exec '$C' '$IPSECD' -f \
			-c '$d/bad.conf' -S '$d/sock' >'$d/out' 2>&1 &&
			grep -q 'cookie_threshold.*not a number' '$d/out'"
}

scenario_conf
scenario_flood
if ss_available; then
	scenario_ss
else
	echo "# strongSwan (charon, swanctl) missing: interop skipped"
fi

tl_summary
