#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ike_flood.py - unauthenticated IKE_SA_INIT traffic for test_ike_dos.sh.

  flood SRC DST SECONDS RATE   well-formed IKE_SA_INIT requests (random
                               SPIi, nonce and X25519 value) from SRC,
                               from a new source port every 20 requests;
                               prints "sent=N cookie=M other=K"
  probe SRC DST                one request with an unknown critical
                               payload, one with major version 3; prints
                               the notify type of each answer (or none)

Only for the test's own namespaces and documentation addresses.
"""
import os
import select
import socket
import struct
import sys
import time

IKE_SA_INIT = 34
N_COOKIE = 16390


def payload(np, body, critical=False):
    return struct.pack("!BBH", np, 0x80 if critical else 0,
                       4 + len(body)) + body


def transform(last, ttype, tid, attrs=b""):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs),
                       ttype, 0, tid) + attrs


def request(spi, version=0x20, extra=None):
    """HDR, [extra], SA(aes128gcm16-prfsha256-x25519), KE, Ni."""
    xf = (transform(False, 1, 20, struct.pack("!HH", 0x800E, 128)) +
          transform(False, 2, 5) + transform(True, 4, 31))
    prop = struct.pack("!BBHBBBB", 0, 0, 8 + len(xf), 1, 1, 0, 3) + xf
    chain = [(33, prop),
             (34, struct.pack("!HH", 31, 0) + os.urandom(32)),
             (40, os.urandom(32))]
    if extra:
        chain.insert(0, extra)
    body = b""
    for k, (ptype, pbody) in enumerate(chain):
        np = chain[k + 1][0] if k + 1 < len(chain) else 0
        crit = ptype not in (33, 34, 40)
        body += payload(np, pbody, crit)
    hdr = struct.pack("!8s8sBBBBII", spi, b"\0" * 8, chain[0][0], version,
                      IKE_SA_INIT, 0x08, 0, 28 + len(body))
    return hdr + body


def notify_types(msg):
    """Notify types in an answer (unencrypted payloads only)."""
    if len(msg) < 28:
        return []
    np, off, out = msg[16], 28, []
    while np and off + 4 <= len(msg):
        nxt, _, plen = struct.unpack_from("!BBH", msg, off)
        if plen < 4:
            break
        if np == 41 and plen >= 8:
            out.append(struct.unpack_from("!H", msg, off + 6)[0])
        np, off = nxt, off + plen
    return out


def drain(socks, stats):
    r, _, _ = select.select(socks, [], [], 0)
    for s in r:
        while True:
            try:
                m = s.recv(2048)
            except BlockingIOError:
                break
            if N_COOKIE in notify_types(m):
                stats["cookie"] += 1
            else:
                stats["other"] += 1


def new_sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.setblocking(False)
    return s


def flood(src, dst, seconds, rate):
    stats = {"sent": 0, "cookie": 0, "other": 0}
    socks = []
    end = time.monotonic() + seconds
    gap = 1.0 / rate
    nxt = time.monotonic()
    while time.monotonic() < end:
        if stats["sent"] % 20 == 0:
            socks.append(new_sock(src))
            if len(socks) > 64:
                socks.pop(0).close()
        try:
            socks[-1].sendto(request(os.urandom(8)), (dst, 500))
            stats["sent"] += 1
        except OSError:
            pass
        drain(socks, stats)
        nxt += gap
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    t = time.monotonic() + 1
    while time.monotonic() < t:
        drain(socks, stats)
        time.sleep(0.05)
    print("sent=%d cookie=%d other=%d" % (stats["sent"], stats["cookie"],
                                          stats["other"]))


def probe(src, dst):
    tests = [("critical", request(os.urandom(8),
                                  extra=(200, b"\0" * 8))),
             ("version3", request(os.urandom(8), version=0x30))]
    for name, msg in tests:
        s = new_sock(src)
        s.sendto(msg, (dst, 500))
        r, _, _ = select.select([s], [], [], 2)
        if not r:
            print("%s: none" % name)
        else:
            m = s.recv(2048)
            data = ""
            if len(m) >= 37 and notify_types(m) == [1]:
                data = " data=%d" % m[36]
            print("%s: %s version=0x%02x%s" % (
                name, ",".join(str(t) for t in notify_types(m)), m[17],
                data))
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "flood":
        flood(sys.argv[2], sys.argv[3], float(sys.argv[4]),
              float(sys.argv[5]))
    else:
        probe(sys.argv[2], sys.argv[3])
