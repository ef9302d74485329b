#!/bin/sh
# Install the Debian packages ipsecd needs to build and test, and only the
# ones that are missing.  Idempotent: a second run installs nothing.
# --bench also installs what `make bench` compares against.
set -eu

# package: why
PKGS="
build-essential:compiler and make
pkg-config:finds OpenSSL and friends
libssl-dev:OpenSSL 3, all of ipsecd's crypto
libmnl-dev:netlink for routes and addresses
libnftables-dev:kernel drop of inbound cleartext for protected selectors (RFC 4301 5.2)
libcmocka-dev:unit tests
libcjson-dev:reads the known-answer vector files
clang:sanitizer and libFuzzer builds
libclang-rt-14-dev:clang's sanitizer and fuzzer runtimes
iproute2:network namespaces for tests
nftables:NAT and loss in netns tests
tcpdump:wire captures in netns tests
tshark:independent decryption of captured ESP
iputils-ping:traffic through tunnels
python3:test helpers
strongswan-charon:reference peer (charon)
strongswan-swanctl:reference peer control
libcharon-extra-plugins:reference peer userspace ESP (kernel-libipsec)
libstrongswan-extra-plugins:reference peer curve25519 and chapoly
libstrongswan-standard-plugins:reference peer openssl plugin
strongswan-pki:reference peer certificates
iperf3:throughput through tunnels
"
if [ "${1:-}" = "--bench" ]; then
	PKGS="$PKGS
wireguard-go:benchmark peer (userspace WireGuard)
wireguard-tools:configures wireguard-go
openssl:random keys for benchmark configs
"
fi

missing=""
IFS='
'
for line in $PKGS; do
	[ -n "$line" ] || continue
	pkg=${line%%:*}
	why=${line#*:}
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
		grep -q "install ok installed"; then
		continue
	fi
	echo "deps: missing $pkg ($why)"
	missing="$missing $pkg"
done
unset IFS

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: run as root to install:$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
