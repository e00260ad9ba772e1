#!/usr/bin/env bash
# Runs the x86-64 and the aarch64 (qemu-user) builds of phonehome over the same captures and
# checks that they store exactly the same records: `export --reveal` (every table as JSON
# lines) must be byte-identical. Captures: data/demo.pcap and, when present, every pcap of
# ../shared/corpus/pcaps.
#   tools/compare-aarch64.sh [X86_BIN] [AARCH64_BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
x86=${1:-target/debug/phonehome}
arm=${2:-target/aarch64-unknown-linux-gnu/debug/phonehome}
qemu=(qemu-aarch64 -L /usr/aarch64-linux-gnu)
for need in "$x86" "$arm"; do
  [ -x "$need" ] || { echo "compare-aarch64: $need not built" >&2; exit 1; }
done
command -v qemu-aarch64 >/dev/null || { echo "compare-aarch64: qemu-aarch64 missing (apt-get install qemu-user)" >&2; exit 1; }

pcaps=(data/demo.pcap)
if [ -d ../shared/corpus/pcaps ]; then
  while IFS= read -r f; do pcaps+=("$f"); done < <(find ../shared/corpus/pcaps -name '*.pcap*' | sort)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Same configuration for both: no file on disk is read (built-in indicator and tracker data).
printf '[ioc]\npaths = []\n' > "$work/phonehome.toml"
# A truncated corpus file ends `analyze` with an error (after storing what came before it):
# both builds must then stop the same way.
x86_rc=0; arm_rc=0
"$x86" --config "$work/phonehome.toml" --db "$work/x86.db" analyze "${pcaps[@]}" >/dev/null 2>"$work/x86.err" || x86_rc=$?
"${qemu[@]}" "$arm" --config "$work/phonehome.toml" --db "$work/arm.db" analyze "${pcaps[@]}" >/dev/null 2>"$work/arm.err" || arm_rc=$?
if [ "$x86_rc" != "$arm_rc" ]; then
  echo "compare-aarch64: analyze exited $x86_rc on x86-64 but $arm_rc on aarch64" >&2
  cat "$work/arm.err" >&2
  exit 1
fi
"$x86" --config "$work/phonehome.toml" --db "$work/x86.db" export --reveal > "$work/x86.jsonl"
"${qemu[@]}" "$arm" --config "$work/phonehome.toml" --db "$work/arm.db" export --reveal > "$work/arm.jsonl"
lines=$(wc -l < "$work/x86.jsonl")
if [ "$lines" -eq 0 ]; then
  echo "compare-aarch64: the x86-64 build stored nothing" >&2
  exit 1
fi
if ! cmp -s "$work/x86.jsonl" "$work/arm.jsonl"; then
  echo "compare-aarch64: the aarch64 build stored different records:" >&2
  diff "$work/x86.jsonl" "$work/arm.jsonl" | head -20 >&2
  exit 1
fi
echo "compare-aarch64: ${#pcaps[@]} captures, $lines records, identical on x86-64 and aarch64"
