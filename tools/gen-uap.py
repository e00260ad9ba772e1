#!/usr/bin/env python3
"""Copies ua-parser's uap-core regexes.yaml into data/ unchanged, after checking its shape.

Usage: python3 tools/gen-uap.py /path/to/ref/useragent/uap-core-regexes.yaml data/uap-core-regexes.yaml

The file is kept byte for byte (Apache-2.0: its notice travels with it, see data/README.md);
this script only refuses a file that lacks one of the three parser lists phonehome reads
(src/flow/identity/ua.rs), so a refresh cannot silently ship an empty table.
"""
import sys

def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    text = data.decode("utf-8")
    for key in ("user_agent_parsers:", "os_parsers:", "device_parsers:"):
        if "\n" + key not in "\n" + text:
            sys.exit(f"{src}: no top-level {key}")
    open(dst, "wb").write(data)
    print(f"{dst}: {len(data)} bytes, {text.count('- regex:')} regexes")

if __name__ == "__main__":
    main()
