#!/bin/bash
# The test runner behind `make check`.  It runs, in order:
#   1. unit tests (cmocka, TAP output), plain build and ASan+UBSan build;
#   2. the ESP/AH known-answer runner over every canonical vector file;
#   3. each libFuzzer target briefly over its corpus;
#   4. the network-namespace tests in tests/netns (root only).
# Every case counts once; the last line is "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export IPSECD_VECTORS=${IPSECD_VECTORS:-$(cd "$ROOT/.." && pwd)/shared/vectors}
FUZZ_CHECK_SECONDS=${FUZZ_CHECK_SECONDS:-4}
LOGDIR=$ROOT/build/test-logs
mkdir -p "$LOGDIR"
pass=0
fail=0
failed_names=()

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); failed_names+=("$1"); echo "FAIL: $1"; }

# Count TAP lines of one log; a program that died without a plan fails too.
count_tap() {
	local name=$1 log=$2 rc=$3 p f
	p=$(grep -cE '^ok [0-9]+' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	pass=$((pass + p))
	fail=$((fail + f))
	grep -E '^not ok [0-9]+' "$log" | sed "s|^|FAIL: $name: |"
	if [ "$f" -gt 0 ]; then failed_names+=("$name"); fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		bad "$name (exit $rc, see $log)"
		tail -n 20 "$log"
	fi
	grep -E '^# (vectors|kat):' "$log" | sed "s|^# |  $name: |"
}

if [ ! -d "$IPSECD_VECTORS" ]; then
	bad "vector folder $IPSECD_VECTORS is missing (shared/ beside the clone)"
fi

echo "== unit tests"
for variant in build build/san; do
	for t in "$variant"/tests/test_*; do
		[ -x "$t" ] || continue
		name=${t#build/}
		log=$LOGDIR/$(echo "$name" | tr / _).log
		CMOCKA_MESSAGE_OUTPUT=TAP \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			"$t" >"$log" 2>&1
		count_tap "$name" "$log" $?
	done
done

echo "== ESP/AH known answers"
for variant in build build/san; do
	kat=$variant/esp-kat
	[ -x "$kat" ] || continue
	for f in "$IPSECD_VECTORS"/esp/*.json; do
		[ -f "$f" ] || continue
		log=$LOGDIR/kat_$(basename "$variant")_$(basename "$f").log
		"$kat" "$f" >"$log" 2>&1
		rc=$?
		line=$(tail -n 1 "$log")
		p=$(echo "$line" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\1/p')
		f2=$(echo "$line" | sed -nE 's/^([0-9]+) passed, ([0-9]+) failed.*/\2/p')
		if [ -z "$p" ]; then
			bad "kat $variant $(basename "$f") (no summary, exit $rc)"
			continue
		fi
		echo "  $variant: $(basename "$f"): $p passed, $f2 failed"
		pass=$((pass + p))
		fail=$((fail + f2))
		if [ "$f2" -gt 0 ] || [ $rc -ne 0 ]; then
			grep -v 'passed,' "$log" | head -20
			failed_names+=("kat $(basename "$f")")
		fi
	done
done

echo "== fuzz targets (${FUZZ_CHECK_SECONDS}s each)"
for fz in build/fuzz/fuzz/fuzz_*; do
	[ -x "$fz" ] || continue
	name=$(basename "$fz")
	corpus=$ROOT/tests/fuzz/corpus/${name#fuzz_}
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
	log=$LOGDIR/$name.log
	if "$fz" -max_total_time="$FUZZ_CHECK_SECONDS" -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix="$LOGDIR/$name-" \
		"$work" >"$log" 2>&1; then
		runs=$(grep -oE '^#[0-9]+[[:space:]]+DONE' "$log" | grep -oE '[0-9]+' | head -1)
		echo "  $name: ${runs:-?} inputs in ${FUZZ_CHECK_SECONDS}s, no crash"
		ok
	else
		bad "fuzz $name (see $log)"
		tail -n 30 "$log"
	fi
	rm -rf "$work"
done

echo "== network namespace tests"
if [ "$(id -u)" -ne 0 ]; then
	bad "netns tests need root"
else
	for t in tests/netns/test_*.sh; do
		[ -f "$t" ] || continue
		name=$(basename "$t" .sh)
		log=$LOGDIR/netns_$name.log
		timeout 600 bash "$t" >"$log" 2>&1
		rc=$?
		p=$(grep -cE '^ok ' "$log")
		f=$(grep -cE '^not ok ' "$log")
		pass=$((pass + p))
		fail=$((fail + f))
		grep -E '^(ok|not ok) ' "$log" | sed "s|^|  $name: |"
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			bad "$name (exit $rc, see $log)"
			tail -n 30 "$log"
		elif [ "$f" -gt 0 ]; then
			failed_names+=("$name")
			tail -n 40 "$log"
		fi
	done
fi

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
