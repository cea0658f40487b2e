"""Keep freed array memory in the process instead of handing it back to the OS every day.

A day of a large run allocates and frees temporaries of a few MB each (an (S, R) block at R = 100,000 is
1.2 MB in float32, 2.4 MB in uint64). glibc serves such blocks with mmap and returns them with munmap when
freed, so the next day faults the same pages in again: at R = 100,000 that was 277,000 minor page faults
and a third of the CPU time in the kernel over 60 days (issue 11). Raising glibc's mmap and trim
thresholds keeps freed blocks on the heap for reuse: same numbers, no faults, CPU time per replicate-day
flat in R. Linux/glibc only; elsewhere nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

#: glibc's mallopt parameters (malloc.h) and the size below which blocks stay on the heap.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
HEAP_BYTES = 256 << 20

_done = False


def keep_freed_memory(limit: int = HEAP_BYTES) -> bool:
    """Blocks up to ``limit`` bytes come from the heap and up to ``limit`` freed bytes stay there; once per
    process. Returns whether glibc accepted it."""
    global _done
    if _done or not sys.platform.startswith("linux"):
        return _done
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _done = bool(libc.mallopt(_M_MMAP_THRESHOLD, limit)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, limit))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        _done = False
    return _done
