#!/usr/bin/env bash
# Configures and builds marill into build/ (Release, Ninja, ccache when present).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh  # every script that builds installs what the build needs first (only what is missing)
jobs="${MARILL_JOBS:-$(nproc)}"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build -j "$jobs"
