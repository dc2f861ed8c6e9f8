"""A Python peer of the interop tests (test/interop-python.test.ts), built on clients/python/shmring:
produces or consumes the seeded streams of test/helpers/messages.ts (as test/c/ring-peer.c does).
    ring_peer.py spsc-produce ADDRESS COUNT SEED MAXLEN
    ring_peer.py spsc-consume ADDRESS COUNT SEED MAXLEN
    ring_peer.py mpmc-produce ADDRESS ID COUNT SEED MAXLEN
    ring_peer.py mpmc-consume ADDRESS MAXLEN ID:COUNT:SEED...
    ring_peer.py constants
Prints one line of JSON; exit code 0 if all went well."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))

from shmring import MpmcRing, SpscConsumer, SpscProducer, map_segment  # noqa: E402
from shmring import layout  # noqa: E402


def xorshift(seed):
    x = (seed & 0xFFFFFFFF) or 1
    while True:
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        yield x


def patterns(max_length):
    """byteAt(i, j) = (i*31 + j*7 + (i >> 8)) & 0xff: for each base (i*31 + (i >> 8)) & 0xff, the bytes over j."""
    steps = bytes((7 * j) & 0xFF for j in range(max_length + 1))
    return [bytes((b + s) & 0xFF for s in steps) for b in range(256)]


def base(i):
    return (i * 31 + (i >> 8)) & 0xFF


def spsc(mode, address, count, seed, max_length):
    buffer = map_segment(address)
    pat, lengths = patterns(max_length), xorshift(seed)
    if mode == "spsc-produce":
        producer = SpscProducer(buffer)
        for i in range(count):
            producer.write(pat[base(i)][: next(lengths) % (max_length + 1)], timeout=30)
        producer.close()
        return {"written": count}
    consumer = SpscConsumer(buffer)
    received = total = 0
    error = None
    for i in range(count):
        m = consumer.read(timeout=30)
        received += 1
        total += len(m)
        want = next(lengths) % (max_length + 1)
        if error is None and m != pat[base(i)][:want]:
            error = "message %d: %d bytes, expected %d%s" % (i, len(m), want, "" if len(m) != want else " (bytes differ)")
    consumer.close()
    return {"received": received, "bytes": total, "error": error}


def mpmc(args):
    mode, address = args[0], args[1]
    ring = MpmcRing(map_segment(address))
    if mode == "mpmc-produce":
        pid, count, seed, max_length = (int(a) for a in args[2:6])
        pat, lengths = patterns(max_length), xorshift(seed)
        for i in range(count):
            length = 8 + next(lengths) % (max_length - 7)
            ring.write(struct.pack("<II", pid, i) + pat[base(i)][8:length], timeout=30)
        ring.close()
        return {"written": count}
    max_length = int(args[2])
    pat = patterns(max_length)
    producers, total = {}, 0
    for spec in args[3:]:
        pid, count, seed = (int(a) for a in spec.split(":"))
        producers[pid] = [count, xorshift(seed), 0]
        total += count
    received = nbytes = 0
    error = None
    while received < total:
        m = ring.read(timeout=30)
        received += 1
        nbytes += len(m)
        if error is not None:
            continue
        pid, i = struct.unpack_from("<II", m) if len(m) >= 8 else (None, None)
        p = producers.get(pid)
        if p is None:
            error = "message %d: no such producer" % (received - 1)
            continue
        want = 8 + next(p[1]) % (max_length - 7)
        if i != p[2] or i >= p[0]:
            error = "producer %d: message %d where %d was due" % (pid, i, p[2])
        elif m[8:] != pat[base(i)][8:want]:
            error = "producer %d message %d: %d bytes, expected %d" % (pid, i, len(m), want)
        p[2] += 1
    ring.close()
    return {"received": received, "bytes": nbytes, "error": error}


def main():
    args = sys.argv[1:]
    if args[0] == "constants":
        print(json.dumps({k: v for k, v in vars(layout).items() if k.isupper()}))
        return 0
    if args[0].startswith("spsc-"):
        result = spsc(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    else:
        result = mpmc(args)
    print(json.dumps(result))
    return 0 if result.get("error") is None else 1


if __name__ == "__main__":
    sys.exit(main())
