#!/bin/bash
# test_ike_life.sh - tunnels that stay up (docs/ike.md, "Lifetimes,
# rekeying, DPD"): short lifetimes while ping -i 0.01 runs, DPD and
# dpd_action/close_action, rekeying through a lossy router.  The
# scenarios run at the same time, each in its own namespaces:
#   pair: two ipsecd, net1 without PFS and net2 with x25519 over one IKE
#         SA; Child SAs live 15 s (rekeyed from ~8 s), the IKE SA 35 s
#         (rekeyed, RFC 7296 §2.18, from ~28 s); 65 s of pings on both,
#         none lost.
#   reauth: the same with reauth = yes (IKE SA lifetime 20 s): a new IKE
#         SA replaces the old one (§2.8.3); 35 s of pings, none lost.
#   ss:   ipsecd initiates, strongSwan answers; both rekey the Child SA
#         (ipsecd: child_lifetime 14 s; strongSwan: rekey_time 11 s,
#         life_time 20 s, rand_time 2 s) and the IKE SA (ipsecd:
#         ike_lifetime 24 s; strongSwan: swanctl --rekey --ike once);
#         65 s of pings, none lost.
#   ss-resp: strongSwan initiates (IKE rekey_time 22 s, Child 11 s, PFS),
#         ipsecd answers (ike_lifetime 30 s, child_lifetime 14 s);
#         65 s of pings, none lost.
#   dpd:  dpd = 2s; the peer is killed: DPD notices, dpd_action =
#         restart brings the tunnel back when the peer runs again; then
#         the peer deletes it (ipsecctl down): close_action = restart;
#         then the other end restarts: INITIAL_CONTACT clears its stale
#         IKE SA at the peer.
#   packets: life_packets = 1000: rekeyed on the data plane's soft
#         limit (900 packets) while 3000 pings run, none lost.
#   loss: 20 % random loss on a router between the two (nftables numgen):
#         the tunnel still comes up and its Child SA is rekeyed.
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries (default build/); LIFE_ONLY
# = "dpd loss" runs only those scenarios.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"

PSK="ike-life-test-psk-0123456789abcdef"
PINGS=6500 # 65 s at 10 ms

# longping NS SRC DST FILE: PINGS pings 10 ms apart, in the background.
longping() {
	tl_bg "$1" "$4" ping -q -c "$PINGS" -i 0.01 -W 1 -I "$2" "$3"
	PING_PID=$TL_BG_PID
}

check_ping() {
	local t=$1 f=$2 what=$3 n tx
	n=$(lost "$f")
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$f")
	echo "# $t: $what: $n of ${tx:-0} pings lost"
	tl_check "$t: $what: ${tx:-0} pings, $n lost" \
		test "${tx:-0}" -ge "$PINGS" -a "$n" -eq 0
}

# ---- two ipsecd, both Child SAs and the IKE SA rekeyed ----
scenario_pair() {
	local t=pair d=$TL_TMP/pair pa pb p1 p2 s0 s1 lt
	mkdir -p "$d"
	pair_topo pair || { tl_not_ok "$t: topology"; return; }
	lt=("child_lifetime = 15s" "ike_lifetime = 35s" "rekey_margin = 5s")
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16 on "${lt[@]}"
	ike_conn "$d/a.conf" net2 192.0.2.10 192.0.2.20 198.51.100.64/26 \
		203.0.113.64/26 aes128gcm16-x25519 on "${lt[@]}"
	# B answers; its IKE SA lives a little longer than A's rekey time.
	lt=("child_lifetime = 15s" "ike_lifetime = 40s" "rekey_margin = 5s")
	daemon_hdr "$d/b.conf"
	ike_conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 aes128gcm16 off "${lt[@]}"
	ike_conn "$d/b.conf" net2 192.0.2.20 192.0.2.10 203.0.113.64/26 \
		198.51.100.64/26 aes128gcm16-x25519 off "${lt[@]}"
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: net1 and net2 up" wait_for 10 eval 'up "$A" net1 &&
		up "$A" net2 && up "$B" net1 && up "$B" net2'
	ctl "$A" status --json >"$d/a0.json"
	s0=$(jq -r '[.ike_sas[].spi_i, .ike_sas[].child_sas[].spi_in] |
		join(" ")' "$d/a0.json")
	tl_check "$t: status shows rekey_in_s and expire_in_s" \
		test "$(jq '[.ike_sas[0].rekey_in_s, .ike_sas[0].expire_in_s,
			.ike_sas[0].child_sas[0].rekey_in_s,
			.ike_sas[0].child_sas[0].expire_in_s] |
			map(select(. != null and . > 0)) | length' \
			"$d/a0.json")" -eq 4
	longping "$A" 198.51.100.1 203.0.113.1 "$d/ping1.txt"
	p1=$PING_PID
	longping "$B" 203.0.113.65 198.51.100.65 "$d/ping2.txt"
	p2=$PING_PID
	wait "$p1" "$p2"
	ctl "$A" status --json >"$d/a1.json"
	ctl "$B" status --json >"$d/b1.json"
	check_ping "$t" "$d/ping1.txt" "net1 (no PFS) A -> B"
	check_ping "$t" "$d/ping2.txt" "net2 (PFS) B -> A"
	tl_check "$t: Child SAs rekeyed on lifetime (log says why)" \
		grep_log "$d/a.log" "rekeying Child SA 0x.*(soft lifetime"
	tl_check "$t: net2 (PFS) rekeyed too" \
		grep -Eq "conn net2: (rekeying Child SA|Child SA installed.*rekeyed)" \
		"$d/a.log" "$d/b.log"
	tl_check "$t: IKE SA rekeyed in place (RFC 7296 §2.18)" \
		grep -q "IKE SA rekeyed by us (RFC 7296" "$d/a.log" "$d/b.log"
	tl_check "$t: the peer saw it too" \
		grep -q "IKE SA rekeyed by the peer (RFC 7296" "$d/a.log" \
		"$d/b.log"
	tl_check "$t: A: one IKE SA, rekeys >= 1" \
		test "$(jq '[.ike_sas[] | select(.state == "ESTABLISHED")] |
			length' "$d/a1.json")" -eq 1 -a \
		"$(jq '[.ike_sas[].rekeys] | max' "$d/a1.json")" -ge 1
	tl_check "$t: B: one IKE SA, the same SPIs as A's" \
		test "$(js "$B" '[.ike_sas[] | select(.state == "ESTABLISHED")
			| .spi_i + .spi_r] | join(" ")')" = \
		"$(js "$A" '[.ike_sas[] | select(.state == "ESTABLISHED")
			| .spi_i + .spi_r] | join(" ")')"
	tl_check "$t: A: Child SAs with rekeys >= 3" \
		test "$(jq '[.ike_sas[].child_sas[].rekeys] | min' \
			"$d/a1.json")" -ge 3
	s1=$(jq -r '[.ike_sas[].spi_i, .ike_sas[].child_sas[].spi_in] |
		join(" ")' "$d/a1.json")
	tl_check "$t: none of the first SPIs is left ($s0 -> $s1)" \
		eval '! echo " $s1 " | grep -Eq " ($(echo "$s0" | tr " " "|")) "'
	tl_check "$t: A and B list the same Child SAs" wait_for 10 same_kids
	tl_check "$t: no hard expiry hit" \
		not grep -q "hard lifetime reached\|hard lifetime .* reached" \
		"$d/a.log" "$d/b.log"
	echo "# $t: A: $(grep -c 'rekeying Child SA' "$d/a.log") Child SA" \
		"rekeys started, B: $(grep -c 'rekeying Child SA' "$d/b.log")"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- reauthentication instead of the IKE SA rekey ----
scenario_reauth() {
	local t=reauth d=$TL_TMP/reauth pa pb p1 s0 s1 lt
	mkdir -p "$d"
	pair_topo reauth || { tl_not_ok "$t: topology"; return; }
	lt=("ike_lifetime = 20s" "rekey_margin = 5s" "reauth = yes")
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16 on "${lt[@]}"
	ike_conn "$d/a.conf" net2 192.0.2.10 192.0.2.20 198.51.100.64/26 \
		203.0.113.64/26 aes128gcm16-x25519 on "${lt[@]}"
	lt=("ike_lifetime = 30s" "rekey_margin = 5s" "reauth = yes")
	daemon_hdr "$d/b.conf"
	ike_conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 aes128gcm16 off "${lt[@]}"
	ike_conn "$d/b.conf" net2 192.0.2.20 192.0.2.10 203.0.113.64/26 \
		198.51.100.64/26 aes128gcm16-x25519 off "${lt[@]}"
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: net1 and net2 up" wait_for 10 eval 'up "$A" net1 &&
		up "$A" net2 && up "$B" net1 && up "$B" net2'
	s0=$(js "$A" '[.ike_sas[].spi_i] | join(" ")')
	tl_bg "$A" "$d/ping.txt" ping -q -c 3500 -i 0.01 -W 1 \
		-I 198.51.100.65 203.0.113.65
	p1=$TL_BG_PID
	wait "$p1"
	PINGS=3500 check_ping "$t" "$d/ping.txt" "net2 A -> B"
	tl_check "$t: IKE SA reauthenticated, old one deleted" \
		grep_log "$d/a.log" "IKE SA reauthenticated; deleting the old"
	tl_check "$t: net2 moved to the new IKE SA" \
		grep_log "$d/a.log" "conn net2: moving to the new IKE SA"
	tl_check "$t: B got the old IKE SA's Delete (no close_action)" \
		grep_log "$d/b.log" "the peer deleted the IKE SA"
	# (A later reauthentication may be under way: wait for its end.)
	tl_check "$t: one new IKE SA, both Child SAs on it" wait_for 10 \
		eval '[ "$(js "$A" "[.ike_sas[] | select(.state ==
			\"ESTABLISHED\")] | length")" -eq 1 ] &&
		[ "$(js "$A" "[.ike_sas[] | select(.state ==
			\"ESTABLISHED\") | .child_sas[]] | length")" -eq 2 ]'
	s1=$(js "$A" '[.ike_sas[] | select(.state == "ESTABLISHED") |
		.spi_i] | join(" ")')
	tl_check "$t: its SPI is new ($s0 -> $s1)" \
		test -n "$s1" -a "$s1" != "$s0"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- byte/packet limits (data plane soft/hard lifetime events) ----
scenario_packets() {
	local t=packets d=$TL_TMP/packets pa pb p1
	mkdir -p "$d"
	pair_topo pkts || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16 on "life_packets = 1000"
	daemon_hdr "$d/b.conf"
	ike_conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 aes128gcm16 off "life_packets = 1000"
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: tunnel up" wait_for 10 up "$A" net1
	# 3000 echo requests and replies: the soft limit (900 packets)
	# is crossed three times or more in each direction.
	tl_bg "$A" "$d/ping.txt" ping -q -c 3000 -i 0.01 -W 1 \
		-I 198.51.100.1 203.0.113.1
	p1=$TL_BG_PID
	wait "$p1"
	PINGS=3000 check_ping "$t" "$d/ping.txt" "life_packets = 1000"
	n=$(grep -c "rekeying Child SA.*soft byte/packet limit" \
		"$d/a.log" "$d/b.log" | awk -F: '{ s += $2 } END { print s }')
	echo "# $t: $n rekeys on the packet limit"
	tl_check "$t: rekeyed on the soft packet limit ($n times)" \
		test "$n" -ge 3
	tl_check "$t: no SA reached its hard limit" \
		not grep -q "hard byte/packet limit" "$d/a.log" "$d/b.log"
	tl_check "$t: the SAs in use are young" \
		test "$(js "$A" '[.ike_sas[].child_sas[].packets_out] | max')" \
		-lt 1000
	tl_stop "$pa"
	tl_stop "$pb"
}

# same_kids: A's inbound SPIs are B's outbound ones (uses $A, $B).
same_kids() {
	[ "$(js "$A" '[.ike_sas[].child_sas[].spi_in] | sort | join(" ")')" = \
		"$(js "$B" '[.ike_sas[].child_sas[].spi_out] | sort |
			join(" ")')" ]
}

# ---- ipsecd initiates, strongSwan answers; both rekey ----
scenario_ss() {
	local t=ss d=$TL_TMP/ss pa p1 n
	mkdir -p "$d/ss"
	if ! ss_available; then
		tl_ok "$t: # SKIP strongSwan (charon) not installed"
		return
	fi
	pair_topo ss || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16 on "child_lifetime = 14s" \
		"ike_lifetime = 24s" "rekey_margin = 4s"
	tl_check "$t: strongSwan starts" ss_start "$B" "$d/ss"
	ss_conf "$d/ss" 192.0.2.20 192.0.2.10 203.0.113.0/26 198.51.100.0/26 \
		"$PSK" aes128gcm16-prfsha256-x25519 aes128gcm16 \
		"rekey_time = 11s"$'\n'"life_time = 20s"$'\n'"rand_time = 2s"
	tl_check "$t: strongSwan config loaded" test $? -eq 0
	tl_check "$t: ipsecd starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: tunnel up" wait_for 10 up "$A" net1
	longping "$A" 198.51.100.1 203.0.113.1 "$d/ping.txt"
	p1=$PING_PID
	# ipsecd rekeys the IKE SA every ~18 s; strongSwan once, now.
	sleep 30
	ss_ctl "$d/ss" --rekey --ike gw >"$d/ss/rekey.out" 2>&1
	tl_check "$t: swanctl --rekey --ike accepted" test $? -eq 0
	wait "$p1"
	check_ping "$t" "$d/ping.txt" "ipsecd <-> strongSwan"
	n=$(grep -c "Child SA installed.*rekeyed" "$d/a.log")
	echo "# $t: $n rekeyed Child SAs installed by ipsecd;" \
		"$(grep -c 'rekeying Child SA' "$d/a.log") started by ipsecd"
	tl_check "$t: at least 4 rekeys in 65 s" test "$n" -ge 4
	tl_check "$t: ipsecd started rekeys on its lifetime" \
		grep_log "$d/a.log" "rekeying Child SA 0x.*(soft lifetime"
	tl_check "$t: strongSwan started rekeys (rekey_time)" \
		grep -q "creating rekey job for CHILD_SA" "$d/ss/charon.log"
	tl_check "$t: ipsecd rekeyed the IKE SA (RFC 7296 §2.18)" \
		grep_log "$d/a.log" "IKE SA rekeyed by us (RFC 7296"
	tl_check "$t: strongSwan rekeyed the IKE SA (RFC 7296 §2.18)" \
		grep_log "$d/a.log" "IKE SA rekeyed by the peer (RFC 7296"
	echo "# $t: IKE SA rekeys: $(grep -c 'IKE SA rekeyed by us' \
		"$d/a.log") by ipsecd, $(grep -c 'IKE SA rekeyed by the peer' \
		"$d/a.log") by strongSwan"
	tl_check "$t: strongSwan logged the IKE SA rekeys" \
		grep -q "IKE_SA gw\[[0-9]*\] rekeyed" "$d/ss/charon.log"
	tl_check "$t: one IKE SA in status" \
		test "$(js "$A" '[.ike_sas[] | select(.state == "ESTABLISHED")]
			| length')" -eq 1
	tl_check "$t: one Child SA pair left in status" \
		test "$(js "$A" '[.ike_sas[].child_sas[]] | length')" -le 2
	tl_check "$t: no hard expiry" \
		not grep -q "hard lifetime" "$d/a.log"
	tl_stop "$pa"
}

# ---- strongSwan initiates, ipsecd answers; both rekey everything ----
scenario_ssr() {
	local t=ss-resp d=$TL_TMP/ssr pa p1 n
	mkdir -p "$d/ss"
	if ! ss_available; then
		tl_ok "$t: # SKIP strongSwan (charon) not installed"
		return
	fi
	pair_topo ssr || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16-x25519 off "child_lifetime = 14s" \
		"ike_lifetime = 30s" "rekey_margin = 4s"
	tl_check "$t: ipsecd starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: strongSwan starts" ss_start "$B" "$d/ss"
	cat >"$d/ss/swanctl.conf" <<-CONF
	connections {
	    gw {
	        version = 2
	        local_addrs = 192.0.2.20
	        remote_addrs = 192.0.2.10
	        proposals = aes128gcm16-prfsha256-x25519
	        rekey_time = 22s
	        rand_time = 3s
	        local { auth = psk
	                id = 192.0.2.20 }
	        remote { auth = psk
	                 id = 192.0.2.10 }
	        children {
	            net {
	                mode = tunnel
	                local_ts = 203.0.113.0/26
	                remote_ts = 198.51.100.0/26
	                esp_proposals = aes128gcm16-x25519
	                rekey_time = 11s
	                life_time = 20s
	                rand_time = 2s
	                start_action = start
	            }
	        }
	    }
	}
	secrets {
	    ike-gw {
	        id-l = 192.0.2.20
	        id-r = 192.0.2.10
	        secret = "$PSK"
	    }
	}
	CONF
	SWANCTL_DIR=$d/ss ss_ctl "$d/ss" --load-all --noprompt \
		--file "$d/ss/swanctl.conf" >"$d/ss/load.out" 2>&1
	tl_check "$t: strongSwan config loaded (start_action = start)" \
		test $? -eq 0
	tl_check "$t: tunnel up (ipsecd answered)" wait_for 15 up "$A" net1
	tl_check "$t: strongSwan's end is up too" \
		through "$A" 198.51.100.1 203.0.113.1
	longping "$A" 198.51.100.1 203.0.113.1 "$d/ping.txt"
	p1=$PING_PID
	wait "$p1"
	check_ping "$t" "$d/ping.txt" "strongSwan -> ipsecd (PFS)"
	n=$(grep -c "Child SA installed.*rekeyed" "$d/a.log")
	echo "# $t: $n rekeyed Child SAs installed by ipsecd;" \
		"$(grep -c 'rekeying Child SA' "$d/a.log") started by ipsecd;" \
		"IKE SA rekeys: $(grep -c 'IKE SA rekeyed by us' "$d/a.log")" \
		"by ipsecd, $(grep -c 'IKE SA rekeyed by the peer' "$d/a.log")" \
		"by strongSwan"
	tl_check "$t: Child SA rekeyed at least 4 times" test "$n" -ge 4
	tl_check "$t: strongSwan rekeyed the Child SA" \
		grep -q "creating rekey job for CHILD_SA" "$d/ss/charon.log"
	tl_check "$t: IKE SA rekeyed (RFC 7296 §2.18)" \
		grep_log "$d/a.log" "IKE SA rekeyed by .*(RFC 7296"
	tl_check "$t: one IKE SA, one Child SA pair in status" \
		test "$(js "$A" '[.ike_sas[] | select(.state == "ESTABLISHED")
			| .child_sas[]] | length')" -eq 1
	tl_check "$t: no hard expiry" not grep -q "hard lifetime" "$d/a.log"
	tl_stop "$pa"
}

# ---- DPD, dpd_action = restart, close_action = restart ----
scenario_dpd() {
	local t=dpd d=$TL_TMP/dpd pa pb t0 t1
	mkdir -p "$d"
	pair_topo dpd || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16 on "dpd = 2s" "dpd_timeout = 6s" \
		"dpd_action = restart" "close_action = restart"
	daemon_hdr "$d/b.conf"
	ike_conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 aes128gcm16 off
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: tunnel up" wait_for 10 up "$A" net1
	# Idle tunnel: the liveness checks are answered, nothing breaks.
	sleep 6
	tl_check "$t: idle tunnel stays up with DPD answered" up "$A" net1
	kill -KILL "$pb"
	wait "$pb" 2>/dev/null
	t0=$(date +%s)
	tl_check "$t: DPD notices the dead peer within dpd + dpd_timeout" \
		wait_for 12 grep_log "$d/a.log" "is dead (DPD"
	t1=$(date +%s)
	echo "# $t: noticed after $((t1 - t0)) s (dpd 2 s, dpd_timeout 6 s)"
	tl_check "$t: dpd_action = restart logged" \
		grep_log "$d/a.log" "dpd_action = restart"
	tl_check "$t: A is initiating again" \
		wait_for 5 grep_log "$d/a.log" "conn net1: restarting"
	sleep 3
	tl_check "$t: B starts again" tl_ipsecd "$B" "$d/b.conf" "$d/b2.log"
	pb=$TL_BG_PID
	t0=$(date +%s)
	tl_check "$t: the tunnel comes back" wait_for 40 up "$B" net1
	echo "# $t: back $(($(date +%s) - t0)) s after the peer restarted"
	tl_check "$t: ping A -> B through it" wait_for 5 \
		quiet ip netns exec "$A" ping -q -c 1 -W 1 -I 198.51.100.1 \
		203.0.113.1
	ctl "$B" down net1 >/dev/null 2>&1
	tl_check "$t: the peer deleted it: close_action = restart" \
		wait_for 5 grep_log "$d/a.log" "close_action = restart"
	tl_check "$t: ... and it is back up" wait_for 15 up "$B" net1
	# A restarts without a Delete: its new IKE SA brings INITIAL_CONTACT
	# (RFC 7296 §2.4) and B drops the stale one at once.
	kill -KILL "$pa"
	wait "$pa" 2>/dev/null
	tl_check "$t: A starts again" tl_ipsecd "$A" "$d/a.conf" "$d/a2.log"
	pa=$TL_BG_PID
	tl_check "$t: B: INITIAL_CONTACT removes the stale IKE SA" \
		wait_for 10 grep_log "$d/b2.log" "INITIAL_CONTACT from"
	tl_check "$t: B: one IKE SA left, with one Child SA" \
		test "$(js "$B" '[.ike_sas[] | select(.state == "ESTABLISHED")
			| .child_sas[]] | length')" -eq 1
	tl_check "$t: ping A -> B after A's restart" wait_for 5 \
		quiet ip netns exec "$A" ping -q -c 1 -W 1 -I 198.51.100.1 \
		203.0.113.1
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- start = on while the peer is not there yet ----
scenario_boot() {
	local t=boot d=$TL_TMP/boot pa pb t0
	mkdir -p "$d"
	pair_topo boot || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16 on
	daemon_hdr "$d/b.conf"
	ike_conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 aes128gcm16 off
	tl_check "$t: A starts, B is not running" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	# IKE_SA_INIT is retransmitted for ~31 s, then A gives up and
	# arms the next try (30 s later).
	tl_check "$t: A gives up on the absent peer" \
		wait_for 45 grep_log "$d/a.log" "giving up"
	tl_check "$t: ... and will try again (start = on)" \
		grep_log "$d/a.log" "start = on: trying again"
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	t0=$(date +%s)
	tl_check "$t: the tunnel comes up without anyone acting" \
		wait_for 45 up "$B" net1
	echo "# $t: up $(($(date +%s) - t0)) s after the peer started"
	tl_check "$t: ping A -> B through it" wait_for 5 \
		quiet ip netns exec "$A" ping -q -c 1 -W 1 -I 198.51.100.1 \
		203.0.113.1
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- 20 % random loss on a router in the middle ----
scenario_loss() {
	local t=loss d=$TL_TMP/loss pa pb pp n
	mkdir -p "$d"
	loss_topo loss || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	ike_conn "$d/a.conf" net1 192.0.2.10 192.0.2.140 198.51.100.0/26 \
		203.0.113.0/26 aes128gcm16-x25519 on "child_lifetime = 15s" \
		"rekey_margin = 5s"
	daemon_hdr "$d/b.conf"
	ike_conn "$d/b.conf" net1 192.0.2.140 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 aes128gcm16-x25519 off "child_lifetime = 15s" \
		"rekey_margin = 5s"
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: tunnel up despite 20 % loss" wait_for 40 up "$A" net1
	# Traffic through the lossy router meanwhile (about 36 % of the
	# echo round trips are lost there, not by the tunnel).
	tl_bg "$A" "$d/ping.txt" ping -q -c 250 -i 0.1 -W 1 -I 198.51.100.1 \
		203.0.113.1
	pp=$TL_BG_PID
	tl_check "$t: Child SA rekeyed (PFS) despite 20 % loss" \
		wait_for 45 eval '[ "$(js "$A" "[.ike_sas[].child_sas[].rekeys] |
			max // 0")" -ge 2 ]'
	tl_check "$t: tunnel still up, ping passes" wait_for 10 \
		quiet ip netns exec "$A" ping -q -c 1 -W 1 -I 198.51.100.1 \
		203.0.113.1
	wait "$pp"
	echo "# $t: $(lost "$d/ping.txt") of" \
		"$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' \
		"$d/ping.txt") pings lost on the way (20 % each direction)"
	n=$(loss_dropped)
	echo "# $t: the router dropped ${n:-?} packets;" \
		"$(grep -c 'rekeying Child SA' "$d/a.log") rekeys by A," \
		"$(grep -c 'rekeying Child SA' "$d/b.log") by B"
	tl_check "$t: the router dropped packets" test "${n:-0}" -gt 0
	tl_stop "$pa"
	tl_stop "$pb"
}

# shellcheck disable=SC2086 # a list of names
run_scenarios ${LIFE_ONLY:-pair reauth ss ssr dpd boot loss packets}
tl_summary
