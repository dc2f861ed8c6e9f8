"""The SPSC ring for Python peers, interoperating with SpscRing (src/ring/spsc/). Protocol: the
producer writes the payload, then the record header (length, type), then publishes the new
tail with a sequentially consistent store; the consumer loads the tail first, reads the
records before it (checking every shared value before using it), and releases their space by
storing the new head."""
import struct

from . import layout as L
from .ring import Ring, RingError


def _positions_ok(capacity, tail, head):
    return (tail | head) & 7 == 0 and (tail - head) & 0xFFFFFFFF <= capacity


class _Side:
    def __init__(self, target, byte_offset, byte_length):
        self.ring = target if isinstance(target, Ring) else Ring(target, L.KIND_SPSC, byte_offset, byte_length)
        self.capacity = self.ring.params[0]
        self.mask = self.capacity - 1
        self.max_message_size = self.capacity // 2 - L.RECORD_HEADER_SIZE
        self.data = self.ring.start + L.DATA_OFFSET


class SpscProducer(_Side):
    """Takes the producer role of the SPSC ring in `target` (a Ring or a mapped buffer) and
    resumes at the published tail. Every write is published before it returns."""

    def __init__(self, target, byte_offset=0, byte_length=None):
        super().__init__(target, byte_offset, byte_length)
        r = self.ring
        r.take_role(L.PRODUCER_OWNER_OFFSET, "producer")
        tail, head = r.load(L.TAIL_OFFSET) & 0xFFFFFFFF, r.load(L.HEAD_OFFSET) & 0xFFFFFFFF
        r.store(L.PRODUCER_CLOSED_OFFSET, 0)
        if not _positions_ok(self.capacity, tail, head):
            r.release_role(L.PRODUCER_OWNER_OFFSET)
            r.corrupt("tail %d and head %d" % (tail, head))
        self.tail = tail
        self.room = self.capacity - ((tail - head) & 0xFFFFFFFF)

    def try_write(self, message):
        """Writes one message (bytes-like) if it fits now; False if the ring is full."""
        r, length = self.ring, len(message)
        if length > self.max_message_size:
            raise RingError("ERR_MESSAGE_TOO_LARGE", "a message of %d bytes can never fit this ring (at most %d)" % (length, self.max_message_size))
        size = L.record_size(length)
        index = self.tail & self.mask
        to_end = self.capacity - index
        needed = size if size <= to_end else to_end + size
        if self.room < needed:
            head = r.load(L.HEAD_OFFSET) & 0xFFFFFFFF
            if not _positions_ok(self.capacity, self.tail, head):
                r.corrupt("head %d with tail %d" % (head, self.tail))
            self.room = self.capacity - ((self.tail - head) & 0xFFFFFFFF)
            if self.room < needed:
                return False
        if size > to_end:
            struct.pack_into("<ii", r.mv, self.data + index, to_end - L.RECORD_HEADER_SIZE, L.TYPE_PADDING)
            self.tail = (self.tail + to_end) & 0xFFFFFFFF
            self.room -= to_end
            index = 0
        at = self.data + index
        r.mv[at + L.RECORD_HEADER_SIZE : at + L.RECORD_HEADER_SIZE + length] = message
        struct.pack_into("<ii", r.mv, at, length, L.TYPE_MESSAGE)
        self.tail = (self.tail + size) & 0xFFFFFFFF
        self.room -= size
        # Publish: the consumer that loads this tail sees the payload and record headers before it.
        r.store(L.TAIL_OFFSET, self.tail)
        r.wake(L.TAIL_OFFSET, L.CONSUMER_WAITERS_OFFSET)
        return True

    def write(self, message, timeout=None):
        """Writes one message, blocking while the ring is full (timeout in seconds; None: no limit)."""
        if self.try_write(message):
            return
        r = self.ring

        def check():
            if r.holder_dead(L.CONSUMER_OWNER_OFFSET):
                raise RingError("ERR_PEER_DEAD", "the consumer died while the ring was full")

        r.block("ring write", lambda: True if self.try_write(message) else None, check, L.HEAD_OFFSET, L.PRODUCER_WAITERS_OFFSET, timeout)

    def close(self):
        """Marks the end of the stream (after the tail) and gives the role back."""
        r = self.ring
        r.store(L.PRODUCER_CLOSED_OFFSET, 1)
        r.wake(L.TAIL_OFFSET, L.CONSUMER_WAITERS_OFFSET)
        r.release_role(L.PRODUCER_OWNER_OFFSET)


class SpscConsumer(_Side):
    """Takes the consumer role of the SPSC ring in `target` and resumes at the released head."""

    def __init__(self, target, byte_offset=0, byte_length=None):
        super().__init__(target, byte_offset, byte_length)
        r = self.ring
        r.take_role(L.CONSUMER_OWNER_OFFSET, "consumer")
        head, tail = r.load(L.HEAD_OFFSET) & 0xFFFFFFFF, r.load(L.TAIL_OFFSET) & 0xFFFFFFFF
        if not _positions_ok(self.capacity, tail, head):
            r.release_role(L.CONSUMER_OWNER_OFFSET)
            r.corrupt("tail %d and head %d" % (tail, head))
        self.head = self.released = head
        self.cached_tail = tail

    def _release(self):
        if self.head == self.released:
            return
        self.released = self.head
        # Release: the producer may overwrite these bytes once it loads this head.
        self.ring.store(L.HEAD_OFFSET, self.head)
        self.ring.wake(L.HEAD_OFFSET, L.PRODUCER_WAITERS_OFFSET)

    def _next(self):
        """(offset, length) of the next message record, skipping padding, or None; every shared
        value is checked before it is used (src/ring/spsc/consumer.ts #next)."""
        r = self.ring
        while True:
            available = (self.cached_tail - self.head) & 0xFFFFFFFF
            if available == 0:
                tail = r.load(L.TAIL_OFFSET) & 0xFFFFFFFF
                if not _positions_ok(self.capacity, tail, self.released):
                    r.corrupt("tail %d with head %d" % (tail, self.released))
                self.cached_tail = tail
                available = (tail - self.head) & 0xFFFFFFFF
                if available == 0:
                    return None
            index = self.head & self.mask
            length, kind = r.words(L.DATA_OFFSET + index)
            if kind & ~(L.MAX_TAG << L.TAG_SHIFT) == L.TYPE_MESSAGE:
                if length < 0 or length > self.max_message_size:
                    r.corrupt("record length %d at position %d" % (length, self.head))
                size = L.record_size(length)
                if size > available or index + size > self.capacity:
                    r.corrupt("record of %d bytes at position %d overruns the published data" % (length, self.head))
                return self.data + index, length
            if kind != L.TYPE_PADDING:
                r.corrupt("record type %d at position %d" % (kind, self.head))
            to_end = self.capacity - index
            if length != to_end - L.RECORD_HEADER_SIZE or to_end > available:
                r.corrupt("padding of %d bytes at position %d" % (length, self.head))
            self.head = (self.head + to_end) & 0xFFFFFFFF

    def try_read(self):
        """The next message as bytes, or None if the ring is empty. Never blocks."""
        found = self._next()
        if found is None:
            self._release()
            return None
        at, length = found
        start = at + L.RECORD_HEADER_SIZE
        message = bytes(self.ring.mv[start : start + length])
        self.head = (self.head + L.record_size(length)) & 0xFFFFFFFF
        self._release()
        return message

    def read(self, timeout=None):
        """The next message, blocking while the ring is empty; ERR_CLOSED once the producer
        closed the ring and everything was read."""
        message = self.try_read()
        if message is not None:
            return message
        r = self.ring

        def attempt():
            m = self.try_read()
            # The producer publishes before it sets the flag: seen, and still nothing, the stream ended.
            if m is None and r.load(L.PRODUCER_CLOSED_OFFSET) == 1 and self._next() is None:
                raise RingError("ERR_CLOSED", "the producer closed the ring and every message was read")
            return m

        def check():
            if r.holder_dead(L.PRODUCER_OWNER_OFFSET) and self._next() is None:
                raise RingError("ERR_PEER_DEAD", "the producer died and every message it published was read")

        return r.block("ring read", attempt, check, L.TAIL_OFFSET, L.CONSUMER_WAITERS_OFFSET, timeout)

    def close(self):
        self._release()
        self.ring.release_role(L.CONSUMER_OWNER_OFFSET)
