#!/usr/bin/env bash
# The MARILL fine-tuning table from scratch, in one command (issue 5): Debian packages, build,
# datasets + tokenizer (checked against scripts/data/manifest.json), pre-training, every technique
# on both tasks, evaluation, results/ml/table.md. Measured: ~105 min on 2 cores. Resumes finished
# runs; extra arguments go to `marill train --reproduce` (e.g. --scale small, --force).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/data/build.sh
./build/marill train --reproduce "$@"
