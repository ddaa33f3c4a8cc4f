#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12: install what is missing, build, run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j "${MARILL_TEST_JOBS:-2}" "$@"
