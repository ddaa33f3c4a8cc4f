#!/usr/bin/env bash
# The technique families for the teacher-forced agreement benchmark (results/agreement/), fine-tuned
# briefly (40 steps x 16, stage I 10) on the bundled base, a 40-step full fine-tune as the teacher:
# quality is not the point here, agreement of the secure argmax with the float model is. Then runs
# the 20-prompt benchmark on every family in 3pc and 2pc-dealer.
#   bash scripts/agreement_families.sh [OUT_DIR]        (default build/agree; needs data/: scripts/data/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
A="${1:-build/agree}"
M=./build/marill-train
[ -x "$M" ] || bash scripts/build.sh >/dev/null
[ -f data/pretrain.tok ] || bash scripts/data/build.sh
export MARILL_THREADS=2
mkdir -p "$A"
B=models/bundled/tiny
ft() { $M finetune --base "$B/base" --task translate --data data --steps 40 --stage1-steps 10 --batch 16 --seed 1 --quiet "$@"; }
[ -f "$A/full/finetune.json" ] || ft --technique full --out "$A/full"
[ -f "$A/lf/finetune.json" ] || ft --technique lf --teacher "$A/full" --out "$A/lf"
[ -f "$A/lf+hm2/finetune.json" ] || ft --technique lf+hm2 --teacher "$A/lf" --out "$A/lf+hm2"
[ -f "$A/hm2-sim/finetune.json" ] || ft --technique hm2-sim --teacher "$A/full" --out "$A/hm2-sim"
[ -f "$A/lora/finetune.json" ] || ft --technique lora --teacher "$A/full" --out "$A/lora"
[ -f "$A/lf+lora/finetune.json" ] || ft --technique lf+lora --teacher "$A/full" --out "$A/lf+lora"
$M agreement --package "$A/full,$A/lf,$A/lora,$A/hm2-sim,$A/lf+hm2,$A/lf+lora" --data data --task translate --prompts 20 \
  --positions 16 --settings 3pc,2pc-dealer --logits
