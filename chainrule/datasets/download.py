"""Where dataset files live, how they are verified, and how they are fetched.

Users fetch a dataset once and then work offline, so the rules are about never using a bad
file silently:

- A file's identity is the SHA-256 of its *decompressed* IDX content (`FileSpec.sha256`).
  It survives re-compression (Debian re-gzipped Fashion-MNIST; the IDX bytes are the same),
  where an archive checksum would not. The original archive's MD5 (`FileSpec.md5`, as
  published by the dataset's authors and used by torchvision) is kept too, so `chainrule data
  info` can say whether a file is the original archive or a re-compressed copy.
- Downloads try a list of mirrors in order, each with a timeout (hosts die: the MNIST host
  that many courses still point at answers 403). Bytes go to `<name>.part-<random>` in the
  target directory, are checked (length against Content-Length, then the content checksum),
  and only then renamed to `<name>` with `os.replace`, which is atomic. Whatever goes wrong,
  interrupted or rejected, the part file is deleted, so no half file ever sits under the
  real name.
- A file that verifies is never downloaded again.

Errors: a missing dataset raises `FileNotFoundError` (listing the files, their checksums,
the directories searched and the command that fetches them); a file whose content is wrong
raises `ChecksumError` (a ValueError); a download that fails on every mirror raises
`DownloadError` (a RuntimeError) with what each mirror answered.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from chainrule.datasets.idx import ChecksumError, content_sha256, read_idx

#: Seconds one mirror may stay silent (connecting, or between two reads) before we move on.
DEFAULT_TIMEOUT = 30.0

_CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """No mirror delivered a file that verifies; the message says what each one did."""


@dataclass(frozen=True)
class FileSpec:
    """One dataset file: its name on the mirrors and on disk, and how to recognise it.

    sha256: of the decompressed IDX content, the identity we verify against.
    md5:    of the original .gz archive, where known (informational: re-compressed copies,
            such as Debian's, have another).
    """

    name: str
    sha256: str
    md5: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to find, verify and fetch one dataset's files.

    name:         the CLI name (`chainrule data download NAME`).
    folder:       the sub-directory of the data root, torchvision's layout:
                  `ROOT/<folder>/raw/<file>`; so a torchvision data directory works here too.
    files:        train images, train labels, test images, test labels, in that order.
    mirrors:      base URLs, tried in order; a file's URL is base + file name.
    system_dirs:  read-only places a system package may have installed the files in,
                  searched last (Debian's dataset-fashion-mnist, for instance).
    """

    name: str
    folder: str
    files: tuple[FileSpec, FileSpec, FileSpec, FileSpec]
    mirrors: tuple[str, ...]
    system_dirs: tuple[str, ...] = field(default=())

    def file(self, name: str) -> FileSpec:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no file {name!r}; its files: {self.file_names}")

    @property
    def file_names(self) -> list[str]:
        return [f.name for f in self.files]


# MNIST. Archive MD5s: the official ones (as torchvision). Content SHA-256s: computed here from
# the decompressed original files, whose archive MD5s match the official ones.
MNIST_SPEC = DatasetSpec(
    name="mnist",
    folder="MNIST",
    files=(
        FileSpec(
            "train-images-idx3-ubyte.gz",
            sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
        ),
        FileSpec(
            "train-labels-idx1-ubyte.gz",
            sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            md5="d53e105ee54ea40749a09fcbcd1e9432",
        ),
        FileSpec(
            "t10k-images-idx3-ubyte.gz",
            sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            md5="9fb629c4189551a2d022fa330f9573f3",
        ),
        FileSpec(
            "t10k-labels-idx1-ubyte.gz",
            sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            md5="ec29112dd5afa0611ce80d1b7f02629c",
        ),
    ),
    # yann.lecun.com, the original host, answers 403 to scripts; it is left out.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ),
)

# Fashion-MNIST. Archive MD5s: Zalando's README (also torchvision's). Content SHA-256s:
# computed from Debian's package dataset-fashion-mnist, whose archives have other MD5s. They
# are the originals re-stamped: each Debian archive is the original deflate stream under a
# header without the file name; putting back the name and the original mtime (2017-08-31
# 10:50:06 UTC for train, 10:50:27 for t10k) gives exactly Zalando's MD5, for all four.
FASHION_MNIST_SPEC = DatasetSpec(
    name="fashion-mnist",
    folder="FashionMNIST",
    files=(
        FileSpec(
            "train-images-idx3-ubyte.gz",
            sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
            md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        ),
        FileSpec(
            "train-labels-idx1-ubyte.gz",
            sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
            md5="25c81989df183df01b3e8a0aad5dffbe",
        ),
        FileSpec(
            "t10k-images-idx3-ubyte.gz",
            sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
            md5="bef4ecab320f06d8554ea6380940ec79",
        ),
        FileSpec(
            "t10k-labels-idx1-ubyte.gz",
            sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
            md5="bb300cfdad3c16e7a12a480ee83cd310",
        ),
    ),
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    system_dirs=("/usr/share/datasets/fashion-mnist",),
)

SPECS: dict[str, DatasetSpec] = {s.name: s for s in (MNIST_SPEC, FASHION_MNIST_SPEC)}


def default_root() -> Path:
    """The data root: `$CHAINRULE_DATA` if set, else `~/.cache/chainrule`."""
    env = os.environ.get("CHAINRULE_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "chainrule"


def resolve_root(root: str | os.PathLike | None) -> Path:
    return default_root() if root is None else Path(root).expanduser()


def download_dir(spec: DatasetSpec, root: str | os.PathLike | None = None) -> Path:
    """Where downloads go: `ROOT/<folder>/raw` (torchvision's layout)."""
    return resolve_root(root) / spec.folder / "raw"


def search_dirs(spec: DatasetSpec, root: str | os.PathLike | None = None) -> list[Path]:
    """The directories searched for a dataset's files, in order.

    1. `ROOT/<folder>/raw`  where `download=True` and `chainrule data download` put files,
                            and where torchvision keeps them;
    2. `ROOT`               the files directly in the root (`MNIST(root="../shared/data/mnist")`);
    3. `spec.system_dirs`   files a system package installed (read-only).
    """
    root = resolve_root(root)
    dirs = [root / spec.folder / "raw", root]
    dirs += [Path(d) for d in spec.system_dirs]
    return dirs


def candidates(spec: DatasetSpec, name: str, root=None) -> list[Path]:
    """Every path a file may be at, in search order: each directory, `.gz` first, then the
    uncompressed IDX file (as torchvision leaves it after extraction)."""
    bare = name[: -len(".gz")] if name.endswith(".gz") else name
    return [d / n for d in search_dirs(spec, root) for n in (name, bare)]


def owner_of(sha256: str) -> str | None:
    """Which known dataset file has this content checksum ("MNIST's t10k-labels-..."), if any.

    MNIST and Fashion-MNIST use the same four file names, so a directory holding one of them
    is a natural place to find the other's name with the wrong content. Such a file is not
    corrupt, just not ours: the search goes past it (and says so) instead of failing.
    """
    for spec in SPECS.values():
        for f in spec.files:
            if f.sha256 == sha256:
                return f"{spec.folder}'s {f.name}"
    return None


@dataclass(frozen=True)
class FileStatus:
    """What was found for one file.

    path:             where it is; None when it is nowhere.
    problem:          None when the file verifies, else what is wrong ("missing" if absent).
    original_archive: True for a byte-identical original .gz, False for a re-compressed or
                      uncompressed copy of the same content, None when unknown.
    skipped:          other datasets' files with this name met on the way (see `owner_of`).
    """

    spec: FileSpec
    path: Path | None
    problem: str | None = None
    original_archive: bool | None = None
    skipped: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.path is not None and self.problem is None


def verify_file(path: str | os.PathLike, spec: FileSpec) -> FileStatus:
    """Check one file against its spec: IDX structure, then content SHA-256 (as a dataset
    would read it). Never raises for a bad file: the problem is in the returned status."""
    path = Path(path)
    try:
        read_idx(path, sha256=spec.sha256)
    except ChecksumError as e:
        owner = owner_of(e.found)
        what = f"it is {owner}" if owner else "corrupt, or another dataset"
        return FileStatus(
            spec,
            path,
            problem=f"{path}: IDX content SHA-256 is {e.found}, expected {spec.sha256} ({what})",
            skipped=(f"{path} ({owner})",) if owner else (),
        )
    except (ValueError, OSError) as e:
        return FileStatus(spec, path, problem=str(e))
    original = None
    if spec.md5 is not None:
        original = _file_digest(path, "md5") == spec.md5
    return FileStatus(spec, path, original_archive=original)


def find_file(spec: DatasetSpec, name: str, root=None) -> FileStatus:
    """The first candidate for a file that is ours, verified; a missing file has path None.

    The first file found is the one used: if it is damaged we say so, rather than quietly
    reaching past it for another copy (the user should learn that the file is broken).
    Only another known dataset's file of the same name is passed over (see `owner_of`).
    """
    skipped: list[str] = []
    for path in candidates(spec, name, root):
        if not path.is_file():
            continue
        status = verify_file(path, spec.file(name))
        if status.ok or not status.skipped:
            return FileStatus(
                status.spec, status.path, status.problem, status.original_archive, tuple(skipped)
            )
        skipped += status.skipped
    return FileStatus(spec.file(name), None, problem="missing", skipped=tuple(skipped))


def missing_message(spec: DatasetSpec, root=None) -> str:
    """The message for a dataset that is not all there: which files, with their checksums,
    where we looked, and the command that fetches them."""
    root = resolve_root(root)
    lines = [
        f"{spec.folder} dataset files not found. {spec.folder} needs these four files "
        "(SHA-256 of the decompressed IDX content, MD5 of the original .gz):",
    ]
    skipped = []
    for f in spec.files:
        status = find_file(spec, f.name, root)
        if status.path is None:
            where = "MISSING"
        else:
            where = f"{'verified' if status.ok else 'DOES NOT VERIFY'}: {status.path}"
        lines.append(f"  {f.name:<27} sha256 {f.sha256}  md5 {f.md5 or '-'}  {where}")
        skipped += status.skipped
    if skipped:
        lines.append("Passed over, being another dataset's files of the same name:")
        lines += [f"  {s}" for s in skipped]
    lines.append("Searched, in this order (each as NAME.gz, then uncompressed NAME):")
    lines += [f"  {d}" for d in search_dirs(spec, root)]
    lines += [
        "Fetch them (needs network) with:",
        f"  chainrule data download {spec.name} --root {root}",
        f"or pass download=True, or copy the files into {download_dir(spec, root)}/",
    ]
    return "\n".join(lines)


def fetch(
    spec: DatasetSpec,
    root: str | os.PathLike | None = None,
    *,
    names: list[str] | None = None,
    mirrors: list[str] | tuple[str, ...] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> dict[str, Path]:
    """Make sure the named files (default: all four) are present and verified; download the
    ones that are not. Returns {file name: path}.

    A file that already verifies anywhere in `search_dirs` is used as it is (no network).
    A missing or bad one is downloaded into `download_dir(spec, root)`; a bad file sitting
    there is replaced (atomically) only once a good copy has arrived.
    """
    names = names if names is not None else spec.file_names
    mirrors = tuple(mirrors) if mirrors is not None else spec.mirrors
    target_dir = download_dir(spec, root)
    out = {}
    for name in names:
        status = find_file(spec, name, root)
        if status.ok:
            out[name] = status.path
            continue
        out[name] = download_file(
            spec.file(name), target_dir, mirrors, timeout=timeout, progress=progress
        )
    return out


def download_file(
    file: FileSpec,
    directory: str | os.PathLike,
    mirrors: list[str] | tuple[str, ...],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> Path:
    """Download `file` into `directory` from the first mirror that delivers a verified copy.

    Each mirror gets `timeout` seconds per network operation (connect, each read): a dead
    or hanging host costs that much, then the next one is tried. Raises DownloadError
    listing every mirror's failure when none works.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dest = directory / file.name
    failures = []
    for base in mirrors:
        url = base if base.endswith(file.name) else base.rstrip("/") + "/" + file.name
        try:
            _download_verified(url, file, dest, timeout=timeout, progress=progress)
            return dest
        # URLError, HTTPError and timeouts are OSErrors; a rejected file is a ValueError;
        # a server speaking garbage raises http.client's HTTPException.
        except (OSError, ValueError, http.client.HTTPException) as e:
            failures.append(f"  {url}: {_describe(e)}")
    raise DownloadError(
        f"could not download {file.name} (expected IDX content SHA-256 {file.sha256}); "
        f"tried {len(failures)} mirror(s):\n" + "\n".join(failures) + "\n"
        f"Nothing was written to {dest}. If you have the file, copy it there; "
        "otherwise try again later or give another mirror (--mirror URL)."
    )


def _download_verified(url: str, file: FileSpec, dest: Path, *, timeout, progress) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=file.name + ".part-", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy_url(url, out, timeout=timeout, progress=progress, label=file.name)
        found = content_sha256(tmp)
        if found != file.sha256:
            raise ChecksumError(
                f"checksum mismatch, file rejected: IDX content SHA-256 {found}, "
                f"expected {file.sha256}"
            )
        os.replace(tmp, dest)  # atomic: readers see the old file or the whole new one
    except BaseException:
        # Any failure, Ctrl-C included: the part file goes, and nothing reaches `dest`.
        tmp.unlink(missing_ok=True)
        raise


def _copy_url(url: str, out, *, timeout: float, progress: bool, label: str) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "chainrule"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        bar = _progress_bar(total, label) if progress else None
        received = 0
        try:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    # http.client does not raise when a server closes early; a short body is caught here
    # (the checksum would catch it too, but this message says what really happened).
    if total is not None and received != total:
        raise ConnectionError(
            f"transfer cut: received {received:,} of {total:,} bytes (Content-Length)"
        )


def _progress_bar(total: int | None, label: str):
    """A tqdm bar on stderr when tqdm is installed; without it, no bar (not an error)."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, leave=True)


def _describe(e: BaseException) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, urllib.error.URLError):
        reason = e.reason
        if isinstance(reason, TimeoutError):
            return f"timed out ({reason or 'no answer'})"
        return f"cannot connect ({reason})"
    if isinstance(e, TimeoutError):
        return f"timed out ({e or 'no answer within the timeout'})"
    return str(e) or type(e).__name__


def _file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
