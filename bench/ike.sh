#!/bin/bash
# bench/ike.sh: IKEv2 handshake benchmark (make bench-ike; make bench runs
# it after bench/run.sh).  Same two-namespace topology as bench/run.sh
# (bench/peers.sh), IKEv2 with a PSK, aes128gcm16-prfsha256-x25519 for IKE
# and aes128gcm16 for ESP on every side.
#
# 1. Latency on the wire: tcpdump on A's veth; for each IKE SA, the time
#    from its first IKE_SA_INIT request to its IKE_AUTH response (matched
#    by the initiator's SPI), median of IKE_N handshakes, for
#      ipsecd -> ipsecd    (ipsecctl up / down)
#      charon -> charon    (swanctl --initiate / --terminate)
#      ipsecd -> charon    (for interest)
# 2. Rate: build/ike-load (bench/ike_load.c) in A runs many ike_sa
#    initiators against one responder in B (remote = %any) for
#    IKE_LOAD_S seconds with IKE_INFLIGHT exchanges in flight and deletes
#    each IKE SA once ESTABLISHED; handshakes/s and handshakes per
#    responder CPU-second (/proc/PID/stat utime+stime, all threads).
#    Against ipsecd, and against charon.
# Both processes share this machine's cores, so the rate is bounded by the
# load generator too; per core counts only the responder's CPU.
# Nothing asserts on the numbers.  Env: IKE_N (20), IKE_LOAD_S (10),
# IKE_INFLIGHT (8: below the responder's cookie_threshold, 10, and its
# half-open limit, 32), IKE_PARTS (a subset of "lat-ipsecd lat-strongswan
# lat-mixed rate-ipsecd rate-strongswan"), O (build folder, default
# build), OUT.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
NS_A=${NS_A:-ipbike-a-$$}
NS_B=${NS_B:-ipbike-b-$$}
. bench/peers.sh
O=${O:-build}
IPSECD=${IPSECD:-$ROOT/$O/ipsecd}
IPSECCTL=${IPSECCTL:-$ROOT/$O/ipsecctl}
IKE_LOAD=${IKE_LOAD:-$ROOT/$O/ike-load}
IKE_N=${IKE_N:-20}
IKE_LOAD_S=${IKE_LOAD_S:-10}
IKE_INFLIGHT=${IKE_INFLIGHT:-8}
IKE_PARTS=${IKE_PARTS:-lat-ipsecd lat-strongswan lat-mixed rate-ipsecd rate-strongswan}
OUT=${OUT:-$ROOT/$O/bench}
IKE_PROP=aes128gcm16-prfsha256-x25519
ESP_PROP=aes128gcm16
# The secret bench/peers.sh's ss_conf gives charon.
PSK=bench-psk-not-secret-0123456789
mkdir -p "$OUT"
trap 'topo_down; rm -rf "$PEER_STATE"' EXIT
trap 'exit 130' INT TERM

for f in "$IPSECD" "$IPSECCTL" "$IKE_LOAD"; do
	[ -x "$f" ] || { echo "bench-ike: $f missing (make bench-ike)" >&2; exit 1; }
done
for tool in tcpdump swanctl python3; do
	command -v "$tool" >/dev/null || {
		echo "bench-ike: $tool missing; run: sh scripts/deps.sh --bench" >&2
		exit 1
	}
done

# pid_stop PID: stop one process we started and forget it.
pid_stop() {
	local p=$1 i keep=()
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 30); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	for i in "${PEER_PIDS[@]}"; do
		[ "$i" = "$p" ] || keep+=("$i")
	done
	PEER_PIDS=("${keep[@]}")
}

capture_start() {
	ip netns exec "$NS_A" tcpdump -i veth-a -w "$1" -U --immediate-mode -n -s 256 \
		'udp port 500 or udp port 4500' >"$1.log" 2>&1 &
	CAP_PID=$!
	PEER_PIDS+=("$CAP_PID")
	local i
	for i in $(seq 30); do
		grep -q "listening on" "$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
}

# handshake_ms PCAP: per IKE SA (by SPIi), first IKE_SA_INIT request to
# IKE_AUTH response, in ms; prints "n median min max" and the medians of
# three phases: the responder's IKE_SA_INIT turn (request to response),
# the initiator's turn (to its IKE_AUTH request), the responder's
# IKE_AUTH turn.
handshake_ms() {
	python3 - "$1" <<-'PY'
	import struct, sys
	d = open(sys.argv[1], "rb").read()
	magic = struct.unpack("<I", d[:4])[0]
	e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
	scale = 1e-9 if magic in (0xa1b23c4d, 0x4d3cb2a1) else 1e-6
	link = struct.unpack(e + "I", d[20:24])[0]
	off, first, done, ph = 24, {}, {}, {}
	while off + 16 <= len(d):
	    sec, frac, incl, _ = struct.unpack(e + "IIII", d[off:off + 16])
	    p, t = d[off + 16:off + 16 + incl], sec + frac * scale
	    off += 16 + incl
	    if link == 1 and len(p) >= 14 and p[12:14] == b"\x08\x00":
	        ip = p[14:]
	    elif link == 113 and len(p) >= 16 and p[14:16] == b"\x08\x00":
	        ip = p[16:]
	    else:
	        continue
	    if len(ip) < 20 or ip[9] != 17:
	        continue
	    u = ip[(ip[0] & 15) * 4:]
	    if len(u) < 8:
	        continue
	    dport = struct.unpack(">H", u[2:4])[0]
	    sport = struct.unpack(">H", u[0:2])[0]
	    ike = u[8:]
	    if 4500 in (sport, dport):
	        if ike[:4] != b"\0\0\0\0":
	            continue  # ESP in UDP
	        ike = ike[4:]
	    if len(ike) < 28:
	        continue
	    spi, exch, flags = ike[:8], ike[18], ike[19]
	    resp = bool(flags & 0x20)
	    # Phases: IKE_SA_INIT request (last one sent, after any
	    # COOKIE round), its response, IKE_AUTH request, its response.
	    k = ph.setdefault(spi, [None] * 4)
	    if exch == 34 and not resp:
	        first.setdefault(spi, t)
	        k[0] = t
	    elif exch == 34 and k[1] is None:
	        k[1] = t
	    elif exch == 35 and not resp and k[2] is None:
	        k[2] = t
	    elif exch == 35 and resp and spi in first and spi not in done:
	        k[3] = t
	        done[spi] = t - first[spi]
	def med(v):
	    v, n = sorted(v), len(v)
	    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
	v = sorted(x * 1e3 for x in done.values())
	if not v:
	    print("0 - - - - - -")
	else:
	    k = [ph[s] for s in done if None not in ph[s]]
	    out = [len(v), med(v), v[0], v[-1]]
	    for a, b in ((0, 1), (1, 2), (2, 3)):
	        out.append(med([(x[b] - x[a]) * 1e3 for x in k]) if k else 0)
	    print("%d %.3f %.3f %.3f %.3f %.3f %.3f" % tuple(out))
	PY
}

# ipsecd_conf FILE LOCAL REMOTE LTS RTS [EXTRA...]: one [conn] "gw".
ipsecd_conf() {
	local f=$1
	{
		printf '[daemon]\ntun = ipsec0\n\n[conn gw]\n'
		printf 'local = %s\nremote = %s\nauth = psk\npsk = %s\n' \
			"$2" "$3" "$PSK"
		printf 'local_ts = %s\nremote_ts = %s\n' "$4" "$5"
		printf 'ike = %s\nesp = %s\nstart = off\n' "$IKE_PROP" "$ESP_PROP"
		shift 5
		printf '%s\n' "$@"
	} >"$f"
	chmod 600 "$f"
}

# ipsecd_start NS NAME: run ipsecd with $PEER_STATE/NAME.conf; wait until
# its control socket answers.  PID in IPSECD_PID.
ipsecd_start() {
	local i
	ip netns exec "$1" "$IPSECD" -f -c "$PEER_STATE/$2.conf" \
		-S "$PEER_STATE/$2.sock" >"$OUT/ike-$2.log" 2>&1 &
	IPSECD_PID=$!
	PEER_PIDS+=("$IPSECD_PID")
	for i in $(seq 50); do
		"$IPSECCTL" -S "$PEER_STATE/$2.sock" status >/dev/null 2>&1 &&
			return 0
		kill -0 "$IPSECD_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "bench-ike: ipsecd $2 did not start (see $OUT/ike-$2.log)" >&2
	return 1
}

# ctl_wait SOCK PATTERN [invert]: poll ipsecctl status --json (5 s).
ctl_wait() {
	local i
	for i in $(seq 250); do
		if "$IPSECCTL" -S "$1" status --json 2>/dev/null |
			grep -q "\"state\": *\"$2\""; then
			[ -z "${3:-}" ] && return 0
		else
			[ -n "${3:-}" ] && return 0
		fi
		sleep 0.02
	done
	return 1
}

# charon_start NS DIR: like peers.sh's ss_start, but logging only errors
# (as ipsecd logs only a few lines per IKE SA) and with the DoS
# thresholds lifted: every load generator SA comes from one address.
charon_start() {
	local ns=$1 dir=$2 i
	mkdir -p "$dir/run"
	cat >"$dir/strongswan.conf" <<-CONF
	charon {
	    load = random nonce openssl pem pkcs1 x509 pubkey curve25519 aes gcm chapoly sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici
	    install_virtual_ip = no
	    install_routes = yes
	    routing_table = 220
	    routing_table_prio = 220
	    cookie_threshold = 100000
	    block_threshold = 100000
	    plugins {
	        vici { socket = unix://$dir/charon.vici }
	    }
	    filelog {
	        bench { path = $dir/charon.log
	                default = 1 }
	    }
	    syslog { daemon { default = -1 } }
	}
	swanctl { load = pem pkcs1 x509 pubkey openssl curve25519 sha1 sha2 random }
	CONF
	ip netns exec "$ns" unshare --mount --propagation private /bin/sh -c \
		'mount --bind "$1" /run && exec env STRONGSWAN_CONF="$2" /usr/lib/ipsec/charon' \
		ss "$dir/run" "$dir/strongswan.conf" </dev/null >"$dir/charon.out" 2>&1 &
	CHARON_PID=$!
	PEER_PIDS+=("$CHARON_PID")
	for i in $(seq 100); do
		ss_ctl "$dir" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "bench-ike: charon in $ns did not start" >&2
	return 1
}

declare -A LAT
# ---- 1. latency ----
lat_ipsecd() {
	local i pcap=$OUT/ike-lat-ipsecd.pcap
	topo_up
	ipsecd_conf "$PEER_STATE/a.conf" "$OUTER_A" "$OUTER_B" "$NET_A" "$NET_B"
	ipsecd_conf "$PEER_STATE/b.conf" "$OUTER_B" "$OUTER_A" "$NET_B" "$NET_A"
	ipsecd_start "$NS_B" b && ipsecd_start "$NS_A" a || return 1
	capture_start "$pcap"
	for i in $(seq "$IKE_N"); do
		"$IPSECCTL" -S "$PEER_STATE/a.sock" up gw >/dev/null
		ctl_wait "$PEER_STATE/a.sock" ESTABLISHED ||
			echo "bench-ike: ipsecd handshake $i did not finish" >&2
		"$IPSECCTL" -S "$PEER_STATE/a.sock" down gw >/dev/null
		ctl_wait "$PEER_STATE/a.sock" '[A-Z]*' invert
		ctl_wait "$PEER_STATE/b.sock" '[A-Z]*' invert
	done
	sleep 0.2
	pid_stop "$CAP_PID"
	LAT[ipsecd]=$(handshake_ms "$pcap")
	topo_down
}

lat_charon() {
	local i pcap=$OUT/ike-lat-strongswan.pcap a=$PEER_STATE/ss-a
	local b=$PEER_STATE/ss-b
	mkdir -p "$a" "$b"
	topo_up
	charon_start "$NS_A" "$a" && charon_start "$NS_B" "$b" || return 1
	ss_conf "$a" "$OUTER_A" "$OUTER_B" "$NET_A" "$NET_B" a.bench b.bench \
		"$ESP_PROP" "$IKE_PROP" || return 1
	ss_conf "$b" "$OUTER_B" "$OUTER_A" "$NET_B" "$NET_A" b.bench a.bench \
		"$ESP_PROP" "$IKE_PROP" || return 1
	capture_start "$pcap"
	for i in $(seq "$IKE_N"); do
		ss_ctl "$a" --initiate --child net --timeout 10 >>"$OUT/ike-swanctl.out" 2>&1 ||
			echo "bench-ike: charon handshake $i did not finish" >&2
		ss_ctl "$a" --terminate --ike bench --timeout 10 >/dev/null 2>&1
	done
	sleep 0.2
	pid_stop "$CAP_PID"
	LAT[strongswan]=$(handshake_ms "$pcap")
	topo_down
}

lat_mixed() {
	local i pcap=$OUT/ike-lat-mixed.pcap b=$PEER_STATE/ss-b
	mkdir -p "$b"
	topo_up
	charon_start "$NS_B" "$b" || return 1
	ss_conf "$b" "$OUTER_B" "$OUTER_A" "$NET_B" "$NET_A" b.bench a.bench \
		"$ESP_PROP" "$IKE_PROP" || return 1
	ipsecd_conf "$PEER_STATE/a.conf" "$OUTER_A" "$OUTER_B" "$NET_A" \
		"$NET_B" "local_id = a.bench" "remote_id = b.bench"
	ipsecd_start "$NS_A" a || return 1
	capture_start "$pcap"
	for i in $(seq "$IKE_N"); do
		"$IPSECCTL" -S "$PEER_STATE/a.sock" up gw >/dev/null
		ctl_wait "$PEER_STATE/a.sock" ESTABLISHED ||
			echo "bench-ike: ipsecd->charon handshake $i did not finish" >&2
		"$IPSECCTL" -S "$PEER_STATE/a.sock" down gw >/dev/null
		ctl_wait "$PEER_STATE/a.sock" '[A-Z]*' invert
		sleep 0.1
	done
	sleep 0.2
	pid_stop "$CAP_PID"
	LAT[mixed]=$(handshake_ms "$pcap")
	topo_down
}

# ---- 2. rate ----
declare -A RATE
LEFT=
rate_ipsecd() {
	topo_up
	# The responder answers anyone (docs/ike.md: remote = %any).
	ipsecd_conf "$PEER_STATE/b.conf" "$OUTER_B" %any "$NET_B" "$NET_A" \
		"remote_id = %any"
	ipsecd_start "$NS_B" b || return 1
	ip netns exec "$NS_A" "$IKE_LOAD" -l "$OUTER_A" -r "$OUTER_B" \
		-k "$PSK" -a "$NET_A" -b "$NET_B" -I "$IKE_PROP" -E "$ESP_PROP" \
		-n "$IKE_INFLIGHT" -t "$IKE_LOAD_S" -p "$IPSECD_PID" \
		>"$OUT/ike-load-ipsecd.txt" 2>&1
	RATE[ipsecd]=$(grep '^ike-load:' "$OUT/ike-load-ipsecd.txt")
	# What the responder still holds right after the run.
	LEFT=$("$IPSECCTL" -S "$PEER_STATE/b.sock" status --json 2>/dev/null |
		grep -c '"spi_i"')
	topo_down
}

rate_charon() {
	local b=$PEER_STATE/ss-b
	mkdir -p "$b"
	topo_up
	charon_start "$NS_B" "$b" || return 1
	cat >"$b/swanctl.conf" <<-CONF
	connections {
	    load {
	        version = 2
	        local_addrs = $OUTER_B
	        proposals = $IKE_PROP
	        local { auth = psk
	                id = $OUTER_B }
	        remote { auth = psk }
	        children {
	            net {
	                mode = tunnel
	                local_ts = $NET_B
	                remote_ts = $NET_A
	                esp_proposals = $ESP_PROP
	            }
	        }
	    }
	}
	secrets {
	    ike-load { secret = "$PSK" }
	}
	CONF
	SWANCTL_DIR=$b ss_ctl "$b" --load-all --noprompt \
		--file "$b/swanctl.conf" >"$b/load.out" 2>&1 || return 1
	ip netns exec "$NS_A" "$IKE_LOAD" -l "$OUTER_A" -r "$OUTER_B" \
		-k "$PSK" -a "$NET_A" -b "$NET_B" -I "$IKE_PROP" -E "$ESP_PROP" \
		-n "$IKE_INFLIGHT" -t "$IKE_LOAD_S" -p "$CHARON_PID" \
		>"$OUT/ike-load-strongswan.txt" 2>&1
	RATE[strongswan]=$(grep '^ike-load:' "$OUT/ike-load-strongswan.txt")
	topo_down
}

# field LINE NAME: the value after NAME in an ike-load line.
field() {
	echo "$1" | tr ' ' '\n' | sed -n "/^$2\$/{n;p;q}"
}

ratio() {
	python3 -c 'import sys
try: print("%.2f" % (float(sys.argv[1]) / float(sys.argv[2])))
except Exception: print("-")' "$1" "$2"
}

echo "# ipsecd IKE bench $(date -u +%FT%TZ), $(nproc) cores, kernel $(uname -r)"
echo "# IKE $IKE_PROP, ESP $ESP_PROP, PSK; latency: median of $IKE_N;" \
	"rate: ${IKE_LOAD_S}s, $IKE_INFLIGHT in flight"
for part in $IKE_PARTS; do
	case $part in
	lat-ipsecd) lat_ipsecd ;;
	lat-strongswan) lat_charon ;;
	lat-mixed) lat_mixed ;;
	rate-ipsecd) rate_ipsecd ;;
	rate-strongswan) rate_charon ;;
	*) echo "bench-ike: unknown part $part" >&2; false ;;
	esac || echo "bench-ike: $part skipped (logs in $OUT)" >&2
	topo_down
done
echo
echo "IKE_SA_INIT request -> IKE_AUTH response on the wire (ms)"
printf '%-26s %4s %8s %8s %8s | %8s %8s %8s\n' "initiator -> responder" \
	n median min max "R:INIT" "I:turn" "R:AUTH"
for p in ipsecd strongswan mixed; do
	case $p in
	ipsecd) name="ipsecd -> ipsecd" ;;
	strongswan) name="strongSwan -> strongSwan" ;;
	mixed) name="ipsecd -> strongSwan" ;;
	esac
	# shellcheck disable=SC2086
	set -- ${LAT[$p]:-0 - - - - - -}
	printf '%-26s %4s %8s %8s %8s | %8s %8s %8s\n' "$name" "$@"
done
set -- ${LAT[ipsecd]:-0 -}
m_i=$2
set -- ${LAT[strongswan]:-0 -}
m_s=$2
echo "ipsecd / strongSwan median: $(ratio "$m_i" "$m_s")" \
	"(R:INIT, I:turn, R:AUTH: medians of each side's share)"

echo
echo "Handshake rate: one responder, ike-load initiators, each IKE SA deleted when up"
printf '%-12s %10s %10s %10s %9s %9s %10s %10s\n' responder "hs/s" \
	"hs/cpu-s" "resp cpu" failed timeouts "p50 ms" "p99 ms"
for p in ipsecd strongswan; do
	l=${RATE[$p]:-}
	[ -n "$l" ] || { printf '%-12s %10s\n' "$p" -; continue; }
	printf '%-12s %10s %10s %10s %9s %9s %10s %10s\n' "$p" \
		"$(field "$l" rate)" "$(field "$l" per_core)" \
		"$(field "$l" responder_cpu_s)" "$(field "$l" failed)" \
		"$(field "$l" timeouts)" "$(field "$l" p50_ms)" \
		"$(field "$l" p99_ms)"
done
echo "ipsecd responder: ${LEFT:--} IKE SAs listed by ipsecctl status right" \
	"after the run (deleted ones are freed within 1 s)"
