#!/usr/bin/env bash
# The simulator against a real network (issue 16): one LLaMA block (b = 64, d = 256, 8 heads) in 3pc
# with each party in its own network namespace on the `wan` preset's links (400 Mbit/s by tc tbf,
# 20 ms one way by `marill relay`), wall time against the parties' own simulated time.
# usage: bash scripts/netns_bench.sh [--rate-mbit 400] [--delay-ms 20] [extra point options]
# Three parties share this machine's cores: a party's simulated time counts only its own CPU, its wall
# time also the CPU it waited for, so wall/sim > 1 on a busy 2-core machine is contention, not network.
set -euo pipefail
cd "$(dirname "$0")/.."
NET=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rate-mbit | --delay-ms) NET+=("$1" "$2"); shift 2 ;;
    *) break ;;
  esac
done
OUT=$(mktemp -d /tmp/marill_netns_bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
bash scripts/netns_run.sh --out "$OUT" --timeout-ms 120000 "${NET[@]}" -- \
  --setting 3pc --arch llama --b 64 --d 256 --heads 8 --ffn 688 "$@"
