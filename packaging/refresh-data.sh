#!/usr/bin/env bash
# Refreshes packaging/data/ from the project's reference folder (../shared by default): the
# indicator bundles and geo databases the .deb installs under /usr/share/phonehome/.
# Only redistributable data is taken (see NOTICE): MVT/Amnesty STIX bundles (MIT / CC BY),
# Echap's ioc.yaml and watchware.yaml (CC BY 4.0), ip-location-db's geo files (CC BY 4.0 /
# CC0). Never anything under ioc/noncommercial/. Files are stored xz-compressed to keep the
# repository small; tools/build-deb.sh decompresses them at build time (the loaders read
# plain files). Deterministic: same inputs, same bytes (xz -9 without timestamps).
#
# Usage: packaging/refresh-data.sh [SHARED_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared}
out=packaging/data
for d in "$shared/ioc/mvt" "$shared/ioc/stalkerware-indicators" "$shared/geo"; do
  [ -d "$d" ] || { echo "refresh-data: $d: no such folder" >&2; exit 1; }
done
rm -rf "$out/ioc" "$out/geo"
mkdir -p "$out/ioc/mvt" "$out/ioc/stalkerware-indicators" "$out/geo"
pack() { xz -9 -T1 -c "$1" > "$2.xz"; }
# The STIX bundles MVT downloads (not its indicators.yaml index, which is no indicator file).
for f in "$shared"/ioc/mvt/*.stix2; do
  pack "$f" "$out/ioc/mvt/$(basename "$f")"
done
# Echap: the master list and the watchware list (network.csv, hosts … are derived from them).
for f in ioc.yaml watchware.yaml; do
  pack "$shared/ioc/stalkerware-indicators/$f" "$out/ioc/stalkerware-indicators/$f"
done
for f in geo-whois-asn-country.mmdb asn-ipv4.csv asn-ipv6.csv; do
  pack "$shared/geo/$f" "$out/geo/$f"
done
# Checksums of the decompressed files: build-deb.sh verifies them after unpacking.
(cd "$shared/ioc" && sha256sum mvt/*.stix2 stalkerware-indicators/ioc.yaml \
  stalkerware-indicators/watchware.yaml | sed 's|^\([0-9a-f]*\)  |\1  ioc/|') > "$out/SHA256SUMS"
(cd "$shared/geo" && sha256sum geo-whois-asn-country.mmdb asn-ipv4.csv asn-ipv6.csv \
  | sed 's|^\([0-9a-f]*\)  |\1  geo/|') >> "$out/SHA256SUMS"
du -sh "$out"
