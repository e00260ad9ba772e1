#!/usr/bin/env python3
"""Generate data/doh-resolvers.tsv: public encrypted-DNS resolvers (DoH, DoT, DoQ).

Usage: python3 tools/gen-doh.py [REF_DOH_DIR] data/doh-resolvers.tsv

The table below is hand-curated from each provider's own published service names and
addresses (URL per provider). Only *dedicated* resolver addresses are listed: anycast
addresses that serve nothing but DNS (8.8.8.8, 1.1.1.1, 9.9.9.9, ...). CDN front addresses
that also serve websites (e.g. Cloudflare's 104.16.0.0/13 fronts of cloudflare-dns.com) are
left out on purpose: matching them by address would flag ordinary HTTPS.

REF_DOH_DIR (optional, e.g. /work/shared/ref/doh) holds the dibdot/DoH-IP-blocklists files
(doh-domains.txt, doh-ipv4.txt, doh-ipv6.txt). They are GPL-3.0 and are NOT copied: the
script only cross-checks the curated entries against them and prints which ones that list
also knows, so a stale entry is noticed when the data is refreshed.

Output is deterministic (sorted), one line per name or address:
    kind<TAB>value<TAB>resolver<TAB>provider
kind is "name" (a TLS server name, matched exactly) or "addr" (an IPv4/IPv6 address);
resolver is the name reported for an address match.
"""

import ipaddress
import os
import sys

# (provider, documentation URL, names, {address: resolver name})
PROVIDERS = [
    ("Google Public DNS", "https://developers.google.com/speed/public-dns/docs/doh",
     ["dns.google", "dns64.dns.google"],
     {"8.8.8.8": "dns.google", "8.8.4.4": "dns.google",
      "2001:4860:4860::8888": "dns.google", "2001:4860:4860::8844": "dns.google",
      "2001:4860:4860::6464": "dns64.dns.google", "2001:4860:4860::64": "dns64.dns.google"}),
    ("Cloudflare 1.1.1.1", "https://developers.cloudflare.com/1.1.1.1/ip-addresses/",
     ["cloudflare-dns.com", "one.one.one.one", "1dot1dot1dot1.cloudflare-dns.com",
      "mozilla.cloudflare-dns.com", "chrome.cloudflare-dns.com",
      "security.cloudflare-dns.com", "family.cloudflare-dns.com"],
     {"1.1.1.1": "one.one.one.one", "1.0.0.1": "one.one.one.one",
      "2606:4700:4700::1111": "one.one.one.one", "2606:4700:4700::1001": "one.one.one.one",
      "1.1.1.2": "security.cloudflare-dns.com", "1.0.0.2": "security.cloudflare-dns.com",
      "2606:4700:4700::1112": "security.cloudflare-dns.com",
      "2606:4700:4700::1002": "security.cloudflare-dns.com",
      "1.1.1.3": "family.cloudflare-dns.com", "1.0.0.3": "family.cloudflare-dns.com",
      "2606:4700:4700::1113": "family.cloudflare-dns.com",
      "2606:4700:4700::1003": "family.cloudflare-dns.com"}),
    ("Quad9", "https://www.quad9.net/service/service-addresses-and-features",
     ["dns.quad9.net", "dns9.quad9.net", "dns10.quad9.net", "dns11.quad9.net"],
     {"9.9.9.9": "dns.quad9.net", "149.112.112.112": "dns.quad9.net",
      "2620:fe::fe": "dns.quad9.net", "2620:fe::9": "dns.quad9.net",
      "149.112.112.9": "dns9.quad9.net",
      "9.9.9.10": "dns10.quad9.net", "149.112.112.10": "dns10.quad9.net",
      "2620:fe::10": "dns10.quad9.net", "2620:fe::fe:10": "dns10.quad9.net",
      "9.9.9.11": "dns11.quad9.net", "149.112.112.11": "dns11.quad9.net",
      "2620:fe::11": "dns11.quad9.net", "2620:fe::fe:11": "dns11.quad9.net"}),
    ("AdGuard DNS", "https://adguard-dns.io/kb/general/dns-providers/",
     ["dns.adguard-dns.com", "dns.adguard.com", "unfiltered.adguard-dns.com",
      "family.adguard-dns.com"],
     {"94.140.14.14": "dns.adguard-dns.com", "94.140.15.15": "dns.adguard-dns.com",
      "2a10:50c0::ad1:ff": "dns.adguard-dns.com", "2a10:50c0::ad2:ff": "dns.adguard-dns.com",
      "94.140.14.140": "unfiltered.adguard-dns.com",
      "94.140.14.141": "unfiltered.adguard-dns.com",
      "2a10:50c0::1:ff": "unfiltered.adguard-dns.com",
      "2a10:50c0::2:ff": "unfiltered.adguard-dns.com",
      "94.140.14.15": "family.adguard-dns.com", "94.140.15.16": "family.adguard-dns.com",
      "2a10:50c0::bad1:ff": "family.adguard-dns.com",
      "2a10:50c0::bad2:ff": "family.adguard-dns.com"}),
    ("OpenDNS (Cisco Umbrella)", "https://support.opendns.com/hc/en-us/articles/360038086532",
     ["doh.opendns.com", "dns.opendns.com", "doh.familyshield.opendns.com"],
     {"208.67.222.222": "dns.opendns.com", "208.67.220.220": "dns.opendns.com",
      "2620:119:35::35": "dns.opendns.com", "2620:119:53::53": "dns.opendns.com",
      "208.67.222.123": "doh.familyshield.opendns.com",
      "208.67.220.123": "doh.familyshield.opendns.com"}),
    ("NextDNS", "https://nextdns.io/", ["dns.nextdns.io"],
     {"45.90.28.0": "dns.nextdns.io", "45.90.30.0": "dns.nextdns.io"}),
    ("CleanBrowsing", "https://cleanbrowsing.org/filters/", ["doh.cleanbrowsing.org"],
     {"185.228.168.9": "doh.cleanbrowsing.org", "185.228.169.9": "doh.cleanbrowsing.org",
      "185.228.168.168": "doh.cleanbrowsing.org", "185.228.169.168": "doh.cleanbrowsing.org",
      "185.228.168.10": "doh.cleanbrowsing.org", "185.228.169.11": "doh.cleanbrowsing.org"}),
    ("Mullvad DNS", "https://mullvad.net/en/help/dns-over-https-and-dns-over-tls",
     ["dns.mullvad.net", "doh.mullvad.net", "adblock.dns.mullvad.net",
      "base.dns.mullvad.net", "extended.dns.mullvad.net", "family.dns.mullvad.net",
      "all.dns.mullvad.net"],
     {"194.242.2.2": "dns.mullvad.net", "194.242.2.3": "adblock.dns.mullvad.net",
      "194.242.2.4": "base.dns.mullvad.net", "194.242.2.5": "extended.dns.mullvad.net",
      "194.242.2.6": "family.dns.mullvad.net", "194.242.2.9": "all.dns.mullvad.net"}),
    ("Control D", "https://controld.com/free-dns", ["freedns.controld.com", "dns.controld.com"],
     {"76.76.2.0": "freedns.controld.com", "76.76.10.0": "freedns.controld.com"}),
    ("DNS.SB", "https://dns.sb/doh/", ["doh.dns.sb", "dot.sb"],
     {"185.222.222.222": "doh.dns.sb", "45.11.45.11": "doh.dns.sb"}),
    ("AliDNS", "https://www.alidns.com/knowledge?type=SETTING_DOCS", ["dns.alidns.com"],
     {"223.5.5.5": "dns.alidns.com", "223.6.6.6": "dns.alidns.com",
      "2400:3200::1": "dns.alidns.com", "2400:3200:baba::1": "dns.alidns.com"}),
    ("DNSPod Public DNS", "https://www.dnspod.cn/products/publicdns", ["doh.pub", "dns.pub"],
     {"1.12.12.12": "doh.pub", "120.53.53.53": "doh.pub"}),
    ("360 Secure DNS", "https://sdns.360.net/dnsPublic.html", ["doh.360.cn"], {}),
    ("TWNIC Quad101", "https://101.101.101.101/", ["dns.twnic.tw"],
     {"101.101.101.101": "dns.twnic.tw"}),
    ("Yandex DNS", "https://dns.yandex.com/", ["common.dot.dns.yandex.net"],
     {"77.88.8.8": "common.dot.dns.yandex.net", "77.88.8.1": "common.dot.dns.yandex.net"}),
    ("Comcast Xfinity", "https://www.xfinity.com/support/articles/dns-over-https",
     ["doh.xfinity.com"], {}),
    ("SWITCH", "https://www.switch.ch/security/info/public-dns/", ["dns.switch.ch"],
     {"130.59.31.248": "dns.switch.ch", "130.59.31.251": "dns.switch.ch"}),
    ("CZ.NIC ODVR", "https://www.nic.cz/odvr/", ["odvr.nic.cz"],
     {"193.17.47.1": "odvr.nic.cz", "185.43.135.1": "odvr.nic.cz"}),
    ("Digitale Gesellschaft", "https://www.digitale-gesellschaft.ch/dns/",
     ["dns.digitale-gesellschaft.ch"],
     {"185.95.218.42": "dns.digitale-gesellschaft.ch",
      "185.95.218.43": "dns.digitale-gesellschaft.ch"}),
    ("UncensoredDNS", "https://blog.uncensoreddns.org/dns-servers/",
     ["anycast.uncensoreddns.org", "unicast.uncensoreddns.org"],
     {"91.239.100.100": "anycast.uncensoreddns.org",
      "89.233.43.71": "unicast.uncensoreddns.org"}),
    ("Applied Privacy", "https://applied-privacy.net/services/dns/",
     ["doh.applied-privacy.net"], {}),
    ("LibreDNS", "https://libredns.gr/", ["doh.libredns.gr"], {}),
]


def load_ref(ref_dir):
    """Names and addresses the reference list knows (for the cross-check only)."""
    names, addrs = set(), set()
    for fname, target in (("doh-domains.txt", names), ("doh-ipv4.txt", addrs),
                          ("doh-ipv6.txt", addrs)):
        path = os.path.join(ref_dir, fname)
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                v = line.split("#", 1)[0].strip()
                if not v:
                    continue
                if target is addrs:
                    try:
                        v = str(ipaddress.ip_address(v))
                    except ValueError:
                        continue
                target.add(v.lower())
    return names, addrs


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    ref_dir = argv[1] if len(argv) == 3 else None
    out_path = argv[-1]
    rows = {}
    for provider, _url, names, addrs in PROVIDERS:
        for n in names:
            n = n.lower().rstrip(".")
            assert n not in rows, n
            rows[("name", n)] = (n, provider)
        for a, resolver in addrs.items():
            a = str(ipaddress.ip_address(a))
            assert ("addr", a) not in rows, a
            assert resolver in names, (a, resolver)
            rows[("addr", a)] = (resolver, provider)
    lines = ["# Public encrypted-DNS resolvers: generated by tools/gen-doh.py, do not edit.",
             "# kind\tvalue\tresolver\tprovider"]
    for (kind, value), (resolver, provider) in sorted(rows.items()):
        lines.append(f"{kind}\t{value}\t{resolver}\t{provider}")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    n_names = sum(1 for k in rows if k[0] == "name")
    n_addrs = len(rows) - n_names
    print(f"{out_path}: {n_names} names, {n_addrs} addresses, {len(PROVIDERS)} providers")
    if ref_dir:
        ref_names, ref_addrs = load_ref(ref_dir)
        miss = sorted(v for (k, v) in rows if (k == "name" and v not in ref_names)
                      or (k == "addr" and v not in ref_addrs))
        print(f"cross-check against {ref_dir}: "
              f"{n_names + n_addrs - len(miss)} of {n_names + n_addrs} entries also listed there")
        for v in miss:
            print(f"  not in the reference list: {v}")


if __name__ == "__main__":
    main(sys.argv)
