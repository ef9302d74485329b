#!/bin/bash
# test_static.sh - two ipsecd with static keys (manual keying) in network
# namespaces.  Scenarios: tunnel and transport mode, IPv4 and IPv6 (outer
# and inner), plain ESP and ESP-in-UDP (RFC 3948), AH, and ESP-in-UDP
# through a third namespace doing NAT (nftables masquerade).  With
# CLEARTEXT=1 also RFC 4301 §5.2: cleartext sent around the peer's SA to
# a protected address is dropped and counted by ipsecd's nftables table.
# For each: ping both ways, then two independent checks on a capture of
# the wire: (a) tshark, given the keys, decrypts the ESP and finds the
# inner ICMP; (b) no cleartext inner packet is on the wire.
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
set -u
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "not ok - netns tests need root"
	exit 1
fi
if [ ! -x "$IPSECD" ]; then
	echo "not ok - $IPSECD is not built (make)"
	exit 1
fi
for tool in tcpdump tshark nft; do
	command -v $tool >/dev/null || echo "# $tool missing: some checks fail"
done

# sa_conf NAME DIR SRC DST SPI KEY IKEY LTS RTS: one [sa] section.
# Uses MODE PROTO ENCAP ALG and for NAT the ports.
sa_conf() {
	local name=$1 dir=$2 src=$3 dst=$4 spi=$5 key=$6 ikey=$7
	local lts=$8 rts=$9
	echo "[sa $name]"
	echo "proto = $PROTO"
	echo "mode = $MODE"
	echo "dir = $dir"
	echo "src = $src"
	echo "dst = $dst"
	echo "spi = $spi"
	echo "encap = $ENCAP"
	if [ "$PROTO" = ah ]; then
		echo "integ = sha256"
		echo "integ_key = 0x$ikey"
	elif [ "$ALG" = cbc ]; then
		echo "enc = aes128"
		echo "enc_key = 0x${key:0:32}"
		echo "integ = sha256"
		echo "integ_key = 0x$ikey"
	elif [ "${KEYFILE:-0}" = 1 ]; then
		# keys from a file (must be mode 600)
		echo "0x$key" >"$TL_TMP/key-$spi"
		chmod 600 "$TL_TMP/key-$spi"
		echo "enc = aes128gcm16"
		echo "enc_key = file:$TL_TMP/key-$spi"
	else
		echo "enc = aes128gcm16"
		echo "enc_key = 0x$key"
	fi
	echo "replay_window = 128"
	echo "local_ts = $lts"
	echo "remote_ts = $rts"
	echo
}

# pol_conf NAME DIR SRC DST SA
pol_conf() {
	printf '[policy %s]\ndir = %s\nsrc = %s\ndst = %s\naction = protect\nsa = %s\n\n' \
		"$1" "$2" "$3" "$4" "$5"
}

# side_conf FILE LOCAL REMOTE LNET RNET SPI_OUT SPI_IN: one peer's config.
# K_OUT/I_OUT are keys of this peer's outbound SA, K_IN/I_IN inbound.
side_conf() {
	local f=$1 lo=$2 ro=$3 lnet=$4 rnet=$5 so=$6 si=$7
	{
		printf '[daemon]\ntun = ipsec0\nkeepalive = 20s\n\n'
		sa_conf out out "$lo" "$ro" "$so" "$K_OUT" "$I_OUT" "$lnet" "$rnet"
		[ -n "${OUT_EXTRA:-}" ] && printf '%b\n\n' "$OUT_EXTRA"
		sa_conf in in "$ro" "$lo" "$si" "$K_IN" "$I_IN" "$lnet" "$rnet"
		pol_conf out out "$lnet" "$rnet" out
	} >"$f"
}

# uat SPI KEY IKEY: one tshark ESP SA table row (any address).
uat() {
	local fam=IPv$OUTER
	if [ "$ALG" = cbc ]; then
		printf '"%s","*","*","0x%08x","AES-CBC [RFC3602]","0x%s","HMAC-SHA-256-128 [RFC4868]","0x%s"' \
			"$fam" "$1" "${2:0:32}" "$3"
	else
		printf '"%s","*","*","0x%08x","AES-GCM with 16 octet ICV [RFC4106]","0x%s","NULL",""' \
			"$fam" "$1" "$2"
	fi
}

# tcp_intact NS_A NS_B A_IN B_IN DIR: send 16 MB of random bytes A -> B
# over TCP and compare digests (catches segmentation/checksum bugs that
# iperf3 would not notice).
tcp_intact() {
	local A=$1 B=$2 a=$3 b=$4 d=$5 rpid
	head -c 16000000 /dev/urandom >"$d/blob"
	tl_bg "$B" "$d/recv.sha" python3 -c '
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 5202)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.settimeout(20); h = hashlib.sha256()
while True:
    b = c.recv(1 << 16)
    if not b: break
    h.update(b)
print(h.hexdigest())' "$b"
	rpid=$TL_BG_PID
	sleep 0.5
	ip netns exec "$A" python3 -c '
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam); s.settimeout(20); s.bind((sys.argv[1], 0))
s.connect((sys.argv[2], 5202))
s.sendall(open(sys.argv[3], "rb").read()); s.close()' "$a" "$b" "$d/blob" ||
		return 1
	wait "$rpid"
	[ "$(cat "$d/recv.sha")" = "$(sha256sum <"$d/blob" | cut -d" " -f1)" ]
}

# lifetime_checks TITLE NS_A A_IN B_IN DIR: A's outbound SA has
# soft_packets = 3, hard_packets = 6 (RFC 4301 §4.4.2.1).
lifetime_checks() {
	local t=$1 A=$2 a=$3 b=$4 d=$5 i
	ip netns exec "$A" ping -q -c 10 -i 0.2 -W 1 -I "$a" "$b" \
		>"$d/ping-life.txt" 2>&1
	for i in $(seq 1 30); do
		grep -q "hard lifetime" "$d/a.log" && break
		sleep 0.1
	done
	tl_check "$t: soft expire is logged" grep -q "soft lifetime" "$d/a.log"
	tl_check "$t: hard expire deletes the SA" \
		grep -q "hard lifetime and was deleted" "$d/a.log"
	tl_check "$t: then traffic raises an acquire, not cleartext" \
		grep -q "acquire: policy" "$d/a.log"
	tl_check "$t: 6 of 10 pings passed before the SA died" \
		grep -q "10 packets transmitted, 6 received" "$d/ping-life.txt"
}

# nsping NS FROM TO LOG: three pings, output to LOG.
nsping() {
	ip netns exec "$1" ping -q -c 3 -i 0.2 -W 2 -I "$2" "$3" >"$4" 2>&1
}

# not CMD...: succeeds if CMD fails.
not() { ! "$@"; }

# clear_ping NS FROM TO LOG: three pings from NS that bypass NS's own
# TUN routes (a rule before ipsecd's "not fwmark lookup 220" sends TO
# through the main table, straight out of the veth in the clear).
clear_ping() {
	local rc fam=-4
	[[ $3 == *:* ]] && fam=-6
	ip $fam -n "$1" rule add to "$3" lookup main priority 100
	ip netns exec "$1" ping -q -c 3 -i 0.2 -W 1 -I "$2" "$3" >"$4" 2>&1
	rc=$?
	ip $fam -n "$1" rule del to "$3" lookup main priority 100
	return $rc
}

# nft_drops NS: packets of the cleartext drop counter of NS's ipsecd.
nft_drops() {
	ip netns exec "$1" nft list counter inet ipsecd_ipsec0 \
		cleartext_drops 2>/dev/null |
		sed -n 's/.*packets \([0-9]*\).*/\1/p'
}

# nft_table NS [CHAIN]: ipsecd's nftables table (or one of its chains)
# exists in NS.
nft_table() {
	if [ -n "${2:-}" ]; then
		ip netns exec "$1" nft list chain inet ipsecd_ipsec0 "$2"
	else
		ip netns exec "$1" nft list table inet ipsecd_ipsec0
	fi >/dev/null 2>&1
}

# cleartext_checks TITLE NS_A NS_B A_IN B_IN DIR: RFC 4301 §5.2, with
# both daemons up.  B sends to A's protected address in the clear, from
# its own protected address, bypassing B's SA; A must drop and count it,
# and the SAs must still work afterwards.
cleartext_checks() {
	local t=$1 A=$2 B=$3 a=$4 b=$5 d=$6 n
	tl_check "$t: ipsecd replaced the stale nftables table" \
		not nft_table "$A" stale
	tl_check "$t: cleartext B -> A for a protected selector gets no reply" \
		not clear_ping "$B" "$b" "$a" "$d/ping-clear.txt"
	n=$(nft_drops "$A")
	tl_check "$t: A's nftables counter dropped the 3 cleartext pings (${n:-none})" \
		[ "${n:-0}" -ge 3 ]
	tl_check "$t: afterwards ping A -> B through the SA" \
		nsping "$A" "$a" "$b" "$d/ping-ab2.txt"
	tl_check "$t: afterwards ping B -> A through the SA" \
		nsping "$B" "$b" "$a" "$d/ping-ba2.txt"
}

# scenario TITLE: uses MODE PROTO ENCAP OUTER INNER NAT ALG TCP.
scenario() {
	local title=$1 A B N d=$TL_TMP/$TL_SEQ
	local a_out b_out b_seen a_seen pfx lnet rnet a_in b_in
	local pcap cap_if cap_ns pa pb n_dec n_clear filt disp
	mkdir -p "$d"
	tl_ns A a && tl_ns B b || { tl_not_ok "$title: namespaces"; return; }
	if [ "$OUTER" = 4 ]; then
		a_out=192.0.2.10 b_out=192.0.2.20 pfx=24
	else
		a_out=2001:db8:1::10 b_out=2001:db8:1::20 pfx=64
	fi
	a_seen=$a_out b_seen=$b_out
	if [ "$NAT" = 1 ]; then
		tl_ns N nat
		a_out=192.0.2.130 pfx=25
		tl_veth "$A" va "$N" na && tl_veth "$N" nb "$B" vb
		ip -n "$A" addr add $a_out/25 dev va
		ip -n "$N" addr add 192.0.2.129/25 dev na
		ip -n "$N" addr add 192.0.2.30/25 dev nb
		ip -n "$B" addr add $b_out/25 dev vb
		ip -n "$A" route add default via 192.0.2.129
		ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1
		ip netns exec "$N" nft -f - <<-NFT
		table ip nat {
			chain post {
				type nat hook postrouting priority srcnat;
				oifname "nb" masquerade
			}
		}
		NFT
		a_seen=192.0.2.30
		cap_ns=$B cap_if=vb
	else
		tl_veth "$A" va "$B" vb
		ip -n "$A" addr add $a_out/$pfx dev va
		ip -n "$B" addr add $b_out/$pfx dev vb
		cap_ns=$A cap_if=va
	fi
	if [ "$MODE" = transport ]; then
		a_in=$a_out b_in=$b_out
		if [ "$OUTER" = 4 ]; then
			lnet=$a_out/32 rnet=$b_out/32
		else
			lnet=$a_out/128 rnet=$b_out/128
		fi
	elif [ "$INNER" = 4 ]; then
		a_in=198.51.100.1 b_in=203.0.113.1
		lnet=198.51.100.0/24 rnet=203.0.113.0/24
		ip -n "$A" addr add $a_in/32 dev lo
		ip -n "$B" addr add $b_in/32 dev lo
	else
		a_in=2001:db8:a::1 b_in=2001:db8:b::1
		lnet=2001:db8:a::/64 rnet=2001:db8:b::/64
		ip -n "$A" addr add $a_in/128 dev lo nodad
		ip -n "$B" addr add $b_in/128 dev lo nodad
	fi
	# Keys: A->B uses KA/IA, B->A uses KB/IB.
	local KA IA KB IB
	KA=$(tl_key 20) IA=$(tl_key 32) KB=$(tl_key 20) IB=$(tl_key 32)
	local SPI_AB=0x$(printf '%x' $((0x1000 + TL_SEQ)))
	local SPI_BA=0x$(printf '%x' $((0x2000 + TL_SEQ)))
	K_OUT=$KA I_OUT=$IA K_IN=$KB I_IN=$IB OUT_EXTRA=$A_OUT_EXTRA \
		side_conf "$d/a.conf" "$a_out" "$b_seen" "$lnet" "$rnet" \
		"$SPI_AB" "$SPI_BA"
	# B sees A at its NAT address (transport selectors stay the real
	# hosts only without NAT).
	K_OUT=$KB I_OUT=$IB K_IN=$KA I_IN=$IA \
		side_conf "$d/b.conf" "$b_out" "$a_seen" "$rnet" "$lnet" \
		"$SPI_BA" "$SPI_AB"
	if [ "$CLEARTEXT" = 1 ]; then
		# Cleartext between the protected addresses over the veth.
		# Control: without ipsecd it gets through (before the capture,
		# which must hold no cleartext).
		# (transport mode: the protected addresses are on-link)
		if [ "$MODE" = tunnel ]; then
			ip -n "$A" route add "$b_in" via "$b_out"
			ip -n "$B" route add "$a_in" via "$a_out"
		fi
		tl_check "$title: control: without ipsecd, cleartext B -> A is answered" \
			clear_ping "$B" "$b_in" "$a_in" "$d/ping-clear0.txt"
		# A stale table, as a crashed daemon leaves it.
		ip netns exec "$A" nft add table inet ipsecd_ipsec0 \; \
			add chain inet ipsecd_ipsec0 stale
	fi
	pcap=$d/wire.pcap
	tl_capture "$cap_ns" "$cap_if" "$pcap"
	local cap=$TL_CAP_PID
	if ! tl_ipsecd "$A" "$d/a.conf" "$d/a.log"; then
		tl_not_ok "$title: ipsecd A starts"
		return
	fi
	pa=$TL_BG_PID
	if ! tl_ipsecd "$B" "$d/b.conf" "$d/b.log"; then
		tl_not_ok "$title: ipsecd B starts"
		return
	fi
	pb=$TL_BG_PID
	if [ "$LIFETIME" = 1 ]; then
		lifetime_checks "$title" "$A" "$a_in" "$b_in" "$d"
		tl_stop "$pa"
		tl_stop "$pb"
		tl_stop "$cap"
		return
	fi
	tl_check "$title: ping A -> B through the SA" \
		nsping "$A" "$a_in" "$b_in" "$d/ping-ab.txt"
	tl_check "$title: ping B -> A through the SA" \
		nsping "$B" "$b_in" "$a_in" "$d/ping-ba.txt"
	grep -h rtt "$d/ping-ab.txt" | sed 's/^/# A->B /'
	tl_check "$title: ipsecctl status shows both SAs of A carrying packets" \
		status_counts "$A"
	sleep 0.2
	tl_stop "$cap"
	[ "$CLEARTEXT" = 1 ] &&
		cleartext_checks "$title" "$A" "$B" "$a_in" "$b_in" "$d"
	if [ "$TCP" = 1 ]; then
		# A separate capture of cleartext TCP only: the ESP of a
		# bulk transfer would make the pcap huge.
		tl_capture "$cap_ns" "$cap_if" "$d/tcp.pcap" tcp
		cap=$TL_CAP_PID
		tl_bg "$B" "$d/iperf-s.log" iperf3 -s -1 -B "$b_in"
		local ips=$TL_BG_PID
		sleep 0.5
		if ip netns exec "$A" timeout 20 iperf3 -c "$b_in" -B "$a_in" \
			-t "${TCP_SECONDS:-3}" >"$d/iperf.txt" 2>&1; then
			tl_ok "$title: TCP transfer (iperf3)"
			grep -E "receiver" "$d/iperf.txt" | sed 's/^/# /'
		else
			tl_not_ok "$title: TCP transfer (iperf3)"
			sed 's/^/# /' "$d/iperf.txt" | tail -5
		fi
		tl_stop "$ips"
		tl_check "$title: 16 MB over TCP arrive intact (sha256)" \
			tcp_intact "$A" "$B" "$a_in" "$b_in" "$d"
		sleep 0.2
		tl_stop "$cap"
		n_clear=$(tcpdump -r "$d/tcp.pcap" -n 2>/dev/null | wc -l)
		tl_check "$title: no cleartext TCP on the wire ($n_clear)" \
			[ "$n_clear" -eq 0 ]
	fi
	kill -USR1 "$pa" "$pb" 2>/dev/null
	sleep 0.3
	tl_stop "$pa"
	tl_stop "$pb"
	grep -h "\[dp\] SA \|dp: " "$d/a.log" | sed 's/^/# A: /' | head -8
	if [ "$CLEARTEXT" = 1 ]; then
		tl_check "$title: SIGUSR1 logs A's cleartext drops" \
			grep -q "cleartext_drops [1-9]" "$d/a.log"
		tl_check "$title: A's nftables table is gone after ipsecd stops" \
			not nft_table "$A"
		tl_check "$title: after ipsecd stops, cleartext B -> A is answered again" \
			clear_ping "$B" "$b_in" "$a_in" "$d/ping-clear1.txt"
	fi
	# (a) tshark decrypts with the keys and sees the inner ICMP.
	if [ "$INNER" = 4 ] || { [ "$MODE" = transport ] && [ "$OUTER" = 4 ]; }; then
		disp='icmp.type == 8 || icmp.type == 0'
		filt='(icmp and (icmp[icmptype] == icmp-echo or icmp[icmptype] == icmp-echoreply)) or tcp port 5201'
	else
		disp='icmpv6.type == 128 || icmpv6.type == 129'
		filt='(icmp6 and (ip6[40] == 128 or ip6[40] == 129)) or tcp port 5201'
	fi
	if [ "$PROTO" = ah ]; then
		n_dec=$(tshark -r "$pcap" -Y "ah && ($disp)" 2>/dev/null | wc -l)
	else
		n_dec=$(tshark -r "$pcap" -o esp.enable_encryption_decode:TRUE \
			-o "uat:esp_sa:$(uat "$SPI_AB" "$KA" "$IA")" \
			-o "uat:esp_sa:$(uat "$SPI_BA" "$KB" "$IB")" \
			-Y "esp && ($disp)" 2>/dev/null | wc -l)
	fi
	echo "# capture: $(tcpdump -r "$pcap" -n 2>/dev/null | wc -l) packets, $n_dec decrypted inner echo"
	local what="decrypts the ESP"
	[ "$PROTO" = ah ] && what="dissects the AH"
	tl_check "$title: tshark $what on the wire and finds the inner ICMP" \
		[ "$n_dec" -ge 12 ]
	# (b) nothing inner in the clear.
	n_clear=$(tcpdump -r "$pcap" -n "$filt" 2>/dev/null | wc -l)
	tl_check "$title: no cleartext inner packet on the wire ($n_clear)" \
		[ "$n_clear" -eq 0 ]
	if [ "$TL_FAIL" -gt 0 ] && [ -n "${VERBOSE:-}" ]; then
		sed 's/^/# a.log: /' "$d/a.log" | tail -20
		sed 's/^/# b.log: /' "$d/b.log" | tail -20
	fi
}

run() {
	MODE=tunnel PROTO=esp ENCAP=no OUTER=4 INNER=4 NAT=0 ALG=gcm TCP=0
	KEYFILE=0 LIFETIME=0 A_OUT_EXTRA= CLEARTEXT=0
	while [ $# -gt 1 ]; do
		printf -v "${1%%=*}" '%s' "${1#*=}"
		shift
	done
	scenario "$1"
}

SCEN=${SCEN:-all}
want() { [ "$SCEN" = all ] || [[ ",$SCEN," == *",$1,"* ]]; }

# Configuration errors: every one named with file:line, no start.
config_errors() {
	local f=$TL_TMP/bad.conf log=$TL_TMP/bad.log rc
	cat >"$f" <<-'CONF'
	[sa x]
	mode = tunel
	src = 192.0.2.10
	dst = 192.0.2.20
	spi = 0x10
	dir = out
	enc = aes128gcm16
	enc_key = 0x0011
	[policy p]
	dir = out
	src = 198.51.100.1/24
	dst = 203.0.113.0/24
	sa = y
	CONF
	"$IPSECD" -f -c "$f" -S "$TL_TMP/err.sock" >"$log" 2>&1
	rc=$?
	tl_check "bad config: ipsecd refuses to start" [ $rc -ne 0 ]
	tl_check "bad config: each error names file:line" \
		[ "$(grep -cE "bad.conf:(2|5|8|11|13): " "$log")" -eq 5 ]
	echo "0x00112233445566778899aabbccddeeff00112233" >"$TL_TMP/k644"
	chmod 644 "$TL_TMP/k644"
	printf '[sa x]\nsrc = 192.0.2.10\ndst = 192.0.2.20\nspi = 0x1000\ndir = out\nenc = aes128gcm16\nenc_key = file:%s\n' \
		"$TL_TMP/k644" >"$f"
	"$IPSECD" -f -c "$f" -S "$TL_TMP/err.sock" >"$log" 2>&1
	rc=$?
	tl_check "key file readable by others is refused" \
		[ $rc -ne 0 -a "$(grep -c 'chmod 600' "$log")" -ge 1 ]
}

# status_counts NS: the JSON status of NS's daemon lists its two static
# SAs, and each has carried packets (the pings above).
status_counts() {
	"$TL_ROOT/build/ipsecctl" -S "$(tl_sock "$1")" status --json |
		python3 -c '
import json, sys
sas = json.load(sys.stdin)["static_sas"]
assert len(sas) == 2, sas
assert all(sa["packets"] > 0 for sa in sas), sas
'
}

want 0 && config_errors
want 1 && run TCP=1 "tunnel IPv4 ESP aes128gcm16"
want 2 && run ENCAP=udp KEYFILE=1 "tunnel IPv4 ESP-in-UDP aes128gcm16 (keys from files)"
want 3 && run MODE=transport ALG=cbc CLEARTEXT=1 \
	"transport IPv4 ESP aes128-sha256"
want 4 && run OUTER=6 INNER=6 TCP=1 "tunnel IPv6-in-IPv6 ESP aes128gcm16"
want 5 && run OUTER=6 INNER=4 ENCAP=udp "tunnel IPv4-in-IPv6 ESP-in-UDP"
want 6 && run OUTER=4 INNER=6 ALG=cbc "tunnel IPv6-in-IPv4 ESP aes128-sha256"
want 7 && run PROTO=ah "tunnel IPv4 AH sha256"
want 8 && run MODE=transport OUTER=6 INNER=6 PROTO=ah CLEARTEXT=1 \
	"transport IPv6 AH sha256"
want 10 && run LIFETIME=1 A_OUT_EXTRA='soft_packets = 3\nhard_packets = 6' \
	"lifetimes"
want 9 && run ENCAP=udp NAT=1 "tunnel IPv4 ESP-in-UDP through NAT (masquerade)"
want 11 && run CLEARTEXT=1 "tunnel IPv4 ESP, inbound cleartext"
want 12 && run CLEARTEXT=1 OUTER=6 INNER=6 "tunnel IPv6 ESP, inbound cleartext"
tl_summary
