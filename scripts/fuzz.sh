#!/usr/bin/env bash
# The libFuzzer target of the decoders of peer bytes (fuzz/: the frame and the ZeroMQ chunk
# reassembly): configures build-fuzz/ with clang, builds, regenerates the seeds from the encoders,
# and fuzzes for SECONDS (default 60) on the committed corpus (fuzz/corpus/frame/) and those seeds.
# Exit status: 0 no crash, 77 clang missing (skipped), otherwise a crash, sanitizer report or violated
# property (the input is left in build-fuzz/artifacts/).
# Usage: scripts/fuzz.sh [SECONDS] [more libFuzzer flags, e.g. -runs=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
if ! [[ $secs =~ ^[0-9]+$ ]]; then
  echo "fuzz.sh: SECONDS must be a whole number of seconds, not '$secs'" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null || ! command -v clang >/dev/null; then
  echo "fuzz.sh: SKIP: clang/clang++ not installed (bash scripts/setup.sh installs them)"
  exit 77
fi
export CC=clang CXX=clang++
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build-fuzz; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "fuzz.sh: building the fuzz target failed" >&2
  exit 1
fi
rm -rf build-fuzz/seeds
mkdir -p build-fuzz/corpus build-fuzz/seeds build-fuzz/artifacts
build-fuzz/make_frame_corpus build-fuzz/seeds
# -malloc_limit_mb: any single allocation above 64 MB is a failure, though peers may announce 16 GiB.
# New inputs go to build-fuzz/corpus (the first directory), never into the committed corpus.
exec build-fuzz/frame_fuzzer -max_total_time="$secs" -malloc_limit_mb=64 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix=build-fuzz/artifacts/ "$@" build-fuzz/corpus fuzz/corpus/frame build-fuzz/seeds
