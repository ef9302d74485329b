# SPDX-License-Identifier: MIT
# ipsecd: one non-recursive Makefile for the whole tree.
#
#   make            build build/ipsecd and build/ipsecctl
#   make demo       bring up a tunnel between two ipsecd in namespaces
#   make check      install missing Debian packages, build, run all tests
#   make kat VECTORS=FILE.json   run one canonical ESP/AH vector file
#   make fuzz       run every fuzz target for longer (FUZZ_SECONDS each)
#   make bench      benchmarks against strongSwan, wireguard-go, plaintext;
#                   then make bench-ike (IKEv2 handshake latency and rate)
#                   and make bench-rekey (loss across Child SA rekeys)
#
# Variants live in their own output folder: O=build/san SAN=1 builds with
# AddressSanitizer and UBSan (clang), O=build/fuzz FUZZ=1 with libFuzzer.

O ?= build
PKG_CONFIG ?= pkg-config
VERSION := 0.1.0

ifeq ($(SAN)$(FUZZ),)
CC ?= cc
OPT ?= -O2
else
CC := clang
OPT ?= -O1
endif

CFLAGS ?= $(OPT) -g
CPPFLAGS += -Isrc -D_GNU_SOURCE -DIPSECD_VERSION='"$(VERSION)"' \
	-DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
BASE_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes \
	-fno-strict-aliasing -pthread -MMD -MP
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
endif
ifeq ($(FUZZ),1)
SAN_FLAGS += -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DIPSECD_FUZZING
endif

OPENSSL_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
OPENSSL_LIBS := $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
MNL_LIBS := $(shell $(PKG_CONFIG) --libs libmnl 2>/dev/null || echo -lmnl)
NFT_LIBS := $(shell $(PKG_CONFIG) --libs libnftables 2>/dev/null || echo -lnftables)
TEST_LIBS := $(shell $(PKG_CONFIG) --libs cmocka libcjson 2>/dev/null || echo -lcmocka -lcjson)

ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(SAN_FLAGS) $(OPENSSL_CFLAGS)
LDLIBS_CORE = $(OPENSSL_LIBS) $(MNL_LIBS) $(NFT_LIBS) -lpthread

# Modules: every .c in these folders goes into the core library.
LIB_DIRS := src/common src/crypto src/esp src/dataplane src/ike src/ike/v1 \
	src/config src/ctl
LIB_SRCS := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
DAEMON_SRCS := $(wildcard src/daemon/*.c)
CLI_SRCS := $(wildcard src/cli/*.c)
# tests/unit: test_*.c are programs; other .c files are shared helpers.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_HELPERS := $(filter-out $(UNIT_SRCS),$(wildcard tests/unit/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
KAT_SRCS := $(wildcard tests/kat/*.c)

obj = $(patsubst %.c,$(O)/obj/%.o,$(1))

LIB := $(O)/libipsecd.a
DAEMON := $(O)/ipsecd
CLI := $(O)/ipsecctl
UNIT_BINS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(UNIT_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(O)/fuzz/%,$(FUZZ_SRCS))
UDP_FLOOD := $(O)/udp-flood
KAT_BIN := $(O)/esp-kat

.PHONY: all unit fuzz-bin kat-bin deps check demo kat fuzz bench clean \
	format
.DEFAULT_GOAL := all

all: $(DAEMON) $(CLI)

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRCS))
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(DAEMON): $(call obj,$(DAEMON_SRCS)) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_CORE)

$(CLI): $(call obj,$(CLI_SRCS)) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_CORE) $(shell pkg-config --libs libcjson)

$(O)/tests/%: $(O)/obj/tests/unit/%.o $(call obj,$(UNIT_HELPERS)) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_CORE) $(TEST_LIBS)

$(O)/fuzz/%: $(O)/obj/tests/fuzz/%.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS_CORE)

$(KAT_BIN): $(call obj,$(KAT_SRCS)) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_CORE) $(TEST_LIBS)

unit: $(UNIT_BINS)
ifeq ($(FUZZ),1)
fuzz-bin: $(FUZZ_BINS)
else
fuzz-bin:
	@echo "fuzz targets need the libFuzzer variant: make O=build/fuzz FUZZ=1 fuzz-bin" >&2; exit 2
endif
kat-bin: $(if $(KAT_SRCS),$(KAT_BIN))

deps:
	@sh scripts/deps.sh

# The whole suite: plain build, sanitizer build, fuzz build, then the
# runner, which ends with "N passed, N failed".
check: deps
	$(MAKE) all unit kat-bin
	$(MAKE) O=build/san SAN=1 unit kat-bin
	$(MAKE) O=build/fuzz FUZZ=1 fuzz-bin
	bash tests/run.sh

demo: deps all
	bash scripts/demo.sh

VECTORS ?=
kat: kat-bin
	@test -n "$(VECTORS)" || { echo "usage: make kat VECTORS=FILE.json" >&2; exit 2; }
	$(KAT_BIN) $(VECTORS)

FUZZ_SECONDS ?= 120
fuzz: deps
	$(MAKE) O=build/fuzz FUZZ=1 fuzz-bin
	FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh build/fuzz

bench: all $(UDP_FLOOD)
	sh scripts/deps.sh --bench
	O=$(O) bash bench/run.sh
	$(MAKE) bench-ike
	$(MAKE) bench-rekey

format:
	clang-format -i $(LIB_SRCS) $(DAEMON_SRCS) $(CLI_SRCS) \
		$(wildcard src/*/*.h src/ike/v1/*.h)

clean:
	rm -rf build

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)

# ESP micro-benchmark (bench/esp_micro.c): esp_encap/esp_decap ns/packet.
BENCH_SRCS := bench/esp_micro.c
BENCH_MICRO := $(O)/esp-micro

.PHONY: bench-micro
bench-micro: $(BENCH_MICRO)

$(BENCH_MICRO): $(call obj,$(BENCH_SRCS)) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_CORE)

# The light 64-byte UDP load of bench/run.sh (bench/udp_flood.c).
$(UDP_FLOOD): $(call obj,bench/udp_flood.c)
	$(CC) $(ALL_CFLAGS) -o $@ $^

# IKEv2 handshake latency and rate (bench/ike.sh, bench/ike_load.c): the
# load generator drives struct ike_sa initiators from libipsecd.
IKE_LOAD := $(O)/ike-load

.PHONY: bench-ike
bench-ike: all $(IKE_LOAD)
	sh scripts/deps.sh --bench
	O=$(O) bash bench/ike.sh

$(IKE_LOAD): $(call obj,bench/ike_load.c) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS_CORE)

# Packets lost while Child SAs are rekeyed under an iperf3 UDP stream
# (bench/rekey.sh): ipsecd, ipsecd with PFS, ipsecd -> strongSwan,
# strongSwan, and a no-rekey baseline.  REKEYS=3 for a short run.
.PHONY: bench-rekey
bench-rekey: all
	sh scripts/deps.sh --bench
	O=$(O) bash bench/rekey.sh
