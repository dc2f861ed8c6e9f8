"""Atomic access to shared words, futex wait/wake and process identities for the Python peer.

Standard library only: the atomic operations come from libatomic through ctypes where the
system has it (any architecture), else from a few x86-64 instructions placed in an executable
anonymous mapping; the futex is the raw syscall through libc. Every operation here is
sequentially consistent, as JavaScript's Atomics are.
"""
import ctypes
import ctypes.util
import errno
import mmap
import os
import platform

_SYS_FUTEX = {"x86_64": 202, "amd64": 202, "aarch64": 98, "arm64": 98, "riscv64": 98, "i686": 240, "i386": 240, "armv7l": 240}
FUTEX_WAIT = 0
FUTEX_WAKE = 1
_SEQ_CST = 5

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def _signed32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def _signed64(v):
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v & (1 << 63) else v


class _LibAtomic:
    """The __atomic_* functions of libatomic."""

    name = "libatomic"

    def __init__(self, path):
        lib = ctypes.CDLL(path)  # getattr: a name in a class that starts with __ would be mangled
        p, i32, u32, u64, i = ctypes.c_void_p, ctypes.c_int32, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int
        self._load4 = getattr(lib, "__atomic_load_4")
        self._load4.argtypes, self._load4.restype = [p, i], u32
        self._store4 = getattr(lib, "__atomic_store_4")
        self._store4.argtypes, self._store4.restype = [p, u32, i], None
        self._add4 = getattr(lib, "__atomic_fetch_add_4")
        self._add4.argtypes, self._add4.restype = [p, u32, i], u32
        self._cas4 = getattr(lib, "__atomic_compare_exchange_4")
        self._cas4.argtypes, self._cas4.restype = [p, p, u32, i, i], ctypes.c_bool
        self._load8 = getattr(lib, "__atomic_load_8")
        self._load8.argtypes, self._load8.restype = [p, i], u64
        self._cas8 = getattr(lib, "__atomic_compare_exchange_8")
        self._cas8.argtypes, self._cas8.restype = [p, p, u64, i, i], ctypes.c_bool
        self._e4 = ctypes.c_int32()
        self._e8 = ctypes.c_int64()

    def load32(self, addr):
        return _signed32(self._load4(addr, _SEQ_CST))

    def store32(self, addr, value):
        self._store4(addr, value & 0xFFFFFFFF, _SEQ_CST)

    def add32(self, addr, value):
        return _signed32(self._add4(addr, value & 0xFFFFFFFF, _SEQ_CST))

    def cas32(self, addr, expected, desired):
        """Compare-and-swap; returns the value found (== expected: swapped)."""
        self._e4.value = _signed32(expected)
        self._cas4(addr, ctypes.addressof(self._e4), desired & 0xFFFFFFFF, _SEQ_CST, _SEQ_CST)
        return self._e4.value

    def load64(self, addr):
        return _signed64(self._load8(addr, _SEQ_CST))

    def cas64(self, addr, expected, desired):
        self._e8.value = _signed64(expected)
        self._cas8(addr, ctypes.addressof(self._e8), desired & 0xFFFFFFFFFFFFFFFF, _SEQ_CST, _SEQ_CST)
        return self._e8.value


# x86-64 System V: rdi = address, rsi = expected/value, rdx = desired.
_X86_64 = {
    "load32": (b"\x8b\x07\xc3", ctypes.c_int32, [ctypes.c_void_p]),  # mov eax,[rdi]
    "store32": (b"\x87\x37\xc3", None, [ctypes.c_void_p, ctypes.c_int32]),  # xchg [rdi],esi
    "add32": (b"\x89\xf0\xf0\x0f\xc1\x07\xc3", ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32]),  # lock xadd
    "cas32": (b"\x89\xf0\xf0\x0f\xb1\x17\xc3", ctypes.c_int32, [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32]),  # lock cmpxchg
    "load64": (b"\x48\x8b\x07\xc3", ctypes.c_int64, [ctypes.c_void_p]),
    "cas64": (b"\x48\x89\xf0\xf0\x48\x0f\xb1\x17\xc3", ctypes.c_int64, [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64]),
}


class _X86Thunks:
    """The same operations as a few x86-64 instructions (x86 loads and locked writes are seq_cst)."""

    name = "x86-64 instructions"

    def __init__(self):
        self._code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        base = ctypes.addressof(ctypes.c_char.from_buffer(self._code))
        at = 0
        for name, (code, restype, argtypes) in _X86_64.items():
            self._code[at : at + len(code)] = code
            fn = ctypes.CFUNCTYPE(restype, *argtypes)(base + at)
            setattr(self, "_" + name, fn)
            at += (len(code) + 15) & ~15
        self.load32, self.load64 = self._load32, self._load64
        self.add32 = lambda addr, v: self._add32(addr, _signed32(v))
        self.store32 = lambda addr, v: self._store32(addr, _signed32(v))
        self.cas32 = lambda addr, e, d: self._cas32(addr, _signed32(e), _signed32(d))
        self.cas64 = lambda addr, e, d: self._cas64(addr, _signed64(e), _signed64(d))


def _choose():
    forced = os.environ.get("SHMRING_PY_ATOMICS")
    path = ctypes.util.find_library("atomic")
    if forced != "x86" and path is not None:
        return _LibAtomic(path)
    if platform.machine() in ("x86_64", "amd64"):
        return _X86Thunks()
    raise OSError("shmring needs libatomic (libatomic.so.1) on " + platform.machine())


atomics = _choose()
_sys_futex = _SYS_FUTEX.get(platform.machine())


def futex_wait(addr, expected, timeout_s):
    """Sleeps while the word at addr holds `expected`, at most timeout_s; True if the time ran out."""
    ts = _Timespec(int(timeout_s), int((timeout_s % 1) * 1e9))
    rc = _libc.syscall(_sys_futex, ctypes.c_void_p(addr), FUTEX_WAIT, ctypes.c_int32(_signed32(expected)), ctypes.byref(ts), None, 0)
    return rc != 0 and ctypes.get_errno() == errno.ETIMEDOUT


def futex_wake(addr):
    _libc.syscall(_sys_futex, ctypes.c_void_p(addr), FUTEX_WAKE, ctypes.c_int32(0x7FFFFFFF), None, None, 0)


def start_time(pid):
    """Start time of a process in clock ticks since boot, or None if it is gone or a zombie."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return int(fields[19])


def _namespace_tag():
    """This process's PID-namespace tag, 1..1023 from the inode of /proc/self/ns/pid (0 if unknown)."""
    try:
        link = os.readlink("/proc/self/ns/pid")
        return 1 + int(link[link.index("[") + 1:link.index("]")]) % 1023
    except (OSError, ValueError):
        return 0


NAMESPACE_TAG = _namespace_tag()


def self_identity():
    """This process as an identity: bits 0..21 pid, 22..31 PID-namespace tag, 32..63 start time."""
    pid = os.getpid()
    return _signed64(((start_time(pid) or 0) & 0xFFFFFFFF) << 32 | (NAMESPACE_TAG & 0x3FF) << 22 | (pid & 0x3FFFFF))


def alive(identity):
    """Whether the thread of an identity still runs (a reused id with another start time: dead).
    An identity tagged with another PID namespace counts as alive: nothing here proves it dead."""
    tag = (identity >> 22) & 0x3FF
    pid = identity & 0x3FFFFF
    if pid == 0:
        return False  # no thread has id 0, in any namespace
    if tag != 0 and tag != NAMESPACE_TAG:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = start_time(pid)
    return start is not None and (start & 0xFFFFFFFF) == (identity >> 32) & 0xFFFFFFFF
