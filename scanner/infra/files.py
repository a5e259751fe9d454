"""Opening a scanned file: regular files only, never blocking, every read bounded.

A FIFO named `requirements.txt` blocks `open()` until a writer appears; `/dev/zero`
symlinked as a lock file never ends. So a scanned path is opened with `O_NONBLOCK`
(a FIFO opens at once instead of waiting for a writer), checked with `fstat` on the
open descriptor (no window between the check and the read), and refused unless it is a
regular file. Reads stop one byte past the caller's limit, so "too large" is known
without reading the rest.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class TooLarge(OSError):
    """A file larger than the caller's bound."""


def kind_of(mode: int) -> str:
    """`a FIFO`, `a character device` ... for messages."""
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def not_regular(path: str | os.PathLike[str], mode: int) -> OSError:
    """The error for a path that is not a regular file."""
    return OSError(errno.EINVAL, f"is {kind_of(mode)}, not a regular file (not read)", str(path))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading (symlinks followed); OSError for anything else."""
    fd = os.open(path, _FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular(path, mode)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The whole of a regular file; TooLarge if it holds more than `limit` bytes."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(errno.EFBIG, f"larger than {_size(limit)}", str(path))
    return data


def read_head(path: str | os.PathLike[str], n: int) -> bytes:
    """The first `n` bytes of a regular file."""
    with open_regular(path) as fh:
        return fh.read(n)


def is_regular(path: Path) -> bool:
    """A regular file (symlinks followed), without opening it."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n} bytes"
