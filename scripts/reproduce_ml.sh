#!/usr/bin/env bash
# The MARILL fine-tuning table from scratch, in one command (issue 5): Debian packages, build,
# datasets + tokenizer (checked against scripts/data/manifest.json; newer package versions are a
# warning recorded in results/ml/package_drift.txt), pre-training, every technique
# on both tasks, evaluation, results/ml/table.md. Measured: ~105 min on 2 cores before the budget rule
# (docs/training.md, "Budgets"), which adds ~7 min (one-stage runs train as long as students). Resumes finished
# runs; extra arguments go to `marill train --reproduce` (e.g. --scale small, --force).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/data/build.sh
./build/marill train --reproduce "$@"
# Newer Debian packages than the manifest's (explained drift) are recorded beside the results.
if [ -f data/package_drift.txt ]; then cp data/package_drift.txt results/ml/package_drift.txt; else rm -f results/ml/package_drift.txt; fi
