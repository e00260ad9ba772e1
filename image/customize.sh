#!/bin/bash
# customize.sh ROOT: mmdebstrap customize hook of image/build.sh (runs on the build host, as
# root, with the arm64 root filesystem at ROOT; `chroot` runs arm64 programs through
# qemu-user-static's binfmt entry).
#
# Installs the overlay (first-boot unit and script, key-only sshd, fstab by label, i2c-dev),
# creates the password-less admin user, disables what only first boot may enable (phonehome,
# hostapd, dnsmasq), deletes the SSH host keys the packages generated (each device makes its
# own at first boot) and has raspi-firmware regenerate config.txt/cmdline.txt for the labelled
# root with I2C on.
set -euo pipefail
ROOT=${1:?usage: customize.sh ROOT}
HERE=$(cd "$(dirname "$0")" && pwd)
OVL=$HERE/overlay

put() { # put MODE PATH: overlay file to the same path in ROOT, owned by root
    install -D -m "$1" -o 0 -g 0 "$OVL/$2" "$ROOT/$2"
}
put 0644 etc/fstab
put 0644 etc/ssh/sshd_config.d/phonehome.conf
put 0644 etc/modules-load.d/phonehome-i2c.conf
put 0440 etc/sudoers.d/phonehome-admin
put 0644 etc/systemd/system/phonehome-firstboot.service
put 0755 usr/local/sbin/phonehome-firstboot
install -d -m 0755 "$ROOT/boot/firmware"
install -m 0644 "$OVL/boot-firmware/phonehome.toml" "$OVL/boot-firmware/authorized_keys" \
    "$ROOT/boot/firmware/"

echo phonehome >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tphonehome\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$ROOT/etc/hosts"

# The admin user logs in with the key installed at first boot; '*' = no password (not
# "locked", which sshd would refuse for keys too when PAM is off). Root has no login at all.
chroot "$ROOT" useradd --create-home --shell /bin/bash --groups sudo,adm,systemd-journal admin
chroot "$ROOT" usermod --password '*' admin
if chroot "$ROOT" getent group phonehome-logs >/dev/null; then
    chroot "$ROOT" usermod --append --groups phonehome-logs admin
fi
chroot "$ROOT" passwd --lock root >/dev/null

rm -f "$ROOT"/etc/ssh/ssh_host_*

# nftables: the routed mode's rules come from /etc/nftables.d (phonehome ap render).
if ! grep -q '^include "/etc/nftables.d/\*.nft"' "$ROOT/etc/nftables.conf"; then
    install -d -m 0755 "$ROOT/etc/nftables.d"
    printf '\ninclude "/etc/nftables.d/*.nft"\n' >>"$ROOT/etc/nftables.conf"
fi

chroot "$ROOT" systemctl enable systemd-networkd.service systemd-resolved.service \
    systemd-timesyncd.service avahi-daemon.service ssh.service phonehome-firstboot.service
chroot "$ROOT" systemctl disable phonehome.service dnsmasq.service hostapd.service \
    nftables.service 2>/dev/null || true
chroot "$ROOT" systemctl mask hostapd.service

# raspi-firmware writes config.txt and cmdline.txt into /boot/firmware from these files.
sed -i 's|^#\?ROOTPART=.*|ROOTPART=LABEL=RASPIROOT|' "$ROOT/etc/default/raspi-firmware"
grep -q '^ROOTPART=LABEL=RASPIROOT$' "$ROOT/etc/default/raspi-firmware"
cat >"$ROOT/etc/default/raspi-firmware-custom" <<'EOF'
# phonehome: I2C bus 1 (GPIO 2/3) for the OLED.
dtparam=i2c_arm=on
EOF
# The one initramfs of the image (build.sh diverted update-initramfs while packages went in);
# its post-update hook and raspi-firmware's postinst copy kernel, initrd and DTBs to
# /boot/firmware.
# Root is ext4 (etc/fstab), but in a chroot the fsck hook cannot probe the device and would
# leave fsck out; with it, the initramfs checks the root file system at every boot, which
# matters on a router that is unplugged rather than shut down.
printf '# phonehome image: see image/customize.sh\nFSTYPE=ext4\n' \
    >"$ROOT/etc/initramfs-tools/conf.d/phonehome-fstype"
if [ -L "$ROOT/usr/sbin/update-initramfs" ]; then
    rm "$ROOT/usr/sbin/update-initramfs"
    chroot "$ROOT" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
fi
for kernel in "$ROOT"/lib/modules/*; do
    t=$(date +%s)
    chroot "$ROOT" update-initramfs -c -k "$(basename "$kernel")"
    echo "I: initramfs for $(basename "$kernel") in $(($(date +%s) - t)) s"
done
chroot "$ROOT" dpkg-reconfigure raspi-firmware
grep -q '^dtparam=i2c_arm=on' "$ROOT/boot/firmware/config.txt"
grep -q 'root=LABEL=RASPIROOT' "$ROOT/boot/firmware/cmdline.txt"
