# tests/netns/lib.sh - shared helpers for the namespace tests (source it).
#
# Every namespace gets a name unique to this run (ipsecd-<pid>-<n>-<tag>),
# every background process is recorded by PID, and the EXIT trap kills
# exactly those PIDs and deletes exactly those namespaces.  Addresses come
# only from the documentation ranges 192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24 (RFC 5737) and 2001:db8::/32 (RFC 3849).
# shellcheck shell=bash

TL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IPSECD=${IPSECD:-$TL_ROOT/build/ipsecd}
TL_RUN="$$"
TL_SEQ=0
TL_NS=()
TL_PIDS=()
TL_PASS=0
TL_FAIL=0
TL_TMP=$(mktemp -d /tmp/ipsecd-netns.XXXXXX)

tl_cleanup() {
	local pid i ns
	for pid in "${TL_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${TL_PIDS[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	TL_PIDS=()
	for ns in "${TL_NS[@]}"; do
		[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	done
	TL_NS=()
	if [ -n "${TL_KEEP:-}" ]; then
		echo "# kept $TL_TMP" >&2
	else
		rm -rf "$TL_TMP"
	fi
}
trap tl_cleanup EXIT
trap 'exit 130' INT TERM

# TAP-style result lines, counted for the summary.
tl_ok() { TL_PASS=$((TL_PASS + 1)); echo "ok - $*"; }
tl_not_ok() { TL_FAIL=$((TL_FAIL + 1)); echo "not ok - $*"; }
# tl_check DESCRIPTION CMD...: ok if CMD succeeds.
tl_check() {
	local d=$1
	shift
	if "$@"; then tl_ok "$d"; else tl_not_ok "$d"; fi
}
tl_summary() {
	echo "# $TL_PASS passed, $TL_FAIL failed"
	[ "$TL_FAIL" -eq 0 ]
}

# tl_ns VAR TAG: create a fresh namespace, put its name into VAR.
# (Not in a $(...) subshell: the name must be recorded for cleanup.)
tl_ns() {
	local ns
	TL_SEQ=$((TL_SEQ + 1))
	ns="ipsecd-$TL_RUN-$TL_SEQ-$2"
	ip netns add "$ns" || return 1
	TL_NS+=("$ns")
	printf -v "$1" '%s' "$ns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 \
		net.ipv6.conf.all.disable_ipv6=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0 >/dev/null
}

# tl_veth NS1 IF1 NS2 IF2: a veth pair straight into two namespaces.
tl_veth() {
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" &&
		ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

# tl_bg NS LOGFILE CMD...: run CMD in NS in the background, record PID.
# (ip netns exec execs CMD, so $! is CMD's own PID.)
tl_bg() {
	local ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 &
	TL_BG_PID=$!
	TL_PIDS+=("$TL_BG_PID")
}

# tl_stop PID: stop one recorded process and wait for it.
tl_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# tl_sock NS: the control socket of the ipsecd in NS (namespaces share
# the file system, so each daemon needs its own).
tl_sock() {
	echo "$TL_TMP/$1.sock"
}

# tl_ipsecd NS CONF LOG: start ipsecd, wait until its TUN device is up.
# Sets TL_BG_PID.  Fails if the daemon exits or the device never shows.
tl_ipsecd() {
	local ns=$1 conf=$2 log=$3 tun i
	tun=$(sed -n 's/^[[:space:]]*tun[[:space:]]*=[[:space:]]*\([^[:space:];#]*\).*/\1/p' "$conf" | head -n1)
	tun=${tun:-ipsec0}
	tl_bg "$ns" "$log" "$IPSECD" -f -c "$conf" -S "$(tl_sock "$ns")" \
		${IPSECD_DEBUG:+-d debug}
	for i in $(seq 1 50); do
		if ! kill -0 "$TL_BG_PID" 2>/dev/null; then
			echo "# ipsecd in $ns exited:" >&2
			sed 's/^/#   /' "$log" >&2
			return 1
		fi
		if ip -n "$ns" route show table all dev "$tun" 2>/dev/null |
			grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	echo "# ipsecd in $ns did not come up" >&2
	return 1
}

# tl_capture NS IF PCAP [FILTER]: tcpdump on IF in NS (PID in TL_CAP_PID).
tl_capture() {
	local i
	tl_bg "$1" "$3.log" tcpdump -i "$2" -w "$3" -U --immediate-mode \
		-Z root -n -s 0 ${4:+"$4"}
	TL_CAP_PID=$TL_BG_PID
	for i in $(seq 1 30); do
		grep -q "listening on" "$3.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 0
}

# tl_key BYTES: random hex key material.
tl_key() {
	od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}
