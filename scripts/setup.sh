#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages kconform builds and tests with. Idempotent: when everything
# is present it installs nothing and prints nothing. The CUDA toolkit is not a Debian package here;
# it must already be on the machine (nvcc on PATH or under /usr/local/cuda/bin).
set -euo pipefail

need=(cmake ninja-build g++ libgtest-dev libbenchmark-dev librapidcheck-dev
      clang-format clang-14 libclang-rt-14-dev gnuplot-nox)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
for p in "${need[@]}"; do installed "$p" || missing+=("$p"); done
# Boost.Multiprecision is header-only: any Boost dev package that ships it will do.
if [ ! -f /usr/include/boost/multiprecision/cpp_bin_float.hpp ]; then
  missing+=(BOOST)
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  for i in "${!missing[@]}"; do
    if [ "${missing[$i]}" = BOOST ]; then
      if apt-cache show libboost1.81-dev >/dev/null 2>&1; then missing[$i]=libboost1.81-dev
      else missing[$i]=libboost-dev; fi
    fi
  done
  echo "setup: installing ${missing[*]}"
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v nvcc >/dev/null 2>&1 && [ ! -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: the CUDA toolkit (nvcc) was not found on PATH or in /usr/local/cuda/bin;" \
       "install it first (kconform compiles its kernels even where no GPU is present)" >&2
  exit 1
fi
