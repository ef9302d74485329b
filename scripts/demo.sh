#!/bin/bash
# make demo runs this with sh: switch to bash first (lib.sh needs it).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
# scripts/demo.sh (make demo): two ipsecd with static keys (manual keying,
# docs/manual-keying.md) in two network namespaces, a ping through the
# ESP tunnel, the SA counters (ipsecctl status), then cleanup by PID and by
# namespace name.  Until IKE exists, this is the end-to-end demo.
#
#   netns A  198.51.100.1 (lo)                netns B  203.0.113.1 (lo)
#            ipsec0 (TUN) - ipsecd            ipsecd - ipsec0 (TUN)
#            va 192.0.2.10/24 <--- veth ---> vb 192.0.2.20/24
set -u
cd "$(dirname "$0")/.."
. tests/netns/lib.sh
IPSECD=${IPSECD:-build/ipsecd}
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (namespaces)" >&2; exit 1; }
[ -x "$IPSECD" ] || { echo "demo: build first (make)" >&2; exit 1; }

tl_ns A demoA && tl_ns B demoB || exit 1
tl_veth "$A" va "$B" vb || exit 1
ip -n "$A" addr add 192.0.2.10/24 dev va
ip -n "$B" addr add 192.0.2.20/24 dev vb
ip -n "$A" addr add 198.51.100.1/32 dev lo
ip -n "$B" addr add 203.0.113.1/32 dev lo

K_AB=$(tl_key 20) K_BA=$(tl_key 20)
# conf FILE LOCAL REMOTE LNET RNET SPI_OUT KEY_OUT SPI_IN KEY_IN
conf() {
	cat >"$1" <<-CONF
	[daemon]
	tun = ipsec0

	[sa out]
	dir = out
	src = $2
	dst = $3
	spi = $6
	enc = aes128gcm16
	enc_key = 0x$7
	local_ts = $4
	remote_ts = $5

	[sa in]
	dir = in
	src = $3
	dst = $2
	spi = $8
	enc = aes128gcm16
	enc_key = 0x$9
	local_ts = $4
	remote_ts = $5

	[policy out]
	dir = out
	src = $4
	dst = $5
	sa = out
	CONF
	chmod 600 "$1"
}
conf "$TL_TMP/a.conf" 192.0.2.10 192.0.2.20 198.51.100.0/24 203.0.113.0/24 \
	0x1000 "$K_AB" 0x2000 "$K_BA"
conf "$TL_TMP/b.conf" 192.0.2.20 192.0.2.10 203.0.113.0/24 198.51.100.0/24 \
	0x2000 "$K_BA" 0x1000 "$K_AB"
echo "== config of A ($TL_TMP/a.conf, keys shortened):"
sed -E 's/(enc_key = 0x.{8}).*/\1.../' "$TL_TMP/a.conf" | sed 's/^/   /'

tl_ipsecd "$A" "$TL_TMP/a.conf" "$TL_TMP/a.log" || exit 1
PA=$TL_BG_PID
tl_ipsecd "$B" "$TL_TMP/b.conf" "$TL_TMP/b.log" || exit 1
PB=$TL_BG_PID
echo "== ipsecd A pid $PA in $A, ipsecd B pid $PB in $B"
echo "== routes in A:"
ip -n "$A" route show table 220 | sed 's/^/   /'
ip -n "$A" rule show | grep 220 | sed 's/^/   /'
tl_capture "$A" va "$TL_TMP/wire.pcap"
CAP=$TL_CAP_PID

echo "== ping 203.0.113.1 from 198.51.100.1 through the tunnel:"
ip netns exec "$A" ping -c 4 -i 0.2 -I 198.51.100.1 203.0.113.1
rc=$?
sleep 0.3
tl_stop "$CAP"
echo "== on the wire (veth of A):"
tcpdump -r "$TL_TMP/wire.pcap" -n 2>/dev/null | head -8 | sed 's/^/   /'
echo "== ipsecctl status on A:"
build/ipsecctl -S "$(tl_sock "$A")" status | sed 's/^/   /'
echo "== ipsecctl status on B:"
build/ipsecctl -S "$(tl_sock "$B")" status | sed 's/^/   /'
echo "== stopping (by PID), deleting namespaces $A $B"
if [ $rc -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $rc
