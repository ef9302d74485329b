# bench/peers.sh: bring reference peers up between two namespaces (sourced).
# Topology (documentation addresses only):
#   $NS_A: veth 192.0.2.10/24, lo 198.51.100.1/32  (protected 198.51.100.0/24)
#   $NS_B: veth 192.0.2.20/24, lo 203.0.113.1/32   (protected 203.0.113.0/24)
# Every process started here is recorded in PEER_PIDS and stopped by PID.

NS_A=${NS_A:-ipb-a-$$}
NS_B=${NS_B:-ipb-b-$$}
OUTER_A=192.0.2.10
OUTER_B=192.0.2.20
INNER_A=198.51.100.1
INNER_B=203.0.113.1
NET_A=198.51.100.0/24
NET_B=203.0.113.0/24
PEER_PIDS=()
PEER_STATE=${PEER_STATE:-$(mktemp -d /tmp/ipsecd-bench.XXXXXX)}

topo_up() {
	topo_down
	ip netns add "$NS_A"
	ip netns add "$NS_B"
	ip link add veth-a netns "$NS_A" type veth peer name veth-b netns "$NS_B"
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" addr add "$OUTER_A/24" dev veth-a
	ip -n "$NS_B" addr add "$OUTER_B/24" dev veth-b
	ip -n "$NS_A" addr add "$INNER_A/32" dev lo
	ip -n "$NS_B" addr add "$INNER_B/32" dev lo
	ip -n "$NS_A" link set veth-a up
	ip -n "$NS_B" link set veth-b up
	ip netns exec "$NS_A" ping -q -c 1 -W 2 "$OUTER_B" >/dev/null
}

peers_stop() {
	local p i
	for p in "${PEER_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PEER_PIDS[@]}"; do
		for i in $(seq 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PEER_PIDS=()
}

topo_down() {
	peers_stop
	[ -e "/run/netns/$NS_A" ] && ip netns del "$NS_A"
	[ -e "/run/netns/$NS_B" ] && ip netns del "$NS_B"
	return 0
}

# Plaintext: route each protected subnet straight over the veth.
plain_up() {
	ip -n "$NS_A" route add "$NET_B" via "$OUTER_B" src "$INNER_A"
	ip -n "$NS_B" route add "$NET_A" via "$OUTER_A" src "$INNER_B"
}

plain_down() {
	ip -n "$NS_A" route del "$NET_B" 2>/dev/null
	ip -n "$NS_B" route del "$NET_A" 2>/dev/null
	return 0
}

# ---- strongSwan charon with kernel-libipsec (userspace ESP in UDP) ----

# charon hard-codes its pid file under /run, so each one runs in a private
# mount namespace with its own /run; exec keeps $! equal to charon's PID.
ss_start() {
	local ns=$1 dir=$2
	mkdir -p "$dir/run"
	cat >"$dir/strongswan.conf" <<-CONF
	charon {
	    load = random nonce openssl pem pkcs1 x509 pubkey curve25519 aes gcm chapoly sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici
	    install_virtual_ip = no
	    install_routes = yes
	    routing_table = 220
	    routing_table_prio = 220
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
	PEER_PIDS+=($!)
	local i
	for i in $(seq 100); do
		ss_ctl "$dir" --stats >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "charon in $ns did not start" >&2
	return 1
}

ss_ctl() {
	local dir=$1
	shift
	STRONGSWAN_CONF=$dir/strongswan.conf swanctl "$@" \
		--uri "unix://$dir/charon.vici"
}

# ss_conf DIR LOCAL REMOTE LOCAL_TS REMOTE_TS LOCAL_ID REMOTE_ID ESP IKE
ss_conf() {
	cat >"$1/swanctl.conf" <<-CONF
	connections {
	    bench {
	        version = 2
	        local_addrs = $2
	        remote_addrs = $3
	        proposals = $9
	        local { auth = psk
	                id = $6 }
	        remote { auth = psk
	                 id = $7 }
	        children {
	            net {
	                mode = tunnel
	                local_ts = $4
	                remote_ts = $5
	                esp_proposals = $8
	            }
	        }
	    }
	}
	secrets {
	    ike-bench {
	        id-a = $6
	        id-b = $7
	        secret = "bench-psk-not-secret-0123456789"
	    }
	}
	CONF
	SWANCTL_DIR=$1 ss_ctl "$1" --load-all --noprompt --file "$1/swanctl.conf" >/dev/null 2>&1
}

ss_up() {
	local esp=${1:-aes128gcm16} ike=${2:-aes128gcm16-prfsha256-x25519}
	local a=$PEER_STATE/ss-a b=$PEER_STATE/ss-b
	mkdir -p "$a" "$b"
	ss_start "$NS_A" "$a" || return 1
	ss_start "$NS_B" "$b" || return 1
	ss_conf "$a" "$OUTER_A" "$OUTER_B" "$NET_A" "$NET_B" a.bench b.bench \
		"$esp" "$ike" || return 1
	ss_conf "$b" "$OUTER_B" "$OUTER_A" "$NET_B" "$NET_A" b.bench a.bench \
		"$esp" "$ike" || return 1
	ss_ctl "$a" --initiate --child net --timeout 20 >/dev/null
}

# ---- wireguard-go (userspace WireGuard) ----

# wireguard-go keeps its control socket at /run/wireguard/IF.sock, which
# all namespaces share: give the two ends different interface names.
wg_up() {
	local ka kb pa pb i
	ka=$(wg genkey)
	kb=$(wg genkey)
	pa=$(echo "$ka" | wg pubkey)
	pb=$(echo "$kb" | wg pubkey)
	echo "$ka" >"$PEER_STATE/wg-a.key"
	echo "$kb" >"$PEER_STATE/wg-b.key"
	chmod 600 "$PEER_STATE"/wg-*.key
	ip netns exec "$NS_A" env WG_PROCESS_FOREGROUND=1 wireguard-go wgba$$ \
		>"$PEER_STATE/wg-a.log" 2>&1 &
	PEER_PIDS+=($!)
	ip netns exec "$NS_B" env WG_PROCESS_FOREGROUND=1 wireguard-go wgbb$$ \
		>"$PEER_STATE/wg-b.log" 2>&1 &
	PEER_PIDS+=($!)
	for i in $(seq 50); do
		[ -S /run/wireguard/wgba$$.sock ] &&
			[ -S /run/wireguard/wgbb$$.sock ] && break
		sleep 0.1
	done
	ip netns exec "$NS_A" wg set wgba$$ listen-port 51820 \
		private-key "$PEER_STATE/wg-a.key" peer "$pb" \
		endpoint "$OUTER_B:51820" allowed-ips "$NET_B" || return 1
	ip netns exec "$NS_B" wg set wgbb$$ listen-port 51820 \
		private-key "$PEER_STATE/wg-b.key" peer "$pa" \
		endpoint "$OUTER_A:51820" allowed-ips "$NET_A" || return 1
	ip -n "$NS_A" link set wgba$$ mtu 1420 up
	ip -n "$NS_B" link set wgbb$$ mtu 1420 up
	ip -n "$NS_A" route add "$NET_B" dev wgba$$ src "$INNER_A"
	ip -n "$NS_B" route add "$NET_A" dev wgbb$$ src "$INNER_B"
}
