#!/usr/bin/env bash
# Whole-process throughput and memory of `phonehome analyze` on gen_traffic.py captures.
#
# Usage: benches/throughput.sh [--size small|medium|large]... [--data DIR] [--generator PATH]
#                              [--no-build] [--compare]
#   --size       capture size to measure (repeatable; default medium). small = 10k packets,
#                medium = 200k (~148 MB), large = 2M (~1.5 GB, ~2 min to generate).
#   --data       cache directory for generated captures (default target/bench-data)
#   --generator  gen_traffic.py (default $PHONEHOME_GEN_TRAFFIC, else ../shared/bench or
#                /work/shared/bench)
#   --no-build   use the existing target/release/phonehome
#   --compare    also time `tcpdump -r FILE -w /dev/null` and `ndpiReader -i FILE` if installed
#
# For each size: generate the capture if missing (needs python3 with scapy, dpkt, cryptography),
# run `phonehome analyze` on it into a fresh database under /usr/bin/time -v, and print
# packets/s (whole process: packets / wall seconds; and the pipeline figure the command prints),
# peak RSS and records written. Design targets: >= 1 M packets/s, peak RSS <= 64 MB.
# Exits non-zero on any failure (generation, build, analysis, unparsable output).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)

sizes=()
data="$root/target/bench-data"
gen="${PHONEHOME_GEN_TRAFFIC:-}"
build=1
compare=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size) sizes+=("${2:?--size needs a value}"); shift 2 ;;
        --data) data="${2:?--data needs a directory}"; shift 2 ;;
        --generator) gen="${2:?--generator needs a path}"; shift 2 ;;
        --no-build) build=0; shift ;;
        --compare) compare=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "throughput.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(medium)
for s in "${sizes[@]}"; do
    case "$s" in small|medium|large) ;; *) echo "throughput.sh: unknown size $s" >&2; exit 2 ;; esac
done
if [ -z "$gen" ]; then
    for g in "$root/../shared/bench/gen_traffic.py" /work/shared/bench/gen_traffic.py; do
        [ -f "$g" ] && { gen="$g"; break; }
    done
fi
[ -x /usr/bin/time ] || { echo "throughput.sh: /usr/bin/time (GNU time) is required" >&2; exit 1; }
mkdir -p "$data"

if [ "$build" = 1 ]; then
    cargo build --release --bin phonehome
fi
bin="$root/target/release/phonehome"
[ -x "$bin" ] || { echo "throughput.sh: $bin missing (build it or drop --no-build)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# An empty config: defaults, whatever /etc/phonehome holds on this machine.
: > "$work/phonehome.toml"

# field NAME FILE: the value after "NAME: " in GNU time's -v report.
field() { sed -n "s/^[[:space:]]*$1: //p" "$2" | head -n1; }
# wall-clock "h:mm:ss" or "m:ss.ss" to seconds.
to_secs() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }' <<<"$1"; }

for size in "${sizes[@]}"; do
    pcap="$data/$size.pcap"
    if [ ! -s "$pcap" ]; then
        [ -n "$gen" ] && [ -f "$gen" ] || { echo "throughput.sh: gen_traffic.py not found (--generator)" >&2; exit 1; }
        echo "== generating $pcap"
        python3 "$gen" --size "$size" -o "$pcap.tmp"
        mv "$pcap.tmp" "$pcap"
        [ -f "$pcap.tmp.truth.json" ] && mv "$pcap.tmp.truth.json" "$pcap.truth.json"
    fi
    db="$work/$size.db"
    rm -f "$db"*
    echo "== phonehome analyze $pcap ($(du -h "$pcap" | cut -f1))"
    status=0
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$work/time.txt" \
        "$bin" --config "$work/phonehome.toml" --db "$db" analyze "$pcap" 2> "$work/stderr.txt" || status=$?
    t1=$(date +%s%N)
    if [ "$status" != 0 ]; then
        echo "throughput.sh: phonehome analyze failed with status $status:" >&2
        cat "$work/stderr.txt" "$work/time.txt" >&2
        exit 1
    fi
    summary=$(grep '^analyzed ' "$work/stderr.txt" || true)
    # "analyzed N packets (D decoded) in S s (P packets/s), F flows, R records written to DB"
    read -r packets pipe_pps records < <(sed -nE \
        's/^analyzed ([0-9]+) packets .* \(([0-9]+) packets\/s\), [0-9]+ flows, ([0-9]+) records written.*/\1 \2 \3/p' \
        <<<"$summary") || true
    # GNU time's wall clock has 10 ms resolution: too coarse for a 0.1 s run.
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    rss_kb=$(field 'Maximum resident set size (kbytes)' "$work/time.txt")
    cpu=$(field 'Percent of CPU this job got' "$work/time.txt")
    if [ -z "${packets:-}" ] || [ -z "$wall" ] || [ -z "$rss_kb" ]; then
        echo "throughput.sh: could not read the results:" >&2
        cat "$work/stderr.txt" "$work/time.txt" >&2
        exit 1
    fi
    echo "$summary"
    awk -v n="$packets" -v w="$wall" -v p="$pipe_pps" -v r="$rss_kb" -v rec="$records" -v cpu="$cpu" 'BEGIN {
        printf "packets            %d\n", n
        printf "wall               %.3f s (CPU %s)\n", w, cpu
        printf "whole process      %.0f packets/s\n", (w > 0 ? n / w : 0)
        printf "pipeline (printed) %d packets/s\n", p
        printf "peak RSS           %.1f MB (%d kB)\n", r / 1024, r
        printf "records written    %d\n", rec
    }'
    db_kb=$(du -k "$db" | cut -f1)
    echo "database           $((db_kb / 1024)) MB"

    if [ "$compare" = 1 ]; then
        if command -v tcpdump >/dev/null; then
            /usr/bin/time -v -o "$work/td.txt" tcpdump -r "$pcap" -w /dev/null 2>/dev/null
            w=$(to_secs "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$work/td.txt")")
            awk -v n="$packets" -v w="$w" 'BEGIN { printf "tcpdump -w /dev/null  %.0f packets/s\n", (w > 0 ? n / w : 0) }'
        else
            echo "tcpdump            not installed (apt-get install tcpdump)"
        fi
        if command -v ndpiReader >/dev/null; then
            /usr/bin/time -v -o "$work/nd.txt" ndpiReader -i "$pcap" -q >/dev/null 2>&1
            w=$(to_secs "$(field 'Elapsed (wall clock) time (h:mm:ss or m:ss)' "$work/nd.txt")")
            r=$(field 'Maximum resident set size (kbytes)' "$work/nd.txt")
            awk -v n="$packets" -v w="$w" -v r="$r" 'BEGIN { printf "ndpiReader         %.0f packets/s, peak RSS %.1f MB\n", (w > 0 ? n / w : 0), r / 1024 }'
        else
            echo "ndpiReader         not installed (apt-get install libndpi-bin)"
        fi
    fi
done
