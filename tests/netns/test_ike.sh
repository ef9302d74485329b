#!/bin/bash
# test_ike.sh - IKEv2 with a pre-shared key between two gateways in network
# namespaces, each with a ~10-line [conn] config (docs/ike.md).
#   ike:     two ipsecd, one start = on; ping both ways through the tunnel;
#            ipsecctl status shows the IKE SA ESTABLISHED and the Child SA
#            counting packets.
#   ss-*:    strongSwan (charon with kernel-libipsec) as the peer, in both
#            roles; it fakes NAT, so IKE floats to 4500 and ESP is in UDP.
#   badpsk:  different PSKs: no tunnel, both logs say authentication failed.
# Topology: A veth 192.0.2.10, lo 198.51.100.1 (198.51.100.0/24);
#           B veth 192.0.2.20, lo 203.0.113.1 (203.0.113.0/24).
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries (default build/).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"

A_IN=198.51.100.1
B_IN=203.0.113.1
A_NET=198.51.100.0/24
B_NET=203.0.113.0/24
PSK="ike-test-psk-0123456789abcdef"

# topo: two namespaces A and B joined by a veth pair.
topo() {
	ike_topo "$1" &&
		ip -n "$A" addr add "$A_IN/32" dev lo &&
		ip -n "$B" addr add "$B_IN/32" dev lo
}

# conf FILE LOCAL REMOTE LTS RTS START [PSKFILE]: one side's config.
conf() {
	local psk="$PSK"
	if [ -n "${7:-}" ]; then
		psk="file:$7"
	fi
	cat >"$1" <<-EOF
	[daemon]
	tun = ipsec0
	${KEYLOG:+keylog = $KEYLOG}

	[conn gw]
	local = $2
	remote = $3
	auth = psk
	psk = $psk
	local_ts = $4
	remote_ts = $5
	ike = ${IKE:-aes128gcm16-prfsha256-x25519}
	esp = ${ESP:-aes128gcm16}
	start = $6
	EOF
}

# ss_established DIR: charon lists an ESTABLISHED IKE SA (polls 5 s).
ss_established() {
	local i
	for i in $(seq 1 25); do
		ss_ctl "$1" --list-sas 2>/dev/null | grep -q ESTABLISHED &&
			return 0
		sleep 0.2
	done
	return 1
}

# json_num FILE KEY: the first value of a numeric key in ipsecctl JSON.
json_num() {
	sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1" | head -n1
}

# keylog_ok STATUS KEYS: an ikev2_decryption_table line for the IKE SA in
# STATUS (by its SPIi) and two esp_sa lines (one per direction).
keylog_ok() {
	local spi
	spi=$(sed -n 's/.*"spi_i": *"0x\([0-9a-f]*\)".*/\1/p' "$1" | head -n1)
	[ -n "$spi" ] && grep -qi "^$spi," "$2" &&
		[ "$(grep -c '^"IPv4"' "$2")" -eq 2 ]
}

# wire_check TITLE PCAP KEYS: tshark, given only the key log, decrypts
# IKE_AUTH and the ESP and finds the inner pings; no inner ICMP in clear.
wire_check() {
	local t=$1 pcap=$2 keys=$3 args=() line n_ike n_dec n_clear
	if ! command -v tshark >/dev/null; then
		echo "# tshark missing: wire checks skipped"
		return
	fi
	while IFS= read -r line; do
		case $line in
		'"'*) args+=(-o "uat:esp_sa:$line") ;;
		*) args+=(-o "uat:ikev2_decryption_table:$line") ;;
		esac
	done <"$keys"
	n_ike=$(tshark -r "$pcap" "${args[@]}" \
		-Y 'isakmp.exchangetype == 35 && isakmp.auth.method' 2>/dev/null | wc -l)
	tl_check "$t: tshark decrypts IKE_AUTH with the key log ($n_ike)" \
		[ "$n_ike" -ge 2 ]
	n_dec=$(tshark -r "$pcap" -o esp.enable_encryption_decode:TRUE \
		"${args[@]}" -Y 'esp && (icmp.type == 8 || icmp.type == 0)' \
		2>/dev/null | wc -l)
	tl_check "$t: tshark decrypts the ESP with the key log ($n_dec pings)" \
		[ "$n_dec" -ge 12 ]
	n_clear=$(tcpdump -r "$pcap" -n icmp 2>/dev/null | wc -l)
	tl_check "$t: no cleartext ICMP on the wire ($n_clear)" \
		[ "$n_clear" -eq 0 ]
}

# ---- (a) ipsecd <-> ipsecd ----
scenario_ike() {
	local t=ike d=$TL_TMP/ike pa pb n
	mkdir -p "$d"
	topo ike || { tl_not_ok "$t: topology"; return; }
	# B reads its PSK from a file (mode 600), A has it inline.
	printf '%s\n' "$PSK" >"$d/b.psk"
	chmod 600 "$d/b.psk"
	KEYLOG=$d/a.keys conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" on
	conf "$d/b.conf" "$B_OUT" "$A_OUT" "$B_NET" "$A_NET" off "$d/b.psk"
	tl_capture "$A" veth0 "$d/wire.pcap"
	tl_check "$t: B (responder) starts" \
		tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A (initiator, start = on) starts" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: A's IKE SA is ESTABLISHED" wait_state "$A" ESTABLISHED
	tl_check "$t: B's IKE SA is ESTABLISHED" wait_state "$B" ESTABLISHED
	tl_check "$t: ping A -> B through the tunnel" \
		nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab.txt"
	tl_check "$t: ping B -> A through the tunnel" \
		nsping "$B" "$B_IN" "$A_IN" "$d/ping-ba.txt"
	ctl "$A" status --json >"$d/a-status.json" 2>&1
	ctl "$B" status --json >"$d/b-status.json" 2>&1
	tl_check "$t: A's status lists conn gw with a Child SA" \
		grep -q '"spi_in": *"0x' "$d/a-status.json"
	n=$(json_num "$d/a-status.json" packets_out)
	tl_check "$t: A's Child SA counted packets out (${n:-none})" \
		test "${n:-0}" -ge 6
	n=$(json_num "$d/b-status.json" packets_in)
	tl_check "$t: B's Child SA counted packets in (${n:-none})" \
		test "${n:-0}" -ge 6
	tl_check "$t: key log has the IKE SA and both ESP SAs" \
		keylog_ok "$d/a-status.json" "$d/a.keys"
	tl_check "$t: key log is announced loudly" grep -q 'KEY LOG ON' "$d/a.log"
	sleep 0.3
	tl_stop "$TL_CAP_PID"
	wire_check "$t" "$d/wire.pcap" "$d/a.keys"
	tl_check "$t: ipsecctl status (text) shows ESTABLISHED" \
		sh -c "'$IPSECCTL' -S '$(tl_sock "$A")' status | grep -q ESTABLISHED"
	# down: A deletes and tells B (INFORMATIONAL Delete).
	tl_check "$t: ipsecctl down gw" ctl "$A" down gw >"$d/down.out"
	tl_check "$t: B saw the Delete" \
		wait_grep "$d/b.log" 'the peer deleted the IKE SA'
	tl_check "$t: no ping after down" \
		not nsping "$A" "$A_IN" "$B_IN" "$d/ping-down.txt"
	tl_check "$t: ipsecctl up gw brings it back" ctl "$A" up gw >"$d/up.out"
	tl_check "$t: A's IKE SA is ESTABLISHED again" \
		wait_state "$A" ESTABLISHED
	tl_check "$t: ping A -> B after up" \
		nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab2.txt"
	tl_stop "$pa"
	tl_stop "$pb"
}


# ---- (c) ipsecd <-> strongSwan, ipsecd in A, charon in B ----
# scenario_ss ROLE: "init" (ipsecd initiates) or "resp" (charon does).
scenario_ss() {
	local role=$1 t=ss-$1 d=$TL_TMP/ss-$1 pa start=off
	mkdir -p "$d/ss"
	topo "ss$role" || { tl_not_ok "$t: topology"; return; }
	[ "$role" = init ] && start=on
	tl_check "$t: charon starts in B" ss_start "$B" "$d/ss"
	tl_check "$t: charon loads its connection" \
		ss_conf "$d/ss" "$B_OUT" "$A_OUT" "$B_NET" "$A_NET" "$PSK" \
		aes128gcm16-prfsha256-x25519 aes128gcm16
	KEYLOG=$d/a.keys conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" \
		$start
	tl_capture "$A" veth0 "$d/wire.pcap"
	tl_check "$t: ipsecd starts in A (start = $start)" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	if [ "$role" = resp ]; then
		tl_check "$t: charon initiates" \
			ss_ctl "$d/ss" --initiate --child net --timeout 15 \
			>"$d/initiate.out" 2>&1
	fi
	tl_check "$t: ipsecd's IKE SA is ESTABLISHED" \
		wait_state "$A" ESTABLISHED
	tl_check "$t: charon lists the IKE SA ESTABLISHED" \
		ss_established "$d/ss"
	tl_check "$t: ping A -> B through the tunnel" \
		nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab.txt"
	tl_check "$t: ping B -> A through the tunnel" \
		nsping "$B" "$B_IN" "$A_IN" "$d/ping-ba.txt"
	ctl "$A" status --json >"$d/a-status.json" 2>&1
	tl_check "$t: the Child SA is ESP in UDP (strongSwan fakes NAT)" \
		grep -q '"encap": *"udp/4500"' "$d/a-status.json"
	sleep 0.3
	tl_stop "$TL_CAP_PID"
	tl_check "$t: IKE and ESP on the wire use UDP 4500" \
		[ "$(tcpdump -r "$d/wire.pcap" -n 'udp port 4500' 2>/dev/null |
			wc -l)" -ge 14 ]
	wire_check "$t" "$d/wire.pcap" "$d/a.keys"
	if [ "$role" = resp ]; then
		ss_ctl "$d/ss" --terminate --ike gw --timeout 10 \
			>"$d/terminate.out" 2>&1
		tl_check "$t: charon's Delete removes ipsecd's IKE SA" \
			wait_grep "$d/a.log" 'the peer deleted the IKE SA'
		tl_check "$t: no ping after the Delete" \
			not nsping "$A" "$A_IN" "$B_IN" "$d/ping-del.txt"
	fi
	tl_stop "$pa"
}

# ---- (b) different PSKs ----
scenario_badpsk() {
	local t=badpsk d=$TL_TMP/badpsk pa pb
	mkdir -p "$d"
	topo badpsk || { tl_not_ok "$t: topology"; return; }
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" on
	PSK="not-the-same-psk-0123456789abcdef" \
		conf "$d/b.conf" "$B_OUT" "$A_OUT" "$B_NET" "$A_NET" off
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: A's log says authentication failed" \
		wait_grep "$d/a.log" 'authentication failed'
	tl_check "$t: B's log says authentication failed" \
		wait_grep "$d/b.log" 'authentication failed'
	tl_check "$t: no IKE SA ESTABLISHED on A" \
		not sh -c "'$IPSECCTL' -S '$(tl_sock "$A")' status --json | grep -q ESTABLISHED"
	tl_check "$t: no ping A -> B (no tunnel, nothing in clear)" \
		not nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab.txt"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- start = trap, IPv6 inside and outside, responder with %any ----
scenario_trap6() {
	local t=trap-ipv6-any d=$TL_TMP/trap6 pa pb
	local a6=2001:db8:1::10 b6=2001:db8:1::20
	mkdir -p "$d"
	tl_ns A trap6-a && tl_ns B trap6-b &&
		tl_veth "$A" veth0 "$B" veth0 &&
		ip -n "$A" addr add "$a6/64" dev veth0 nodad &&
		ip -n "$B" addr add "$b6/64" dev veth0 nodad &&
		ip -n "$A" addr add 2001:db8:a::1/128 dev lo &&
		ip -n "$B" addr add 2001:db8:b::1/128 dev lo ||
		{ tl_not_ok "$t: topology"; return; }
	conf "$d/a.conf" "$a6" "$b6" 2001:db8:a::/48 2001:db8:b::/48 trap
	# B answers anyone (remote = %any, so any remote ID).
	conf "$d/b.conf" "$b6" %any 2001:db8:b::/48 2001:db8:a::/48 off
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts (start = trap)" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: no IKE SA before traffic" \
		not sh -c "sleep 1; '$IPSECCTL' -S '$(tl_sock "$A")' status --json | grep -q '\"state\"'"
	# The first packets raise an acquire; they are held or dropped.
	ip netns exec "$A" ping -q -c 3 -i 0.3 -W 1 -I 2001:db8:a::1 \
		2001:db8:b::1 >"$d/ping-trigger.txt" 2>&1
	tl_check "$t: traffic started the IKE SA" wait_state "$A" ESTABLISHED
	tl_check "$t: ping A -> B through the tunnel" \
		nsping "$A" 2001:db8:a::1 2001:db8:b::1 "$d/ping-ab.txt"
	tl_check "$t: ping B -> A through the tunnel" \
		nsping "$B" 2001:db8:b::1 2001:db8:a::1 "$d/ping-ba.txt"
	# B accepts any ID; its status names the one A proved.
	ctl "$B" status --json >"$d/b-status.json" 2>&1
	tl_check "$t: B's status: peer_id is A's address, remote_id %any" \
		test "$(jq -r '.ike_sas[0] | "\(.peer_id) \(.remote_id)"' \
			"$d/b-status.json")" = "$a6 %any"
	tl_check "$t: B's text status shows A's ID" \
		grep -q "\.\.\. $a6 \[$a6\]" <(ctl "$B" status)
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- both sides start = on: two IKE SAs, traffic must still flow ----
scenario_both() {
	local t=both-on d=$TL_TMP/both pa pb
	mkdir -p "$d"
	topo both || { tl_not_ok "$t: topology"; return; }
	conf "$d/a.conf" "$A_OUT" "$B_OUT" "$A_NET" "$B_NET" on
	conf "$d/b.conf" "$B_OUT" "$A_OUT" "$B_NET" "$A_NET" on
	tl_check "$t: A starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A has an ESTABLISHED IKE SA" wait_state "$A" ESTABLISHED
	tl_check "$t: B has an ESTABLISHED IKE SA" wait_state "$B" ESTABLISHED
	# A's first IKE_SA_INIT was lost (B not yet up); its retransmission
	# makes a second IKE SA after B's own.
	sleep 2
	tl_check "$t: ping A -> B through the tunnel" \
		nsping "$A" "$A_IN" "$B_IN" "$d/ping-ab.txt"
	tl_check "$t: ping B -> A through the tunnel" \
		nsping "$B" "$B_IN" "$A_IN" "$d/ping-ba.txt"
	tl_stop "$pa"
	tl_stop "$pb"
}

scenario_ike
scenario_both
scenario_trap6
scenario_badpsk
if ss_available; then
	scenario_ss init
	scenario_ss resp
else
	echo "# strongSwan (charon, swanctl) missing: interop skipped"
fi

tl_summary
