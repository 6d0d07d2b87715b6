"""The IDX file format (MNIST's), read defensively and written for tests.

An IDX file is a tiny header followed by one dense array:

    bytes 0-1   zero                    (anything else: not an IDX file)
    byte  2     dtype code              0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                                        0x0D float32, 0x0E float64
    byte  3     number of dimensions    n >= 1
    n x 4 bytes each dimension, big-endian uint32
    the data    prod(dims) items, big-endian, C order, and nothing after it

The files are often gzipped (MNIST ships `.gz`), so `read_idx` looks at the first bytes, not
the file name, to decide whether to decompress.

Files we read are untrusted (a half download, a different dataset under the same name, a
corrupt disk), so nothing in the header is believed until it has been checked against the
rest: the data length must equal what the dimensions promise, to the byte. The header is
checked *before* the data is read, and the data is read in chunks, so a corrupt header that
claims terabytes costs an error message, not a `MemoryError` or an allocation of that size.
Every error is a `ValueError` that names the file, what was expected, what was found, and
what to do about it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import struct
import zlib
from pathlib import Path

import numpy as np

# IDX dtype code -> big-endian NumPy dtype as stored on disk.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}

#: No IDX file we know of comes near this (MNIST's largest is 47 MB); a header that promises
#: more is taken to be corrupt rather than trusted with an allocation.
MAX_IDX_BYTES = 1 << 32


class ChecksumError(ValueError):
    """A file's content is not the one we expected (corrupt, cut, or another dataset).

    `path`, `expected` and `found` (hex SHA-256 digests) say which and how.
    """

    def __init__(self, message: str, *, path=None, expected=None, found=None):
        super().__init__(message)
        self.path, self.expected, self.found = path, expected, found


_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_gzip(path: str | os.PathLike) -> bool:
    """True when the file starts with the gzip magic bytes (whatever its name says)."""
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _open(path: Path):
    """Open raw or gzipped, deciding by content: an IDX file starts with two zero bytes."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def _read_exactly(f, n: int, path: Path, what: str) -> bytes:
    data = _read_upto(f, n, path)
    if len(data) != n:
        raise ValueError(
            f"{path}: not a valid IDX file: the file ends inside the {what} "
            f"(expected {n} bytes, found {len(data)}). The file is truncated or not IDX; "
            "delete it and fetch it again."
        )
    return bytes(data)


def _read_upto(f, n: int, path: Path) -> bytearray:
    """Read at most `n` bytes in chunks, so the buffer only grows as data really arrives."""
    buf = bytearray()
    with _gzip_errors(path):
        while len(buf) < n:
            chunk = f.read(min(_CHUNK, n - len(buf)))
            if not chunk:
                break
            buf += chunk
    return buf


def _drain(f, limit: int, path: Path) -> int:
    """Read and drop up to `limit` bytes; return how many there were."""
    count = 0
    with _gzip_errors(path):
        while count < limit:
            chunk = f.read(min(_CHUNK, limit - count))
            if not chunk:
                break
            count += len(chunk)
    return count


@contextlib.contextmanager
def _gzip_errors(path: Path):
    """Corrupt gzip streams (bad CRC, cut stream, garbage) surface while reading; turn them
    into a ValueError naming the file instead of a zlib/EOFError traceback."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise ValueError(
            f"{path}: the gzip stream is corrupt or cut short ({e}). Delete it and fetch it again."
        ) from None


def _parse_header(f, path: Path) -> tuple[np.dtype, tuple[int, ...]]:
    head = _read_exactly(f, 4, path, "4-byte header")
    if head[:2] != b"\x00\x00":
        raise ValueError(
            f"{path}: not an IDX file: the magic number is 0x{head.hex()} but an IDX file "
            "starts with two zero bytes, a dtype code and a dimension count (MNIST images: "
            "0x00000803, labels: 0x00000801). If this is the right file, it is corrupt: "
            "delete it and fetch it again."
        )
    code, ndim = head[2], head[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} ({d.name})" for c, d in IDX_DTYPES.items())
        raise ValueError(
            f"{path}: invalid IDX dtype code 0x{code:02X} in the magic number 0x{head.hex()}; "
            f"expected one of {known}. The file is corrupt or not IDX; delete it and fetch it "
            "again."
        )
    if ndim == 0:
        raise ValueError(
            f"{path}: invalid IDX header: 0 dimensions (magic 0x{head.hex()}); an IDX array "
            "has at least one. The file is corrupt or not IDX; delete it and fetch it again."
        )
    dims = struct.unpack(f">{ndim}I", _read_exactly(f, 4 * ndim, path, f"{ndim} dimensions"))
    return IDX_DTYPES[code], dims


def _expected_nbytes(dtype: np.dtype, dims: tuple[int, ...], path: Path, max_bytes: int) -> int:
    nbytes = dtype.itemsize
    for d in dims:
        nbytes *= d  # Python ints: no overflow, however absurd the header
    if nbytes > max_bytes:
        raise ValueError(
            f"{path}: absurd IDX dimensions {dims} ({dtype.name}): they promise {nbytes:,} "
            f"bytes of data, more than the {max_bytes:,} this reader accepts. The header is "
            "corrupt; delete it and fetch it again."
        )
    return nbytes


def read_idx(
    path: str | os.PathLike, *, sha256: str | None = None, max_bytes: int = MAX_IDX_BYTES
) -> np.ndarray:
    """Read an IDX file (gzipped or raw) into a native-endian, writable NumPy array.

    Checks, in order: the magic number (two zero bytes), the dtype code, the number of
    dimensions, that the dimensions promise at most `max_bytes`, and that the data is exactly
    that long (no truncation, no trailing bytes). With `sha256`, also that the SHA-256 of the
    decompressed content (header and data: the IDX file itself) equals it; a mismatch raises
    `ChecksumError` (a ValueError). Any failure raises ValueError naming the file.
    """
    path = Path(path)
    sha = hashlib.sha256()
    gzipped = is_gzip(path)
    with _open(path) as raw:
        f = _Tee(raw, sha)  # the checksum covers the header too: it is of the whole IDX file
        dtype, dims = _parse_header(f, path)
        nbytes = _expected_nbytes(dtype, dims, path, max_bytes)
        if not gzipped:
            # For raw files the size is known up front: say how far off it is before reading.
            found = os.path.getsize(path) - 4 - 4 * len(dims)
            _check_length(path, dims, dtype, nbytes, found)
        data = _read_upto(f, nbytes + 1, path)  # one byte more than promised reveals trailers
        found = len(data)
        if found > nbytes:
            found += _drain(f, max_bytes, path)
        _check_length(path, dims, dtype, nbytes, found)
    if sha256 is not None and sha.hexdigest() != sha256.lower():
        raise ChecksumError(
            f"{path}: the IDX content (decompressed) has SHA-256 {sha.hexdigest()}, expected "
            f"{sha256.lower()}. The file is corrupt or a different dataset; delete it and "
            "fetch it again.",
            path=path,
            expected=sha256.lower(),
            found=sha.hexdigest(),
        )
    array = np.frombuffer(data, dtype=dtype).reshape(dims)
    # Big-endian on disk; native order in memory, so later arithmetic runs at full speed.
    return array.astype(dtype.newbyteorder("="), copy=False)


class _Tee:
    """A reader that hashes what passes through it (the header, here)."""

    def __init__(self, f, sha):
        self._f, self._sha = f, sha

    def read(self, n: int) -> bytes:
        chunk = self._f.read(n)
        self._sha.update(chunk)
        return chunk


def _check_length(path: Path, dims, dtype: np.dtype, nbytes: int, found: int) -> None:
    if found < nbytes:
        raise ValueError(
            f"{path}: truncated IDX data: dimensions {tuple(dims)} of {dtype.name} need "
            f"{nbytes:,} bytes after the header, but the file has {found:,}. Probably an "
            "interrupted download: delete it and fetch it again."
        )
    if found > nbytes:
        raise ValueError(
            f"{path}: {found - nbytes:,} trailing bytes after the IDX data: dimensions "
            f"{tuple(dims)} of {dtype.name} need exactly {nbytes:,} bytes, the file has "
            f"{found:,}. The header or the file is corrupt; delete it and fetch it again."
        )


def content_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of the file's content after decompression (the IDX bytes themselves).

    This is the identity we check a dataset file by: it does not change when a distributor
    re-compresses the file (Debian's Fashion-MNIST archives differ from Zalando's only in
    their gzip headers), while an archive checksum would.
    """
    path = Path(path)
    sha = hashlib.sha256()
    with _open(path) as f:
        _drain(_Tee(f, sha), MAX_IDX_BYTES, path)
    return sha.hexdigest()


def write_idx(path: str | os.PathLike, array, *, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file; gzipped when `compress` is true.

    `compress=None` decides by the name (`.gz` means gzip). Used by the tests to make small
    files, and handy for saving your own arrays in MNIST's format.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODE_OF.get(array.dtype.newbyteorder("="))
    if code is None:
        raise TypeError(
            f"write_idx: dtype {array.dtype} has no IDX code; use one of "
            f"{', '.join(d.newbyteorder('=').name for d in IDX_DTYPES.values())}"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX stores 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress is None:
        compress = path.suffix == ".gz"
    path.write_bytes(gzip.compress(payload, mtime=0) if compress else payload)
    return path
