#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""udp_churn.py: flow churn for the exposition's tests, on loopback only.

Each connect is a UDP socket, connect() (no packet is sent), close: one
flow per distinct (process name, address, port).

  udp_churn.py seq ADDR BASE COUNT [NAME]
                                         COUNT flows: ADDR:BASE .. BASE+COUNT-1,
                                         under the process name NAME
  udp_churn.py random SECONDS SEED       random 127.0.0.0/8 addresses and
                                         ports for SECONDS, under a few
                                         process names taken in turn

Prints one line: "connects=N distinct=N seconds=S" (distinct: flows this
run made, counted exactly for seq, an upper bound for random). Refuses any
address outside 127.0.0.0/8. Exits 0, 1 when a connect failed, 2 on usage.
"""
import ctypes
import ipaddress
import random
import socket
import sys
import time

PR_SET_NAME = 15
NAMES = [b"churn_a", b"churn_b", b"churn_c", b"churn_d", b"churn_e", b"churn_f", b"churn_g"]


def set_comm(name):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0)


def loopback(addr):
    try:
        return ipaddress.ip_address(addr) in ipaddress.ip_network("127.0.0.0/8")
    except ValueError:
        return False


def udp_connect(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((addr, port))
    finally:
        s.close()


def seq(addr, base, count, name):
    if not loopback(addr) or not 1 <= base <= 65535 or count < 0 or base + count - 1 > 65535:
        usage()
    if name:
        set_comm(name.encode()[:15])
    t0 = time.monotonic()
    for i in range(count):
        udp_connect(addr, base + i)
    print("connects=%d distinct=%d seconds=%.3f" % (count, count, time.monotonic() - t0))


def churn(seconds, seed):
    rng = random.Random(seed)
    t0 = time.monotonic()
    end = t0 + seconds
    n = 0
    while time.monotonic() < end:
        # a burst under one name: a port scan, or a few busy destinations
        set_comm(NAMES[rng.randrange(len(NAMES))])
        if rng.random() < 0.7:
            burst = rng.randrange(100, 5000)
            for _ in range(burst):
                addr = "127.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
                udp_connect(addr, rng.randrange(1, 65536))
        else:
            burst = rng.randrange(100, 3000)
            for _ in range(burst):
                udp_connect("127.0.0.%d" % rng.randrange(1, 4), 9000 + rng.randrange(3))
        n += burst
    print("connects=%d distinct=%d seconds=%.3f" % (n, n, time.monotonic() - t0))


def usage():
    sys.stderr.write(__doc__)
    sys.exit(2)


def main(argv):
    try:
        if len(argv) in (5, 6) and argv[1] == "seq":
            seq(argv[2], int(argv[3]), int(argv[4]), argv[5] if len(argv) == 6 else None)
        elif len(argv) == 4 and argv[1] == "random":
            churn(float(argv[2]), int(argv[3]))
        else:
            usage()
    except OSError as e:
        sys.stderr.write("udp_churn.py: connect: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
