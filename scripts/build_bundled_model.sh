#!/usr/bin/env bash
# Rebuilds the bundled tiny MARILL model (models/bundled/tiny/) from scratch with fixed seeds:
#   base/     the public base: a LLaMA-style decoder (d = 64, 4 layers, 4 heads of dim 16, vocab 4096)
#             pre-trained here on the public corpus of scripts/data/build.sh (HF layout + tokenizer.vocab)
#   full/     its fully fine-tuned package on the translate task (German -> English), the teacher
#   lf+hm2/   the MARILL package: layer freezing f = 1/2 (bottom 2 layers public, run by the client)
#             + similar head merging m = 2 in the 2 private layers, distilled from the LF model
# Packages name their base relative to themselves (../base), so a clone anywhere loads them with
# the SHA-256 check. Every run gets the same step budget (docs/training.md, "Budgets"). Each
# model's eval.json holds `marill eval` on the first 100 held-out translate pairs.
# Measured: ~50 min on this 2-core machine while other builds ran (~4 s a step). Usage:
#   bash scripts/build_bundled_model.sh [--resume] [OUT_DIR]      (default models/bundled/tiny)
# --resume keeps the stages already finished (their pretrain.json / finetune.json / eval.json)
# instead of starting from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
RESUME=0
if [ "${1:-}" = "--resume" ]; then RESUME=1; shift; fi
OUT="${1:-models/bundled/tiny}"
WORK="build/bundled"            # the LF teacher of lf+hm2 (not bundled)
export MARILL_THREADS=2         # fixed thread count: torch's CPU reductions depend on it
SEED=1
PRE_STEPS=400 FT_BATCH=32 BUDGET=150 STAGE1=30 N_EVAL=100

M="${MARILL_BIN:-./build/marill}"  # MARILL_BIN: a built marill (its marill-train beside it)
[ -n "${MARILL_BIN:-}" ] || bash scripts/build.sh >/dev/null
[ -f data/pretrain.tok ] || bash scripts/data/build.sh
say() { echo "bundled: $*"; }
t0=$(date +%s)
[ "$RESUME" = 1 ] || rm -rf "$OUT" "$WORK"
mkdir -p "$OUT" "$WORK"
done_() { [ "$RESUME" = 1 ] && [ -f "$1" ] && say "kept $1 (--resume)"; }

say "pre-training the base (d 64, 4 layers, 4 heads, ${PRE_STEPS} steps x 16 x 128 tokens, seed $SEED) -> $OUT/base"
done_ "$OUT/base/pretrain.json" ||
  $M train --out "$OUT/base" --d-model 64 --layers 4 --heads 4 --seq 128 --batch 16 --steps "$PRE_STEPS" --lr 3e-3 --seed "$SEED"

say "full fine-tuning on translate (${BUDGET} steps x ${FT_BATCH}) -> $OUT/full"
done_ "$OUT/full/finetune.json" ||
  $M finetune --base "$OUT/base" --task translate --technique full --out "$OUT/full" --steps "$BUDGET" --batch "$FT_BATCH" --seed "$SEED"

say "layer freezing f = 1/2 (${BUDGET} steps, logits KD from full) -> $WORK/lf (teacher of lf+hm2)"
done_ "$WORK/lf/finetune.json" ||
  $M finetune --base "$OUT/base" --task translate --technique lf --teacher "$OUT/full" --out "$WORK/lf" \
  --steps "$BUDGET" --batch "$FT_BATCH" --seed "$SEED"

say "lf+hm2 (stage I ${STAGE1} + stage II $((BUDGET - STAGE1)) steps from the LF model) -> $OUT/lf+hm2"
done_ "$OUT/lf+hm2/finetune.json" ||
  $M finetune --base "$OUT/base" --task translate --technique lf+hm2 --teacher "$WORK/lf" --out "$OUT/lf+hm2" \
  --stage1-steps "$STAGE1" --steps "$((BUDGET - STAGE1))" --batch "$FT_BATCH" --seed "$SEED"

for m in base full lf+hm2; do
  say "evaluating $m on the first ${N_EVAL} held-out translate pairs"
  $M eval --model "$OUT/$m" --task translate --n "$N_EVAL" --json "$OUT/$m/eval.json" --dump "$WORK/$m.hyps.jsonl" --quiet
  sed -i "s#\"model\": \".*\"#\"model\": \"$m\"#" "$OUT/$m/eval.json"  # no absolute paths in committed files
done
for p in full lf+hm2; do $M export --package "$OUT/$p" --check-base; done
say "sizes:"; du -sh "$OUT"/*; du -sh "$OUT"
say "a few translations of lf+hm2 (hypothesis <- reference):"
head -5 "$WORK/lf+hm2.hyps.jsonl"
say "done in $(( ($(date +%s) - t0) / 60 )) min"
