#!/usr/bin/env python3
"""Generate data/ioc/indicators.csv, phonehome's built-in network indicators of compromise.

Inputs (see data/README.md for provenance and licences):
  mvt/*.stix2                        MVT / Amnesty STIX 2.1 bundles (one malware object each)
  stalkerware-indicators/ioc.yaml    Echap stalkerware apps
  stalkerware-indicators/watchware.yaml  Echap watchware apps

Output: Echap's network.csv format, "type,indicator,app", extended with two types that
phonehome's loader (src/intel/ioc/echap.rs) also reads:
  domain   a host name (IP literals and `host/path` values are kept as written; the loader
           classifies them as addresses and URLs)
  ipv4     an IPv4 address        url    a URL        email   an e-mail address
  website  a stalkerware vendor's own site (Echap `websites`), a weaker indicator
`app` is the STIX malware name or the Echap app name. Only what can be seen on a network is
kept: STIX process:name, file:*, app:id … patterns and Echap packages/certificates are not.
Rows are unique and in input order (STIX files sorted by name, then ioc.yaml, watchware.yaml),
so the same inputs give a byte-identical file.

Usage: tools/gen-ioc.py [SHARED_IOC_DIR] [OUTPUT]
  defaults: ../shared/ioc  data/ioc/indicators.csv
"""
import csv
import glob
import io
import json
import os
import re
import sys

import yaml

PATTERN = re.compile(r"^\[([a-z0-9-]+:value)\s*=\s*'((?:[^'\\]|\\.)*)'\]$")
STIX_TYPES = {
    "domain-name:value": "domain",
    "ipv4-addr:value": "ipv4",
    "ipv6-addr:value": "ipv6",
    "url:value": "url",
    "email-addr:value": "email",
}


def stix_rows(path):
    doc = json.load(open(path, encoding="utf-8"))
    malware = [o["name"] for o in doc["objects"] if o["type"] == "malware"]
    if len(malware) != 1:
        sys.exit(f"{path}: expected one malware object, found {len(malware)}")
    for o in doc["objects"]:
        if o["type"] != "indicator":
            continue
        m = PATTERN.match(o["pattern"])
        if m and m.group(1) in STIX_TYPES:
            value = m.group(2).replace("\\'", "'").replace("\\\\", "\\")
            yield STIX_TYPES[m.group(1)], value, malware[0]


def echap_rows(path):
    for app in yaml.safe_load(open(path, encoding="utf-8")):
        name = app["name"]
        c2 = app.get("c2") or {}
        for v in c2.get("domains") or []:
            yield "domain", v, name
        for v in (c2.get("ips") or []) + (c2.get("ip") or []):
            yield "ipv4", v, name
        for v in app.get("distribution") or []:
            yield "domain", v, name
        for v in app.get("websites") or []:
            yield "website", v, name


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "../shared/ioc"
    out = sys.argv[2] if len(sys.argv) > 2 else "data/ioc/indicators.csv"
    rows = []
    for path in sorted(glob.glob(os.path.join(src, "mvt", "*.stix2"))):
        rows.extend(stix_rows(path))
    for name in ("ioc.yaml", "watchware.yaml"):
        rows.extend(echap_rows(os.path.join(src, "stalkerware-indicators", name)))
    seen, unique = set(), []
    for r in rows:
        if r not in seen:
            seen.add(r)
            unique.append(r)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["type", "indicator", "app"])
    w.writerows(unique)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    print(f"{out}: {len(unique)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
