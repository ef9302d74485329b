#!/bin/bash
# make demo runs this with sh: switch to bash first (lib.sh needs it).
[ -z "${BASH_VERSION:-}" ] && exec bash "$0" "$@"
# scripts/demo.sh (make demo): two ipsecd in two network namespaces set up
# a tunnel with IKEv2 and a pre-shared key (docs/ike.md), a ping goes
# through it, `ipsecctl status` shows the IKE SA and the Child SA, then
# everything is stopped by PID and the namespaces are deleted.
#
#   netns A  198.51.100.1 (lo)                netns B  203.0.113.1 (lo)
#            ipsec0 (TUN) - ipsecd            ipsecd - ipsec0 (TUN)
#            va 192.0.2.10/24 <--- veth ---> vb 192.0.2.20/24
#   A: start = on (initiates)                 B: start = off (answers)
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/netns/lib.sh
IPSECD=${IPSECD:-${O:-build}/ipsecd}
IPSECCTL=${IPSECCTL:-$(dirname "$IPSECD")/ipsecctl}
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (namespaces)" >&2; exit 1; }
[ -x "$IPSECD" ] && [ -x "$IPSECCTL" ] ||
	{ echo "demo: build first (make)" >&2; exit 1; }

tl_ns A demoA && tl_ns B demoB || exit 1
tl_veth "$A" va "$B" vb || exit 1
ip -n "$A" addr add 192.0.2.10/24 dev va
ip -n "$B" addr add 192.0.2.20/24 dev vb
ip -n "$A" addr add 198.51.100.1/32 dev lo
ip -n "$B" addr add 203.0.113.1/32 dev lo

# One key for both gateways, in a file only root can read.
"$IPSECCTL" genkey 32 >"$TL_TMP/office.psk"
chmod 600 "$TL_TMP/office.psk"

# conf FILE LOCAL REMOTE LNET RNET START: one gateway's whole config.
conf() {
	cat >"$1" <<-CONF
	[daemon]
	tun = ipsec0

	[conn office]
	local = $2
	remote = $3
	psk = file:$TL_TMP/office.psk
	local_ts = $4
	remote_ts = $5
	ike = aes128gcm16-prfsha256-x25519
	esp = aes128gcm16
	start = $6
	CONF
}
conf "$TL_TMP/a.conf" 192.0.2.10 192.0.2.20 198.51.100.0/24 203.0.113.0/24 on
conf "$TL_TMP/b.conf" 192.0.2.20 192.0.2.10 203.0.113.0/24 198.51.100.0/24 off
echo "== config of A ($TL_TMP/a.conf); B mirrors it with start = off:"
sed 's/^/   /' "$TL_TMP/a.conf"

tl_capture "$A" va "$TL_TMP/wire.pcap" "udp or esp"
CAP=$TL_CAP_PID
tl_ipsecd "$B" "$TL_TMP/b.conf" "$TL_TMP/b.log" || exit 1
PB=$TL_BG_PID
tl_ipsecd "$A" "$TL_TMP/a.conf" "$TL_TMP/a.log" || exit 1
PA=$TL_BG_PID
echo "== ipsecd A pid $PA in $A, ipsecd B pid $PB in $B"

ctl() { "$IPSECCTL" -S "$(tl_sock "$1")" "${@:2}"; }
up=1
for _ in $(seq 50); do
	ctl "$A" status --json 2>/dev/null |
		grep -q '"state": *"ESTABLISHED"' && { up=0; break; }
	sleep 0.1
done
if [ $up -eq 0 ]; then
	echo "== IKE SA ESTABLISHED (IKE_SA_INIT + IKE_AUTH done)"
else
	echo "== IKE SA did not come up; A's log:"
	sed 's/^/   /' "$TL_TMP/a.log"
fi

echo "== ping 203.0.113.1 from 198.51.100.1 through the tunnel:"
ip netns exec "$A" ping -c 4 -i 0.2 -W 2 -I 198.51.100.1 203.0.113.1
rc=$?
sleep 0.3
tl_stop "$CAP"
echo "== on the wire (veth of A): IKE on UDP 500, then only ESP:"
tcpdump -r "$TL_TMP/wire.pcap" -n 2>/dev/null | head -8 | sed 's/^/   /'
echo "== ipsecctl status on A:"
ctl "$A" status | sed 's/^/   /'
echo "== ipsecctl status on B:"
ctl "$B" status | sed 's/^/   /'
echo "== stopping ipsecd (by PID $PA, $PB), deleting namespaces $A $B"
tl_stop "$PA"
tl_stop "$PB"
[ $up -eq 0 ] || rc=1
if [ $rc -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; fi
exit $rc
