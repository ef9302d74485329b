# tests/netns/ike_lib.sh - helpers the IKEv2 namespace tests share.
# Source it after lib.sh.  It checks that we run as root with both
# binaries built (printing one "not ok" line and exiting otherwise), and
# gives the two-gateway topology and the polling helpers.
#   A: veth0 $A_OUT (192.0.2.10), B: veth0 $B_OUT (192.0.2.20); the
#   inside addresses are added by each test on lo.
# shellcheck shell=bash

IPSECCTL=${IPSECCTL:-$(dirname "$IPSECD")/ipsecctl}
A_OUT=${A_OUT:-192.0.2.10}
B_OUT=${B_OUT:-192.0.2.20}

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - netns tests need root"
	exit 1
fi
if [ ! -x "$IPSECD" ] || [ ! -x "$IPSECCTL" ]; then
	echo "not ok - $IPSECD or $IPSECCTL is not built (make)"
	exit 1
fi

not() { ! "$@"; }

# ctl NS ARGS...: ipsecctl against the daemon started in NS by tl_ipsecd.
ctl() {
	"$IPSECCTL" -S "$(tl_sock "$1")" "${@:2}"
}

# ike_topo TAG: namespaces A and B (variables set) joined by veth0, with
# $A_OUT and $B_OUT on it.
ike_topo() {
	tl_ns A "$1-a" && tl_ns B "$1-b" &&
		tl_veth "$A" veth0 "$B" veth0 &&
		ip -n "$A" addr add "$A_OUT/24" dev veth0 &&
		ip -n "$B" addr add "$B_OUT/24" dev veth0
}

# pair_topo TAG: ike_topo, plus two protected hosts on each side (A:
# 198.51.100.1 and .65, B: 203.0.113.1 and .65) for two connections.
pair_topo() {
	ike_topo "$1" &&
		ip -n "$A" addr add 198.51.100.1/32 dev lo &&
		ip -n "$A" addr add 198.51.100.65/32 dev lo &&
		ip -n "$B" addr add 203.0.113.1/32 dev lo &&
		ip -n "$B" addr add 203.0.113.65/32 dev lo
}

# loss_topo TAG: A 192.0.2.10 (lo 198.51.100.1) -- R -- B 192.0.2.140
# (lo 203.0.113.1); the router R (variables A, R, B set) drops 20 % of
# what it forwards, each way (nftables numgen random, counted in table
# inet loss).
loss_topo() {
	tl_ns A "$1-a" && tl_ns R "$1-r" && tl_ns B "$1-b" &&
		tl_veth "$A" veth0 "$R" va && tl_veth "$R" vb "$B" veth0 &&
		ip -n "$A" addr add 192.0.2.10/25 dev veth0 &&
		ip -n "$R" addr add 192.0.2.1/25 dev va &&
		ip -n "$R" addr add 192.0.2.129/25 dev vb &&
		ip -n "$B" addr add 192.0.2.140/25 dev veth0 &&
		ip -n "$A" route add default via 192.0.2.1 &&
		ip -n "$B" route add default via 192.0.2.129 &&
		ip -n "$A" addr add 198.51.100.1/32 dev lo &&
		ip -n "$B" addr add 203.0.113.1/32 dev lo &&
		ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1 &&
		ip netns exec "$R" nft -f - <<-NFT
		table inet loss {
		    chain lossy {
		        type filter hook forward priority 0; policy accept;
		        numgen random mod 5 0 counter drop
		    }
		}
		NFT
}

# loss_dropped: what R's lossy chain dropped so far.
loss_dropped() {
	ip netns exec "$R" nft list table inet loss |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# poll_grep GREP-OPTS FILE PATTERN TRIES: grep FILE every 0.2 s.
poll_grep() {
	local i
	for i in $(seq 1 "$4"); do
		grep "$1" -- "$3" "$2" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# wait_grep FILE PATTERN [TRIES]: basic regex, 5 s unless told.
wait_grep() { poll_grep -q "$1" "$2" "${3:-25}"; }
# wait_egrep FILE PATTERN [TRIES]: the same with an extended regex.
wait_egrep() { poll_grep -qE "$1" "$2" "${3:-25}"; }

# wait_state NS STATE [TRIES]: an IKE SA in STATE (ipsecctl status),
# polled every 0.2 s, WAIT_STATE_TRIES (50) times unless told.
wait_state() {
	local i
	for i in $(seq 1 "${3:-${WAIT_STATE_TRIES:-50}}"); do
		ctl "$1" status --json 2>/dev/null |
			grep -q "\"state\": *\"$2\"" && return 0
		sleep 0.2
	done
	return 1
}

# nsping NS SRC DST OUTFILE [COUNT]: COUNT (NSPING_COUNT, 3) pings from
# SRC inside NS.
nsping() {
	ip netns exec "$1" ping -q -c "${5:-${NSPING_COUNT:-3}}" -i 0.2 -W 2 -I "$2" "$3" \
		>"$4" 2>&1
}

# ike_conn FILE NAME LOCAL REMOTE LTS RTS ESP START EXTRA...: append a
# PSK [conn] ($PSK, IKE aes128gcm16-prfsha256-x25519); each EXTRA is one
# "key = value" line.
ike_conn() {
	local f=$1 x
	{
		echo "[conn $2]"
		echo "local = $3"
		echo "remote = $4"
		echo "psk = $PSK"
		echo "local_ts = $5"
		echo "remote_ts = $6"
		echo "ike = aes128gcm16-prfsha256-x25519"
		echo "esp = $7"
		echo "start = $8"
		shift 8
		for x in "$@"; do echo "$x"; done
		echo
	} >>"$f"
}

# daemon_hdr FILE: start a config with [daemon] tun = ipsec0.
daemon_hdr() { printf '[daemon]\ntun = ipsec0\n\n' >"$1"; }

# js NS JQ: a jq expression over the status of the ipsecd in NS.
js() { ctl "$1" status --json 2>/dev/null | jq -r "$2" 2>/dev/null; }

# wait_for SECONDS CMD...: poll CMD every 0.5 s.
wait_for() {
	local n=$(($1 * 2)) i
	shift
	for i in $(seq 1 "$n"); do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}

# up NS NAME: NAME has an installed Child SA in an ESTABLISHED IKE SA.
up() {
	[ "$(js "$1" "[.ike_sas[] | select(.state == \"ESTABLISHED\") |
		.child_sas[] | select(.name == \"$2\")] | length")" -ge 1 ] \
		2>/dev/null
}

# through NS SRC DST: one ping from SRC to DST answered within 10 s.
# When the peer initiated, ipsecd's Child SA is up once it has sent the
# IKE_AUTH response, a moment before the peer installs its own; a count
# of lost pings starts after this.
through() {
	wait_for 10 quiet ip netns exec "$1" ping -c 1 -W 1 -I "$2" "$3"
}

grep_log() { grep -q "$2" "$1" 2>/dev/null; }
quiet() { "$@" >/dev/null 2>&1; }

# lost FILE: pings sent minus received, from ping's summary.
lost() {
	local tx rx
	tx=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$1")
	rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1")
	echo $((${tx:-0} - ${rx:-0}))
}

# In a scenario's subshell: stop its own processes and namespaces, keep
# the shared TL_TMP (the main shell removes it).
tl_cleanup_sub() {
	local keep=${TL_KEEP:-}
	TL_KEEP=1
	tl_cleanup 2>/dev/null
	TL_KEEP=$keep
}

# run_scenarios NAME...: scenario_NAME for each, all at the same time in
# background subshells; their output is printed in order afterwards and
# their counts added to ours.  A subshell has its own copies of
# TL_NS/TL_PIDS (and no inherited traps), so it cleans up its own
# namespaces and processes on exit; the main shell stops the subshells
# (TL_PIDS) if it is interrupted, and removes TL_TMP.
run_scenarios() {
	local s subs=()
	for s in "$@"; do
		(
			TL_PIDS=() # not the other scenarios' subshells
			TL_NS=()
			trap tl_cleanup_sub EXIT
			trap 'exit 130' INT TERM
			{
				"scenario_$s"
				echo "# counts $TL_PASS $TL_FAIL"
			} >"$TL_TMP/$s.out" 2>&1
		) &
		subs+=($!)
		TL_PIDS+=($!)
	done
	wait "${subs[@]}"
	for s in "$@"; do
		grep -v '^# counts' "$TL_TMP/$s.out"
		set -- $(sed -n 's/^# counts //p' "$TL_TMP/$s.out")
		TL_PASS=$((TL_PASS + ${1:-0}))
		TL_FAIL=$((TL_FAIL + ${2:-1}))
	done
}
