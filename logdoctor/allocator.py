"""The C allocator set up for the way logdoctor uses memory (glibc only; elsewhere nothing changes).

A long log is read piece by piece, and each rule run and compaction makes arrays of a million rows
that live for a moment.  By default glibc hands such blocks back to the system when they are freed
and asks for them again at the next run, and every page asked for anew costs a page fault: a sixth of
the time of ``diagnose`` on a 1 GB Caffe log.  Kept for the next run, the memory costs no more than
the peak the process reached anyway.

Process-wide, so the command line calls it, not the library.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD = 32 << 20   # glibc's largest: blocks below it come from the heap, where freed ones are reused
TRIM_THRESHOLD = 256 << 20  # free memory at the top of the heap kept, up to this much


def keep_freed_memory() -> bool:
    """Have glibc keep freed blocks for reuse; False (and nothing done) with another C library."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    if not hasattr(libc, "gnu_get_libc_version"):  # not glibc: another library's mallopt takes other numbers
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
