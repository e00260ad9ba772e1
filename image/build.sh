#!/bin/bash
# image/build.sh --deb PATH [--out phonehome.img] [--size 4G] [--work DIR] [--mirror URL]
#                 [--cache DIR]
#
# Builds a flashable Raspberry Pi (3/4/5/Zero 2 W, 64-bit) SD card image of Debian bookworm
# arm64 with the phonehome package given by --deb. Run as root on Debian/Ubuntu x86-64 or arm64.
#
#   1. mmdebstrap the arm64 root filesystem into WORK/rootfs (foreign architecture through
#      qemu-user-static's binfmt entry; binfmt_misc is mounted if it is not), with the .deb;
#      image/customize.sh then applies the overlay (image/README.md says what it changes).
#   2. Without loop devices or mounts: the FAT32 boot partition (label RASPIFIRM, 256 MiB:
#      firmware, kernel, initrd, DTBs, config.txt, cmdline.txt as raspi-firmware writes them,
#      plus the first-boot phonehome.toml and authorized_keys) is made with mkfs.vfat -C and
#      mcopy, the ext4 root (label RASPIROOT, rest of the image) with mkfs.ext4 -d, and both
#      are written into an MBR-partitioned sparse image file.
# --cache DIR keeps the downloaded .debs between builds (mmdebstrap's sync-in/sync-out hooks).
# Needs: mmdebstrap, qemu-user-static, binfmt-support, dosfstools, mtools, e2fsprogs, fdisk.
set -euo pipefail

usage() {
    echo "usage: $0 --deb PATH [--out phonehome.img] [--size 4G] [--work DIR] [--mirror URL] [--cache DIR]" >&2
    exit 2
}

DEB="" OUT=phonehome.img SIZE=4G WORK="" MIRROR=http://deb.debian.org/debian CACHE=""
while [ $# -gt 0 ]; do
    case $1 in
        --deb) DEB=${2:-}; shift 2 || usage ;;
        --out) OUT=${2:-}; shift 2 || usage ;;
        --size) SIZE=${2:-}; shift 2 || usage ;;
        --work) WORK=${2:-}; shift 2 || usage ;;
        --mirror) MIRROR=${2:-}; shift 2 || usage ;;
        --cache) CACHE=${2:-}; shift 2 || usage ;;
        -h | --help) usage ;;
        *) echo "$0: unknown argument: $1" >&2; usage ;;
    esac
done
[ -n "$DEB" ] || usage
die() { echo "$0: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap root mode, file ownership in the image)"
[ -f "$DEB" ] || die "--deb $DEB: no such file"
dpkg-deb --field "$DEB" Package Architecture | tr '\n' ' ' | grep -q '^Package: phonehome Architecture: arm64' \
    || die "--deb $DEB: not an arm64 phonehome package"
for tool in mmdebstrap mkfs.vfat mcopy mkfs.ext4 sfdisk numfmt; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install mmdebstrap dosfstools mtools e2fsprogs fdisk)"
done

# Partition layout in MiB: 4 MiB reserved (MBR, alignment for SD erase blocks), boot, root.
BOOT_START_MIB=4
BOOT_MIB=256
# Smallest image that holds the root filesystem (~1.2 GiB) with room for logs and updates.
MIN_MIB=2048
size_bytes=$(numfmt --from=iec "$SIZE" 2>/dev/null) || die "--size $SIZE: not a size like 4G or 3500M"
IMG_MIB=$((size_bytes / 1048576))
[ "$IMG_MIB" -ge "$MIN_MIB" ] || die "--size $SIZE: at least ${MIN_MIB}M"
[ "$IMG_MIB" -le 65536 ] || die "--size $SIZE: at most 64G (the card may be larger; first boot grows the root)"
ROOT_START_MIB=$((BOOT_START_MIB + BOOT_MIB))
ROOT_MIB=$((IMG_MIB - ROOT_START_MIB))

if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || die "cannot mount binfmt_misc"
fi
if ! grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 \
        || die "no binfmt entry for arm64 programs: apt-get install qemu-user-static binfmt-support"
fi

HERE=$(cd "$(dirname "$0")" && pwd)
DEB=$(readlink -f "$DEB")
OUT=$(readlink -f "$OUT")
TEMP_WORK=""
if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "$(dirname "$OUT")/phonehome-img.XXXXXX")
    TEMP_WORK=1
fi
mkdir -p "$WORK"
WORK=$(readlink -f "$WORK")

# mmdebstrap bind-mounts /proc, /sys, /dev and the .deb into the root while it installs and
# unmounts them when it ends; a build killed meanwhile leaves them behind, and `rm -rf` over a
# bind-mounted /dev would delete the host's device nodes. So: unmount everything under WORK
# (deepest first) on any exit and before reusing WORK, and never delete a folder that still
# holds a mount.
unmount_work() {
    local m
    findmnt -rn -o TARGET | awk -v w="$WORK/" 'index($0, w) == 1' | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
}
still_mounted() { findmnt -rn -o TARGET | awk -v w="$WORK/" 'index($0, w) == 1' | grep -q .; }
cleanup() {
    unmount_work
    if [ -n "$TEMP_WORK" ] && ! still_mounted; then
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
unmount_work
still_mounted && die "$WORK: mounts left under it that cannot be unmounted; not deleting it"
rm -rf "$WORK/rootfs" "$WORK/firmware" "$WORK/boot.vfat" "$WORK/root.ext4"
start=$(date +%s)
elapsed() { echo "$(($(date +%s) - start)) s"; }

PACKAGES=(
    systemd-sysv udev kmod dbus iproute2 ca-certificates less
    initramfs-tools zstd linux-image-arm64 raspi-firmware firmware-brcm80211 wireless-regdb
    hostapd dnsmasq nftables iw
    openssh-server sudo systemd-timesyncd systemd-resolved avahi-daemon libnss-mdns
    e2fsprogs dosfstools fdisk cloud-guest-utils
)
CACHE_HOOKS=()
if [ -n "$CACHE" ]; then
    mkdir -p "$CACHE"
    CACHE=$(readlink -f "$CACHE")
    # shellcheck disable=SC2016 # $1 is the root folder, expanded by mmdebstrap
    CACHE_HOOKS=(--skip=download/empty --skip=essential/unlink
        --setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
        --setup-hook="sync-in \"$CACHE\" /var/cache/apt/archives/"
        --customize-hook="sync-out /var/cache/apt/archives \"$CACHE\"")
fi
# Under qemu-user every program of the installation is emulated; the slowest is mkinitramfs
# (hundreds of modprobe calls and a compression), which the kernel, firmware and hook-bearing
# packages would each run again. It is diverted to `true` once the essential packages are in,
# and customize.sh puts it back and runs it once. Documentation, manual pages and translations
# are not unpacked (copyright files are: licences); dpkg skips its fsyncs (the image is
# written out at the end anyway).
# shellcheck disable=SC2016 # $1 is the root folder, expanded by mmdebstrap
NO_INITRAMFS='chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && ln -s /bin/true "$1/usr/sbin/update-initramfs"'
echo "== mmdebstrap bookworm arm64 → $WORK/rootfs"
mmdebstrap --mode=root --architectures=arm64 --variant=minbase \
    --components=main,non-free-firmware \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    --include="$DEB" \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --aptopt='Acquire::Languages "none"' \
    --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
    "${CACHE_HOOKS[@]}" \
    --essential-hook="echo \"I: essential packages in after \$((\$(date +%s) - $start)) s\"" \
    --essential-hook="$NO_INITRAMFS" \
    --customize-hook="echo \"I: all packages in after \$((\$(date +%s) - $start)) s\"" \
    --customize-hook="\"$HERE/customize.sh\" \"\$1\"" \
    bookworm "$WORK/rootfs" \
    "deb $MIRROR bookworm main non-free-firmware" \
    "deb $MIRROR bookworm-updates main non-free-firmware" \
    "deb http://security.debian.org/debian-security bookworm-security main non-free-firmware"

echo "== root filesystem done after $(elapsed)"
rm -f "$WORK"/rootfs/var/cache/apt/archives/*.deb
ls "$WORK/rootfs"/boot/firmware/vmlinuz-* "$WORK/rootfs"/boot/firmware/initrd.img-* >/dev/null \
    || die "raspi-firmware left no kernel/initrd in /boot/firmware"

echo "== boot partition (FAT32 RASPIFIRM, ${BOOT_MIB} MiB)"
mv "$WORK/rootfs/boot/firmware" "$WORK/firmware"
install -d -m 0755 "$WORK/rootfs/boot/firmware"
mkfs.vfat -F 32 -n RASPIFIRM -C "$WORK/boot.vfat" $((BOOT_MIB * 1024)) >/dev/null
MTOOLS_SKIP_CHECK=1 mcopy -s -p -Q -i "$WORK/boot.vfat" "$WORK"/firmware/* ::/

echo "== root partition (ext4 RASPIROOT, ${ROOT_MIB} MiB)"
mkfs.ext4 -q -L RASPIROOT -d "$WORK/rootfs" "$WORK/root.ext4" "${ROOT_MIB}M"

echo "== $OUT (${IMG_MIB} MiB, MBR)"
rm -f "$OUT"
truncate -s "${IMG_MIB}M" "$OUT"
sfdisk --quiet "$OUT" <<EOF
label: dos
start=${BOOT_START_MIB}MiB, size=${BOOT_MIB}MiB, type=c, bootable
start=${ROOT_START_MIB}MiB, type=83
EOF
dd if="$WORK/boot.vfat" of="$OUT" bs=1M seek="$BOOT_START_MIB" conv=notrunc,sparse status=none
dd if="$WORK/root.ext4" of="$OUT" bs=1M seek="$ROOT_START_MIB" conv=notrunc,sparse status=none

echo "== done in $(elapsed): $OUT"
echo "   kernel: $(cd "$WORK/firmware" && ls vmlinuz-*)"
echo "   phonehome: $(dpkg-deb --field "$DEB" Version)"
echo "   next: edit phonehome.toml and authorized_keys on the RASPIFIRM partition, then flash"
