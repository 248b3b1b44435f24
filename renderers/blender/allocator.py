"""The C allocator of a render worker: keep freed memory for the next render (glibc only).

Every render call allocates and frees the same large buffers (render result passes, compositor
results, image buffers for the pass files: 1-4 MB each at 512 px). glibc gives big blocks their
own ``mmap`` and hands a freed heap top back to the OS, so each render faulted in ~5,600 fresh,
zeroed pages: ~11 ms of kernel time per 512 px render, a tenth of the render loop. With the mmap
threshold at glibc's 64-bit ceiling and trimming off, those pages stay in the heap and are reused:
~20 faults per render. What the worker holds is one render's peak, not growth (the memory row
of ``benchmarks/render.py`` checks 50 vs 500 images). Nothing here changes what is rendered.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD_BYTES = 32 << 20  # glibc's ceiling on 64-bit systems; larger blocks still get mmap
TRIM_THRESHOLD_BYTES = 1 << 30  # give memory back only when a whole GiB lies free at the heap top


def keep_freed_memory() -> bool:
    """Tune this process's glibc allocator as above; True if glibc took both settings. Where the C
    library is not glibc (no ``mallopt``: macOS, Windows), nothing changes and it returns False."""
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) == 1
