#!/usr/bin/env python3
# spec/tools/dnsserver.py: a small DNS server for the resolver specs.
# Answers A, AAAA and PTR questions over UDP from rules given as arguments,
# NXDOMAIN for any other name; a rule can delay its answer or never answer.
#   python3 dnsserver.py [--host 127.0.0.1] [--port 0] RULE...
#   RULE: name=item,item...   (name may hold * wildcards; case-insensitive)
#   item: a:ADDR  aaaa:ADDR  ptr:NAME  delay:SECONDS  silent  nxdomain
# It prints its port on stdout, then one line per question on stderr:
# "NAME TYPE". It stops on SIGTERM.
import heapq
import select
import socket
import struct
import sys
import time
import fnmatch

TYPES = {1: "A", 28: "AAAA", 12: "PTR"}


def parse_rules(args):
    rules = []
    for arg in args:
        name, _, items = arg.partition("=")
        rule = {"name": name.lower().rstrip("."), "a": [], "aaaa": [], "ptr": [],
                "delay": 0.0, "silent": False, "nxdomain": False}
        for item in filter(None, items.split(",")):
            key, _, value = item.partition(":")
            if key in ("a", "aaaa", "ptr"):
                rule[key].append(value)
            elif key == "delay":
                rule["delay"] = float(value)
            elif key in ("silent", "nxdomain"):
                rule[key] = True
            else:
                raise SystemExit("unknown rule item: " + item)
        rules.append(rule)
    return rules


def find(rules, name):
    for rule in rules:
        if fnmatch.fnmatchcase(name, rule["name"]):
            return rule
    return None


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def question(data):
    """-> (name, qtype, end of the question section) or None."""
    off, labels = 12, []
    while off < len(data):
        n = data[off]
        off += 1
        if n == 0:
            break
        labels.append(data[off:off + n].decode("ascii", "replace"))
        off += n
    if off + 4 > len(data):
        return None
    qtype, = struct.unpack("!H", data[off:off + 2])
    return ".".join(labels).lower(), qtype, off + 4


def answer(rules, data, log):
    if len(data) < 12:
        return None, 0
    qid, flags = struct.unpack("!HH", data[:4])
    q = question(data)
    if q is None:
        return None, 0
    name, qtype, end = q
    log.write("%s %s\n" % (name, TYPES.get(qtype, str(qtype))))
    log.flush()
    rule = find(rules, name)
    rcode, records = 0, []
    if rule is None or rule["nxdomain"]:
        rcode = 3
    elif rule["silent"]:
        return None, 0
    elif qtype == 1:
        records = [(1, socket.inet_pton(socket.AF_INET, a)) for a in rule["a"]]
    elif qtype == 28:
        records = [(28, socket.inet_pton(socket.AF_INET6, a)) for a in rule["aaaa"]]
    elif qtype == 12:
        records = [(12, encode_name(p)) for p in rule["ptr"]]
    out = struct.pack("!HHHHHH", qid, 0x8000 | (flags & 0x7900) | 0x0480 | rcode,
                      1, len(records), 0, 0)
    out += data[12:end]
    for rtype, rdata in records:
        out += struct.pack("!HHHIH", 0xC00C, rtype, 1, 60, len(rdata)) + rdata
    return out, (rule["delay"] if rule else 0.0)


def main():
    args, host, port = sys.argv[1:], "127.0.0.1", 0
    while args and args[0].startswith("--"):
        if args[0] == "--host":
            host = args[1]
        elif args[0] == "--port":
            port = int(args[1])
        args = args[2:]
    rules = parse_rules(args)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, port))
    sys.stdout.write("%d\n" % sock.getsockname()[1])
    sys.stdout.flush()
    later, seq = [], 0
    while True:
        timeout = max(0.0, later[0][0] - time.monotonic()) if later else None
        ready, _, _ = select.select([sock], [], [], timeout)
        if ready:
            data, peer = sock.recvfrom(4096)
            out, delay = answer(rules, data, sys.stderr)
            if out is not None:
                seq += 1
                heapq.heappush(later, (time.monotonic() + delay, seq, out, peer))
        while later and later[0][0] <= time.monotonic():
            _, _, out, peer = heapq.heappop(later)
            sock.sendto(out, peer)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
