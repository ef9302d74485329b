#!/bin/bash
# bench/rekey.sh: packets lost while Child SAs are rekeyed under load
# (make bench-rekey; make bench runs it after bench-ike).  Same
# two-namespace topology as bench/run.sh and bench/ike.sh (bench/peers.sh,
# namespaces rk-a-PID / rk-b-PID), IKEv2 with a PSK, IKE
# aes128gcm16-prfsha256-x25519, ESP aes128gcm16.
#
# For each scenario: the tunnel comes up, an iperf3 UDP stream (RATE,
# 1200-byte datagrams) runs from A's 198.51.100.1 to B's 203.0.113.1 for
# DURATION s while the Child SA is rekeyed every few seconds, and the row
# shows the rekeys done during the stream and iperf3's receiver-side
# lost / total datagrams (sequence-number gaps, server --json):
#   baseline      ipsecd <-> ipsecd, default lifetimes: no rekey, loss by
#                 rate alone
#   ipsecd        ipsecd <-> ipsecd, child_lifetime 10s, rekey_margin 5s:
#                 either end rekeys 2.5-5 s after each install
#   ipsecd-pfs    the same with esp = aes128gcm16-x25519 (a KE per rekey)
#   mixed         ipsecd (A, initiator) <-> charon (B, rekey_time 1h):
#                 ipsecd does every rekey
#   strongswan    charon <-> charon, rekey_time 5s, rand_time 2s,
#                 life_time 10s on both ends: a rekey every 3-5 s
# Rekeys counted: ipsecd: the newest Child SA's "rekeys" in A's
# `ipsecctl status` (after the stream minus before it); charon: the
# CHILD_SA unique id in A's `swanctl --list-sas --raw` (each rekey makes
# one new CHILD_SA there).  "bursts" counts runs of the stream's 0.1-s
# intervals that lost anything (OUT/rekey-SC-loss.txt lists them with the
# time of day, to match the daemons' logs).
# "drops" is what the kernel counted as dropped in either namespace during
# the stream (UDP receive-buffer overflows, link rx/tx drops: a reader that
# was late, not an SA missing), "tunsock" the part of it on the sockets
# that carry ESP and IKE (the rest is iperf3's socket; see drops()).
# ipsecd's own counters (rx, no_sa, decap_err) are logged on SIGUSR1 at
# the end of each stream (dp: lines in OUT/rekey-SC-a|b.log).
# Nothing asserts on the numbers; exit status 1 if a scenario could not run
# (tunnel not up, iperf3 failed), with the reason on stderr.
# Env: REKEYS (10; DURATION defaults to 5 s per rekey wanted, so
# REKEYS=3 is a ~15 s smoke run per row), DURATION, RATE (50M),
# IPERF_OPTS (more iperf3 client options, e.g. "-w 2M": a socket buffer
# that rides out a late reader, so that only the tunnel can lose),
# RK_SCENARIOS (a subset of "baseline ipsecd ipsecd-pfs mixed
# strongswan"), O (build folder, default build), IPSECD, IPSECCTL, OUT.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
NS_A=${NS_A:-rk-a-$$}
NS_B=${NS_B:-rk-b-$$}
. bench/peers.sh
O=${O:-build}
IPSECD=${IPSECD:-$ROOT/$O/ipsecd}
IPSECCTL=${IPSECCTL:-$ROOT/$O/ipsecctl}
REKEYS=${REKEYS:-10}
DURATION=${DURATION:-$((REKEYS * 5))}
RATE=${RATE:-50M}
IPERF_OPTS=${IPERF_OPTS:-}
RK_SCENARIOS=${RK_SCENARIOS:-baseline ipsecd ipsecd-pfs mixed strongswan}
OUT=${OUT:-$ROOT/$O/bench}
IKE_PROP=aes128gcm16-prfsha256-x25519
PSK=bench-psk-not-secret-0123456789
# ipsecd: rekey at child_lifetime - rekey_margin - jitter (up to half the
# margin), docs/ike.md "Lifetimes"; 10 s is the smallest child_lifetime.
RK_LIFE=("child_lifetime = 10s" "rekey_margin = 5s")
mkdir -p "$OUT"
trap 'topo_down; rm -rf "$PEER_STATE"' EXIT
trap 'exit 130' INT TERM

for f in "$IPSECD" "$IPSECCTL"; do
	[ -x "$f" ] || { echo "bench-rekey: $f missing (make all)" >&2; exit 1; }
done
for tool in iperf3 swanctl python3; do
	command -v "$tool" >/dev/null || {
		echo "bench-rekey: $tool missing; run: sh scripts/deps.sh --bench" >&2
		exit 1
	}
done

IPSECD_PIDS=()
# rk_ipsecd NS NAME LOCAL REMOTE LTS RTS ESP [EXTRA...]: write
# $PEER_STATE/NAME.conf (one [conn gw]) and run ipsecd with it; waits
# until its control socket answers.
rk_ipsecd() {
	local ns=$1 name=$2 f=$PEER_STATE/$2.conf pid i
	{
		printf '[daemon]\ntun = ipsec0\n\n[conn gw]\n'
		printf 'local = %s\nremote = %s\nauth = psk\npsk = %s\n' \
			"$3" "$4" "$PSK"
		printf 'local_ts = %s\nremote_ts = %s\n' "$5" "$6"
		printf 'ike = %s\nesp = %s\nstart = off\n' "$IKE_PROP" "$7"
		shift 7
		[ $# -gt 0 ] && printf '%s\n' "$@"
	} >"$f"
	chmod 600 "$f"
	ip netns exec "$ns" "$IPSECD" -f -c "$f" -S "$PEER_STATE/$name.sock" \
		>"$OUT/rekey-$SC-$name.log" 2>&1 &
	pid=$!
	PEER_PIDS+=("$pid")
	IPSECD_PIDS+=("$pid")
	for i in $(seq 50); do
		"$IPSECCTL" -S "$PEER_STATE/$name.sock" status >/dev/null 2>&1 &&
			return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	WHY="ipsecd $name did not start (see $OUT/rekey-$SC-$name.log)"
	return 1
}

# rk_charon NS DIR LOCAL REMOTE LTS RTS CHILD_EXTRA: charon (peers.sh's
# ss_start) with one connection "gw", child "net", IDs the addresses.
rk_charon() {
	local dir=$2
	mkdir -p "$dir"
	ss_start "$1" "$dir" || { WHY="charon in $1 did not start"; return 1; }
	cat >"$dir/swanctl.conf" <<-CONF
	connections {
	    gw {
	        version = 2
	        local_addrs = $3
	        remote_addrs = $4
	        proposals = $IKE_PROP
	        local { auth = psk
	                id = $3 }
	        remote { auth = psk
	                 id = $4 }
	        children {
	            net {
	                mode = tunnel
	                local_ts = $5
	                remote_ts = $6
	                esp_proposals = aes128gcm16
	                $7
	            }
	        }
	    }
	}
	secrets {
	    ike-gw {
	        id-l = $3
	        id-r = $4
	        secret = "$PSK"
	    }
	}
	CONF
	SWANCTL_DIR=$dir ss_ctl "$dir" --load-all --noprompt \
		--file "$dir/swanctl.conf" >"$dir/load.out" 2>&1 ||
		{ WHY="swanctl --load-all failed (see $dir/load.out)"; return 1; }
}

# tunnel_ok: a ping from A's inner address to B's gets through (10 s).
tunnel_ok() {
	local i
	for i in $(seq 20); do
		ip netns exec "$NS_A" ping -q -c 1 -W 1 -I "$INNER_A" \
			"$INNER_B" >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	WHY="no ping through the tunnel within 10 s"
	return 1
}

# ipsecd_up: A initiates; wait until a Child SA is listed, then ping.
ipsecd_up() {
	local i
	"$IPSECCTL" -S "$PEER_STATE/a.sock" up gw >/dev/null 2>&1
	for i in $(seq 100); do
		[ "$(ipsecd_children)" -gt 0 ] && break
		sleep 0.1
	done
	tunnel_ok
}

ipsecd_children() {
	"$IPSECCTL" -S "$PEER_STATE/a.sock" status --json 2>/dev/null |
		python3 -c 'import json,sys
try: print(len([c for s in json.load(sys.stdin)["ike_sas"] for c in s["child_sas"]]))
except Exception: print(0)'
}

# Rekey counters: ipsecd's highest Child SA "rekeys" in A's status;
# charon's highest CHILD_SA unique id in A.
# shellcheck disable=SC2317 # both are called as $COUNTER
ipsecd_rekeys() {
	"$IPSECCTL" -S "$PEER_STATE/a.sock" status --json 2>/dev/null |
		python3 -c 'import json,sys
try: print(max(c["rekeys"] for s in json.load(sys.stdin)["ike_sas"] for c in s["child_sas"]))
except Exception: print(-1)'
}

# shellcheck disable=SC2317
charon_rekeys() {
	ss_ctl "$PEER_STATE/ss-a" --list-sas --raw 2>/dev/null |
		grep -o 'uniqueid=[0-9]*' | sed -n '1!s/uniqueid=//p' |
		sort -n | tail -1
}

# drops NS: drop counters in NS, "KERNEL TUNSOCK": KERNEL is every UDP
# receive-buffer overflow (/proc/net/snmp RcvbufErrors) plus the rx+tx
# "dropped" of every link (veth, TUN); TUNSOCK is the part of those
# overflows on the sockets that carry the tunnel (UDP 500/4500 and raw
# ESP, the per-socket "drops" of /proc/net/udp*, raw*).  The rest of
# KERNEL is iperf3's own socket: the tunnel delivered, the reader was
# late.
drops() {
	# shellcheck disable=SC2016 # $f is the inner shell's
	ip netns exec "$1" sh -c 'cat /proc/net/snmp; for f in udp udp6 raw raw6
		do echo "#$f"; cat /proc/net/$f; done; echo "#links"' 2>/dev/null |
		cat - <(ip -n "$1" -s -j link show) | python3 -c 'import json,sys
parts = sys.stdin.read().split("\n#")
u = [l.split() for l in parts[0].splitlines() if l.startswith("Udp:")]
kern, tun = int(u[1][u[0].index("RcvbufErrors")]), 0
for p in parts[1:]:
    name, _, body = p.partition("\n")
    if name == "links":
        try:
            kern += sum(x["stats64"]["rx"]["dropped"] +
                        x["stats64"]["tx"]["dropped"] for x in json.loads(body))
        except Exception:
            pass
        continue
    for l in body.splitlines()[1:]:
        f = l.split()
        port = int(f[1].rsplit(":", 1)[1], 16)
        if (name.startswith("udp") and port in (500, 4500)) or \
           (name.startswith("raw") and port == 50):
            tun += int(f[-1])
print(kern, tun)'
}

# stream: iperf3 UDP from A to B for DURATION s, rekeys counted with
# $COUNTER before and after; sets ROW[$SC].
declare -A ROW
stream() {
	local srv=$OUT/rekey-$SC-srv.json cli=$OUT/rekey-$SC-cli.json pid i r0 r1
	ip netns exec "$NS_B" iperf3 -s -1 -B "$INNER_B" -i 0.1 -J >"$srv" 2>&1 &
	pid=$!
	PEER_PIDS+=("$pid")
	for i in $(seq 50); do
		ip netns exec "$NS_B" ss -ltn 'sport = :5201' | grep -q 5201 &&
			break
		sleep 0.1
	done
	r0=$($COUNTER)
	d0="$(drops "$NS_A") $(drops "$NS_B")"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # IPERF_OPTS: several words
	ip netns exec "$NS_A" iperf3 -c "$INNER_B" -B "$INNER_A" -u \
		-b "$RATE" -l 1200 -t "$DURATION" $IPERF_OPTS -J >"$cli" 2>&1
	r1=$($COUNTER)
	d1="$(drops "$NS_A") $(drops "$NS_B")"
	echo "kernel_a tunsock_a kernel_b tunsock_b:" \
		"before $d0, after $d1" >"$OUT/rekey-$SC-drops.txt"
	# ipsecd logs its data-plane counters (dp: ... no_sa ...) on SIGUSR1.
	for i in "${IPSECD_PIDS[@]}"; do
		kill -USR1 "$i" 2>/dev/null
	done
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	pid_forget "$pid"
	ROW[$SC]=$(python3 - "$cli" "$srv" "$r0" "$r1" "$d0" "$d1" "$t0" \
		"$OUT/rekey-$SC-loss.txt" <<-'PY'
	import json, sys
	try:
	    ce = json.load(open(sys.argv[1]))["end"]
	    c = ce.get("sum_sent", ce["sum"])
	    sj = json.load(open(sys.argv[2]))
	    s = sj["end"]["sum"]
	except Exception as e:
	    print("FAIL iperf3 gave no result (%s)" % e)
	    sys.exit()
	try:
	    rk = str(int(sys.argv[4]) - int(sys.argv[3]))
	except ValueError:
	    rk = "?"
	# Loss events: runs of 0.1-s intervals that lost datagrams, with
	# the wall-clock time (client start + offset, about 10 ms late) to
	# match against the daemons' logs.
	import time
	bursts, prev = 0, False
	with open(sys.argv[8], "w") as f:
	    for i in sj["intervals"]:
	        x = i["sum"]
	        if x["lost_packets"] > 0:
	            t = float(sys.argv[7]) + x["start"]
	            f.write("%s.%03d +%.1fs lost %d of %d\n" % (
	                time.strftime("%H:%M:%S", time.gmtime(t)),
	                int(t * 1000) % 1000, x["start"],
	                x["lost_packets"], x["packets"]))
	        lossy = x["lost_packets"] > 0
	        bursts += lossy and not prev
	        prev = lossy
	tot, lost = s["packets"], s["lost_packets"]
	d = [int(b) - int(a) for a, b in
	     zip(sys.argv[5].split(), sys.argv[6].split())]
	print("%s %d %d %d %.3f %d %d %d" % (rk, c["packets"], tot, lost,
	      100.0 * lost / tot if tot else 0, bursts, d[0] + d[2],
	      d[1] + d[3]))
	PY
	)
}

# pid_forget PID: stop one process we started (if still running) and drop
# it from PEER_PIDS.
pid_forget() {
	local p=$1 i keep=()
	kill -TERM "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for i in "${PEER_PIDS[@]}"; do
		[ "$i" = "$p" ] || keep+=("$i")
	done
	PEER_PIDS=("${keep[@]}")
}

# ---- scenarios: each returns 1 with WHY set if it could not run ----
sc_ipsecd_pair() {
	local esp=$1
	shift
	rk_ipsecd "$NS_B" b "$OUTER_B" "$OUTER_A" "$NET_B" "$NET_A" "$esp" \
		"$@" || return 1
	rk_ipsecd "$NS_A" a "$OUTER_A" "$OUTER_B" "$NET_A" "$NET_B" "$esp" \
		"$@" || return 1
	ipsecd_up || return 1
	COUNTER=ipsecd_rekeys
	stream
}

sc_mixed() {
	rk_charon "$NS_B" "$PEER_STATE/ss-b" "$OUTER_B" "$OUTER_A" "$NET_B" \
		"$NET_A" "rekey_time = 1h" || return 1
	rk_ipsecd "$NS_A" a "$OUTER_A" "$OUTER_B" "$NET_A" "$NET_B" \
		aes128gcm16 "${RK_LIFE[@]}" || return 1
	ipsecd_up || return 1
	COUNTER=ipsecd_rekeys
	stream
}

sc_strongswan() {
	local life="rekey_time = 5s
	                life_time = 10s
	                rand_time = 2s"
	rk_charon "$NS_A" "$PEER_STATE/ss-a" "$OUTER_A" "$OUTER_B" "$NET_A" \
		"$NET_B" "$life" || return 1
	rk_charon "$NS_B" "$PEER_STATE/ss-b" "$OUTER_B" "$OUTER_A" "$NET_B" \
		"$NET_A" "$life" || return 1
	ss_ctl "$PEER_STATE/ss-a" --initiate --child net --timeout 10 \
		>"$PEER_STATE/ss-a/initiate.out" 2>&1 ||
		{ WHY="swanctl --initiate failed"; return 1; }
	tunnel_ok || return 1
	COUNTER=charon_rekeys
	stream
}

echo "# ipsecd rekey bench $(date -u +%FT%TZ), $(nproc) cores, kernel $(uname -r)"
echo "# iperf3 -u -b $RATE -l 1200 -t $DURATION $IPERF_OPTS; IKE $IKE_PROP, ESP" \
	"aes128gcm16 (ipsecd-pfs: aes128gcm16-x25519), PSK"
FAILED=0
for SC in $RK_SCENARIOS; do
	WHY=
	topo_up
	case $SC in
	baseline) sc_ipsecd_pair aes128gcm16 ;;
	ipsecd) sc_ipsecd_pair aes128gcm16 "${RK_LIFE[@]}" ;;
	ipsecd-pfs) sc_ipsecd_pair aes128gcm16-x25519 "${RK_LIFE[@]}" ;;
	mixed) sc_mixed ;;
	strongswan) sc_strongswan ;;
	*) WHY="unknown scenario"; false ;;
	esac
	if [ -n "$WHY" ] || [ -z "${ROW[$SC]:-}" ]; then
		ROW[$SC]="FAIL ${WHY:-did not run}"
	fi
	case ${ROW[$SC]} in
	FAIL*)
		FAILED=1
		echo "bench-rekey: $SC could not run: ${ROW[$SC]#FAIL }" >&2 ;;
	esac
	# Keep strongSwan's logs with the others.
	for d in ss-a ss-b; do
		[ -f "$PEER_STATE/$d/charon.log" ] || continue
		peers_stop
		cp "$PEER_STATE/$d/charon.log" "$OUT/rekey-$SC-$d-charon.log"
	done
	topo_down
	IPSECD_PIDS=()
	rm -rf "$PEER_STATE"/ss-a "$PEER_STATE"/ss-b
done

echo
printf '%-28s %6s %10s %10s %8s %8s %7s %7s %7s\n' scenario rekeys sent \
	received lost "loss %" bursts drops "tunsock"
for SC in $RK_SCENARIOS; do
	case $SC in
	baseline) name="ipsecd<->ipsecd no rekey" ;;
	ipsecd) name="ipsecd<->ipsecd" ;;
	ipsecd-pfs) name="ipsecd<->ipsecd PFS x25519" ;;
	mixed) name="ipsecd->strongSwan" ;;
	strongswan) name="strongSwan<->strongSwan" ;;
	*) name=$SC ;;
	esac
	case ${ROW[$SC]} in
	FAIL*) printf '%-28s %s\n' "$name" "${ROW[$SC]}" ;;
	*)
		# shellcheck disable=SC2086
		set -- ${ROW[$SC]}
		printf '%-28s %6s %10s %10s %8s %8s %7s %7s %7s\n' "$name" "$@" ;;
	esac
done
exit "$FAILED"
