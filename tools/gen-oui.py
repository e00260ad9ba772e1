#!/usr/bin/env python3
"""Generate data/oui.tsv, phonehome's embedded IEEE MAC-prefix vendor table.

Inputs (IEEE Registration Authority public listings, see data/README.md):
  oui-data.json  MA-L / MA-M / MA-S blocks; key = 6, 7 or 9 upper-case hex digits,
                 value = organisation name and postal address joined by "\n".
  ieee-iab.csv   legacy IAB blocks (9 hex digits), absent from oui-data.json.

Output: one line per block, "PREFIX<TAB>NAME\n", PREFIX = upper-case hex (6, 7 or 9
digits), NAME = first line of the organisation (the name only, no address), sorted by
(prefix length, prefix). Names are stripped; control characters and tabs become spaces.
Where an IAB prefix is also in oui-data.json, the JSON (newer) entry wins.

Usage: tools/gen-oui.py [REF_OUI_DIR] [OUTPUT]
  defaults: /work/shared/ref/oui  data/oui.tsv
The output is deterministic: the same inputs give byte-identical files.
"""
import csv
import json
import os
import re
import sys

HEX = re.compile(r"^[0-9A-F]+$")
VALID_LENGTHS = (6, 7, 9)


def clean(name: str) -> str:
    name = "".join(" " if (ord(c) < 0x20 or ord(c) == 0x7F) else c for c in name)
    return " ".join(name.split())


def main() -> int:
    ref = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/ref/oui"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "oui.tsv")

    entries = {}
    skipped = 0
    with open(os.path.join(ref, "ieee-iab.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = row["Assignment"].strip().upper()
            name = clean(row["Organization Name"])
            if len(key) != 9 or not HEX.match(key) or not name:
                skipped += 1
                continue
            entries[key] = name
    with open(os.path.join(ref, "oui-data.json"), encoding="utf-8") as f:
        data = json.load(f)
    for key, value in data.items():
        key = key.strip().upper()
        name = clean(value.split("\n", 1)[0])
        if len(key) not in VALID_LENGTHS or not HEX.match(key) or not name:
            skipped += 1
            continue
        entries[key] = name

    lines = sorted(entries.items(), key=lambda kv: (len(kv[0]), kv[0]))
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        for key, name in lines:
            f.write(f"{key}\t{name}\n")
    counts = {n: sum(1 for k in entries if len(k) == n) for n in VALID_LENGTHS}
    print(f"wrote {out}: {len(lines)} prefixes "
          f"(24-bit {counts[6]}, 28-bit {counts[7]}, 36-bit {counts[9]}), "
          f"skipped {skipped}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
