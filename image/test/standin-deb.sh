#!/bin/bash
# image/test/standin-deb.sh AARCH64_BINARY OUT.deb — TEST ONLY.
#
# A minimal stand-in for the real phonehome package (tools/build-deb.sh), so the image and its
# boot test can run before that package exists: the aarch64 binary, the repository's
# systemd/phonehome.service, an empty /etc/phonehome, and a postinst that creates the phonehome
# system user. It has none of the real package's data files. Never ship an image built with it.
set -euo pipefail
BIN=${1:?usage: standin-deb.sh AARCH64_BINARY OUT.deb}
OUT=${2:?usage: standin-deb.sh AARCH64_BINARY OUT.deb}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
file -b "$BIN" | grep -q 'ARM aarch64' || { echo "$0: $BIN is not an aarch64 binary" >&2; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$REPO/Cargo.toml" | head -n 1)

pkg=$(mktemp -d)
trap 'rm -rf "$pkg"' EXIT
install -D -m 0755 "$BIN" "$pkg/usr/bin/phonehome"
install -D -m 0644 "$REPO/systemd/phonehome.service" "$pkg/lib/systemd/system/phonehome.service"
install -d -m 0755 "$pkg/etc/phonehome" "$pkg/DEBIAN"
cat >"$pkg/DEBIAN/control" <<EOF
Package: phonehome
Version: ${version}~standin
Architecture: arm64
Maintainer: phonehome test <test@invalid>
Depends: libc6 (>= 2.34), adduser
Section: net
Priority: optional
Description: phonehome (TEST STAND-IN for the image boot test)
 Binary and unit only; built by image/test/standin-deb.sh.
EOF
cat >"$pkg/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
    getent group phonehome >/dev/null || addgroup --system phonehome
    getent passwd phonehome >/dev/null || adduser --system --ingroup phonehome \
        --home /var/lib/phonehome --no-create-home phonehome
    install -d -m 0750 -o phonehome -g phonehome /var/lib/phonehome
fi
EOF
chmod 0755 "$pkg/DEBIAN/postinst"
dpkg-deb --root-owner-group --build "$pkg" "$OUT" >/dev/null
echo "$OUT"
