"""Opening a ring: mapping a segment by its address, the checks of src/ring/header-io.ts
readHeader in the same order (so Python refuses exactly what TypeScript refuses), roles held
in owner words, and the one wait of blocked calls (announce, re-check, park on a futex)."""
import ctypes
import mmap
import os
import struct
import time

from . import layout as L
from ._atomics import alive, atomics, futex_wait, futex_wake, self_identity

OPEN_READY_WAIT_S = 0.5
PEER_CHECK_INTERVAL_S = 0.1
YIELDS = 4


class RingError(Exception):
    """A failure with the code TypeScript gives it: ERR_SHM_BAD_HEADER, ERR_TIMEOUT, ..."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code


def bad_header(why):
    return RingError("ERR_SHM_BAD_HEADER", why)


def map_segment(address):
    """Maps the segment at a shmring address: 'shm:NAME' (POSIX shm) or 'file:/abs/path'."""
    if address.startswith("shm:"):
        path = "/dev/shm/" + address[4:]
    elif address.startswith("file:"):
        path = address[5:]
    else:
        raise ValueError("address=%r: a 'shm:NAME' or 'file:/path' address" % (address,))
    fd = os.open(path, os.O_RDWR)
    try:
        return mmap.mmap(fd, os.fstat(fd).st_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


def _data_size(kind, a, b, c):
    """The data bytes the kind needs for its params, or a reason string."""
    pow2 = lambda n: n > 0 and n & (n - 1) == 0
    if kind == L.KIND_SPSC:
        return a if pow2(a) and L.MIN_CAPACITY <= a <= L.MAX_CAPACITY else "capacity %d is not a power of two from 64 to 2^30" % a
    if not (pow2(a) and L.MIN_SLOTS <= a <= L.MAX_SLOTS):
        return "slots %d" % a
    if b % L.SLOT_ALIGN != 0 or not L.MIN_SLOT_SIZE <= b <= L.MAX_SLOT_SIZE:
        return "slot size %d" % b
    if not 1 <= c <= L.MAX_PARTICIPANTS:
        return "participants %d" % c
    if a * b > 2**40:
        return "slots x slot size %d" % (a * b)
    return L.mpmc_ring_size(a, b, c) - L.HEADER_SIZE


class Ring:
    """A validated ring in a mapped buffer (an mmap or any writable buffer), from byte_offset."""

    def __init__(self, buffer, kind, byte_offset=0, byte_length=None):
        self.buffer = buffer
        self.mv = memoryview(buffer)
        total = len(self.mv)
        if byte_length is None:
            byte_length = total - byte_offset
        if byte_offset < 0 or byte_offset % L.LINE or byte_length < 0 or byte_offset + byte_length > total:
            raise ValueError("byte_offset=%d byte_length=%d: a region of the %d bytes, starting on a multiple of 128" % (byte_offset, byte_length, total))
        self.start, self.length, self.kind = byte_offset, byte_length, kind
        # Held until close(): the buffer cannot be unmapped while its address is in use.
        self._anchor = ctypes.c_char.from_buffer(buffer) if total else None
        self.base = ctypes.addressof(self._anchor) + byte_offset if total else 0
        self.self_id = self_identity()
        self._validate()

    def close(self):
        """Lets the buffer go (an mmap can be closed afterwards); the ring is unusable then."""
        self._anchor = None
        self.mv.release()

    def addr(self, offset):
        """The address of the shared word at `offset` from the ring's start (for atomics)."""
        return self.base + offset

    def load(self, offset):
        return atomics.load32(self.base + offset)

    def store(self, offset, value):
        atomics.store32(self.base + offset, value)

    def words(self, offset):
        """Two i32 words read plainly (record or slot headers, published before they are read)."""
        return struct.unpack_from("<ii", self.mv, self.start + offset)

    def _validate(self):
        if self.length < L.HEADER_SIZE:
            raise bad_header("%d bytes cannot hold a ring header (%d)" % (self.length, L.HEADER_SIZE))
        if self.load(L.MAGIC_OFFSET) != L.RING_MAGIC:
            raise bad_header("no shmring magic")
        version = self.load(L.VERSION_OFFSET)
        if version != L.RING_VERSION:
            raise bad_header("version %d, this client reads version %d" % (version, L.RING_VERSION))
        if self.load(L.KIND_OFFSET) != self.kind:
            raise bad_header("kind %d, not %d" % (self.load(L.KIND_OFFSET), self.kind))
        deadline = time.monotonic() + OPEN_READY_WAIT_S
        while True:
            state = self.load(L.STATE_OFFSET)
            if state == L.STATE_READY:
                break
            if state != L.STATE_FORMATTING:
                raise bad_header("unknown state %d" % state)
            if time.monotonic() > deadline:
                raise bad_header("the ring never became ready (its creator died while formatting it?)")
            time.sleep(0.002)
        u = lambda off: self.load(off) & 0xFFFFFFFF
        a, b, c = u(L.PARAM_A_OFFSET), u(L.PARAM_B_OFFSET), u(L.PARAM_C_OFFSET)
        header_size, total = u(L.HEADER_SIZE_OFFSET), u(L.TOTAL_SIZE_OFFSET)
        if header_size != L.HEADER_SIZE:
            raise bad_header("header size %d, expected %d" % (header_size, L.HEADER_SIZE))
        data = _data_size(self.kind, a, b, c)
        if isinstance(data, str):
            raise bad_header(data)
        if total != L.HEADER_SIZE + data:
            raise bad_header("total size %d disagrees with its parameters (%d)" % (total, L.HEADER_SIZE + data))
        if total > self.length:
            raise bad_header("the ring needs %d bytes but its region holds %d (truncated)" % (total, self.length))
        self.params, self.total_size = (a, b, c), total

    # ---- roles -------------------------------------------------------------------------

    def take_role(self, offset, name):
        """Takes the role held in the owner word at `offset`; taken over from a dead holder."""
        word = self.addr(offset)
        previous = atomics.cas64(word, 0, self.self_id)
        if previous == 0:
            return
        if previous == self.self_id or alive(previous):
            raise RingError("ERR_ROLE_TAKEN", "the %s role is held by live process %d" % (name, previous & 0x3FFFFF))
        if atomics.cas64(word, previous, self.self_id) != previous:
            raise RingError("ERR_ROLE_TAKEN", "another process took over the %s role first" % name)

    def release_role(self, offset):
        atomics.cas64(self.addr(offset), self.self_id, 0)

    def holder_dead(self, offset):
        owner = atomics.load64(self.addr(offset))
        return owner != 0 and not alive(owner)

    # ---- waiting -----------------------------------------------------------------------

    def wake(self, word_offset, waiters_offset):
        """After a publishing store: futex wake only if the waiters word says someone sleeps."""
        if self.load(waiters_offset) != 0:
            futex_wake(self.addr(word_offset))

    def block(self, what, attempt, check, word_offset, waiters_offset, timeout):
        """Runs attempt() until it gives a value other than None: a few tries with the CPU
        given away, then announce in the waiters word, re-try, and park on the word while it
        holds what it held before the re-try. check() runs after each park that timed out."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for _ in range(YIELDS):
            value = attempt()
            if value is not None:
                return value
            os.sched_yield()
        while True:
            value = attempt()
            if value is not None:
                return value
            left = PEER_CHECK_INTERVAL_S if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise RingError("ERR_TIMEOUT", "%s timed out after %s s" % (what, timeout))
            atomics.add32(self.addr(waiters_offset), 1)
            try:
                seen = self.load(word_offset)
                value = attempt()  # the re-check: a publisher that missed the announcement published before it
                timed_out = value is None and futex_wait(self.addr(word_offset), seen, min(left, PEER_CHECK_INTERVAL_S))
            finally:
                atomics.add32(self.addr(waiters_offset), -1)
            if value is not None:
                return value
            if timed_out:
                check()

    def corrupt(self, why):
        raise bad_header("corrupt ring: " + why)
