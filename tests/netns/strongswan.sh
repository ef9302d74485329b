# tests/netns/strongswan.sh - strongSwan charon (kernel-libipsec) as an
# interop peer in a namespace made by lib.sh (source it after lib.sh).
# The idea is bench/peers.sh's: charon hard-codes its pid file under /run,
# so each charon runs in a private mount namespace with its own /run; exec
# keeps the recorded PID equal to charon's, and lib.sh's EXIT trap stops
# it by that PID.  kernel-libipsec does ESP in user space, in UDP only:
# it fakes NAT detection, so the peer sees NAT (IKE on 4500, ESP in UDP).
# shellcheck shell=bash

SS_CHARON=${SS_CHARON:-/usr/lib/ipsec/charon}

ss_available() {
	[ -x "$SS_CHARON" ] && command -v swanctl >/dev/null
}

# ss_ctl DIR ARGS...: swanctl against the charon of DIR.
ss_ctl() {
	local dir=$1
	shift
	STRONGSWAN_CONF=$dir/strongswan.conf swanctl "$@" \
		--uri "unix://$dir/charon.vici"
}

# ss_start NS DIR: run charon in NS with its state in DIR (PID in
# TL_BG_PID, recorded for cleanup).  Waits until vici answers.
# SS_RTX_TRIES, SS_RTX_TIMEOUT, SS_RTX_BASE: charon's retransmit_tries,
# _timeout and _base (3, 4.0 s and 1.8, charon's own defaults but for
# the tries).
ss_start() {
	local ns=$1 dir=$2 i
	mkdir -p "$dir/run"
	cat >"$dir/strongswan.conf" <<-CONF
	charon {
	    load = random nonce openssl pem pkcs1 x509 pubkey curve25519 aes gcm chapoly sha1 sha2 hmac kdf kernel-libipsec kernel-netlink socket-default vici
	    install_virtual_ip = no
	    install_routes = yes
	    routing_table = 220
	    routing_table_prio = 220
	    retransmit_tries = ${SS_RTX_TRIES:-3}
	    retransmit_timeout = ${SS_RTX_TIMEOUT:-4.0}
	    retransmit_base = ${SS_RTX_BASE:-1.8}
	    plugins {
	        vici { socket = unix://$dir/charon.vici }
	    }
	    filelog {
	        test { path = $dir/charon.log
	               flush_line = yes
	               default = 1 }
	    }
	    syslog { daemon { default = -1 } }
	}
	swanctl { load = pem pkcs1 x509 pubkey openssl curve25519 sha1 sha2 random }
	CONF
	tl_bg "$ns" "$dir/charon.out" unshare --mount --propagation private \
		/bin/sh -c \
		'mount --bind "$1" /run && exec env STRONGSWAN_CONF="$2" "$3"' \
		ss "$dir/run" "$dir/strongswan.conf" "$SS_CHARON"
	for i in $(seq 100); do
		ss_ctl "$dir" --stats >/dev/null 2>&1 && return 0
		kill -0 "$TL_BG_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "# charon in $ns did not start" >&2
	return 1
}

# ss_conf DIR LOCAL REMOTE LOCAL_TS REMOTE_TS PSK IKE ESP [CHILD-EXTRA]:
# load one net-to-net PSK connection "gw" (child "net"); IDs are the
# addresses; CHILD-EXTRA is more lines for the child (start_action ...).
ss_conf() {
	cat >"$1/swanctl.conf" <<-CONF
	connections {
	    gw {
	        version = 2
	        local_addrs = $2
	        remote_addrs = $3
	        proposals = $7
	        local { auth = psk
	                id = $2 }
	        remote { auth = psk
	                 id = $3 }
	        children {
	            net {
	                mode = tunnel
	                local_ts = $4
	                remote_ts = $5
	                esp_proposals = $8
	                ${9:-}
	            }
	        }
	    }
	}
	secrets {
	    ike-gw {
	        id-l = $2
	        id-r = $3
	        secret = "$6"
	    }
	}
	CONF
	SWANCTL_DIR=$1 ss_ctl "$1" --load-all --noprompt \
		--file "$1/swanctl.conf" >"$1/load.out" 2>&1
}
