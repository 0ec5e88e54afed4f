"""Process memory settings for the long-running agent: fewer glibc malloc arenas, free pages returned after start-up,
optional modules its libraries would load for nothing."""

import ctypes
import ctypes.util
import gc
import logging
import sys

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)

# Modules that a library of the agent imports when they are installed and does without when they are not
# (`try: import ... except ImportError`), which the agent never uses; each is kept for the process's lifetime.
UNUSED_OPTIONAL_MODULES = {
    # strawberry.experimental.pydantic also accepts pydantic v1 models when pydantic.v1 imports (~1.4 MB, 23
    # modules); the local API's types derive from pydantic v2 models only.
    "pydantic.v1": "strawberry.experimental.pydantic",
    # uvicorn picks watchfiles (a Rust extension) for --reload when installed, else its stat-based reloader;
    # the agent's local API server never reloads (~1 MB).
    "watchfiles": "uvicorn.supervisors",
}


def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def limit_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas; call before any thread starts (elsewhere, e.g. musl or macOS, nothing happens).

    The database calls run on worker threads (db/edge/threaded.py; aiosqlite had one per connection), and glibc
    gives each thread an arena of its own (up to 8 per core); each keeps freed memory it cannot hand back. Two
    arenas measured ~5 MB less RSS at no CPU cost.
    """
    libc = _libc()
    if libc is not None and not libc.mallopt(M_ARENA_MAX, arenas):
        logger.debug("mallopt(M_ARENA_MAX) refused")


def freeze_startup_objects() -> None:
    """Collect start-up's garbage, then keep every object left out of later collections.

    Modules, schema and mappers never become garbage; frozen, the collector no longer walks them each time a
    poll or an upload allocates (a full collection over them cost the drain ~0.7 µs per reading).
    """
    gc.collect()  # frozen, start-up's own garbage would be kept for good
    gc.freeze()


def release_free_memory() -> None:
    """Hand the pages malloc holds free (start-up's temporaries) back to the system."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def keep_out_unused_modules() -> None:
    """Make UNUSED_OPTIONAL_MODULES fail to import in this process, so that their libraries go without them.

    Only for the agent's own process (`meterit edge run`), before the libraries are imported: a test run or
    `meterit demo` may need them.
    """
    for name in UNUSED_OPTIONAL_MODULES:
        sys.modules.setdefault(name, None)
