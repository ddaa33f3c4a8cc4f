#!/usr/bin/env bash
# The main job from a fresh Debian 12: install what is missing, build, then a secure generation on
# the bundled tiny MARILL model (models/bundled/tiny/lf+hm2: layer freezing f = 1/2 + similar head
# merging m = 2) in 2pc-dealer over the simulated LAN, with its per-token costs, and the same
# generation with the fully fine-tuned package (models/bundled/tiny/full) beside it: the ratio is
# what MARILL saves. Extra arguments go to both generations (e.g. --net wan, --settings 3pc).
# Then the default scenario (scenarios/default.yaml): the whole openllama-3b-v2 at its real shape in
# phantom mode, layer freezing and head merging against full fine-tuning in 3pc and 2pc-dealer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bundled=models/bundled/tiny
prompt="${MARILL_PROMPT:-Voreingestellter Kalender}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for p in lf+hm2 full; do
  echo "=== the $p package"
  ./build/marill generate --package "$bundled/$p" --prompt "$prompt" --task translate --max-new-tokens 8 \
    --settings 2pc-dealer --net lan --dealer-seed 1 --csv "$tmp/$p.csv" "$@"
  echo
done
# Totals over every step and party of each generation (CSV: setting,mode,model,prompt_tokens,step,
# party,online_bytes,offline_bytes,rounds,sim_time_s,cpu_time_s; rounds and simulated time per step).
echo "=== MARILL (lf+hm2) against full fine-tuning: the same generation"
awk -F, '
  FNR == 1 { pkg = (FILENAME ~ /full\.csv$/) ? "full" : "lf+hm2"; next }
  { k = pkg SUBSEP $1; on[k] += $7; off[k] += $8; settings[$1] = 1
    if (!((k SUBSEP $5) in seen)) { seen[k SUBSEP $5] = 1; r[k] += $9; t[k] += $10 } }
  END {
    printf "  %-11s %-7s %14s %14s %8s %9s\n", "setting", "model", "online MB", "offline MB", "rounds", "sim s"
    for (s in settings) {
      m = "lf+hm2" SUBSEP s; f = "full" SUBSEP s
      printf "  %-11s %-7s %14.3f %14.3f %8d %9.3f\n", s, "lf+hm2", on[m] / 1e6, off[m] / 1e6, r[m], t[m]
      printf "  %-11s %-7s %14.3f %14.3f %8d %9.3f\n", s, "full", on[f] / 1e6, off[f] / 1e6, r[f], t[f]
      printf "  %-11s %-7s %13.2fx %13.2fx %7.2fx %8.2fx\n", s, "ratio", on[f] / on[m], (off[m] ? off[f] / off[m] : 0), r[f] / r[m], t[f] / t[m]
    }
  }' "$tmp/lf+hm2.csv" "$tmp/full.csv"
echo
echo "=== the default scenario (scenarios/default.yaml): openllama-3b-v2 shapes, phantom, b = 128"
./build/marill run scenarios/default.yaml --out "$tmp/default.csv"
