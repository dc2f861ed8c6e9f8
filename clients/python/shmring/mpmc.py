"""The MPMC ring for Python peers, interoperating with MpmcRing (src/ring/mpmc/). Protocol: a
producer announces in its registry entry the position it is about to claim, claims it with one
CAS on the enqueue position, writes the length and payload, then publishes with a store of
sequence = position + 1; a consumer announces and claims with one CAS on the dequeue position
once the sequence says published, copies the payload, then frees the slot with a store of
sequence = position + slots. A slot left claimed by a dead participant is repaired after a delay."""
import struct
import time

from . import layout as L
from ._atomics import alive, atomics
from .ring import Ring, RingError

REPAIR_DELAY_S = 0.2


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


class MpmcRing:
    """One participant (handle) of the MPMC ring in `target` (a Ring or a mapped buffer)."""

    def __init__(self, target, byte_offset=0, byte_length=None, repair_delay=REPAIR_DELAY_S):
        self.ring = r = target if isinstance(target, Ring) else Ring(target, L.KIND_MPMC, byte_offset, byte_length)
        self.slots, self.slot_size, self.participants = r.params
        self.max_message_size = self.slot_size - L.SLOT_HEADER_SIZE
        self.repair_delay = repair_delay
        self.entry = -1
        self.roles = 0
        self.stuck = (None, 0.0)

    def _slot(self, position):
        """Ring-relative offset of the slot of `position`."""
        return L.slots_offset(self.participants) + (position & (self.slots - 1)) * self.slot_size

    def _entry(self, i, field):
        return L.entry_offset(i) + field

    def _enter(self, role):
        r = self.ring
        i = 0
        while self.entry < 0 and i < self.participants:
            owner_addr = r.addr(self._entry(i, L.ENTRY_OWNER_OFFSET))
            owner = atomics.load64(owner_addr)
            if not (owner != 0 and (r.load(self._entry(i, L.ENTRY_STATE_OFFSET)) != L.STATE_IDLE or alive(owner))):
                if atomics.cas64(owner_addr, owner, r.self_id) == owner:
                    r.store(self._entry(i, L.ENTRY_STATE_OFFSET), L.STATE_IDLE)
                    r.store(self._entry(i, L.ENTRY_ROLES_OFFSET), 0)
                    self.entry = i
            i += 1
        if self.entry < 0:
            raise RingError("ERR_TOO_MANY_PARTICIPANTS", "all %d participant entries are held by live processes" % self.participants)
        if self.roles & role == 0:
            self.roles |= role
            r.store(self._entry(self.entry, L.ENTRY_ROLES_OFFSET), self.roles)

    def _announce(self, state, position):
        r = self.ring
        r.store(self._entry(self.entry, L.ENTRY_POSITION_OFFSET), position)
        r.store(self._entry(self.entry, L.ENTRY_STATE_OFFSET), state)

    def _idle(self):
        self.ring.store(self._entry(self.entry, L.ENTRY_STATE_OFFSET), L.STATE_IDLE)

    def _signal(self, event, waiters):
        r = self.ring
        if r.load(waiters) != 0:
            atomics.add32(r.addr(event), 1)
            r.wake(event, waiters)

    def _repair(self, position, state, stuck, repaired):
        """A slot claimed but not moving: after the repair delay, if a dead participant's entry
        holds `position` in `state` and no live one does, moves its sequence with one CAS."""
        r, now = self.ring, time.monotonic()
        if self.stuck[0] != position:
            self.stuck = (position, now)
            return False
        if now - self.stuck[1] < self.repair_delay:
            return False
        self.stuck = (position, now)
        dead = -1
        for i in range(self.participants):
            if r.load(self._entry(i, L.ENTRY_STATE_OFFSET)) != state or r.load(self._entry(i, L.ENTRY_POSITION_OFFSET)) != _s32(position):
                continue
            owner = atomics.load64(r.addr(self._entry(i, L.ENTRY_OWNER_OFFSET)))
            if owner != 0 and alive(owner):
                return False  # slow, not dead: never repaired over
            dead = i
        if dead < 0:
            return False
        at = self._slot(position)
        tombstone = state == L.STATE_PRODUCING
        if tombstone:
            # Sequence and tombstone in one 64-bit CAS of the slot header (the sequence is the
            # low half): a tombstone stored first would clobber the length of a live producer
            # that published the slot meanwhile (docs/models/mpmc.pml).
            length = r.load(at + L.SLOT_LENGTH_OFFSET) & 0xFFFFFFFF
            expected = (length << 32) | (stuck & 0xFFFFFFFF)
            desired = ((L.TOMBSTONE & 0xFFFFFFFF) << 32) | (repaired & 0xFFFFFFFF)
            seen = atomics.cas64(r.addr(at + L.SLOT_SEQUENCE_OFFSET), expected, desired)
            done = (seen & 0xFFFFFFFFFFFFFFFF) == expected
        else:
            done = atomics.cas32(r.addr(at + L.SLOT_SEQUENCE_OFFSET), stuck, repaired) == _s32(stuck)
        if done:
            if tombstone:
                self._signal(L.CONSUMER_EVENT_OFFSET, L.CONSUMER_WAITERS_OFFSET)
            else:
                self._signal(L.PRODUCER_EVENT_OFFSET, L.PRODUCER_WAITERS_OFFSET)
            atomics.add32(r.addr(L.LOST_OFFSET), 1)
            atomics.cas32(r.addr(self._entry(dead, L.ENTRY_STATE_OFFSET)), state, L.STATE_IDLE)
        return True

    def _claim(self, producing):
        """Claims the next free (producing) or published slot: its position, or None."""
        r = self.ring
        index = L.ENQUEUE_OFFSET if producing else L.DEQUEUE_OFFSET
        position = r.load(index) & 0xFFFFFFFF
        while True:
            sequence = r.load(self._slot(position) + L.SLOT_SEQUENCE_OFFSET)
            lag = _s32(sequence - position - (0 if producing else 1))
            if lag == 0:
                self._announce(L.STATE_PRODUCING if producing else L.STATE_CONSUMING, position)
                seen = atomics.cas32(r.addr(index), position, position + 1) & 0xFFFFFFFF
                if seen == position:
                    return position
                position = seen
            elif lag < 0:
                if producing and lag == 1 - self.slots:
                    previous = (position - self.slots) & 0xFFFFFFFF
                    if _s32(r.load(L.DEQUEUE_OFFSET) - previous) > 0 and self._repair(previous, L.STATE_CONSUMING, previous + 1, position):
                        position = r.load(index) & 0xFFFFFFFF
                        continue
                elif not producing and lag == -1:
                    if r.load(L.ENQUEUE_OFFSET) & 0xFFFFFFFF != position and self._repair(position, L.STATE_PRODUCING, position, position + 1):
                        continue
                elif lag != -self.slots:
                    r.corrupt("slot sequence %d at position %d" % (sequence, position))
                return None
            else:
                following = r.load(index) & 0xFFFFFFFF
                if following == position:
                    r.corrupt("slot sequence %d ahead of position %d" % (sequence, position))
                position = following

    def try_write(self, message):
        """Writes and publishes one message if a slot is free now; False if the ring is full."""
        length = len(message)
        if length > self.max_message_size:
            raise RingError("ERR_MESSAGE_TOO_LARGE", "a message of %d bytes does not fit a slot (at most %d)" % (length, self.max_message_size))
        self._enter(L.ROLE_PRODUCER)
        position = self._claim(True)
        if position is None:
            return False
        r = self.ring
        at = self._slot(position)
        struct.pack_into("<i", r.mv, r.start + at + L.SLOT_LENGTH_OFFSET, length)
        start = r.start + at + L.SLOT_HEADER_SIZE
        r.mv[start : start + length] = message
        # Publish: the consumer that sees this sequence sees the length and payload.
        r.store(at + L.SLOT_SEQUENCE_OFFSET, position + 1)
        self._idle()
        self._signal(L.CONSUMER_EVENT_OFFSET, L.CONSUMER_WAITERS_OFFSET)
        return True

    def try_read(self):
        """The next message as bytes, freeing its slot; None if the ring is empty."""
        self._enter(L.ROLE_CONSUMER)
        r = self.ring
        while True:
            position = self._claim(False)
            if position is None:
                return None
            at = self._slot(position)
            (length,) = struct.unpack_from("<i", r.mv, r.start + at + L.SLOT_LENGTH_OFFSET)  # read once, checked, used
            valid = 0 <= length <= self.max_message_size
            start = r.start + at + L.SLOT_HEADER_SIZE
            message = bytes(r.mv[start : start + length]) if valid else None
            # Free the slot for the next lap's producer even if it held a tombstone or garbage.
            r.store(at + L.SLOT_SEQUENCE_OFFSET, position + self.slots)
            self._idle()
            self._signal(L.PRODUCER_EVENT_OFFSET, L.PRODUCER_WAITERS_OFFSET)
            if length == L.TOMBSTONE:
                continue  # its producer died after claiming it: counted as lost
            if message is None:
                r.corrupt("slot length %d at position %d" % (length, position))
            return message

    def _check_peers(self, role):
        r, dead = self.ring, 0
        for i in range(self.participants):
            owner = atomics.load64(r.addr(self._entry(i, L.ENTRY_OWNER_OFFSET)))
            if owner == 0 or r.load(self._entry(i, L.ENTRY_ROLES_OFFSET)) & role == 0:
                continue
            if alive(owner):
                return
            dead += 1
        if dead:
            raise RingError("ERR_PEER_DEAD", "every peer of the other side has died")

    def write(self, message, timeout=None):
        """Writes one message, blocking while the ring is full (timeout in seconds; None: no limit)."""
        if not self.try_write(message):
            self.ring.block("ring write", lambda: True if self.try_write(message) else None, lambda: self._check_peers(L.ROLE_CONSUMER), L.PRODUCER_EVENT_OFFSET, L.PRODUCER_WAITERS_OFFSET, timeout)

    def read(self, timeout=None):
        """The next message, blocking while the ring is empty."""
        message = self.try_read()
        if message is not None:
            return message
        return self.ring.block("ring read", self.try_read, lambda: self._check_peers(L.ROLE_PRODUCER), L.CONSUMER_EVENT_OFFSET, L.CONSUMER_WAITERS_OFFSET, timeout)

    @property
    def lost(self):
        """Messages lost on this ring (all handles) to repairs, as of now."""
        return self.ring.load(L.LOST_OFFSET)

    def close(self):
        """Gives the registry entry back."""
        if self.entry < 0:
            return
        r = self.ring
        r.store(self._entry(self.entry, L.ENTRY_STATE_OFFSET), L.STATE_IDLE)
        atomics.cas64(r.addr(self._entry(self.entry, L.ENTRY_OWNER_OFFSET)), r.self_id, 0)
        self.entry = -1
