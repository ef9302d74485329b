#!/bin/bash
# bench/run.sh: data-plane benchmark, all peers measured in the same run on
# the same two-namespace topology (bench/peers.sh):
#   plaintext veth, ipsecd (static keys; ESP in IP, and as ipsecd-udp
#   ESP in UDP 4500 like strongSwan's kernel-libipsec and WireGuard
#   send), strongSwan (kernel-libipsec), wireguard-go.
# For each: one iperf3 TCP stream (DURATION s), 64-byte UDP packets per
# second delivered (UDP_DURATION s, unlimited send rate) twice: with
# iperf3, and with bench/udp_flood.c (sendmmsg/recvmmsg in batches of 64:
# iperf3's own per-packet cost takes about a core of these two), ping RTT.
# Prints a table with ratios of ipsecd to each peer.  Nothing asserts on
# the numbers.  Env: DURATION (10), UDP_DURATION (5), PING_N (200),
# PEERS ("plain ipsecd ipsecd-udp strongswan wireguard"), TESTS ("ping
# tcp udp mm"), ESP (aes128gcm16), IPSECD (build/ipsecd), ENCAP (for the
# "ipsecd" row: no, ESP in IP; or udp).
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. bench/peers.sh
DURATION=${DURATION:-10}
UDP_DURATION=${UDP_DURATION:-5}
PING_N=${PING_N:-200}
PEERS=${PEERS:-plain ipsecd ipsecd-udp strongswan wireguard}
TESTS=${TESTS:-ping tcp udp mm}
O=${O:-build}
UDP_FLOOD=${UDP_FLOOD:-$ROOT/$O/udp-flood}
OUT=${OUT:-$ROOT/build/bench}
IPSECD=${IPSECD:-$ROOT/build/ipsecd}
ENCAP=${ENCAP:-no}
mkdir -p "$OUT"
trap 'topo_down; rm -rf "$PEER_STATE"' EXIT
trap 'exit 130' INT TERM

[ -x "$UDP_FLOOD" ] || {
	echo "bench: $UDP_FLOOD missing; run: make bench" >&2
	exit 1
}
for tool in iperf3 wireguard-go wg swanctl; do
	command -v "$tool" >/dev/null || {
		echo "bench: $tool missing; run: sh scripts/deps.sh --bench" >&2
		exit 1
	}
done

# iperf3 server in B, bound to B's inner address; prints its PID.
srv_start() {
	ip netns exec "$NS_B" iperf3 -s -1 -B "$INNER_B" >"$OUT/$1.srv" 2>&1 &
	local pid=$! i
	for i in $(seq 50); do
		ip netns exec "$NS_B" ss -ltn 'sport = :5201' | grep -q 5201 &&
			break
		sleep 0.1
	done
	echo "$pid"
}

tcp_mbps() {
	local pid
	pid=$(srv_start "$1-tcp")
	ip netns exec "$NS_A" iperf3 -c "$INNER_B" -B "$INNER_A" \
		-t "$DURATION" -J >"$OUT/$1-tcp.json" 2>&1
	wait "$pid" 2>/dev/null
	python3 -c 'import json,sys
try: print("%.0f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/1e6))
except Exception: print("0")' "$OUT/$1-tcp.json"
}

udp_pps() {
	local pid
	pid=$(srv_start "$1-udp")
	ip netns exec "$NS_A" iperf3 -c "$INNER_B" -B "$INNER_A" -u -l 64 \
		-b 0 -t "$UDP_DURATION" -J >"$OUT/$1-udp.json" 2>&1
	wait "$pid" 2>/dev/null
	python3 -c 'import json,sys
try:
    s = json.load(open(sys.argv[1]))["end"]["sum"]
    print("%.0f" % ((s["packets"] - s["lost_packets"]) / s["seconds"]))
except Exception: print("0")' "$OUT/$1-udp.json"
}

# 64-byte UDP with udp-flood: packets per second delivered to B.
mm_pps() {
	local pid i
	ip netns exec "$NS_B" "$UDP_FLOOD" recv "$INNER_B" 5202 \
		"$UDP_DURATION" >"$OUT/$1-mm.txt" 2>&1 &
	pid=$!
	for i in $(seq 50); do
		grep -q ready "$OUT/$1-mm.txt" 2>/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NS_A" "$UDP_FLOOD" send "$INNER_A" "$INNER_B" 5202 \
		"$UDP_DURATION" 64 >"$OUT/$1-mm-send.txt" 2>&1
	wait "$pid" 2>/dev/null
	sed -n 's/.*: \([0-9]*\) pkt\/s$/\1/p' "$OUT/$1-mm.txt" | head -1
}

ping_avg() {
	ip netns exec "$NS_A" ping -q -c "$PING_N" -i 0.01 -I "$INNER_A" \
		"$INNER_B" >"$OUT/$1-ping.txt" 2>&1
	sed -nE 's|.*= [0-9.]+/([0-9.]+)/.*|\1|p' "$OUT/$1-ping.txt" | head -1
}

ipsecd_up() {
	local key salt spi_ab=0x1001 spi_ba=0x1002 side conf
	key=0x$(openssl rand -hex 20)
	for side in a b; do
		conf=$PEER_STATE/ipsecd-$side.conf
		if [ $side = a ]; then
			set -- "$OUTER_A" "$OUTER_B" "$NET_A" "$NET_B" $spi_ab $spi_ba
		else
			set -- "$OUTER_B" "$OUTER_A" "$NET_B" "$NET_A" $spi_ba $spi_ab
		fi
		sed -e "s|@LOCAL@|$1|g; s|@REMOTE@|$2|g; s|@LNET@|$3|g" \
		    -e "s|@RNET@|$4|g; s|@SPI_OUT@|$5|g; s|@SPI_IN@|$6|g" \
		    -e "s|@KEY@|$key|g; s|@ENC@|${ESP:-aes128gcm16}|g" \
		    -e "s|@ENCAP@|$ENCAP|g" \
		    bench/ipsecd-static.conf.in >"$conf"
		chmod 600 "$conf"
	done
	ip netns exec "$NS_A" "$IPSECD" -f -c "$PEER_STATE/ipsecd-a.conf" -S "$PEER_STATE/a.sock" \
		>"$OUT/ipsecd-a.log" 2>&1 &
	PEER_PIDS+=($!)
	ip netns exec "$NS_B" "$IPSECD" -f -c "$PEER_STATE/ipsecd-b.conf" -S "$PEER_STATE/b.sock" \
		>"$OUT/ipsecd-b.log" 2>&1 &
	PEER_PIDS+=($!)
	local i
	for i in $(seq 50); do
		ip netns exec "$NS_A" ping -q -c 1 -W 1 -I "$INNER_A" "$INNER_B" \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench: ipsecd tunnel did not come up (see $OUT/ipsecd-*.log)" >&2
	return 1
}

declare -A TCP UDP MM RTT
run_peer() {
	local name=$1
	topo_up
	case $name in
	plain) plain_up ;;
	ipsecd) ipsecd_up ;;
	ipsecd-udp) ENCAP=udp ipsecd_up ;;
	strongswan) ss_up "${ESP:-aes128gcm16}" ;;
	wireguard) wg_up ;;
	esac
	if [ $? -ne 0 ]; then
		echo "bench: $name did not come up; skipped" >&2
		topo_down
		return
	fi
	case " $TESTS " in *" ping "*) RTT[$name]=$(ping_avg "$name") ;; esac
	case " $TESTS " in *" tcp "*) TCP[$name]=$(tcp_mbps "$name") ;; esac
	case " $TESTS " in *" udp "*) UDP[$name]=$(udp_pps "$name") ;; esac
	case " $TESTS " in *" mm "*) MM[$name]=$(mm_pps "$name") ;; esac
	echo "$name: tcp ${TCP[$name]:--} Mbit/s, udp64 ${UDP[$name]:--} pkt/s (iperf3), ${MM[$name]:--} pkt/s (udp-flood), rtt ${RTT[$name]:--} ms"
	topo_down
}

echo "# ipsecd bench $(date -u +%FT%TZ), $(nproc) cores, kernel $(uname -r)"
echo "# ESP ${ESP:-aes128gcm16} (ipsecd encap=$ENCAP, ipsecd-udp encap=udp); iperf3 TCP ${DURATION}s; UDP 64-byte ${UDP_DURATION}s (iperf3, then udp-flood); ping -c $PING_N -i 0.01"
for p in $PEERS; do
	run_peer "$p"
done

ratio() {
	python3 -c 'import sys
a, b = sys.argv[1], sys.argv[2]
try: print("%.2fx" % (float(a) / float(b)))
except Exception: print("-")' "$1" "$2"
}

echo
printf '%-12s %14s %16s %16s %12s\n' peer "TCP Mbit/s" "UDP64 pkt/s" \
	"UDP64 mm pkt/s" "RTT ms"
for p in $PEERS; do
	printf '%-12s %14s %16s %16s %12s\n' "$p" "${TCP[$p]:--}" \
		"${UDP[$p]:--}" "${MM[$p]:--}" "${RTT[$p]:--}"
done
echo
printf '%-24s %10s %10s %10s %10s\n' "ratio" TCP UDP64 "UDP64 mm" RTT
for me in $PEERS; do
	case $me in ipsecd*) ;; *) continue ;; esac
	for p in $PEERS; do
		case $p in ipsecd*) continue ;; esac
		printf '%-24s %10s %10s %10s %10s\n' "$me / $p" \
			"$(ratio "${TCP[$me]:-}" "${TCP[$p]:-}")" \
			"$(ratio "${UDP[$me]:-}" "${UDP[$p]:-}")" \
			"$(ratio "${MM[$me]:-}" "${MM[$p]:-}")" \
			"$(ratio "${RTT[$me]:-}" "${RTT[$p]:-}")"
	done
done
