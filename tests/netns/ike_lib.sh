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
