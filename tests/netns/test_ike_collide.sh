#!/bin/bash
# test_ike_collide.sh - simultaneous rekeying (RFC 7296 §2.8.1, §2.8.2)
# and close_action on a peer's Child SA Delete (§1.4.1), while ping -i
# 0.01 runs through the tunnel.  Scenarios in parallel, each in its own
# namespaces (names with "cl-"):
#   pair:  two ipsecd; "ipsecctl rekey net1" on both at the same instant,
#          3 rounds, then "rekey --ike" on both, 3 rounds.  Afterwards
#          one Child SA and one IKE SA on each side, new SPIs, the same
#          on both sides, no ping lost; at least one real collision
#          (each daemon logs one line per collision, saying who won).
#   ss:    ipsecd initiates, strongSwan answers: "ipsecctl rekey" and
#          "swanctl --rekey --child" at once, then --ike on both.
#   ssr:   the same with strongSwan as the original initiator.
#   close: net1 and net2 share an IKE SA; the peer's "ipsecctl down
#          net2" deletes net2's only Child SA: close_action = restart
#          brings it back; our own "down net1" does not.
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries; COLLIDE_ONLY = "pair" runs
# only those scenarios.
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"

PSK="ike-collide-test-psk-0123456789ab"
ROUNDS=3

# conn FILE NAME LOCAL REMOTE LTS RTS START EXTRA...: ike_conn, ESP
# aes128gcm16.
conn() { ike_conn "$1" "$2" "$3" "$4" "$5" "$6" aes128gcm16 "${@:7}"; }

# kids NS NAME: "in/out" SPI pairs of NAME's Child SAs (established).
kids() {
	js "$1" "[.ike_sas[] | select(.state == \"ESTABLISHED\") |
		.child_sas[] | select(.name == \"$2\") |
		.spi_in + \"/\" + .spi_out] | sort | join(\" \")"
}

# ikes NS: SPIi:SPIr of the established IKE SAs.
ikes() {
	js "$1" '[.ike_sas[] | select(.state == "ESTABLISHED") |
		.spi_i + ":" + .spi_r] | sort | join(" ")'
}

# one_pair NAME: one Child SA on each of A and B, A's in = B's out.
one_pair() {
	local a b
	a=$(kids "$A" "$1")
	b=$(kids "$B" "$1")
	[ -n "$a" ] && [ "${a#* }" = "$a" ] && [ -n "$b" ] &&
		[ "${a%/*}" = "${b#*/}" ] && [ "${a#*/}" = "${b%/*}" ]
}

# one_ike: one IKE SA each side, the same SPIs.
one_ike() {
	local a
	a=$(ikes "$A")
	[ -n "$a" ] && [ "${a#* }" = "$a" ] && [ "$a" = "$(ikes "$B")" ]
}

# startping NS SRC DST FILE: ping -i 0.01 until stopped (PING_PID); each
# reply is printed, to find the lost ones by sequence number.
startping() {
	tl_bg "$1" "$4" ping -n -i 0.01 -W 1 -I "$2" "$3"
	PING_PID=$TL_BG_PID
}

# stopping T PID FILE: SIGINT, then none lost: every sequence number up
# to the last answered one has its reply (what was still on the way
# when ping was stopped, at most 2, is not a loss).
stopping() {
	local tx got last n
	kill -INT "$2" 2>/dev/null
	wait "$2" 2>/dev/null
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$3")
	got=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$3" | sort -un |
		wc -l)
	last=$(sed -n 's/.*icmp_seq=\([0-9]*\) .*/\1/p' "$3" | sort -n |
		tail -n1)
	n=$((${last:-0} - got))
	echo "# $1: $n of ${last:-0} pings lost (${tx:-0} sent, the last" \
		"$((${tx:-0} - ${last:-0})) on the way when stopped)"
	tl_check "$1: ${last:-0} pings through the tunnel, $n lost" \
		test "${last:-0}" -ge 500 -a "$n" -eq 0 -a \
		"$((${tx:-0} - ${last:-0}))" -le 2
}

# ncoll FILE: collision lines (Child SA and IKE SA) in a daemon log.
ncoll() {
	grep -c "simultaneous rekey (RFC 7296 §2.8.1)\|IKE SA rekey collision" \
		"$1" 2>/dev/null
}

# at_once PID1 PID2 "CMD1" "CMD2": the two daemons are stopped while
# each gets its command, then continued together: both act at the same
# instant, so their requests cross on the wire (a real collision, not
# one end answering before it acts).  Without this, the round trip in a
# namespace is shorter than the jitter of starting two processes.
at_once() {
	local q1 q2
	kill -STOP "$1" "$2"
	eval "$3" &
	q1=$!
	eval "$4" &
	q2=$!
	sleep 0.3
	kill -CONT "$1" "$2"
	wait "$q1" "$q2"
}

# crossed "CMD1" "CMD2": IKE between A and B (UDP 500, and 4500 with
# the non-ESP marker; ESP passes) is dropped while both ipsecd get their
# command, so each has its request out; then both daemons are stopped a
# little longer than their 1 s retransmission timer (RFC 7296 §2.1) and
# continued together: both retransmit at once and the requests cross on
# the wire, a real collision on both sides.  (In a namespace the round
# trip is far shorter than the jitter of starting two commands.)
crossed() {
	local q1 q2 ns
	for ns in "$A" "$B"; do
		ip netns exec "$ns" nft -f - <<-NFT
		table inet cl_collide {
		    chain out {
		        type filter hook output priority 0; policy accept;
		        udp dport 500 drop
		        udp dport 4500 @th,64,32 0 drop
		    }
		}
		NFT
	done
	eval "$1" &
	q1=$!
	eval "$2" &
	q2=$!
	wait "$q1" "$q2"
	kill -STOP "$pa" "$pb"
	for ns in "$A" "$B"; do
		ip netns exec "$ns" nft delete table inet cl_collide
	done
	sleep 1.3
	kill -CONT "$pa" "$pb"
}

# drops T NS: kernel drop counters in NS (socket buffers, TUN queue),
# to tell a test artefact from a loss in the tunnel.
drops() {
	echo "# $1: drops in ${2##*-}: $(ip netns exec "$2" nstat -az \
		2>/dev/null | awk '/RcvbufErrors|InErrors|InDiscards/ &&
		$2 > 0 { printf "%s=%s ", $1, $2 }')tun $(ip -n "$2" -s \
		link show ipsec0 2>/dev/null | awk '/TX:/ { getline;
		print "tx_dropped=" $4 }')"
}

# ---- two ipsecd ----
scenario_pair() {
	local t=pair d=$TL_TMP/pair pa pb p i k0 k1 s0 s1 n
	mkdir -p "$d"
	pair_topo cl-pair || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 on
	daemon_hdr "$d/b.conf"
	conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 off
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: tunnel up" wait_for 10 eval 'up "$A" net1 && up "$B" net1'
	startping "$A" 198.51.100.1 203.0.113.1 "$d/ping.txt"
	p=$PING_PID
	sleep 1
	for i in $(seq 1 "$ROUNDS"); do
		k0=$(kids "$A" net1)
		crossed 'ctl "$A" rekey net1 >>"$d/rk.out" 2>&1' \
			'ctl "$B" rekey net1 >>"$d/rk.out" 2>&1'
		sleep 1.5
		tl_check "$t: child round $i: one Child SA each side, same SPIs" \
			wait_for 8 one_pair net1
		k1=$(kids "$A" net1)
		tl_check "$t: child round $i: new SPIs ($k0 -> $k1)" \
			test -n "$k1" -a "${k1%/*}" != "${k0%/*}" -a \
			"${k1#*/}" != "${k0#*/}"
	done
	for i in $(seq 1 "$ROUNDS"); do
		s0=$(ikes "$A")
		crossed 'ctl "$A" rekey --ike net1 >>"$d/rk.out" 2>&1' \
			'ctl "$B" rekey net1 --ike >>"$d/rk.out" 2>&1'
		sleep 1.5
		tl_check "$t: IKE round $i: one IKE SA each side, same SPIs" \
			wait_for 8 one_ike
		s1=$(ikes "$A")
		tl_check "$t: IKE round $i: new SPIs ($s0 -> $s1)" \
			test -n "$s1" -a "$s1" != "$s0"
		tl_check "$t: IKE round $i: the Child SA moved along" \
			wait_for 4 one_pair net1
	done
	sleep 1
	stopping "$t" "$p" "$d/ping.txt"
	drops "$t" "$A"
	drops "$t" "$B"
	tl_check "$t: Child SAs still carry traffic" \
		quiet ip netns exec "$A" ping -q -c 3 -i 0.2 -W 1 \
		-I 198.51.100.1 203.0.113.1
	n=$(ncoll "$d/a.log")
	echo "# $t: real collisions: $n ($(grep -c 'Child SA .* is redundant' \
		"$d/a.log") Child SA, $(grep -c 'IKE SA rekey collision' \
		"$d/a.log") IKE SA; A won $(grep -c \
		'we won\|the peer.s, it deletes it' "$d/a.log"))"
	tl_check "$t: at least one real collision ($n)" test "${n:-0}" -ge 1
	tl_check "$t: B logged the same number of collisions" \
		test "$(ncoll "$d/b.log")" = "$n"
	tl_check "$t: no TEMPORARY_FAILURE for the IKE SA rekeys" \
		not grep -q "IKE SA rekey while busy" "$d/a.log" "$d/b.log"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ss_counts DIR: "IKE_SAs CHILD_SAs" in swanctl --list-sas (IKE SAs
# ESTABLISHED; a REKEYED one is charon's old or redundant SA on its way
# out, counted apart by ss_rekeyed).  A DELETED Child SA is not counted:
# charon keeps the inbound half of a replaced or redundant SA 5 s
# (charon.delete_rekeyed_delay) for packets still on the way, as ipsecd
# does; ss_gone checks that they go.
ss_counts() {
	ss_ctl "$1" --list-sas >"$1/sas.txt" 2>&1
	echo "$(grep -c '^gw: #[0-9]*, ESTABLISHED' "$1/sas.txt")" \
		"$(grep '^  net: ' "$1/sas.txt" | grep -vc ', DELETED,')"
}

# ss_gone DIR: charon lists one Child SA in all, of any state.
ss_gone() {
	ss_ctl "$1" --list-sas >"$1/sas.txt" 2>&1
	[ "$(grep -c '^  net: ' "$1/sas.txt")" = 1 ]
}
ss_rekeyed() { grep -c '^gw: #[0-9]*, REKEYED' "$1/sas.txt"; }

# single LIST: exactly one word.
single() { [ -n "$1" ] && [ "${1#* }" = "$1" ]; }

# ss_check MSG DIR: one IKE SA and one Child SA at both ends within
# 20 s (a message lost or refused costs charon a 4 s retransmission,
# two cost 11 s).  Prints how long it took; on failure, every state
# seen, with the time since the check started, and the last lines each
# end logged.
ss_check() {
	local t0 now i c ik k
	t0=$(date +%s%N)
	echo "== $1" >>"$2/polls.txt"
	: >"$2/poll.txt"
	for i in $(seq 1 40); do
		c=$(ss_counts "$2/ss")
		ik=$(ikes "$A")
		k=$(kids "$A" net1)
		now=$((($(date +%s%N) - t0) / 1000000))
		echo "$now ms: strongSwan (IKE, Child SAs) $c; ipsecd IKE" \
			"$ik, Child $k" >>"$2/poll.txt"
		tail -n 1 "$2/poll.txt" >>"$2/polls.txt"
		[ "$c" = "1 1" ] && single "$ik" && single "$k" && break
		[ "$now" -ge 20000 ] && break
		sleep 0.5
	done
	if [ "$c" = "1 1" ] && single "$ik" && single "$k"; then
		tl_ok "$1"
		echo "# $1: after $now ms"
		return
	fi
	tl_not_ok "$1"
	uniq -f 2 "$2/poll.txt" | sed 's/^/#   /'
	echo "# ipsecd's last lines:"
	tail -n 12 "$2/a.log" | sed 's/^/#   /'
	echo "# charon's last lines:"
	grep '\[IKE\]\|\[ENC\]' "$2/ss/charon.log" | tail -n 20 |
		sed 's/^/#   /'
}

# ss_scenario T DIR WHO: WHO = ipsecd or strongswan starts the tunnel.
ss_scenario() {
	local t=$1 d=$2 who=$3 pa ps p i start=on sstart=none s0 s1
	mkdir -p "$d/ss"
	if ! ss_available; then
		tl_ok "$t: # SKIP strongSwan (charon) not installed"
		return
	fi
	pair_topo "cl-$t" || { tl_not_ok "$t: topology"; return; }
	if [ "$who" = strongswan ]; then
		start=off
		sstart=start
	fi
	daemon_hdr "$d/a.conf"
	conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 "$start"
	tl_check "$t: strongSwan starts" ss_start "$B" "$d/ss"
	ps=$TL_BG_PID
	tl_check "$t: ipsecd starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	ss_conf "$d/ss" 192.0.2.20 192.0.2.10 203.0.113.0/26 198.51.100.0/26 \
		"$PSK" aes128gcm16-prfsha256-x25519 aes128gcm16 \
		"start_action = $sstart"
	tl_check "$t: strongSwan config loaded" test $? -eq 0
	tl_check "$t: tunnel up ($who initiated)" wait_for 15 up "$A" net1
	tl_check "$t: both ends carry traffic" \
		through "$A" 198.51.100.1 203.0.113.1
	startping "$A" 198.51.100.1 203.0.113.1 "$d/ping.txt"
	p=$PING_PID
	sleep 1
	for i in $(seq 1 "$ROUNDS"); do
		at_once "$pa" "$ps" 'ctl "$A" rekey net1 >>"$d/rk.out" 2>&1' \
			'ss_ctl "$d/ss" --rekey --child net >>"$d/ss/rk.out" 2>&1'
		sleep 1
		ss_check "$t: child round $i: one Child SA, one IKE SA at both ends" "$d"
	done
	for i in $(seq 1 "$ROUNDS"); do
		s0=$(ikes "$A")
		at_once "$pa" "$ps" \
			'ctl "$A" rekey --ike net1 >>"$d/rk.out" 2>&1' \
			'ss_ctl "$d/ss" --rekey --ike gw >>"$d/ss/rk.out" 2>&1'
		sleep 1
		ss_check "$t: IKE round $i: one IKE SA, one Child SA at both ends" "$d"
		s1=$(ikes "$A")
		tl_check "$t: IKE round $i: new IKE SA ($s0 -> $s1)" \
			test -n "$s1" -a "$s1" != "$s0"
	done
	tl_check "$t: charon's replaced Child SAs are gone (delete_rekeyed_delay)" \
		wait_for 15 ss_gone "$d/ss"
	s1=${s1%%:*}
	tl_check "$t: strongSwan lists ipsecd's IKE SPI (${s1#0x})" \
		grep -qi "${s1#0x}" "$d/ss/sas.txt"
	sleep 1
	stopping "$t" "$p" "$d/ping.txt"
	echo "# $t: real collisions logged by ipsecd: $(ncoll "$d/a.log");" \
		"REKEYED IKE SAs left in charon: $(ss_rekeyed "$d/ss")"
	tl_stop "$pa"
}

scenario_ss() { ss_scenario ss "$TL_TMP/ss" ipsecd; }
scenario_ssr() { ss_scenario ssr "$TL_TMP/ssr" strongswan; }

# ---- close_action on the peer's Delete of the last Child SA ----
scenario_close() {
	local t=close d=$TL_TMP/close pa pb
	mkdir -p "$d"
	pair_topo cl-close || { tl_not_ok "$t: topology"; return; }
	daemon_hdr "$d/a.conf"
	conn "$d/a.conf" net1 192.0.2.10 192.0.2.20 198.51.100.0/26 \
		203.0.113.0/26 on "close_action = restart"
	conn "$d/a.conf" net2 192.0.2.10 192.0.2.20 198.51.100.64/26 \
		203.0.113.64/26 on "close_action = restart"
	daemon_hdr "$d/b.conf"
	conn "$d/b.conf" net1 192.0.2.20 192.0.2.10 203.0.113.0/26 \
		198.51.100.0/26 off
	conn "$d/b.conf" net2 192.0.2.20 192.0.2.10 203.0.113.64/26 \
		198.51.100.64/26 off
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: net1 and net2 up" wait_for 10 eval 'up "$A" net1 &&
		up "$A" net2'
	ctl "$B" down net2 >"$d/down.out" 2>&1
	tl_check "$t: the peer deleted net2's last Child SA: close_action" \
		wait_for 5 grep -q "conn net2: the peer deleted its last Child SA.*restart" "$d/a.log"
	tl_check "$t: net2 is back up" wait_for 10 up "$A" net2
	tl_check "$t: ping through net2 again" wait_for 5 \
		quiet ip netns exec "$A" ping -q -c 1 -W 1 -I 198.51.100.65 \
		203.0.113.65
	ctl "$A" down net1 >"$d/down2.out" 2>&1
	sleep 3
	tl_check "$t: our own down net1: no close_action, stays down" \
		eval '! grep -q "conn net1: .*close_action" "$TL_TMP/close/a.log" &&
		! up "$A" net1'
	tl_stop "$pa"
	tl_stop "$pb"
}

# shellcheck disable=SC2086 # a list of names
run_scenarios ${COLLIDE_ONLY:-pair ss ssr close}
tl_summary
