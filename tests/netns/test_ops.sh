#!/bin/bash
# test_ops.sh - daemon operations (docs/ike.md "Reload", "Privileges",
# "Identities"):
#   reload:  ipsecd A with peers B and C (both ipsecd).  ipsecctl reload
#            adds conn c (it comes up), removes it (Delete to C, route
#            gone), rejects a broken file (file:line logged, old config
#            runs), names [daemon] tun as needing a restart, restarts a
#            changed conn b; the unchanged tunnel b keeps its SPIs and a
#            ping through it loses nothing while c comes and goes;
#            SIGHUP reloads too.
#   shared:  two conns to one peer share an IKE SA; reload removes the
#            one that does not own it (its Child SA goes), adds it back,
#            removes the owner (the IKE SA stays with the other, whose
#            Child SA keeps its SPIs).
#   privs:   A runs as nobody with CapEff = CAP_NET_ADMIN +
#            CAP_DAC_READ_SEARCH, NoNewPrivs; reload still reads a
#            root-only PSK file.
#   perms:   a PSK file readable by others is refused (file:line, chmod
#            600) at start and at reload; -f logs to stderr; an unknown
#            user is refused; user = root keeps uid 0 with a warning.
#   ids:     against strongSwan: FQDN (@gw-a.example) and RFC822
#            (carol@example.org) identities authenticate; a remote_id
#            mismatch fails with "authentication failed" in the log.
# Topology (reload): A veth-b 192.0.2.1/25 - B 192.0.2.2/25,
#   A veth-c 192.0.2.129/25 - C 192.0.2.130/25; inner networks
#   A 203.0.113.0/28, B 203.0.113.16/28, C 203.0.113.32/28 (lo .1/.17/.33).
# Prints TAP-style "ok - ..." / "not ok - ..."; exit status 1 on failure.
# IPSECD and IPSECCTL override the binaries (default build/).
set -u
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/strongswan.sh"
. "$(dirname "$0")/ike_lib.sh"

PSK="ops-test-psk-0123456789abcdef"

# sa NS CONN: "STATE SPI_I SPI_IN SPI_OUT" of CONN's newest IKE SA
# (ESTABLISHED preferred), or nothing.
sa() {
	ctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
best = None
for s in d.get("ike_sas", []):
    if s.get("name") != sys.argv[1]:
        continue
    if best is None or s.get("state") == "ESTABLISHED":
        best = s
if best:
    c = (best.get("child_sas") or [{}])[0]
    print(best.get("state"), best.get("spi_i"), c.get("spi_in", "-"),
          c.get("spi_out", "-"))
' "$2"
}

# kids NS: "IKECONN STATE SPI_I CHILD SPI_IN" per Child SA, sorted.
kids() {
	ctl "$1" status --json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
out = []
for s in d.get("ike_sas", []):
    for c in s.get("child_sas") or []:
        out.append("%s %s %s %s %s" % (s.get("name"), s.get("state"),
                   s.get("spi_i"), c.get("name"), c.get("spi_in")))
print("\n".join(sorted(out)))
' 2>/dev/null
}

# wait_kid NS CHILD: an ESTABLISHED IKE SA carries a Child SA of CHILD.
wait_kid() {
	local i
	for i in $(seq 1 50); do
		kids "$1" | grep -q "^[^ ]* ESTABLISHED [^ ]* $2 0x" && return 0
		sleep 0.2
	done
	return 1
}

# wait_up NS CONN: CONN has an ESTABLISHED IKE SA with a Child SA (10 s).
wait_up() {
	local i s
	for i in $(seq 1 50); do
		s=$(sa "$1" "$2")
		case $s in ESTABLISHED*0x*0x*0x*) return 0 ;; esac
		sleep 0.2
	done
	return 1
}

# conn FILE NAME LOCAL REMOTE LTS RTS START [EXTRA...]: append a [conn].
conn() {
	local f=$1
	{
		printf '\n[conn %s]\nlocal = %s\nremote = %s\n' "$2" "$3" "$4"
		printf 'local_ts = %s\nremote_ts = %s\nstart = %s\n' "$5" "$6" "$7"
		printf 'ike = aes128gcm16-prfsha256-x25519\n'
		shift 7
		printf '%s\n' "$@"
	} >>"$f"
}

# daemon FILE [EXTRA...]: a new file with a [daemon] section, mode 600.
daemon() {
	local f=$1
	shift
	printf '[daemon]\ntun = ipsec0\n' >"$f"
	[ $# -gt 0 ] && printf '%s\n' "$@" >>"$f"
	chmod 600 "$f"
}

# ---- reload and privileges ----
scenario_reload() {
	local t=reload d=$TL_TMP/reload pa pb pc s0 s1 s2 out nob capeff
	mkdir -p "$d"
	tl_ns A ops-rl-a && tl_ns B ops-rl-b && tl_ns C ops-rl-c &&
		tl_veth "$A" veth-b "$B" veth0 &&
		tl_veth "$A" veth-c "$C" veth0 &&
		ip -n "$A" addr add 192.0.2.1/25 dev veth-b &&
		ip -n "$A" addr add 192.0.2.129/25 dev veth-c &&
		ip -n "$B" addr add 192.0.2.2/25 dev veth0 &&
		ip -n "$C" addr add 192.0.2.130/25 dev veth0 &&
		ip -n "$A" addr add 203.0.113.1/32 dev lo &&
		ip -n "$B" addr add 203.0.113.17/32 dev lo &&
		ip -n "$C" addr add 203.0.113.33/32 dev lo ||
		{ tl_not_ok "$t: topology"; return; }
	# C's key is in a root-only file: A reads it at reload as nobody.
	printf '%s-c\n' "$PSK" >"$d/c.psk"
	chmod 600 "$d/c.psk"
	daemon "$d/b.conf"
	conn "$d/b.conf" a 192.0.2.2 192.0.2.1 203.0.113.16/28 \
		203.0.113.0/28 off "psk = $PSK" "esp = aes128gcm16, aes256gcm16"
	daemon "$d/c.conf"
	conn "$d/c.conf" a 192.0.2.130 192.0.2.129 203.0.113.32/28 \
		203.0.113.0/28 off "psk = $PSK-c" "esp = aes128gcm16"
	# A's versions: v1 b; v2 b + c; v3 = v1.
	daemon "$d/v1"
	conn "$d/v1" b 192.0.2.1 192.0.2.2 203.0.113.0/28 203.0.113.16/28 \
		on "psk = $PSK" "esp = aes128gcm16"
	cp "$d/v1" "$d/v2"
	conn "$d/v2" c 192.0.2.129 192.0.2.130 203.0.113.0/28 \
		203.0.113.32/28 on "psk = file:$d/c.psk" "esp = aes128gcm16"
	cp "$d/v1" "$d/a.conf"

	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: C starts" tl_ipsecd "$C" "$d/c.conf" "$d/c.log"
	pc=$TL_BG_PID
	tl_check "$t: A starts with conn b" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: b is up" wait_up "$A" b
	tl_check "$t: ping A -> B" \
		nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping-b1.txt"

	# -- privileges --
	nob=$(id -u nobody)
	tl_check "$t: privs: A runs as nobody ($nob)" \
		grep -Eq "^Uid:[[:space:]]+$nob[[:space:]]+$nob[[:space:]]+$nob" \
		"/proc/$pa/status"
	capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$pa/status")
	tl_check "$t: privs: CapEff is NET_ADMIN + DAC_READ_SEARCH ($capeff)" \
		[ "$capeff" = 0000000000001004 ]
	tl_check "$t: privs: CapBnd is cut to the same" \
		grep -Eq '^CapBnd:[[:space:]]+0000000000001004$' "/proc/$pa/status"
	tl_check "$t: privs: NoNewPrivs is set" \
		grep -Eq '^NoNewPrivs:[[:space:]]+1$' "/proc/$pa/status"
	tl_check "$t: privs: the worker threads run as nobody too" \
		sh -c "! grep -h '^Uid:' /proc/$pa/task/*/status | grep -vq '	$nob	$nob	$nob	$nob'"
	tl_check "$t: privs: the log says so" \
		grep -q "running as user nobody" "$d/a.log"

	s0=$(sa "$A" b)
	# A ping through b for the whole add/remove of c.
	ip netns exec "$A" ping -q -c 70 -i 0.1 -W 1 -I 203.0.113.1 \
		203.0.113.17 >"$d/ping-long.txt" 2>&1 &
	local ping_pid=$!
	TL_PIDS+=("$ping_pid")

	# -- add c --
	cp "$d/v2" "$d/a.conf"
	out=$(ctl "$A" reload 2>&1)
	echo "# reload v2: $out"
	tl_check "$t: add: the reply counts 1 added, 1 unchanged" \
		grep -q "1 added, 0 removed, 0 changed, 1 unchanged" <<<"$out"
	tl_check "$t: add: c comes up (PSK file read as nobody)" wait_up "$A" c
	tl_check "$t: add: ping A -> C" \
		nsping "$A" 203.0.113.1 203.0.113.33 "$d/ping-c1.txt"

	# -- remove c --
	cp "$d/v1" "$d/a.conf"
	out=$(ctl "$A" --json reload 2>&1)
	echo "# reload v1: $(tr -d '\n ' <<<"$out")"
	tl_check "$t: remove: the JSON reply counts 1 removed" \
		grep -q '"removed": *1' <<<"$out"
	tl_check "$t: remove: C gets the Delete" \
		wait_grep "$d/c.log" "the peer deleted the IKE SA"
	tl_check "$t: remove: c is gone from status" \
		[ -z "$(sa "$A" c)" ]
	tl_check "$t: remove: the route to C's network is gone" \
		not sh -c "ip -n '$A' route show table 220 | grep -q 203.0.113.32"
	tl_check "$t: remove: the route to B's network stays" \
		sh -c "ip -n '$A' route show table 220 | grep -q 203.0.113.16"
	tl_check "$t: remove: no ping A -> C" \
		not nsping "$A" 203.0.113.1 203.0.113.33 "$d/ping-c2.txt"

	wait "$ping_pid"
	tl_check "$t: b: ping went on while c came and went ($(grep -o '[0-9]* received' "$d/ping-long.txt"))" \
		grep -q "70 packets transmitted, 70 received" "$d/ping-long.txt"
	s1=$(sa "$A" b)
	tl_check "$t: b: same IKE and ESP SPIs after two reloads ($s1)" \
		[ -n "$s0" -a "$s0" = "$s1" ]

	# -- a broken file changes nothing --
	cp "$d/v2" "$d/a.conf"
	sed -i '$ s/^esp = .*/esp = aes999gcm/' "$d/a.conf"
	local bad=$(wc -l <"$d/a.conf")
	out=$(ctl "$A" reload 2>&1)
	tl_check "$t: broken: reload fails and says nothing changed" \
		grep -q "has errors.*unchanged" <<<"$out"
	tl_check "$t: broken: the log names a.conf:$bad" \
		grep -q "a.conf:$bad: \[conn c\] esp:" "$d/a.log"
	tl_check "$t: broken: c was not added" [ -z "$(sa "$A" c)" ]
	tl_check "$t: broken: b untouched ($(sa "$A" b))" [ "$(sa "$A" b)" = "$s0" ]
	tl_check "$t: broken: ping A -> B" \
		nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping-b2.txt"

	# -- a PSK file others can read is refused at reload --
	cp "$d/v2" "$d/a.conf"
	chmod 644 "$d/c.psk"
	out=$(ctl "$A" reload 2>&1)
	tl_check "$t: perms: reload refuses a PSK file mode 644" \
		grep -q "has errors" <<<"$out"
	tl_check "$t: perms: the log names the line and chmod 600" \
		grep -q "a.conf:[0-9]*: \[conn c\] psk: .*chmod 600" "$d/a.log"
	chmod 600 "$d/c.psk"

	# -- [daemon] settings that need a restart --
	sed 's/^tun = ipsec0$/tun = ipsec9/' "$d/v1" >"$d/a.conf"
	out=$(ctl "$A" reload 2>&1)
	echo "# reload tun: $out"
	tl_check "$t: daemon: reload names [daemon] tun as needing a restart" \
		grep -q "restart to apply: \[daemon\] tun" <<<"$out"
	tl_check "$t: daemon: the TUN device is still ipsec0" \
		sh -c "ip -n '$A' link show ipsec0 >/dev/null"
	tl_check "$t: daemon: b untouched" [ "$(sa "$A" b)" = "$s0" ]

	# -- SIGHUP reloads too --
	cp "$d/v1" "$d/a.conf"
	kill -HUP "$pa"
	tl_check "$t: SIGHUP: reloads and logs the result" \
		wait_grep "$d/a.log" "SIGHUP: reloaded: 0 added, 0 removed, 0 changed, 1 unchanged$"
	tl_check "$t: SIGHUP: b untouched" [ "$(sa "$A" b)" = "$s0" ]

	# -- a changed connection is restarted --
	sed 's/^esp = aes128gcm16$/esp = aes256gcm16/' "$d/v1" >"$d/a.conf"
	out=$(ctl "$A" reload 2>&1)
	tl_check "$t: change: the reply counts 1 changed" \
		grep -q "0 added, 0 removed, 1 changed, 0 unchanged" <<<"$out"
	tl_check "$t: change: b comes up again" wait_up "$A" b
	s2=$(sa "$A" b)
	tl_check "$t: change: new SPIs ($s2)" \
		[ -n "$s2" -a "$s2" != "$s0" ]
	tl_check "$t: change: ping A -> B" \
		nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping-b3.txt"
	tl_check "$t: change: status shows aes256gcm16" \
		sh -c "'$IPSECCTL' -S '$(tl_sock "$A")' status --json | grep -q '\"algorithms\": *\"aes256gcm16\"'"
	tl_stop "$pa"
	tl_stop "$pb"
	tl_stop "$pc"
}

# ---- reload with two connections sharing one IKE SA ----
scenario_shared() {
	local t=shared d=$TL_TMP/shared A B pa pb k0 k1 spi
	mkdir -p "$d"
	tl_ns A ops-sh-a && tl_ns B ops-sh-b &&
		tl_veth "$A" veth0 "$B" veth0 &&
		ip -n "$A" addr add 192.0.2.1/24 dev veth0 &&
		ip -n "$B" addr add 192.0.2.2/24 dev veth0 &&
		ip -n "$A" addr add 203.0.113.1/32 dev lo &&
		ip -n "$A" addr add 203.0.113.2/32 dev lo &&
		ip -n "$B" addr add 203.0.113.17/32 dev lo &&
		ip -n "$B" addr add 203.0.113.18/32 dev lo ||
		{ tl_not_ok "$t: topology"; return; }
	daemon "$d/b.conf"
	conn "$d/b.conf" n1 192.0.2.2 192.0.2.1 203.0.113.17/32 \
		203.0.113.1/32 off "psk = $PSK" "esp = aes128gcm16"
	conn "$d/b.conf" n2 192.0.2.2 192.0.2.1 203.0.113.18/32 \
		203.0.113.2/32 off "psk = $PSK" "esp = aes128gcm16"
	daemon "$d/n1"
	conn "$d/n1" n1 192.0.2.1 192.0.2.2 203.0.113.1/32 \
		203.0.113.17/32 on "psk = $PSK" "esp = aes128gcm16"
	daemon "$d/n2"
	conn "$d/n2" n2 192.0.2.1 192.0.2.2 203.0.113.2/32 \
		203.0.113.18/32 on "psk = $PSK" "esp = aes128gcm16"
	{ cat "$d/n1"; sed 1,2d "$d/n2"; } >"$d/both"
	chmod 600 "$d/both"
	cp "$d/both" "$d/a.conf"
	tl_check "$t: B starts" tl_ipsecd "$B" "$d/b.conf" "$d/b.log"
	pb=$TL_BG_PID
	tl_check "$t: A starts with n1 and n2" \
		tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: n1 is up" wait_kid "$A" n1
	tl_check "$t: n2 is up" wait_kid "$A" n2
	k0=$(kids "$A")
	echo "# $(tr '\n' ';' <<<"$k0")"
	tl_check "$t: one IKE SA carries both" \
		[ "$(awk '$2 == "ESTABLISHED" {print $3}' <<<"$k0" | sort -u |
			wc -l)" -eq 1 ]
	spi=$(awk '$2 == "ESTABLISHED" {print $3; exit}' <<<"$k0")
	# Remove n2: its Child SA goes, the IKE SA and n1 stay.
	cp "$d/n1" "$d/a.conf"
	ctl "$A" reload >"$d/r1.out" 2>&1
	tl_check "$t: remove n2: 1 removed, 1 unchanged" \
		grep -q "0 added, 1 removed, 0 changed, 1 unchanged" "$d/r1.out"
	sleep 1
	k1=$(kids "$A")
	tl_check "$t: remove n2: n1 keeps its IKE and Child SA" \
		[ "$(grep ' n1 ' <<<"$k0")" = "$(grep ' n1 ' <<<"$k1")" ]
	tl_check "$t: remove n2: n2's Child SA is gone" \
		not grep -q ' n2 ' <<<"$k1"
	tl_check "$t: remove n2: ping via n1" \
		nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping1.txt"
	# Back, then remove n1, whose IKE SA n2 now shares: it stays.
	cp "$d/both" "$d/a.conf"
	ctl "$A" reload >"$d/r2.out" 2>&1
	tl_check "$t: add n2 again" wait_kid "$A" n2
	k0=$(kids "$A")
	cp "$d/n2" "$d/a.conf"
	ctl "$A" reload >"$d/r3.out" 2>&1
	tl_check "$t: remove n1: 1 removed" \
		grep -q "0 added, 1 removed, 0 changed, 1 unchanged" "$d/r3.out"
	sleep 1
	k1=$(kids "$A")
	echo "# $(tr '\n' ';' <<<"$k1")"
	tl_check "$t: remove n1: the IKE SA stays with n2 ($spi)" \
		grep -q "^n2 ESTABLISHED $spi n2 " <<<"$k1"
	tl_check "$t: remove n1: n2's Child SA unchanged" \
		[ "$(grep ' n2 0x' <<<"$k0" | cut -d' ' -f3-)" = \
			"$(grep ' n2 0x' <<<"$k1" | cut -d' ' -f3-)" ]
	tl_check "$t: remove n1: ping via n2" \
		nsping "$A" 203.0.113.2 203.0.113.18 "$d/ping2.txt"
	tl_check "$t: remove n1: no ping via n1" \
		not nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping3.txt"
	tl_stop "$pa"
	tl_stop "$pb"
}

# ---- PSK file permissions at start; -f logs to stderr ----
scenario_perms() {
	local t=perms d=$TL_TMP/perms P rc n
	mkdir -p "$d"
	tl_ns P ops-perm || { tl_not_ok "$t: namespace"; return; }
	printf '%s\n' "$PSK" >"$d/k.psk"
	chmod 644 "$d/k.psk"
	daemon "$d/p.conf"
	conn "$d/p.conf" x 192.0.2.1 192.0.2.2 203.0.113.0/28 \
		203.0.113.16/28 off "psk = file:$d/k.psk"
	timeout 10 ip netns exec "$P" "$IPSECD" -f -c "$d/p.conf" \
		-S "$(tl_sock "$P")" >"$d/out" 2>"$d/err"
	rc=$?
	tl_check "$t: ipsecd refuses to start (exit $rc)" [ "$rc" -ne 0 ]
	n=$(grep -n '^psk' "$d/p.conf" | cut -d: -f1)
	tl_check "$t: stderr names p.conf:$n, the key and the fix" \
		grep -q "p.conf:$n: \[conn x\] psk: .*chmod 600" "$d/err"
	tl_check "$t: -f writes nothing to stdout" [ ! -s "$d/out" ]
	# No such user: file:line too.
	chmod 600 "$d/k.psk"
	daemon "$d/u.conf" "user = no-such-user-ops"
	timeout 10 ip netns exec "$P" "$IPSECD" -f -c "$d/u.conf" \
		-S "$(tl_sock "$P")" >/dev/null 2>"$d/err-u"
	tl_check "$t: an unknown [daemon] user is refused with file:line" \
		grep -q "u.conf:3: \[daemon\] user: no user 'no-such-user-ops'" \
		"$d/err-u"
	# user = root keeps root, with a warning.
	daemon "$d/r.conf" "user = root"
	conn "$d/r.conf" x 192.0.2.1 192.0.2.2 203.0.113.0/28 \
		203.0.113.16/28 off "psk = file:$d/k.psk"
	if tl_ipsecd "$P" "$d/r.conf" "$d/r.log"; then
		tl_check "$t: user = root: still uid 0" \
			grep -Eq '^Uid:[[:space:]]+0[[:space:]]' \
			"/proc/$TL_BG_PID/status"
		tl_check "$t: user = root: a warning in the log" \
			grep -q "warn .*running as root with all capabilities" \
			"$d/r.log"
		tl_stop "$TL_BG_PID"
	else
		tl_not_ok "$t: user = root: ipsecd starts"
	fi
}

# ---- identities against strongSwan ----
ss_ids_conf() {
	cat >"$1/swanctl.conf" <<-CONF
	connections {
	    gw {
	        version = 2
	        local_addrs = 192.0.2.20
	        remote_addrs = 192.0.2.10
	        proposals = aes128gcm16-prfsha256-x25519
	        local { auth = psk
	                id = carol@example.org }
	        remote { auth = psk
	                 id = "$2" }
	        children {
	            net {
	                mode = tunnel
	                local_ts = 203.0.113.16/28
	                remote_ts = 203.0.113.0/28
	                esp_proposals = aes128gcm16
	            }
	        }
	    }
	}
	secrets {
	    ike-gw {
	        id-a = carol@example.org
	        id-b = "$2"
	        secret = "$PSK"
	    }
	}
	CONF
	SWANCTL_DIR=$1 ss_ctl "$1" --load-all --noprompt \
		--file "$1/swanctl.conf" >"$1/load.out" 2>&1
}

scenario_ids() {
	local t=ids d=$TL_TMP/ids A B pa
	if ! ss_available; then
		echo "# strongSwan (charon, swanctl) missing: ids skipped"
		return
	fi
	mkdir -p "$d/ss"
	ike_topo ops-id &&
		ip -n "$A" addr add 203.0.113.1/32 dev lo &&
		ip -n "$B" addr add 203.0.113.17/32 dev lo ||
		{ tl_not_ok "$t: topology"; return; }
	tl_check "$t: charon starts" ss_start "$B" "$d/ss"
	tl_check "$t: charon loads carol@example.org <-> gw-a.example" \
		ss_ids_conf "$d/ss" gw-a.example
	daemon "$d/a.conf"
	conn "$d/a.conf" gw 192.0.2.10 192.0.2.20 203.0.113.0/28 \
		203.0.113.16/28 on "psk = $PSK" "esp = aes128gcm16" \
		"local_id = @gw-a.example" "remote_id = carol@example.org"
	tl_check "$t: ipsecd starts" tl_ipsecd "$A" "$d/a.conf" "$d/a.log"
	pa=$TL_BG_PID
	tl_check "$t: FQDN and RFC822 IDs authenticate" wait_up "$A" gw
	ss_ctl "$d/ss" --list-sas >"$d/ss-sas.txt" 2>&1
	tl_check "$t: charon lists local carol@example.org, remote gw-a.example" \
		sh -c "grep -q \"local  *'carol@example.org'\" '$d/ss-sas.txt' &&
			grep -q \"remote  *'gw-a.example'\" '$d/ss-sas.txt'"
	tl_check "$t: status shows the IDs" \
		sh -c "'$IPSECCTL' -S '$(tl_sock "$A")' status --json | grep -q '\"remote_id\": *\"carol@example.org\"'"
	tl_check "$t: ping A -> B" \
		nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping.txt"
	# A remote_id charon does not have: reload restarts the connection,
	# and the authentication fails with a line that says what to check.
	sed -i 's/^remote_id = .*/remote_id = dave@example.org/' "$d/a.conf"
	ctl "$A" reload >"$d/reload.out" 2>&1
	tl_check "$t: mismatch: reload restarts gw" \
		grep -q "1 changed" "$d/reload.out"
	tl_check "$t: mismatch: ipsecd logs authentication failed" \
		wait_grep "$d/a.log" "conn gw: authentication failed with 192.0.2.20.*remote_id"
	tl_check "$t: mismatch: no tunnel ($(sa "$A" gw))" \
		not grep -q ESTABLISHED <<<"$(sa "$A" gw)"
	# KEY_ID in strongSwan's syntax (@#hex) on both sides.
	tl_check "$t: charon loads KEY_ID @#6b65792d61 for ipsecd" \
		ss_ids_conf "$d/ss" "@#6b65792d61"
	sed -i -e 's/^remote_id = .*/remote_id = carol@example.org/' \
		-e 's/^local_id = .*/local_id = @#6b65792d61/' "$d/a.conf"
	ctl "$A" reload >"$d/reload2.out" 2>&1
	tl_check "$t: KEY_ID authenticates" wait_up "$A" gw
	tl_check "$t: KEY_ID: ping A -> B" \
		nsping "$A" 203.0.113.1 203.0.113.17 "$d/ping2.txt"
	tl_stop "$pa"
}

scenario_perms
scenario_reload
scenario_shared
scenario_ids
tl_summary
