#!/usr/bin/env bash
# Installs the Debian 12 packages marill needs (only what is missing). Run as root (or via sudo).
set -euo pipefail
PKGS=(
  build-essential cmake ninja-build ccache pkg-config git
  libcaf-dev libzmq3-dev cppzmq-dev libcereal-dev
  libtorch-dev libboost-dev libboost-program-options-dev libboost-filesystem-dev
  catch2 libyaml-cpp-dev libssl-dev libsodium-dev
  libsentencepiece-dev sentencepiece
  nlohmann-json3-dev libopenblas0-openmp
  gnuplot-nox
  iproute2                   # scripts/netns_run.sh: ip netns, tc tbf
  clang libclang-rt-14-dev   # scripts/fuzz.sh: libFuzzer with ASan/UBSan
  slurm-wlm munge            # marill run --slurm; the tests start their own daemons
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# While installing, a policy-rc.d that refuses every start (invoke-rc.d and deb-systemd-invoke obey
# it), unless the machine has one already.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# scripts/setup.sh: no daemon starts while packages install\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's munge, slurmctld and slurmd start on install and at boot; the set-up leaves none running
# (tests/core/test_slurm_sweep.cpp starts its own). Only the services of packages installed now.
was_missing() { [[ " ${missing[*]} " == *" $1 "* ]]; }
if [ -d /run/systemd/system ]; then
  if was_missing munge; then $SUDO systemctl disable --now munge >/dev/null 2>&1 || true; fi
  if was_missing slurm-wlm; then $SUDO systemctl disable --now slurmctld slurmd >/dev/null 2>&1 || true; fi
fi
for d in munged slurmctld slurmd; do
  if pidof "$d" >/dev/null; then echo "setup: warning: $d is running (not started by this set-up)" >&2; fi
done
