#!/bin/bash
# bench_static.sh - quick numbers for two ipsecd with static keys:
# TCP throughput (iperf3, one stream), 64-byte UDP packet rate, ping RTT.
# Not run by tests/run.sh (no test_ prefix).  Env: SECONDS_PER_RUN (5),
# ENCAP (no|udp), ENC (aes128gcm16), WORKERS (2).
set -u
. "$(dirname "$0")/lib.sh"
T=${SECONDS_PER_RUN:-5}
ENCAP=${ENCAP:-no}
ENC=${ENC:-aes128gcm16}
WORKERS=${WORKERS:-2}

tl_ns A benchA && tl_ns B benchB || exit 1
tl_veth "$A" va "$B" vb || exit 1
ip -n "$A" addr add 192.0.2.10/24 dev va
ip -n "$B" addr add 192.0.2.20/24 dev vb
ip -n "$A" addr add 198.51.100.1/32 dev lo
ip -n "$B" addr add 203.0.113.1/32 dev lo
K1=$(tl_key 20) K2=$(tl_key 20)
conf() {
	printf '[daemon]\nworkers = %s\n' "$WORKERS"
	printf '[sa out]\ndir = out\nsrc = %s\ndst = %s\nspi = %s\nenc = %s\nenc_key = 0x%s\nencap = %s\n' \
		"$1" "$2" "$3" "$ENC" "$4" "$ENCAP"
	printf '[sa in]\ndir = in\nsrc = %s\ndst = %s\nspi = %s\nenc = %s\nenc_key = 0x%s\nencap = %s\n' \
		"$2" "$1" "$5" "$ENC" "$6" "$ENCAP"
	printf '[policy out]\ndir = out\nsrc = %s\ndst = %s\nsa = out\n' "$7" "$8"
}
conf 192.0.2.10 192.0.2.20 0x1000 "$K1" 0x2000 "$K2" 198.51.100.0/24 203.0.113.0/24 >"$TL_TMP/a.conf"
conf 192.0.2.20 192.0.2.10 0x2000 "$K2" 0x1000 "$K1" 203.0.113.0/24 198.51.100.0/24 >"$TL_TMP/b.conf"
tl_ipsecd "$A" "$TL_TMP/a.conf" "$TL_TMP/a.log" || exit 1
PA=$TL_BG_PID
tl_ipsecd "$B" "$TL_TMP/b.conf" "$TL_TMP/b.log" || exit 1
PB=$TL_BG_PID

echo "# ESP $ENC encap=$ENCAP workers=$WORKERS, ${T}s per run"
ip netns exec "$A" ping -q -c 200 -i 0.005 -I 198.51.100.1 203.0.113.1 | grep rtt
tl_bg "$B" "$TL_TMP/s.log" iperf3 -s -B 203.0.113.1
S=$TL_BG_PID
sleep 0.5
ip netns exec "$A" iperf3 -c 203.0.113.1 -B 198.51.100.1 -t "$T" | grep -E "sender|receiver"
# counters of A's TUN worker (tun_in) and B's network worker (rx, tun_out)
snap() {
	kill -USR1 "$PA" "$PB"
	sleep 0.3
	A_IN=$(grep "dp: tun_in" "$TL_TMP/a.log" | tail -1 | sed -E 's/.*tun_in ([0-9]+).*/\1/')
	B_RX=$(grep "dp: rx" "$TL_TMP/b.log" | tail -1 | sed -E 's/.*dp: rx ([0-9]+).*/\1/')
	B_TO=$(grep "dp: rx" "$TL_TMP/b.log" | tail -1 | sed -E 's/.*tun_out ([0-9]+).*/\1/')
	A_SENT=$(grep "dp: tun_in" "$TL_TMP/a.log" | tail -1 | sed -E 's/.* sent ([0-9]+).*/\1/')
}
snap
a0=$A_IN b0=$B_RX w0=$B_TO s0=$A_SENT
ip netns exec "$A" iperf3 -c 203.0.113.1 -B 198.51.100.1 -t "$T" -u -b 0 -l 64 | grep -E "receiver|sender"
snap
echo "# 64-byte UDP: A encapsulated $(( (A_IN - a0) / T )) pkt/s, B decapsulated $(( (B_RX - b0) / T )) pkt/s"
# B's TUN writes per 100 datagrams (UDP trains written as one USO packet)
echo "# B: $(( B_RX - b0 )) datagrams in, $(( B_TO - w0 )) TUN writes ($(( (B_TO - w0) * 100 / (B_RX - b0 + 1) )) per 100)"
grep -h "dp: " "$TL_TMP/a.log" "$TL_TMP/b.log" | tail -4 | sed 's/^/# /'
tl_stop "$S"
