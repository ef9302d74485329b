#!/bin/bash
# test_ike_child.sh - CREATE_CHILD_SA and INFORMATIONAL (docs/ike.md):
# two connections to the same peer share one IKE SA, rekeying with
# ipsecctl rekey (and by strongSwan) while ping -i 0.05 runs, Child SA
# Deletes in both directions.  net1 has no PFS, net2 uses x25519 (PFS).
#   pair:    two ipsecd; A initiates both connections (start = on).
#   ss-init: ipsecd initiates, strongSwan (charon, kernel-libipsec) answers.
#   ss-resp: strongSwan initiates both children, ipsecd answers.
# Topology: A veth 192.0.2.10, lo 198.51.100.1 (net1) and .65 (net2);
#           B veth 192.0.2.20, lo 203.0.113.1 (net1) and .65 (net2).
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries (default build/).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"

A1=198.51.100.1
A2=198.51.100.65
B1=203.0.113.1
B2=203.0.113.65
A_NET1=198.51.100.0/26
A_NET2=198.51.100.64/26
B_NET1=203.0.113.0/26
B_NET2=203.0.113.64/26
PSK="ike-child-test-psk-0123456789abcdef"
ESP1=aes128gcm16
ESP2=aes128gcm16-x25519

topo() {
	ike_topo "$1" &&
		ip -n "$A" addr add "$A1/32" dev lo &&
		ip -n "$A" addr add "$A2/32" dev lo &&
		ip -n "$B" addr add "$B1/32" dev lo &&
		ip -n "$B" addr add "$B2/32" dev lo
}

# conf FILE LOCAL REMOTE LNET1 RNET1 LNET2 RNET2 START: two [conn]s.
conf() {
	cat >"$1" <<-EOF
	[daemon]
	tun = ipsec0

	[conn net1]
	local = $2
	remote = $3
	psk = $PSK
	local_ts = $4
	remote_ts = $5
	ike = aes128gcm16-prfsha256-x25519
	esp = $ESP1
	start = $8

	[conn net2]
	local = $2
	remote = $3
	psk = $PSK
	local_ts = $6
	remote_ts = $7
	ike = aes128gcm16-prfsha256-x25519
	esp = $ESP2
	start = $8
	EOF
}


# status NS FILE: JSON status into FILE.
status() {
	ctl "$1" status --json >"$2" 2>&1
}

# count FILE KEY: how often "KEY" appears.
count() {
	grep -c "\"$2\"" "$1"
}

# wait_children NS N: the status lists N Child SAs (polls 10 s).
wait_children() {
	local i f=$TL_TMP/wc.$$.json
	for i in $(seq 1 50); do
		status "$1" "$f"
		[ "$(count "$f" spi_in)" -eq "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

# spis FILE NAME: "in/out" SPIs of Child SA NAME in a status file.
spis() {
	awk -v n="$2" '
		/"child_sas"/ { inchild = 1 }
		inchild && /"name":/ { cur = $0; sub(/.*"name": *"/, "", cur);
			sub(/".*/, "", cur) }
		inchild && cur == n && /"spi_in"/ { s = $0;
			sub(/.*"spi_in": *"/, "", s); sub(/".*/, "", s); si = s }
		inchild && cur == n && /"spi_out"/ { s = $0;
			sub(/.*"spi_out": *"/, "", s); sub(/".*/, "", s);
			print si "/" s }' "$1"
}

# bgping NS SRC DST FILE: 100 pings 50 ms apart (5 s), in the background.
bgping() {
	tl_bg "$1" "$4" ping -q -c 100 -i 0.05 -W 1 -I "$2" "$3"
	PING_PID=$TL_BG_PID
}

# rekey_under_ping T NS CMD...: rekey with CMD while pinging net1 A->B;
# checks that no ping is lost.
rekey_under_ping() {
	local t=$1 d=$2 name=$3 n
	shift 3
	bgping "$A" "$A1" "$B1" "$d/ping-$name.txt"
	sleep 1
	"$@" >"$d/rekey-$name.out" 2>&1
	tl_check "$t: $name accepted" test $? -eq 0
	wait "$PING_PID"
	n=$(lost "$d/ping-$name.txt")
	echo "# $t: $name: $n of 100 pings lost"
	tl_check "$t: $name while ping -i 0.05 runs: $n pings lost" \
		test "$n" -eq 0
}

# ---- ipsecd <-> ipsecd ----
scenario_pair() {
	local t=pair d=$TL_TMP/pair pa pb old1 old2 new1 new2 spi_i n
	mkdir -p "$d"
	topo pair || { tl_not_ok "$t: topology"; return; }
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET1" "$B_NET1" "$A_NET2" \
		"$B_NET2" on
	conf "$d/b.conf" "$B_OUT" "$A_OUT" "$B_NET1" "$A_NET1" "$B_NET2" \
		"$A_NET2" off
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts (both connections start = on)" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: A has two Child SAs" wait_children "$A" 2
	tl_check "$t: B has two Child SAs" wait_children "$B" 2
	status "$A" "$d/a1.json"
	status "$B" "$d/b1.json"
	tl_check "$t: A: one IKE SA carries both" \
		test "$(count "$d/a1.json" spi_i)" -eq 1
	tl_check "$t: B: one IKE SA carries both" \
		test "$(count "$d/b1.json" spi_i)" -eq 1
	tl_check "$t: the second one came with CREATE_CHILD_SA" \
		grep -q 'conn net2: creating a Child SA over the IKE SA of conn net1' \
		"$d/a.log"
	tl_check "$t: ping net1 A -> B" nsping "$A" "$A1" "$B1" "$d/p1.txt"
	tl_check "$t: ping net2 A -> B" nsping "$A" "$A2" "$B2" "$d/p2.txt"
	tl_check "$t: ping net2 B -> A" nsping "$B" "$B2" "$A2" "$d/p3.txt"
	spi_i=$(sed -n 's/.*"spi_i": *"\([^"]*\)".*/\1/p' "$d/a1.json")
	old1=$(spis "$d/a1.json" net1)
	old2=$(spis "$d/a1.json" net2)

	# Rekey net1 (no PFS) from A, net2 (PFS) from B, under traffic.
	rekey_under_ping "$t" "$d" "rekey net1 by A" ctl "$A" rekey net1
	tl_check "$t: A's log: net1's old Child SA removed" \
		wait_grep "$d/a.log" "conn net1: Child SA removed (in ${old1%/*}" 50
	bgping "$B" "$B2" "$A2" "$d/ping-net2.txt"
	sleep 1
	tl_check "$t: rekey net2 by B (PFS) accepted" ctl "$B" rekey net2 \
		>"$d/rekey2.out"
	wait "$PING_PID"
	n=$(lost "$d/ping-net2.txt")
	echo "# $t: rekey net2 by B: $n of 100 pings lost"
	tl_check "$t: rekey net2 by B while ping -i 0.05 runs: $n pings lost" \
		test "$n" -eq 0
	tl_check "$t: B's log: the PFS rekey used x25519" \
		grep -q 'PFS x25519) (rekeyed)' "$d/b.log"
	sleep 0.5
	status "$A" "$d/a2.json"
	new1=$(spis "$d/a2.json" net1)
	new2=$(spis "$d/a2.json" net2)
	echo "# $t: net1 $old1 -> $new1, net2 $old2 -> $new2"
	tl_check "$t: status: still two Child SAs in one IKE SA" \
		test "$(count "$d/a2.json" spi_in)" -eq 2 -a \
		"$(count "$d/a2.json" spi_i)" -eq 1
	tl_check "$t: status: net1 has new SPIs both ways" \
		test -n "$new1" -a "${new1%/*}" != "${old1%/*}" -a \
		"${new1#*/}" != "${old1#*/}"
	tl_check "$t: status: net2 has new SPIs both ways" \
		test -n "$new2" -a "${new2%/*}" != "${old2%/*}" -a \
		"${new2#*/}" != "${old2#*/}"
	tl_check "$t: status: the IKE SA is the same" \
		grep -q "\"spi_i\": *\"$spi_i\"" "$d/a2.json"
	tl_check "$t: old SPIs are gone from A's status" \
		not grep -q "\"${old1%/*}\"\\|\"${old2%/*}\"" "$d/a2.json"

	# Both ends rekey net1 at once (RFC 7296 §2.8.1): whether the two
	# requests cross or not, one new pair must remain.
	ctl "$A" rekey net1 >"$d/coll-a.out" 2>&1 &
	n=$!
	ctl "$B" rekey net1 >"$d/coll-b.out" 2>&1
	wait "$n"
	sleep 0.5
	if grep -q 'simultaneous rekey' "$d/a.log" "$d/b.log"; then
		echo "# $t: the two rekeys collided (resolved by the nonces)"
	else
		echo "# $t: the two rekeys did not collide this time"
	fi
	tl_check "$t: after rekeying on both ends at once: two Child SAs on A" \
		wait_children "$A" 2
	tl_check "$t: ... and two on B" wait_children "$B" 2
	tl_check "$t: ping net1 A -> B after it" \
		nsping "$A" "$A1" "$B1" "$d/p-coll1.txt"
	tl_check "$t: ping net1 B -> A after it" \
		nsping "$B" "$B1" "$A1" "$d/p-coll2.txt"

	# Child SA Delete from A: only net2 goes, the IKE SA stays.
	tl_check "$t: ipsecctl down net2 on A" ctl "$A" down net2 \
		>"$d/down2.out"
	tl_check "$t: down net2 deletes only the Child SA" \
		grep -q 'Child SA' "$d/down2.out"
	tl_check "$t: A has one Child SA left" wait_children "$A" 1
	tl_check "$t: B has one Child SA left" wait_children "$B" 1
	tl_check "$t: B's log: the peer deleted net2's Child SA" \
		grep -q 'conn net2: Child SA removed' "$d/b.log"
	tl_check "$t: net1 still carries traffic" \
		nsping "$A" "$A1" "$B1" "$d/p4.txt"
	tl_check "$t: no ping over net2 after its Delete" \
		not nsping "$A" "$A2" "$B2" "$d/p5.txt"
	# Up again: CREATE_CHILD_SA over the same IKE SA.
	tl_check "$t: ipsecctl up net2 on A" ctl "$A" up net2 >"$d/up2.out"
	tl_check "$t: A has two Child SAs again" wait_children "$A" 2
	status "$A" "$d/a3.json"
	tl_check "$t: ... over the same IKE SA" \
		grep -q "\"spi_i\": *\"$spi_i\"" "$d/a3.json"
	tl_check "$t: ping net2 A -> B again" nsping "$A" "$A2" "$B2" "$d/p6.txt"
	# Child SA Delete from B (the IKE SA's responder).
	tl_check "$t: ipsecctl down net1 on B" ctl "$B" down net1 \
		>"$d/down1.out"
	tl_check "$t: A has one Child SA after B's Delete" wait_children "$A" 1
	tl_check "$t: A's log: net1's Child SA removed" \
		grep -q "conn net1: Child SA removed" "$d/a.log"
	tl_check "$t: net2 still carries traffic" \
		nsping "$A" "$A2" "$B2" "$d/p7.txt"
	tl_check "$t: A and B are still running" \
		kill -0 "$pa" "$pb"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ss_conf2 DIR LOCAL REMOTE: charon with connection gw, children net1
# and net2 (net2 with PFS), IDs the addresses.
ss_conf2() {
	cat >"$1/swanctl.conf" <<-CONF
	connections {
	    gw {
	        version = 2
	        local_addrs = $2
	        remote_addrs = $3
	        proposals = aes128gcm16-prfsha256-x25519
	        local { auth = psk
	                id = $2 }
	        remote { auth = psk
	                 id = $3 }
	        children {
	            net1 {
	                local_ts = $B_NET1
	                remote_ts = $A_NET1
	                esp_proposals = $ESP1
	            }
	            net2 {
	                local_ts = $B_NET2
	                remote_ts = $A_NET2
	                esp_proposals = $ESP2
	            }
	        }
	    }
	}
	secrets {
	    ike-gw {
	        id-l = $2
	        id-r = $3
	        secret = "$PSK"
	    }
	}
	CONF
	SWANCTL_DIR=$1 ss_ctl "$1" --load-all --noprompt \
		--file "$1/swanctl.conf" >"$1/load.out" 2>&1
}

# ss_children DIR: number of INSTALLED CHILD_SAs charon lists.
ss_children() {
	ss_ctl "$1" --list-sas 2>/dev/null | grep -c 'INSTALLED'
}

wait_ss_children() {
	local i
	for i in $(seq 1 50); do
		[ "$(ss_children "$1")" -eq "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

# ---- ipsecd <-> strongSwan ----
scenario_ss() {
	local role=$1 t=ss-$1 d=$TL_TMP/ss-$1 pa start=off old1 new1 n
	mkdir -p "$d/ss"
	topo "ss$role" || { tl_not_ok "$t: topology"; return; }
	[ "$role" = init ] && start=on
	tl_check "$t: charon starts in B" ss_start "$B" "$d/ss"
	tl_check "$t: charon loads gw with children net1, net2" \
		ss_conf2 "$d/ss" "$B_OUT" "$A_OUT"
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET1" "$B_NET1" "$A_NET2" \
		"$B_NET2" $start
	tl_check "$t: ipsecd starts in A (start = $start)" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	if [ "$role" = resp ]; then
		tl_check "$t: charon initiates net1" \
			ss_ctl "$d/ss" --initiate --child net1 --timeout 15 \
			>"$d/init1.out" 2>&1
		tl_check "$t: charon initiates net2 (CREATE_CHILD_SA)" \
			ss_ctl "$d/ss" --initiate --child net2 --timeout 15 \
			>"$d/init2.out" 2>&1
	fi
	tl_check "$t: ipsecd has two Child SAs" wait_children "$A" 2
	tl_check "$t: charon has two Child SAs" wait_ss_children "$d/ss" 2
	status "$A" "$d/a1.json"
	tl_check "$t: one IKE SA carries both" \
		test "$(count "$d/a1.json" spi_i)" -eq 1
	tl_check "$t: charon has one IKE SA" \
		test "$(ss_ctl "$d/ss" --list-sas | grep -c 'gw: #')" -eq 1
	tl_check "$t: ping net1 A -> B" nsping "$A" "$A1" "$B1" "$d/p1.txt"
	tl_check "$t: ping net2 B -> A" nsping "$B" "$B2" "$A2" "$d/p2.txt"
	old1=$(spis "$d/a1.json" net1)
	rekey_under_ping "$t" "$d" "rekey net1 by ipsecd" \
		ctl "$A" rekey net1
	rekey_under_ping "$t" "$d" "rekey net1 by charon" \
		ss_ctl "$d/ss" --rekey --child net1
	bgping "$A" "$A2" "$B2" "$d/ping-net2.txt"
	sleep 1
	tl_check "$t: charon rekeys net2 (PFS)" \
		ss_ctl "$d/ss" --rekey --child net2 >"$d/rk2.out" 2>&1
	sleep 1
	tl_check "$t: ipsecd rekeys net2 (PFS)" ctl "$A" rekey net2 \
		>"$d/rk3.out"
	wait "$PING_PID"
	n=$(lost "$d/ping-net2.txt")
	echo "# $t: two PFS rekeys of net2: $n of 100 pings lost"
	tl_check "$t: two PFS rekeys of net2 under ping: $n pings lost" \
		test "$n" -eq 0
	tl_check "$t: ipsecd's log: PFS x25519 rekeys" \
		test "$(grep -c 'PFS x25519) (rekeyed)' "$d/a.log")" -ge 2
	sleep 0.5
	status "$A" "$d/a2.json"
	new1=$(spis "$d/a2.json" net1)
	echo "# $t: net1 $old1 -> $new1"
	tl_check "$t: status: net1 has new SPIs, two Child SAs" \
		test -n "$new1" -a "${new1%/*}" != "${old1%/*}" -a \
		"$(count "$d/a2.json" spi_in)" -eq 2
	tl_check "$t: charon still has two Child SAs (old ones deleted)" \
		wait_ss_children "$d/ss" 2
	n=${new1%/*}
	ss_ctl "$d/ss" --list-sas >"$d/ss-sas.txt" 2>&1
	tl_check "$t: charon lists ipsecd's new net1 inbound SPI" \
		grep -q "out *${n#0x}" "$d/ss-sas.txt"
	tl_check "$t: ping net1 after the rekeys" \
		nsping "$A" "$A1" "$B1" "$d/p3.txt"
	# Child SA Deletes both ways.
	tl_check "$t: ipsecctl down net2" ctl "$A" down net2 >"$d/down.out"
	tl_check "$t: charon drops net2's Child SA" wait_ss_children "$d/ss" 1
	tl_check "$t: ipsecd has one Child SA" wait_children "$A" 1
	ss_ctl "$d/ss" --terminate --child net1 --timeout 10 \
		>"$d/term.out" 2>&1
	tl_check "$t: charon's Child SA Delete removes net1 in ipsecd" \
		wait_children "$A" 0
	status "$A" "$d/a3.json"
	tl_check "$t: the IKE SA stays ESTABLISHED" \
		grep -q '"state": *"ESTABLISHED"' "$d/a3.json"
	tl_check "$t: no ping over net1 after its Delete" \
		not nsping "$A" "$A1" "$B1" "$d/p4.txt"
	tl_stop "$pa"
}

scenario_pair
if ss_available; then
	scenario_ss init
	scenario_ss resp
else
	echo "# strongSwan (charon, swanctl) missing: interop skipped"
fi

tl_summary
