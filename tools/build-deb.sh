#!/usr/bin/env bash
# Builds the phonehome .deb and prints its path (last line of stdout).
#
#   tools/build-deb.sh                                       # for this machine (x86-64: CI)
#   tools/build-deb.sh --target aarch64-unknown-linux-gnu    # for the Pi (adds --features pi)
#   tools/build-deb.sh --dev                                 # CI: package the test build
#
# `--dev` packages the unoptimised binary `cargo test` already built (stripped, 22 MB): CI
# checks the package's layout and installation without a second, optimised build of the
# whole crate. Packages for a device are always built without it.
# Installs nothing: it needs cargo-deb (`cargo install cargo-deb --locked`), xz and, for
# aarch64, the cross toolchain of README "Cross-building". Steps: unpack the packaged data
# (packaging/data/*.xz → target/deb-data/, checked against packaging/data/SHA256SUMS), build
# the release binary, then `cargo deb --no-build --strip` (the release profile keeps line
# tables for profiling; the Pi gets a stripped binary), which takes the package layout from
# [package.metadata.deb] in Cargo.toml.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: tools/build-deb.sh [--target TRIPLE] [--dev]" >&2; exit 2; }
target=
dev=
while [ $# -gt 0 ]; do
  case "$1" in
    --dev) dev=1; shift ;;
    --target) [ $# -ge 2 ] || usage; target=$2; shift 2 ;;
    --target=*) target=${1#--target=}; shift ;;
    -h|--help) usage ;;
    *) echo "build-deb: unknown argument: $1" >&2; usage ;;
  esac
done

cargo deb --version >/dev/null 2>&1 || {
  echo "build-deb: cargo-deb is missing: cargo install cargo-deb --locked" >&2; exit 1; }
command -v xz >/dev/null || { echo "build-deb: xz is missing: apt-get install xz-utils" >&2; exit 1; }

# 1. Data for /usr/share/phonehome (the asset glob target/deb-data/**/* in Cargo.toml).
data=target/deb-data
rm -rf "$data"
mkdir -p "$data"
(cd packaging/data && find . -name '*.xz' -type f) | sort | while read -r f; do
  out="$data/${f#./}"
  mkdir -p "$(dirname "$out")"
  xz -dc "packaging/data/$f" > "${out%.xz}"
done
(cd "$data" && sha256sum --quiet -c ../../packaging/data/SHA256SUMS) || {
  echo "build-deb: unpacked data does not match packaging/data/SHA256SUMS" >&2; exit 1; }

# 2. The binary. The Pi build drives the LEDs and the OLED: feature `pi`.
build=(cargo build --release --locked)
deb=(cargo deb --no-build --locked --strip)
if [ -n "$dev" ]; then
  build=(cargo build --locked --bin phonehome)
  deb+=(--profile ci-deb)
fi
if [ -n "$target" ]; then
  build+=(--target "$target")
  deb+=(--target "$target")
  case "$target" in aarch64-*|armv7-*|arm-*) build+=(--features pi) ;; esac
fi
echo "build-deb: ${build[*]}" >&2
"${build[@]}" >&2
if [ -n "$dev" ]; then
  # The [profile.ci-deb] folder cargo-deb reads; the binary is the dev build's (see Cargo.toml).
  dir=target/${target:+$target/}
  mkdir -p "${dir}ci-deb"
  cp "${dir}debug/phonehome" "${dir}ci-deb/phonehome"
fi

# 3. The package; cargo-deb prints the path of the .deb on stdout.
echo "build-deb: ${deb[*]}" >&2
path=$("${deb[@]}" | tail -n 1)
[ -f "$path" ] || { echo "build-deb: cargo deb did not report a package file" >&2; exit 1; }
echo "$path"
