#!/usr/bin/env bash
# Builds phonehome for the Raspberry Pi (aarch64, 64-bit Raspberry Pi OS) with the `pi`
# feature (rppal GPIO/I2C, SSD1306/SH1106 drivers). Installs nothing: it checks for the Rust
# target and the cross linker and says how to get them.
#   tools/cross-build.sh [--release]
# Output: target/aarch64-unknown-linux-gnu/{debug,release}/phonehome
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=aarch64-unknown-linux-gnu
LINKER=aarch64-linux-gnu-gcc

profile=debug
args=()
for arg in "$@"; do
  case "$arg" in
    --release) profile=release; args+=(--release) ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cross-build: unknown argument '$arg' (usage: tools/cross-build.sh [--release])" >&2; exit 2 ;;
  esac
done

missing=0
if command -v rustup >/dev/null; then
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    echo "cross-build: the Rust target $TARGET is missing: rustup target add $TARGET" >&2
    missing=1
  fi
elif ! rustc --print sysroot >/dev/null 2>&1 || [ ! -d "$(rustc --print sysroot)/lib/rustlib/$TARGET" ]; then
  echo "cross-build: the Rust standard library for $TARGET is missing (no rustup to add it)" >&2
  missing=1
fi
if ! command -v "$LINKER" >/dev/null; then
  echo "cross-build: the linker $LINKER is missing: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross" >&2
  missing=1
fi
[ "$missing" = 0 ] || exit 1

cargo build --locked --target "$TARGET" --features pi ${args[@]+"${args[@]}"}
bin="target/$TARGET/$profile/phonehome"
echo "cross-build: $bin"
if command -v file >/dev/null; then file -b "$bin"; fi
if ! command -v qemu-aarch64 >/dev/null; then
  echo "cross-build: qemu-aarch64 not found (apt-get install qemu-user): cannot run the binary here"
fi
