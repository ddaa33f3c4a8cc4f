#!/usr/bin/env bash
# The main job from a fresh Debian 12: install what is missing, build, run `marill` on its
# embedded default (the cost table of the secure primitives over the simulated LAN).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/marill "$@"
