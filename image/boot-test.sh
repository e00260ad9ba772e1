#!/bin/bash
# image/boot-test.sh IMG [--timeout SECS] [--work DIR]
#
# Boots a copy of a phonehome image in qemu-system-aarch64 (virt machine, cortex-a72, 1 GiB, no
# Wi-Fi) and checks over the serial console that first boot configured it and that
# phonehome.service is active and `phonehome status` answers. Exit 0 = pass. Run as root.
#
# The copy gets, on its FAT partition, a test phonehome.toml in the default bridge mode (so
# systemd-networkd makes br0 over the virtio NIC eth0, as over the Pi's Ethernet, and phonehome
# captures on br0 as on the Pi; hostapd fails for want of wlan0, which phonehome does not require)
# and a throwaway SSH key; on its root, a test-only unit (phonehome-boot-test.service) that
# prints the results prefixed "BOOT-TEST" to the console and powers off. The kernel and initrd
# are the image's own, taken from its boot partition; the command line is the image's
# root=LABEL=RASPIROOT with the virt machine's console. The image itself is not modified.
# Needs: qemu-system-arm (qemu-system-aarch64), mtools, util-linux, openssh-client.
set -euo pipefail

usage() { echo "usage: $0 IMG [--timeout SECS] [--work DIR]" >&2; exit 2; }
IMG=${1:-}
[ -n "$IMG" ] || usage
shift
# Whole boot under TCG on a shared 2-core host: ~4-6 min measured; the bound stops a hang.
TIMEOUT=1500
WORK=""
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) TIMEOUT=${2:-}; shift 2 || usage ;;
        --work) WORK=${2:-}; shift 2 || usage ;;
        *) usage ;;
    esac
done
die() { echo "$0: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (the test unit is written through a loop mount)"
[ -f "$IMG" ] || die "$IMG: no such file"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout $TIMEOUT: not a number of seconds"
for tool in qemu-system-aarch64 mcopy mdir partx ssh-keygen; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install qemu-system-arm mtools util-linux openssh-client)"
done

if [ -z "$WORK" ]; then
    WORK=$(mktemp -d "$(dirname "$(readlink -f "$IMG")")/phonehome-boot-test.XXXXXX")
fi
mkdir -p "$WORK"
LOG=$WORK/console.log
MNT=$WORK/root
QEMU_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [ -n "$QEMU_PID" ]; then kill "$QEMU_PID" 2>/dev/null || true; fi
    if mountpoint -q "$MNT"; then umount "$MNT"; fi
    rm -f "$WORK/test.img"
}
trap cleanup EXIT
start=$(date +%s)

echo "== copy of $IMG → $WORK/test.img"
cp --sparse=always "$IMG" "$WORK/test.img"
T=$WORK/test.img
boot_off=$(($(partx -g -o START -n 1 "$T") * 512))
root_off=$(($(partx -g -o START -n 2 "$T") * 512))
FAT="$T@@$boot_off"
export MTOOLS_SKIP_CHECK=1

kernel=$(mdir -b -i "$FAT" ::/ | sed -n 's|^::/\(vmlinuz-.*\)$|\1|p' | sort -V | tail -n 1)
initrd=$(mdir -b -i "$FAT" ::/ | sed -n 's|^::/\(initrd.img-.*\)$|\1|p' | sort -V | tail -n 1)
if [ -z "$kernel" ] || [ -z "$initrd" ]; then
    die "no vmlinuz-*/initrd.img-* on the boot partition"
fi
mcopy -o -n -i "$FAT" "::/$kernel" "$WORK/vmlinuz"
mcopy -o -n -i "$FAT" "::/$initrd" "$WORK/initrd.img"
echo "   kernel $kernel, initrd $initrd"

# The test's first-boot settings; the passphrase is a marker the guest greps its journal for.
PASS="boot-test-$RANDOM$RANDOM-secret"
cat >"$WORK/phonehome.toml" <<EOF
[ap]
ssid = "phonehome-boot-test"
passphrase = "$PASS"
country = "DE"
EOF
rm -f "$WORK/key" "$WORK/key.pub"
ssh-keygen -q -t ed25519 -N "" -C boot-test -f "$WORK/key"
mcopy -o -i "$FAT" "$WORK/phonehome.toml" ::/phonehome.toml
mcopy -o -i "$FAT" "$WORK/key.pub" ::/authorized_keys

mkdir -p "$MNT"
mount -o loop,offset="$root_off" "$T" "$MNT"
cat >"$MNT/etc/systemd/system/phonehome-boot-test.service" <<'EOF'
# TEST ONLY (image/boot-test.sh): report first boot and phonehome on the console, power off.
[Unit]
Description=phonehome image boot test report
After=phonehome-firstboot.service ssh.service systemd-networkd.service
[Service]
Type=oneshot
ExecStart=/usr/local/sbin/phonehome-boot-test
StandardOutput=journal+console
StandardError=journal+console
[Install]
WantedBy=multi-user.target
EOF
cat >"$MNT/usr/local/sbin/phonehome-boot-test" <<EOF
#!/bin/bash
PASS='$PASS'
EOF
cat >>"$MNT/usr/local/sbin/phonehome-boot-test" <<'EOF'
r() { echo "BOOT-TEST $*"; }
# phonehome is started by first boot (--no-block), so wait for it rather than order after it.
for _ in $(seq 1 240); do
    st=$(systemctl is-active phonehome.service)
    [ "$st" = active ] && break
    sleep 1
done
sleep 5
st=$(systemctl is-active phonehome.service)
r "phonehome.service: $st (enabled: $(systemctl is-enabled phonehome.service))"
out=$(phonehome status 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/BOOT-TEST status| /'
r "status rc=$rc"
r "firstboot: $(systemctl is-enabled phonehome-firstboot.service) $(systemctl is-active phonehome-firstboot.service)"
r "config: $(stat -c '%U:%G %a' /etc/phonehome/phonehome.toml)"
r "boot partition: $(ls /boot/firmware | grep -E 'phonehome|authorized' | tr '\n' ' ')"
r "admin keys: $(stat -c '%U %a' /home/admin/.ssh/authorized_keys)"
r "host keys: $(ls /etc/ssh/ssh_host_*_key | wc -l)"
r "ssh: $(systemctl is-active ssh.service), avahi: $(systemctl is-active avahi-daemon.service)"
r "hostapd: $(systemctl is-enabled hostapd.service) $(systemctl is-active hostapd.service)"
r "br0: $(ip -br addr show br0 2>&1)"
r "eth0 master: $(ip -o link show eth0 | grep -o 'master [^ ]*')"
r "regdom: $(cat /etc/modprobe.d/phonehome-regdom.conf | grep options)"
r "passphrase lines in the journal: $(journalctl -b -o cat | grep -c -F "$PASS")"
systemctl --failed --no-legend --plain | sed 's/^/BOOT-TEST failed| /'
journalctl -b -o cat -u phonehome-firstboot -u phonehome --no-pager | tail -n 25 \
    | sed 's/^/BOOT-TEST journal| /'
if [ "$st" = active ] && [ "$rc" = 0 ]; then r "RESULT: PASS"; else r "RESULT: FAIL"; fi
systemctl poweroff
EOF
chmod 0755 "$MNT/usr/local/sbin/phonehome-boot-test"
ln -sf /etc/systemd/system/phonehome-boot-test.service \
    "$MNT/etc/systemd/system/multi-user.target.wants/phonehome-boot-test.service"
umount "$MNT"

echo "== qemu-system-aarch64 (TCG), console → $LOG, timeout ${TIMEOUT}s"
: >"$LOG"
qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 -nographic -monitor none \
    -serial "file:$LOG" -no-reboot \
    -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" \
    -append "root=LABEL=RASPIROOT rw rootwait console=ttyAMA0 net.ifnames=0 fsck.repair=yes" \
    -drive "file=$T,format=raw,if=virtio" \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
    </dev/null >"$WORK/qemu.out" 2>&1 &
QEMU_PID=$!
deadline=$((start + TIMEOUT))
while kill -0 "$QEMU_PID" 2>/dev/null; do
    grep -q 'BOOT-TEST RESULT:' "$LOG" && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "== timeout after ${TIMEOUT}s; console tail:"
        tail -n 40 "$LOG"
        exit 1
    fi
    sleep 5
done
# Let the guest finish printing and power off (bounded).
for _ in $(seq 1 24); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 5; done
elapsed=$(($(date +%s) - start))

echo "== guest report (console log: $LOG)"
grep -a 'BOOT-TEST' "$LOG" | tr -d '\r' | sed 's/^.*BOOT-TEST/BOOT-TEST/' || true
fail=0
check() { # check DESCRIPTION PATTERN: the report must hold a line matching PATTERN
    if grep -a -q -E "$2" "$LOG"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
check "phonehome.service active" 'BOOT-TEST phonehome.service: active'
check "phonehome status answers" 'BOOT-TEST status rc=0'
check "first boot disabled itself" 'BOOT-TEST firstboot: disabled'
check "config installed root:phonehome 0640" 'BOOT-TEST config: root:phonehome 640'
check "settings removed from the FAT partition" 'BOOT-TEST boot partition: phonehome-firstboot.done[[:space:]]*$'
check "admin key installed 0600" 'BOOT-TEST admin keys: admin 600'
check "SSH host keys generated" 'BOOT-TEST host keys: [1-9]'
check "sshd active" 'BOOT-TEST ssh: active'
check "br0 over eth0" 'BOOT-TEST eth0 master: master br0'
check "regulatory domain DE" 'ieee80211_regdom=DE'
check "passphrase never in the journal" 'BOOT-TEST passphrase lines in the journal: 0'
if grep -a -q -F "$PASS" "$LOG"; then echo "FAIL passphrase printed on the console"; fail=1; fi
echo "== ${elapsed}s"
[ "$fail" = 0 ] && echo "BOOT TEST PASSED" || echo "BOOT TEST FAILED"
exit "$fail"
