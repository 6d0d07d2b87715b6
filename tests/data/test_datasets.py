"""chainrule.datasets: Iris, the IDX reader, verified downloads, MNIST / Fashion-MNIST, CLI.

Downloads are tested against a real HTTP server on 127.0.0.1 started here, which serves
small IDX files made by the tests (and, for the CLI, the real MNIST files from
../shared/data/mnist). Its routes misbehave on purpose: 404, hang past the client's timeout,
cut the transfer halfway, serve the wrong bytes. The network is never touched; checksums
of the fixtures are injected through a DatasetSpec, never switched off.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.server
import socket
import struct
import sys
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import (
    MNIST,
    ChecksumError,
    DatasetSpec,
    DownloadError,
    FashionMNIST,
    FileSpec,
    fetch,
    iris,
    load_iris_arrays,
    read_idx,
    write_idx,
)
from chainrule.datasets import cli as data_cli
from chainrule.datasets import download as dl
from chainrule.utils.data import Dataset

SHARED_MNIST = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
TIMEOUT = 0.5  # seconds a hanging test mirror is given

needs_shared_mnist = pytest.mark.skipif(
    not SHARED_MNIST.is_dir(), reason=f"real MNIST not found at {SHARED_MNIST}"
)


# ----------------------------------------------------------------------------------- Iris


def test_iris_arrays_shape_dtypes_and_classes():
    X, y, class_names = load_iris_arrays()
    assert X.shape == (150, 4) and X.dtype == np.float64
    assert y.shape == (150,) and y.dtype == np.int64
    assert class_names == ("Iris-setosa", "Iris-versicolor", "Iris-virginica")
    assert np.bincount(y).tolist() == [50, 50, 50]
    # The UCI file's row 35 (1-based), which differs from Fisher's paper: this is that file.
    assert X[34].tolist() == [4.9, 3.1, 1.5, 0.1]


def test_iris_rank2_svd_loss_is_the_course_figure():
    X, _, _ = iris(as_numpy=True)
    A = X - X.mean(axis=0)
    s = np.linalg.svd(A, compute_uv=False)
    loss = float(np.sum(s[2:] ** 2))  # ||A - A_2||_F^2: the energy beyond rank 2
    assert round(loss, 3) == 15.229


def test_iris_tensors():
    import chainrule

    data, target, class_names = iris()
    assert tuple(data.shape) == (150, 4) and data.dtype == chainrule.float64
    assert tuple(target.shape) == (150,) and target.dtype == chainrule.int64
    assert np.array_equal(data.numpy(), load_iris_arrays()[0])
    assert class_names[int(target[100])] == "Iris-virginica"
    assert iris().feature_names[0] == "sepal length (cm)"


# ------------------------------------------------------------------------------------ IDX


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    a = (np.arange(2 * 3 * 5).reshape(2, 3, 5) - 7).astype(dtype)
    path = write_idx(tmp_path / name, a)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    b = read_idx(path)
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape and np.array_equal(a, b)
    assert b.flags.writeable and b.dtype.isnative


def test_idx_gzip_is_detected_by_content_not_name(tmp_path):
    a = np.arange(6, dtype=np.uint8)
    path = tmp_path / "labels-idx1-ubyte"  # no .gz, but gzipped
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 6) + a.tobytes()))
    assert np.array_equal(read_idx(path), a)


def _header(code: int, *dims: int) -> bytes:
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


GOOD = _header(0x08, 2, 3) + bytes(6)

BAD_IDX = {
    "wrong magic": (b"\x1f\x00\x08\x02" + GOOD[4:], "magic number"),
    "wrong dtype code": (_header(0x07, 2, 3) + bytes(6), "dtype code 0x07"),
    "zero dimensions": (bytes([0, 0, 8, 0]), "0 dimensions"),
    "truncated header": (bytes([0, 0, 8, 3]) + struct.pack(">I", 2), "ends inside"),
    "empty file": (b"", "ends inside"),
    "truncated data": (GOOD[:-2], "truncated IDX data"),
    "trailing bytes": (GOOD + b"\x00\x01", "2 trailing bytes"),
    "absurd dimensions": (_header(0x08, 2**31, 2**31, 2**31) + bytes(8), "absurd IDX dim"),
    "absurd but plausible": (_header(0x0E, 60000, 28, 28) + bytes(100), "truncated IDX"),
}


@pytest.mark.parametrize("case", list(BAD_IDX))
@pytest.mark.parametrize("gzipped", [False, True], ids=["raw", "gz"])
def test_idx_rejects_bad_files_with_a_clear_error(tmp_path, case, gzipped):
    content, expected = BAD_IDX[case]
    path = tmp_path / ("bad.idx.gz" if gzipped else "bad.idx")
    path.write_bytes(gzip.compress(content) if gzipped else content)
    with pytest.raises(ValueError) as info:
        read_idx(path)
    message = str(info.value)
    assert str(path) in message and expected in message
    assert "delete it and fetch it again" in message


def test_idx_corrupt_gzip_stream(tmp_path):
    packed = gzip.compress(GOOD + bytes(10_000))
    path = tmp_path / "cut.idx.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(ValueError, match="gzip stream is corrupt or cut short"):
        read_idx(path)
    flipped = bytearray(packed)
    flipped[-8] ^= 0xFF  # the CRC32 in the trailer
    path.write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match=r"cut\.idx\.gz.*gzip stream"):
        read_idx(path)


def test_idx_checksum_is_of_the_decompressed_content(tmp_path):
    raw = write_idx(tmp_path / "x.idx", np.arange(10, dtype=np.uint8))
    gz = write_idx(tmp_path / "x.idx.gz", np.arange(10, dtype=np.uint8))
    sha = hashlib.sha256(raw.read_bytes()).hexdigest()
    assert dl.content_sha256(raw) == dl.content_sha256(gz) == sha
    read_idx(gz, sha256=sha)
    with pytest.raises(ChecksumError) as info:
        read_idx(gz, sha256="0" * 64)
    assert info.value.found == sha and info.value.expected == "0" * 64
    assert str(gz) in str(info.value) and "0" * 64 in str(info.value)


def test_write_idx_rejects_what_idx_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="no IDX code"):
        write_idx(tmp_path / "b.idx", np.zeros(3, dtype=bool))
    with pytest.raises(ValueError, match="1 to 255 dimensions"):
        write_idx(tmp_path / "s.idx", np.float32(1.0))


# ------------------------------------------------------------------ fixtures: data, server

NAMES = [f.name for f in dl.MNIST_SPEC.files]  # a tiny dataset with MNIST's file names


def _tiny_payloads() -> dict[str, bytes]:
    """Gzipped IDX files of a 6-train / 4-test dataset of 28x28 images (seeded)."""
    rng = np.random.default_rng(0)
    arrays = {
        NAMES[0]: rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        NAMES[1]: np.array([5, 0, 4, 1, 9, 2], dtype=np.uint8),
        NAMES[2]: rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
        NAMES[3]: np.array([7, 2, 1, 0], dtype=np.uint8),
    }
    out = {}
    for name, a in arrays.items():
        header = bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
        out[name] = gzip.compress(header + a.tobytes(), mtime=0)
    return out


PAYLOADS = _tiny_payloads()
TINY_SPEC = DatasetSpec(
    name="tiny",
    folder="Tiny",
    files=tuple(  # the fixtures' own checksums, injected: verification stays on
        FileSpec(n, sha256=hashlib.sha256(gzip.decompress(PAYLOADS[n])).hexdigest()) for n in NAMES
    ),
    mirrors=("http://127.0.0.1:9/unused/",),  # every test passes its own mirrors
)
WRONG = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 3) + b"abc")  # valid, not ours


class _Handler(http.server.BaseHTTPRequestHandler):
    """Routes: /good/F serves F; /missing/F 404; /hang/F never answers (until teardown);
    /cut/F promises all of F and sends half; /wrong/F sends a valid IDX file that is not F."""

    def do_GET(self):
        server = self.server
        server.requests.append(self.path)
        route, _, name = self.path.strip("/").partition("/")
        body = server.files.get(name)
        if route == "missing" or body is None:
            self.send_error(404)
        elif route == "hang":
            server.release.wait(10)
        elif route in ("good", "cut", "wrong"):
            body = WRONG if route == "wrong" else body
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body if route != "cut" else body[: len(body) // 2])
            self.close_connection = True  # for /cut/: the rest never comes
        else:
            self.send_error(400)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 in a thread; `server.url(route)` is a mirror base."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files = dict(PAYLOADS)
    httpd.requests = []
    httpd.release = threading.Event()
    port = httpd.server_address[1]
    httpd.url = lambda route: f"http://127.0.0.1:{port}/{route}/"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def refused_url():
    """A port on 127.0.0.1 that nothing listens on: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _leftovers(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if ".part-" in p.name)


def _fetch(root, mirrors, names=None):
    return fetch(TINY_SPEC, root, names=names, mirrors=mirrors, timeout=TIMEOUT, progress=False)


# ------------------------------------------------------------------------------ download


def test_download_success_writes_verified_files(server, tmp_path):
    paths = _fetch(tmp_path, [server.url("good")])
    assert sorted(paths) == sorted(NAMES)
    for name, path in paths.items():
        assert path == tmp_path / "Tiny" / "raw" / name
        assert path.read_bytes() == PAYLOADS[name]
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("failure", ["missing", "refused", "hang", "cut", "wrong"])
def test_download_falls_through_to_the_next_mirror(server, refused_url, tmp_path, failure):
    first = refused_url if failure == "refused" else server.url(failure)
    paths = _fetch(tmp_path, [first, server.url("good")], names=[NAMES[1]])
    assert paths[NAMES[1]].read_bytes() == PAYLOADS[NAMES[1]]
    assert _leftovers(tmp_path) == []
    if failure != "refused":
        assert server.requests == [f"/{failure}/{NAMES[1]}", f"/good/{NAMES[1]}"]


def test_download_every_mirror_failing_says_what_each_did(server, refused_url, tmp_path):
    mirrors = [server.url("missing"), refused_url, server.url("hang"), server.url("cut")]
    with pytest.raises(DownloadError) as info:
        _fetch(tmp_path, mirrors, names=[NAMES[3]])
    message = str(info.value)
    assert NAMES[3] in message and TINY_SPEC.files[3].sha256 in message
    assert "HTTP 404" in message
    assert "cannot connect" in message
    assert "timed out" in message
    assert "transfer cut" in message
    assert not (tmp_path / "Tiny" / "raw" / NAMES[3]).exists()
    assert _leftovers(tmp_path) == []


def test_download_checksum_mismatch_rejects_and_removes_the_file(server, tmp_path):
    with pytest.raises(DownloadError, match="checksum mismatch, file rejected"):
        _fetch(tmp_path, [server.url("wrong")], names=[NAMES[0]])
    assert list((tmp_path / "Tiny" / "raw").iterdir()) == []  # nothing kept, no part file


def test_download_cut_halfway_leaves_no_file_under_the_real_name(server, tmp_path):
    with pytest.raises(DownloadError, match=r"transfer cut: received \d"):
        _fetch(tmp_path, [server.url("cut")], names=[NAMES[0]])
    assert list((tmp_path / "Tiny" / "raw").iterdir()) == []


def test_download_interrupted_by_the_user_leaves_no_part_file(server, tmp_path, monkeypatch):
    class Interrupting:
        def update(self, n):
            raise KeyboardInterrupt

        def close(self):
            pass

    monkeypatch.setattr(dl, "_progress_bar", lambda total, label: Interrupting())
    with pytest.raises(KeyboardInterrupt):
        fetch(TINY_SPEC, tmp_path, names=[NAMES[0]], mirrors=[server.url("good")])
    assert list((tmp_path / "Tiny" / "raw").iterdir()) == []


def test_download_is_not_repeated_once_verified(server, tmp_path):
    _fetch(tmp_path, [server.url("good")])
    assert len(server.requests) == 4
    again = _fetch(tmp_path, [server.url("good")])
    assert len(server.requests) == 4  # nothing fetched the second time
    assert all(p.read_bytes() == PAYLOADS[n] for n, p in again.items())


def test_download_replaces_a_corrupt_file_only_with_a_verified_one(server, tmp_path):
    target = tmp_path / "Tiny" / "raw" / NAMES[1]
    target.parent.mkdir(parents=True)
    target.write_bytes(PAYLOADS[NAMES[1]][:20])  # a half file from some old tool
    with pytest.raises(DownloadError):
        _fetch(tmp_path, [server.url("wrong")], names=[NAMES[1]])
    assert target.read_bytes() == PAYLOADS[NAMES[1]][:20]  # untouched until a good copy
    _fetch(tmp_path, [server.url("good")], names=[NAMES[1]])
    assert target.read_bytes() == PAYLOADS[NAMES[1]]


# ------------------------------------------------------------------- MNIST-shaped datasets


class TinyMNIST(MNIST):
    """MNIST's class on the tiny fixture files: the whole Dataset path, checksums injected."""

    spec = TINY_SPEC


def _tiny_root(tmp_path: Path, where: str = "raw") -> Path:
    directory = tmp_path / "Tiny" / "raw" if where == "raw" else tmp_path
    directory.mkdir(parents=True, exist_ok=True)
    for name, payload in PAYLOADS.items():
        (directory / name).write_bytes(payload)
    return tmp_path


def test_dataset_base_class_requires_getitem():
    class Nothing(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="Nothing.*__getitem__"):
        Nothing()[0]


def test_mnist_download_then_offline(server, tmp_path):
    class Mirrored(MNIST):
        spec = replace(TINY_SPEC, mirrors=(server.url("missing"), server.url("good")))

    train = Mirrored(tmp_path, train=True, download=True)
    test = Mirrored(tmp_path, train=False, download=True)
    n_requests = len(server.requests)
    again = Mirrored(tmp_path, train=True)  # offline now: the files are there
    assert n_requests == 8  # 404 then success, for each of the four files
    assert len(server.requests) == n_requests
    assert (len(train), len(test), len(again)) == (6, 4, 6)
    assert isinstance(train, Dataset) and train.raw_folder == tmp_path / "Tiny" / "raw"


def test_mnist_items_and_tensors(tmp_path):
    import chainrule

    ds = TinyMNIST(_tiny_root(tmp_path))
    raw = gzip.decompress(PAYLOADS[NAMES[0]])[16:]
    images = np.frombuffer(raw, dtype=np.uint8).reshape(6, 28, 28)
    assert ds.data.dtype == chainrule.uint8 and tuple(ds.data.shape) == (6, 28, 28)
    assert ds.targets.dtype == chainrule.int64 and ds.targets.numpy().tolist() == [5, 0, 4, 1, 9, 2]
    assert np.array_equal(ds.data.numpy(), images)
    image, label = ds[-1]
    assert image.dtype == chainrule.float32 and tuple(image.shape) == (1, 28, 28)
    assert label == 2 and type(label) is int
    # What torchvision's ToTensor gives: float32 pixel / 255, to the last bit.
    assert np.array_equal(image.numpy()[0], images[5].astype(np.float32) / np.float32(255))
    with pytest.raises(IndexError, match="index 6 out of range for 6"):
        ds[6]
    with pytest.raises(TypeError, match="indices must be integers"):
        ds[1.5]
    ds.data, ds.targets = ds.data[:2], ds.targets[:2]  # subsetting, as torchvision allows
    assert len(ds) == 2 and ds[1][1] == 0


def test_mnist_transforms_apply_to_items(tmp_path):
    ds = TinyMNIST(
        _tiny_root(tmp_path),
        train=False,
        transform=lambda image: image * 2,
        target_transform=lambda y: y + 100,
    )
    image, label = ds[0]
    assert label == 107
    assert float(image.numpy().max()) > 1.0
    assert "Split: Test" in repr(ds) and "Number of datapoints: 4" in repr(ds)


def test_mnist_files_may_sit_directly_in_root_or_uncompressed(tmp_path):
    root = _tiny_root(tmp_path, where="root")
    assert TinyMNIST(root).files[NAMES[0]] == root / NAMES[0]
    for name in NAMES:  # as torchvision leaves them after extraction
        (root / name).unlink()
        (root / name.removesuffix(".gz")).write_bytes(gzip.decompress(PAYLOADS[name]))
    assert len(TinyMNIST(root, train=False)) == 4


def test_mnist_raw_folder_is_searched_before_root(tmp_path):
    root = _tiny_root(tmp_path, where="root")
    _tiny_root(tmp_path, where="raw")
    assert TinyMNIST(root).files[NAMES[0]] == root / "Tiny" / "raw" / NAMES[0]


def test_mnist_offline_and_missing_says_what_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        TinyMNIST(tmp_path / "empty")
    message = str(info.value)
    for f in TINY_SPEC.files:
        assert f.name in message and f.sha256 in message
    assert str(tmp_path / "empty" / "Tiny" / "raw") in message
    assert f"chainrule data download tiny --root {tmp_path / 'empty'}" in message


def test_mnist_never_uses_a_corrupt_file(tmp_path):
    root = _tiny_root(tmp_path)
    path = root / "Tiny" / "raw" / NAMES[1]
    path.write_bytes(gzip.compress(gzip.decompress(PAYLOADS[NAMES[1]])[:-1] + b"\x03"))
    with pytest.raises(ChecksumError) as info:
        TinyMNIST(root)
    message = str(info.value)
    assert str(path) in message and TINY_SPEC.files[1].sha256 in message
    assert "chainrule data download tiny" in message
    path.write_bytes(PAYLOADS[NAMES[1]][:-30])  # a cut archive
    with pytest.raises(ValueError, match="gzip stream is corrupt or cut short"):
        TinyMNIST(root)


def test_default_root_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    assert dl.default_root() == tmp_path
    assert dl.download_dir(dl.MNIST_SPEC) == tmp_path / "MNIST" / "raw"
    monkeypatch.delenv("CHAINRULE_DATA")
    assert dl.default_root() == Path.home() / ".cache" / "chainrule"


# --------------------------------------------------------------------------- real data


@needs_shared_mnist
def test_real_mnist_from_the_shared_directory():
    import chainrule

    train = MNIST(root=SHARED_MNIST, train=True)
    test = MNIST(root=SHARED_MNIST, train=False)
    assert tuple(train.data.shape) == (60000, 28, 28) and train.data.dtype == chainrule.uint8
    assert tuple(test.data.shape) == (10000, 28, 28)
    labels = train.targets.numpy()
    assert labels.dtype == np.int64 and labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                            5851, 5949]  # fmt: skip
    assert np.bincount(test.targets.numpy()).tolist() == [980, 1135, 1032, 1010, 982, 892,
                                                          958, 1028, 974, 1009]  # fmt: skip
    assert round(float(train.data.numpy().mean()), 2) == 33.32
    image, label = train[0]
    assert label == 5 and tuple(image.shape) == (1, 28, 28)
    assert 0.0 <= float(image.numpy().min()) and float(image.numpy().max()) <= 1.0


@needs_shared_mnist
def test_fashion_mnist_passes_over_mnist_files_of_the_same_name(tmp_path):
    if DEBIAN_FASHION.is_dir():
        test = FashionMNIST(SHARED_MNIST, train=False)
        assert test.files[NAMES[2]] == DEBIAN_FASHION / NAMES[2]
    else:
        with pytest.raises(FileNotFoundError, match="MNIST's t10k-images-idx3-ubyte.gz"):
            FashionMNIST(SHARED_MNIST, train=False)


@pytest.mark.skipif(
    not DEBIAN_FASHION.is_dir(),
    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
)
def test_fashion_mnist_from_debians_package(tmp_path):
    train = FashionMNIST(tmp_path, train=True)  # nothing in tmp_path: the system copy
    test = FashionMNIST(tmp_path, train=False)
    assert (len(train), len(test)) == (60000, 10000)
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
    assert np.bincount(test.targets.numpy()).tolist() == [1000] * 10
    assert train.classes[9] == "Ankle boot"
    # Debian re-compressed the archives: other MD5s, same IDX content.
    status = dl.find_file(dl.FASHION_MNIST_SPEC, NAMES[3], tmp_path)
    assert status.ok and status.original_archive is False


# ------------------------------------------------------------------------------------ CLI


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="chainrule")
    data_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


@needs_shared_mnist
def test_cli_download_then_info(server, tmp_path, capsys):
    server.files = {n: (SHARED_MNIST / n).read_bytes() for n in NAMES}  # the real MNIST
    root = str(tmp_path)
    mirrors = ["--mirror", server.url("missing"), "--mirror", server.url("good")]
    assert _cli("data", "download", "mnist", "--root", root, *mirrors, "--timeout", "2") == 0
    out = capsys.readouterr().out
    assert out.count("downloaded") == 4 and "MNIST is ready" in out
    n_requests = len(server.requests)

    assert _cli("data", "download", "mnist", "--root", root, *mirrors) == 0
    assert len(server.requests) == n_requests  # already verified: no network
    assert capsys.readouterr().out.count("already present and verified") == 4

    assert _cli("data", "info", "--root", root) == 0
    out = capsys.readouterr().out
    assert "MNIST: 4 of 4 files present and verified" in out
    assert out.count("(the original archive)") == 4
    assert str(tmp_path / "MNIST" / "raw" / NAMES[0]) in out


def test_cli_download_failure_exits_nonzero(server, tmp_path, capsys):
    code = _cli(
        "data", "download", "mnist", "--root", str(tmp_path),
        "--mirror", server.url("missing"), "--timeout", "1",
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err and "4 of 4 files could not be fetched" in err


def test_cli_info_reports_missing_and_corrupt(tmp_path, capsys):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / NAMES[1]).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x09abc")
    assert _cli("data", "info", "--root", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "iris: bundled with chainrule, verified" in out
    assert "MNIST: 0 of 4 files present and verified" in out
    assert f"BAD       {NAMES[1]}" in out and "truncated IDX data" in out
    assert f"MISSING   {NAMES[0]}" in out
    assert f"chainrule data download mnist --root {tmp_path}" in out


def test_cli_is_wired_into_the_chainrule_command(tmp_path, capsys):
    from chainrule.cli import main

    assert main(["data", "info", "--root", str(tmp_path)]) == 0
    assert "data root: " + str(tmp_path) in capsys.readouterr().out


def test_progress_bar_is_optional(monkeypatch, server, tmp_path):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    assert dl._progress_bar(100, "x") is None
    paths = fetch(TINY_SPEC, tmp_path, names=[NAMES[3]], mirrors=[server.url("good")])
    assert paths[NAMES[3]].read_bytes() == PAYLOADS[NAMES[3]]
