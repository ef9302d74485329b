#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every libFuzzer target of a build folder over its seed corpus.
#
#   sh tests/fuzz/run.sh BUILD_DIR
#
# Each BUILD_DIR/fuzz/fuzz_NAME runs for FUZZ_SECONDS (default 120) over a
# scratch copy of tests/fuzz/corpus/NAME, so the tracked corpus only
# changes when asked: with FUZZ_MERGE=1 the new interesting inputs are
# merged back (libFuzzer -merge=1 keeps only those adding coverage).
# Any crash, leak, timeout or sanitizer report fails the run; the input
# that caused it is printed (path and hex dump) and kept under
# BUILD_DIR/fuzz-artifacts/.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: sh tests/fuzz/run.sh BUILD_DIR" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${FUZZ_SECONDS:-120}
merge=${FUZZ_MERGE:-0}
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

ran=0
failed=0
failed_names=
for fz in "$build"/fuzz/fuzz_*; do
	[ -f "$fz" ] && [ -x "$fz" ] || continue
	name=$(basename "$fz")
	short=${name#fuzz_}
	corpus=$root/tests/fuzz/corpus/$short
	work=$(mktemp -d "${TMPDIR:-/tmp}/ipsecd-fuzz-$short.XXXXXX")
	if [ -d "$corpus" ]; then
		cp -R "$corpus"/. "$work"/
	else
		echo "$name: no seed corpus at $corpus (starting empty)" >&2
	fi
	log=$artifacts/$name.log
	prefix=$artifacts/$name-
	# Old artifacts would be mistaken for this run's crash.
	rm -f "$prefix"crash-* "$prefix"leak-* "$prefix"timeout-* \
		"$prefix"oom-* "$prefix"slow-unit-*
	ran=$((ran + 1))
	echo "== $name: ${seconds}s over $(ls "$work" | wc -l) seed(s)"
	"$fz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$prefix" \
		"$work" >"$log" 2>&1
	rc=$?
	crash=$(ls "$prefix"crash-* "$prefix"leak-* "$prefix"timeout-* \
		"$prefix"oom-* 2>/dev/null | head -n 1)
	if [ $rc -ne 0 ] || [ -n "$crash" ]; then
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		echo "FAIL: $name exited $rc (log: $log)"
		grep -E 'ERROR|SUMMARY|==[0-9]+==|#[0-9]+ +(pc|0x)' "$log" |
			head -n 30
		if [ -n "$crash" ]; then
			echo "crash file: $crash ($(wc -c <"$crash") bytes)"
			od -A x -t x1z -v "$crash" | head -n 32
			echo "reproduce: $fz $crash"
		fi
		rm -rf "$work"
		continue
	fi
	runs=$(sed -nE 's/^stat::number_of_executed_units: ([0-9]+).*/\1/p' \
		"$log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
	echo "ok: $name: ${runs:-?} runs, ${cov:-cov: ?}"
	if [ "$merge" = 1 ]; then
		mkdir -p "$corpus"
		before=$(ls "$corpus" | wc -l)
		if "$fz" -merge=1 -timeout=10 -rss_limit_mb=2048 \
			"$corpus" "$work" >>"$log" 2>&1; then
			after=$(ls "$corpus" | wc -l)
			echo "   merged: $before -> $after files in $corpus"
		else
			echo "   merge failed (log: $log)" >&2
			failed=$((failed + 1))
			failed_names="$failed_names $name(merge)"
		fi
	fi
	rm -rf "$work"
done

if [ $ran -eq 0 ]; then
	echo "no fuzz targets in $build/fuzz (build with FUZZ=1 fuzz-bin)" >&2
	exit 1
fi
if [ $failed -gt 0 ]; then
	echo "$failed of $ran fuzz target(s) failed:$failed_names"
	exit 1
fi
echo "all $ran fuzz target(s) ran clean"
