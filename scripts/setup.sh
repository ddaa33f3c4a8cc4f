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
  iproute2
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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
