"""A bounded reader of the LZ4 frame format (joblib's `compress="lz4"`), in pure Python.

joblib writes lz4 files with the `lz4` package, which is not one of its dependencies, so
the scanner cannot count on it: this decodes the frame format (frame descriptor, blocks,
linked or independent, skippable frames) and the block format (literal runs and matches
into a 64 KiB window) as the specification at lz4.org describes them. Checksums are not
verified (the loader would fail on a bad one after unpickling what came before).

Output is produced block by block (a block holds at most 4 MiB), so memory stays bounded;
the caller bounds the total it reads.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

FRAME_MAGIC = b"\x04\x22\x4d\x18"
SKIPPABLE_MASK = 0xFFFFFFF0
SKIPPABLE_MAGIC = 0x184D2A50
BLOCK_MAX = {4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20}
WINDOW = 64 << 10


def decode_block(src: bytes, window: bytes, max_out: int) -> bytes:
    """One LZ4 block; `window` is the history that matches may reach back into (linked
    blocks). ValueError when the block is malformed or decodes to more than `max_out`."""
    out = bytearray(window)
    base = len(out)
    limit = base + max_out
    i, n = 0, len(src)
    try:
        while i < n:
            token = src[i]
            i += 1
            length = token >> 4
            if length == 15:
                while True:
                    extra = src[i]
                    i += 1
                    length += extra
                    if extra != 255:
                        break
            if i + length > n or len(out) + length > limit:
                raise ValueError("an LZ4 literal run overruns its block")
            out += src[i : i + length]
            i += length
            if i >= n:
                break  # the last sequence has literals only
            offset = src[i] | (src[i + 1] << 8)
            i += 2
            if offset == 0 or offset > len(out):
                raise ValueError("an LZ4 match reaches before the start of the data")
            length = token & 15
            if length == 15:
                while True:
                    extra = src[i]
                    i += 1
                    length += extra
                    if extra != 255:
                        break
            length += 4
            if len(out) + length > limit:
                raise ValueError("an LZ4 block decodes to more than its maximum size")
            start = len(out) - offset
            if offset >= length:
                out += out[start : start + length]
            else:  # overlapping copy: the last `offset` bytes repeat
                pattern = bytes(out[start:])
                out += (pattern * (length // offset + 1))[:length]
    except IndexError as err:
        raise ValueError("an LZ4 block ends in the middle of a sequence") from err
    return bytes(out[base:])


class Lz4FrameReader(io.RawIOBase):
    """Decompressed bytes of one or more LZ4 frames. Reads forward; seeks forward only."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._pending = b""
        self._used = 0
        self._pos = 0
        self._window = b""
        self._in_frame = False
        self._block_max = 0
        self._linked = False
        self._block_checksum = False
        self._content_checksum = False
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _exact(self, n: int) -> bytes:
        data = self._raw.read(n)
        if len(data) != n:
            raise EOFError("LZ4 frame ends early")
        return data

    def _start_frame(self) -> bool:
        """Read the next frame's descriptor; False at the end of the input."""
        while True:
            magic = self._raw.read(4)
            if not magic:
                return False
            if len(magic) != 4:
                raise EOFError("LZ4 frame ends early")
            value = struct.unpack("<I", magic)[0]
            if value & SKIPPABLE_MASK == SKIPPABLE_MAGIC:
                size = struct.unpack("<I", self._exact(4))[0]
                self._exact(size)
                continue
            if magic != FRAME_MAGIC:
                raise ValueError(f"not an LZ4 frame (magic {magic.hex()})")
            flg, bd = self._exact(2)
            if flg >> 6 != 1:
                raise ValueError(f"unknown LZ4 frame version {flg >> 6}")
            block_max = BLOCK_MAX.get((bd >> 4) & 7)
            if block_max is None:
                raise ValueError("bad LZ4 block maximum size")
            if flg & 0x08:
                self._exact(8)  # content size
            if flg & 0x01:
                self._exact(4)  # dictionary id
            self._exact(1)  # header checksum
            self._block_max = block_max
            self._linked = not flg & 0x20
            self._block_checksum = bool(flg & 0x10)
            self._content_checksum = bool(flg & 0x04)
            self._window = b""
            self._in_frame = True
            return True

    def _next_block(self) -> bytes | None:
        """The next block's decompressed bytes; None at the end of the input."""
        while True:
            if not self._in_frame and not self._start_frame():
                return None
            size = struct.unpack("<I", self._exact(4))[0]
            if size == 0:  # end mark
                if self._content_checksum:
                    self._exact(4)
                self._in_frame = False
                continue
            stored = bool(size & 0x80000000)
            size &= 0x7FFFFFFF
            if size > self._block_max:
                raise ValueError("an LZ4 block is larger than the frame allows")
            data = self._exact(size)
            if self._block_checksum:
                self._exact(4)
            if not stored:
                data = decode_block(data, self._window if self._linked else b"", self._block_max)
            if self._linked:
                self._window = (self._window + data)[-WINDOW:]
            return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._used >= len(self._pending) and not self._done:
            block = self._next_block()
            if block is None:
                self._done = True
            else:
                self._pending, self._used = block, 0
        n = min(len(buffer), len(self._pending) - self._used)
        buffer[:n] = self._pending[self._used : self._used + n]
        self._used += n
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise OSError("an LZ4 stream only seeks forward")
        while self._pos < target:
            chunk = self.read(min(target - self._pos, 1 << 20))
            if not chunk:
                break
        return self._pos
