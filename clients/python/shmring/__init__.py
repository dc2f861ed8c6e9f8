"""shmring for Python: open and validate a shmring ring in shared memory, and produce or
consume on an SPSC or MPMC ring alongside Node (and C) peers. Standard library only; Linux.
The protocol is docs/PROTOCOL.md.

    from shmring import map_segment, SpscConsumer
    consumer = SpscConsumer(map_segment("shm:my-ring"))
    message = consumer.read(timeout=5)
"""
from .layout import KIND_MPMC, KIND_SPSC, RING_VERSION
from .mpmc import MpmcRing
from .ring import Ring, RingError, map_segment
from .spsc import SpscConsumer, SpscProducer

__all__ = ["KIND_MPMC", "KIND_SPSC", "RING_VERSION", "MpmcRing", "Ring", "RingError", "SpscConsumer", "SpscProducer", "map_segment"]
