#!/usr/bin/env bash
# Installs the Debian 12 packages vigie needs to build, test and run.
# Idempotent: when every package is already installed it only runs dpkg-query.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # required libraries
  libsystemd-dev libcgroup-dev prometheus-cpp-dev
  # the /metrics and /healthz server (also a dependency of prometheus-cpp-dev; used directly)
  libcivetweb-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  doctest-dev
  # further libraries, the field's standard ones
  libyaml-cpp-dev libcli11-dev libfmt-dev libspdlog-dev
  libdw-dev libelf-dev libzstd-dev
  # the statically linked vigie-coredump: the compressors libdw.a reads with (libdw-dev brings
  # zlib1g-dev and liblzma-dev, named here because the static link needs their archives)
  libbz2-dev liblzma-dev zlib1g-dev
  # the API's TLS: key and certificate checks at start (libssl-dev); test certificates (openssl)
  libssl-dev openssl
  # containers: the OCI config.json writer (nlohmann-json3-dev, header-only); the OCI runtimes
  # (runc works on hybrid cgroup hosts, crun only on pure v1 or v2 ones); the static inits that
  # `init: true` mounts into a container (tini-static, catatonit)
  nlohmann-json3-dev runc crun tini catatonit
  # tests and style
  clang-format clang-tidy procps busybox-static curl
  # vigie-coredump's crash tests read the cores they store
  elfutils gdb zstd
  # packaging: systemd-analyze, dpkg-shlibdeps and file (CPack), lintian, yamllint. kubectl
  # comes with the machine image (Debian's kubernetes-client conflicts with it)
  systemd dpkg-dev file lintian yamllint python3 python3-yaml adduser
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "init: missing packages: ${missing[*]}" >&2
  echo "init: run 'make init' as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "init: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
