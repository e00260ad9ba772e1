#!/usr/bin/env python3
"""Generate data/trackers.tsv, phonehome's embedded tracker table.

Inputs (see data/README.md for provenance and licences):
  exodus-trackers.json            Exodus Privacy tracker database (ODbL 1.0): tracker name and
                                  `network_signature` (a regex over host names, alternatives
                                  joined with `|`). Descriptions, code signatures, websites and
                                  categories are dropped.
  adaway-hosts.txt                AdAway default hosts list (CC BY 3.0), `127.0.0.1 host` lines
                                  grouped under `# [domain]` comments: the group is the label.
  perflyst-android-tracking.txt   Perflyst Android tracking list (MIT), bare host lines under
                                  `# Section` comments: the section is the label, except the
                                  catch-all "Uncatagorized" section, labelled with the list name.
Nothing under ioc/trackers/../noncommercial/ is read.

Curation (each choice is listed in data/README.md):
  - Exodus alternatives in OVERBROAD are dropped: they name a whole first-party service, so on
    the wire they would flag every Google search, Android connectivity check or Microsoft sign-in
    as a tracker.
  - Trackers whose (curated) signatures are identical are merged into one row whose label lists
    their names: on the network, the SDKs cannot be told apart (e.g. the seven Facebook SDKs).
  - A host listed twice keeps its first label: Perflyst's named sections, then AdAway, then
    Perflyst's catch-all section.

Output: a `#` comment header, then one row per entry, `KIND<TAB>SOURCE<TAB>LABEL<TAB>VALUE`:
  sig   exodus    <tracker name(s)>   <network_signature regex, as published minus OVERBROAD>
  host  adaway    <group domain>      <host name>
  host  perflyst  <section>           <host name>
Signatures keep Exodus id order; hosts keep list order. Anchoring of the signatures to host
names is done by the loader (src/intel/trackers/signature.rs), not here.

Usage: tools/gen-trackers.py [TRACKERS_DIR] [OUTPUT]
  defaults: /work/shared/ioc/trackers  data/trackers.tsv
The output is deterministic: the same inputs give byte-identical files.
"""
import json
import os
import re
import sys

# Exodus alternatives (exact text) that match whole first-party services, not tracker SDKs.
OVERBROAD = {
    r"\.google\.com",  # "Google Ads": every *.google.com host (search, connectivity checks)
    r"login\.microsoftonline\.com",  # "Mobile Engagement": Microsoft account sign-in
    r"management\.azure\.com",  # "Mobile Engagement": Azure management API
}

HOST = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$")
LOCAL_NAMES = {"localhost", "localhost.localdomain", "local", "broadcasthost"}
PERFLYST_CATCH_ALL = "Uncatagorized"
PERFLYST_NAME = "Perflyst Android tracking"


def clean(text: str) -> str:
    """One line of text: control characters and tabs become spaces, runs collapse."""
    text = "".join(" " if (ord(c) < 0x20 or ord(c) == 0x7F) else c for c in text)
    return " ".join(text.split())


def split_alternatives(sig: str):
    """Split a regex on `|` outside escapes, classes and groups."""
    out, cur, depth, in_class, esc = [], [], 0, False, False
    for c in sig:
        if esc:
            cur.append(c)
            esc = False
        elif c == "\\":
            cur.append(c)
            esc = True
        elif in_class:
            cur.append(c)
            in_class = c != "]"
        elif c == "[":
            cur.append(c)
            in_class = True
        elif c == "(":
            depth += 1
            cur.append(c)
        elif c == ")":
            depth -= 1
            cur.append(c)
        elif c == "|" and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    out.append("".join(cur))
    return [a for a in out if a]


def exodus_rows(path: str):
    with open(path, encoding="utf-8") as f:
        trackers = json.load(f)["trackers"]
    by_sig = {}  # curated signature -> [names], in id order
    dropped = []
    for t in sorted(trackers.values(), key=lambda t: int(t["id"])):
        sig = (t.get("network_signature") or "").strip()
        if not sig:
            continue
        alts = split_alternatives(sig)
        kept = [a for a in alts if a not in OVERBROAD]
        dropped += [(t["name"], a) for a in alts if a in OVERBROAD]
        if not kept:
            continue
        by_sig.setdefault("|".join(kept), []).append(clean(t["name"]))
    for name, alt in dropped:
        print(f"dropped over-broad Exodus alternative {alt!r} of {name!r}", file=sys.stderr)
    return [("sig", "exodus", ", ".join(names), sig) for sig, names in by_sig.items()]


def adaway_rows(path: str):
    rows, group = [], "AdAway"
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            m = re.match(r"^#\s*\[([^\]]+)\]\s*$", line)
            if m:
                group = clean(m.group(1))
                continue
            if not line or line.startswith("#"):
                continue
            fields = line.split("#", 1)[0].split()
            for host in fields[1:]:
                host = host.lower().rstrip(".")
                if host in LOCAL_NAMES or not HOST.match(host):
                    continue
                rows.append(("host", "adaway", group, host))
    return rows


def perflyst_rows(path: str):
    named, catch_all, section = [], [], PERFLYST_NAME
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                text = clean(line.lstrip("#"))
                first = text.split(" ", 1)[0] if text else ""
                # "# host.name # why it is commented out" is a disabled entry, not a section.
                if text and "." not in first:
                    section = text
                continue
            if not line:
                continue
            host = line.split("#", 1)[0].strip().lower().rstrip(".")
            if not HOST.match(host):
                continue
            if section == PERFLYST_CATCH_ALL:
                catch_all.append(("host", "perflyst", PERFLYST_NAME, host))
            else:
                named.append(("host", "perflyst", section, host))
    return named, catch_all


def main() -> int:
    src = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/ioc/trackers"
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "trackers.tsv")

    sigs = exodus_rows(os.path.join(src, "exodus-trackers.json"))
    named, catch_all = perflyst_rows(os.path.join(src, "perflyst-android-tracking.txt"))
    adaway = adaway_rows(os.path.join(src, "adaway-hosts.txt"))
    hosts, seen = [], set()
    for row in named + adaway + catch_all:
        if row[3] not in seen:
            seen.add(row[3])
            hosts.append(row)

    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# phonehome tracker table. Generated by tools/gen-trackers.py: do not edit.\n")
        f.write("# Exodus Privacy tracker signatures (ODbL 1.0), AdAway hosts (CC BY 3.0),\n")
        f.write("# Perflyst Android tracking list (MIT): provenance and licences in data/README.md.\n")
        f.write("# This derived database is made available under the ODbL 1.0.\n")
        f.write("# kind\tsource\tlabel\tvalue\n")
        for row in sigs + hosts:
            assert all("\t" not in c and "\n" not in c for c in row), row
            f.write("\t".join(row) + "\n")
    print(f"{out}: {len(sigs)} signature rows, {len(hosts)} host rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
