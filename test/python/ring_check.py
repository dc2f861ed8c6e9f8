"""Runs the corruption cases of the ring fuzz tests against the Python client
(test/interop-python.test.ts), as test/c/ring-check.c does for C: cases on stdin, each
[u32 kind][u32 length][bytes of a ring image]; each is used as test/ring-fuzz.test.ts
`exercise` does (read up to 1024 messages as a consumer, then write 64 messages of i % 40 bytes
through a second handle). Prints one letter per case: R refused at open, D detected later,
U used, X a message longer than the ring allows, E an error of another kind."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "clients", "python"))

from shmring import KIND_SPSC, MpmcRing, RingError, SpscConsumer, SpscProducer  # noqa: E402


def exercise(kind, image):
    opened = []
    try:
        consumer = SpscConsumer(image) if kind == KIND_SPSC else MpmcRing(image)
        opened.append(consumer)
        for _ in range(1024):
            m = consumer.try_read()
            if m is None:
                break
            if len(m) > consumer.max_message_size:
                return "X"
        producer = SpscProducer(image) if kind == KIND_SPSC else MpmcRing(image)
        opened.append(producer)
        for i in range(64):
            if not producer.try_write(bytes(i % 40)):
                break
        return "U"
    except RingError as err:
        # A role held by a live owner (a forged identity of another PID namespace counts as
        # alive) is refused like a bad header: TypeScript and C do the same.
        if err.code not in ("ERR_SHM_BAD_HEADER", "ERR_ROLE_TAKEN"):
            return "E"
        return "R" if not opened else "D"


def main():
    data = sys.stdin.buffer.read()
    at, out = 0, []
    while at < len(data):
        kind, length = struct.unpack_from("<II", data, at)
        out.append(exercise(kind, bytearray(data[at + 8 : at + 8 + length])))
        at += 8 + length
    print("".join(out))


if __name__ == "__main__":
    main()
