"""The online paths (``CVBOOK_ONLINE=1``), exercised end to end without a network.

No machine that runs these tests reaches the internet, so the code a student runs in
Colab with downloads on (real MNIST / Fashion-MNIST / CIFAR-10, LFW, ImageNet weights)
would otherwise never run. Here each test pre-populates the cache the real code reads,
with small files in the real formats that the test generates, switches downloads on,
cuts the network (every socket connect raises) and checks that the real loading code
runs to the end and hands the chapter functions what they expect:

* a dataset root with MNIST's and Fashion-MNIST's IDX files and CIFAR-10's pickled
  batches (``data.load_real``): torchvision's dataset classes, exact pixels scaled to
  [0, 1], labels, class names, a transform applied after the scaling, batches;
* the download branch of ``data.load_real``: the same files served as the real
  archives (gzipped IDX, CIFAR-10's tar.gz) by a stand-in for ``urlopen``, checked by
  torchvision's own md5 check and extracted by torchvision;
* torch's weight cache with checkpoints of the right architectures, saved under the
  file names torchvision's ``Weights`` enums give at run time: MobileNetV2 for
  Chapter 7's transfer learning (``data.weights_available``, ``augment.replace_head``,
  ``augment.freeze``, ``augment.extract_features``) and VGG-19's convolutional part for
  Chapter 12's ``style.VGGFeatures`` and ``style.style_transfer``;
* scikit-learn's LFW folder layout (``faces.load_lfw``), then Chapter 11's pairs and
  identity splits.

Each test fails if the online path breaks: the offline fallbacks have the same shapes,
so the tests check exact pixel values, dataset classes, class and people names,
parameters equal to the saved ones, that no fallback notice was printed and that
nothing tried to connect. Taught in Chapters 1, 7, 11 and 12.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import socket
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torchvision.transforms import v2

from cvbook import augment, data, faces, style

# --------------------------------------------------------------------------- no network


class NetworkBlocked(OSError):
    """Raised by every socket connect in these tests."""


@pytest.fixture
def no_network(monkeypatch):
    """Cut the network: every connect (and name lookup) raises; the attempts are recorded."""
    attempts: list[str] = []

    def refuse(what):
        def blocked(*args, **kwargs):
            attempts.append(f"{what}{args[1:] if what.startswith('socket.') else args}")
            raise NetworkBlocked(f"network blocked in tests ({what})")

        return blocked

    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    return attempts


@pytest.fixture
def online(monkeypatch, no_network, tmp_path):
    """Downloads on, network cut, torch's cache in ``tmp_path / "torch"``."""
    monkeypatch.setenv(data.ONLINE_ENV, "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "_hub_dir", None)  # in case someone called torch.hub.set_dir
    return no_network


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def _no_fallback(capsys, attempts):
    said = capsys.readouterr().out
    assert "cvbook:" not in said, f"the offline fallback was used: {said!r}"
    assert attempts == [], f"something tried the network: {attempts}"


# --------------------------------------------------------------------------- MNIST-like (IDX)

# name -> (torchvision class, first and last class names as torchvision spells them)
MNIST_LIKE = {
    "mnist": (torchvision.datasets.MNIST, "0 - zero", "9 - nine"),
    "fashion-mnist": (torchvision.datasets.FashionMNIST, "T-shirt/top", "Ankle boot"),
}


def _idx(array: np.ndarray) -> bytes:
    """The IDX format of MNIST: magic (0, 0, 0x08 = uint8, number of dimensions), big-endian sizes, data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def _mnist_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = 0
    images[:, 0, 1] = 255  # the extremes, to check the scaling to [0, 1] exactly
    labels = (np.arange(n) * 7 + seed) % 10
    return images, labels.astype(np.uint8)


def _mnist_files(n_train: int = 12, n_test: int = 6) -> dict[str, tuple[bytes, np.ndarray, np.ndarray]]:
    """Uncompressed IDX file name -> (bytes, images, labels) for both splits."""
    files = {}
    for prefix, n, seed in (("train", n_train, 1), ("t10k", n_test, 2)):
        images, labels = _mnist_split(n, seed)
        files[f"{prefix}-images-idx3-ubyte"] = (_idx(images), images, labels)
        files[f"{prefix}-labels-idx1-ubyte"] = (_idx(labels), images, labels)
    return files


@pytest.mark.parametrize("name", sorted(MNIST_LIKE))
def test_load_real_reads_mnist_like_idx_files_on_disk(name, online, tmp_path, capsys):
    cls, first, last = MNIST_LIKE[name]
    raw = tmp_path / "data" / cls.__name__ / "raw"
    raw.mkdir(parents=True)
    files = _mnist_files()
    for filename, (blob, _, _) in files.items():
        (raw / filename).write_bytes(blob)
    for split, prefix in (("train", "train"), ("test", "t10k")):
        _, images, labels = files[f"{prefix}-images-idx3-ubyte"]
        ds = data.load_real(name, split, root=tmp_path / "data")
        _no_fallback(capsys, online)
        assert type(ds) is cls and len(ds) == len(images)
        assert ds.classes[0] == first and ds.classes[-1] == last and len(ds.classes) == 10
        for i in (0, len(ds) - 1):
            x, y = ds[i]
            assert x.dtype == torch.float32 and tuple(x.shape) == (1, 28, 28)
            torch.testing.assert_close(x[0], torch.from_numpy(images[i]).float() / 255.0, rtol=0, atol=1e-7)
            assert (x[0, 0, 0].item(), x[0, 0, 1].item()) == (0.0, 1.0)
            assert y == int(labels[i])
    # a transform runs after the scaling to [0, 1]
    ds = data.load_real(name, "train", root=tmp_path / "data", transform=v2.Normalize([0.5], [0.25]))
    x, _ = ds[0]
    torch.testing.assert_close(
        x[0], (torch.from_numpy(files["train-images-idx3-ubyte"][1][0]).float() / 255 - 0.5) / 0.25
    )
    # the chapters batch it like any other dataset
    xb, yb = next(iter(data.make_loader(ds, batch_size=5)))
    assert tuple(xb.shape) == (5, 1, 28, 28) and yb.dtype == torch.int64
    assert yb.tolist() == [int(v) for v in files["train-labels-idx1-ubyte"][2][:5]]


# --------------------------------------------------------------------------- CIFAR-10 (pickled batches)

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _cifar_folder(folder: Path, per_batch: int = 2, n_test: int = 4) -> dict[str, tuple[np.ndarray, list[int]]]:
    """Write CIFAR-10's python layout into ``folder`` (``cifar-10-batches-py``): five training
    batches, a test batch and ``batches.meta``, pickled dicts with the real keys; ``data`` is
    (N, 3072) uint8, the red plane, then green, then blue, each row-major 32 x 32."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(10)
    batches = {}
    names = [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch"]
    for k, filename in enumerate(names):
        n = n_test if filename == "test_batch" else per_batch
        pixels = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = [int(v) for v in (np.arange(n) + 3 * k) % 10]
        entry = {
            "batch_label": f"{filename} (generated)",
            "labels": labels,
            "data": pixels,
            "filenames": [f"img_{k}_{i}.png" for i in range(n)],
        }
        (folder / filename).write_bytes(pickle.dumps(entry, protocol=2))
        batches[filename] = (pixels, labels)
    meta = {"num_cases_per_batch": per_batch, "label_names": CIFAR_CLASSES, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(pickle.dumps(meta, protocol=2))
    return batches


def _register_cifar_md5s(monkeypatch, folder: Path) -> None:
    """torchvision pins the md5 of each real CIFAR-10 file; register those of the generated
    files in the same class attributes, so torchvision's own integrity check still runs."""
    cls = torchvision.datasets.CIFAR10
    monkeypatch.setattr(cls, "train_list", [[f, _md5(folder / f)] for f, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[f, _md5(folder / f)] for f, _ in cls.test_list])
    monkeypatch.setattr(cls, "meta", {**cls.meta, "md5": _md5(folder / cls.meta["filename"])})


def _check_cifar(ds, batches, split):
    wanted = ["test_batch"] if split == "test" else [f"data_batch_{k}" for k in range(1, 6)]
    pixels = np.concatenate([batches[f][0] for f in wanted])
    labels = sum((batches[f][1] for f in wanted), [])
    assert type(ds) is torchvision.datasets.CIFAR10 and len(ds) == len(labels)
    assert ds.classes == CIFAR_CLASSES and ds.class_to_idx["truck"] == 9
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.dtype == torch.float32 and tuple(x.shape) == (3, 32, 32)
        expected = torch.from_numpy(pixels[i].reshape(3, 32, 32)).float() / 255.0  # channel planes, row-major
        torch.testing.assert_close(x, expected, rtol=0, atol=1e-7)  # torchvision multiplies by 1/255
        assert y == labels[i]


def test_load_real_reads_cifar10_pickled_batches_on_disk(online, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "data" / "cifar-10-batches-py"
    batches = _cifar_folder(folder)
    _register_cifar_md5s(monkeypatch, folder)
    for split in ("train", "test"):
        ds = data.load_real("cifar10", split, root=tmp_path / "data")
        _no_fallback(capsys, online)
        _check_cifar(ds, batches, split)
    xb, yb = next(iter(data.make_loader(ds, batch_size=4)))
    assert tuple(xb.shape) == (4, 3, 32, 32) and yb.tolist() == batches["test_batch"][1]
    # a corrupted batch fails torchvision's md5 check: then the online path takes over
    # (here: no network, so the notice and the offline equivalent)
    with open(folder / "test_batch", "ab") as fh:
        fh.write(b"\0")
    ds = data.load_real("cifar10", "test", root=tmp_path / "data")
    said = capsys.readouterr().out
    assert "cannot reach www.cs.toronto.edu" in said and type(ds) is data.ShapesClassification
    assert online and all("www.cs.toronto.edu" in a for a in online), online


# --------------------------------------------------------------------------- the download branch


class _Response(io.BytesIO):
    """What ``urllib.request.urlopen`` returns, enough for torchvision's downloader."""

    def __init__(self, url: str, blob: bytes):
        super().__init__(blob)
        self.url, self.length, self.status = url, len(blob), 200


@pytest.fixture
def fake_server(monkeypatch):
    """``urlopen`` answers from a dict url -> bytes (404 otherwise) and records the URLs."""
    served: dict[str, bytes] = {}
    asked: list[str] = []

    def urlopen(request, *args, **kwargs):
        url = request.full_url if isinstance(request, urllib.request.Request) else request
        asked.append(url)
        if url not in served:
            raise urllib.error.HTTPError(url, 404, "not served in tests", {}, None)
        return _Response(url, served[url])

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return served, asked


def _reachable(monkeypatch, host: str) -> list[str]:
    """``data.network_available`` says yes for ``host`` only (the sockets stay cut)."""
    checked: list[str] = []

    def network_available(url, timeout=3.0):
        checked.append(url)
        return host in url

    monkeypatch.setattr(data, "network_available", network_available)
    return checked


def test_load_real_downloads_mnist_archives_and_reads_them(online, tmp_path, monkeypatch, fake_server, capsys):
    served, asked = fake_server
    cls = torchvision.datasets.MNIST
    files = _mnist_files(n_train=8, n_test=4)
    resources = []
    for filename, _ in cls.resources:  # the real archive names, gzipped IDX as on the mirror
        blob = gzip.compress(files[filename[: -len(".gz")]][0], mtime=0)
        served[cls.mirrors[0] + filename] = blob
        resources.append((filename, hashlib.md5(blob, usedforsecurity=False).hexdigest()))
    monkeypatch.setattr(cls, "resources", resources)
    checked = _reachable(monkeypatch, "ossci-datasets.s3.amazonaws.com")
    before = socket.getdefaulttimeout()
    ds = data.load_real("mnist", "test", root=tmp_path / "data")
    _no_fallback(capsys, online)
    assert socket.getdefaulttimeout() == before  # the transfer timeout is put back
    assert checked and all("ossci-datasets" in url for url in checked)
    assert set(asked) == set(served)  # the four archives of the first mirror, nothing else
    assert type(ds) is cls and len(ds) == 4
    images, labels = files["t10k-images-idx3-ubyte"][1:]
    x, y = ds[3]
    torch.testing.assert_close(x[0], torch.from_numpy(images[3]).float() / 255.0, rtol=0, atol=1e-7)
    assert y == int(labels[3])
    # extracted where the on-disk path reads them: the next call needs no server
    served.clear()
    assert type(data.load_real("mnist", "train", root=tmp_path / "data")) is cls


def test_load_real_downloads_the_cifar10_archive_and_reads_it(online, tmp_path, monkeypatch, fake_server, capsys):
    served, _ = fake_server
    staging = tmp_path / "staging"
    batches = _cifar_folder(staging / "cifar-10-batches-py")
    _register_cifar_md5s(monkeypatch, staging / "cifar-10-batches-py")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(staging / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    cls = torchvision.datasets.CIFAR10
    served[cls.url] = buffer.getvalue()
    monkeypatch.setattr(cls, "tgz_md5", hashlib.md5(buffer.getvalue(), usedforsecurity=False).hexdigest())
    _reachable(monkeypatch, "www.cs.toronto.edu")
    ds = data.load_real("cifar10", "train", root=tmp_path / "data")
    _no_fallback(capsys, online)
    _check_cifar(ds, batches, "train")
    assert (tmp_path / "data" / cls.filename).is_file()


def test_load_real_without_network_falls_back_at_once(online, tmp_path, capsys):
    ds = data.load_real("mnist", "train", root=tmp_path / "empty", timeout=1.0)
    said = capsys.readouterr().out
    assert "cannot reach ossci-datasets.s3.amazonaws.com" in said
    assert isinstance(ds, data.TensorImageDataset) and len(ds) == 1347  # digits at 28 px
    assert online, "the connect check did not run"


# --------------------------------------------------------------------------- pretrained weights


def _checkpoint_path(tmp_path: Path, weights) -> Path:
    """Where torch.hub looks for ``weights``: $TORCH_HOME/hub/checkpoints/<file name of its url>."""
    return tmp_path / "torch" / "hub" / "checkpoints" / os.path.basename(weights.url)


def test_chapter7_transfer_learning_uses_a_cached_mobilenet_v2(online, tmp_path, capsys):
    weights = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2
    path = _checkpoint_path(tmp_path, weights)
    assert data.cached_checkpoint(weights) == path and not data.weights_available(weights)  # not cached yet
    assert len(online) == 1, "the reachability check should have tried the network once"
    online.clear()
    torch.manual_seed(7)
    state = torchvision.models.mobilenet_v2(weights=None).state_dict()
    state["classifier.1.bias"] = torch.linspace(-1, 1, 1000)
    path.parent.mkdir(parents=True)
    torch.save(state, path)

    assert data.weights_available(weights) and data.weights_available(weights.url)
    assert not data.weights_available(weights, online=False)  # downloads off: never, even cached
    backbone = torchvision.models.mobilenet_v2(weights=weights)  # what Chapter 7 calls
    _no_fallback(capsys, online)
    for key in ("features.0.0.weight", "features.18.1.running_var", "classifier.1.bias"):
        torch.testing.assert_close(backbone.state_dict()[key], state[key], rtol=0, atol=0)

    # Chapter 7's workflow on it: new head, frozen body, pre-computed features
    total = sum(p.numel() for p in backbone.parameters())
    head = augment.replace_head(backbone, 3)
    augment.freeze(backbone, except_=[head])
    assert backbone.classifier[1] is head and augment.trainable_parameters(backbone) == 1280 * 3 + 3
    assert total == 3_504_872
    preprocess = weights.transforms()
    assert list(preprocess.mean) == [0.485, 0.456, 0.406] and list(preprocess.std) == [0.229, 0.224, 0.225]
    photo = torch.from_numpy(data.sample_image("chelsea")).permute(2, 0, 1)
    x = torch.stack([preprocess(photo), preprocess(photo.flip(-1))])
    assert x.dtype == torch.float32 and tuple(x.shape) == (2, 3, 224, 224)
    backbone.eval()
    feats = augment.extract_features(backbone.features, x)
    assert tuple(feats.shape) == (2, 1280 * 7 * 7)
    pooled = feats.view(2, 1280, -1).mean(2)
    with torch.no_grad():
        torch.testing.assert_close(backbone(x), head(pooled), atol=1e-4, rtol=1e-4)


def _vgg19_features_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors under the names and shapes of torchvision's VGG-19 ``features.*``
    (read off the model built on the meta device, so no memory is spent). The classifier
    (123 M parameters, 490 MB) is left out: ``style.VGGFeatures`` reads only ``features.*``."""
    with torch.device("meta"):
        skeleton = torchvision.models.vgg19(weights=None).state_dict()
    gen = torch.Generator().manual_seed(seed)
    return {
        key: torch.randn(value.shape, generator=gen) * 0.05
        for key, value in skeleton.items()
        if key.startswith("features.")
    }


def test_chapter12_vgg_features_use_cached_vgg19_weights(online, tmp_path, capsys):
    weights = torchvision.models.VGG19_Weights.IMAGENET1K_V1
    assert style.VGG19_URL == weights.url  # the file pretrained_available looks for is the one torchvision reads
    assert not style.pretrained_available()
    online.clear()
    state = _vgg19_features_state()
    assert len(state) == 32  # 16 convolutions, weight and bias
    path = _checkpoint_path(tmp_path, weights)
    path.parent.mkdir(parents=True)
    torch.save(state, path)

    assert style.pretrained_available()
    layers = ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2"]  # Chapter 12's, online
    extractor = style.VGGFeatures(layers, pretrained=True, pool="avg")
    _no_fallback(capsys, online)
    assert extractor.pretrained and len(extractor.body) == style.VGG19_LAYERS.index("relu4_2") + 1
    for name in ("conv1_1", "conv3_4", "conv4_2"):
        index = style.VGG19_LAYERS.index(name)
        torch.testing.assert_close(extractor.body[index].weight, state[f"features.{index}.weight"], rtol=0, atol=0)
        torch.testing.assert_close(extractor.body[index].bias, state[f"features.{index}.bias"], rtol=0, atol=0)
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    out = extractor(x)
    assert list(out) == layers
    assert [tuple(a.shape) for a in out.values()] == [
        (1, 64, 32, 32),
        (1, 128, 16, 16),
        (1, 256, 8, 8),
        (1, 512, 4, 4),
        (1, 512, 4, 4),
    ]
    # standardised with ImageNet's statistics, then the saved first convolution
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    by_hand = F.relu(F.conv2d((x - mean) / std, state["features.0.weight"], state["features.0.bias"], padding=1))
    torch.testing.assert_close(out["relu1_1"], by_hand)
    # the style transfer of Chapter 12 runs on it
    content, style_image = x, torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    weights_l = style.balanced_style_weights(extractor(style_image), layers[:4])
    result = style.style_transfer(
        content, style_image, extractor, content_layer="relu4_2", style_weights=weights_l, steps=2, lr=0.05
    )
    assert tuple(result.image.shape) == (1, 3, 32, 32) and len(result.history["total"]) >= 1
    assert torch.isfinite(result.image).all() and not torch.equal(result.image, content)
    # downloads off: the cached file is not used, and asking for it says why
    with pytest.raises(RuntimeError, match="CVBOOK_ONLINE=1"):
        style.VGGFeatures(layers, pretrained=True, online=False)


# --------------------------------------------------------------------------- LFW (scikit-learn's layout)

# person (as in LFW's folder names) -> (number of photos, colour)
PEOPLE = {
    "Ada_Lovelace": (5, (200, 60, 40)),
    "Alan_Turing": (6, (40, 180, 70)),
    "Grace_Hopper": (5, (50, 70, 210)),
    "Kurt_Goedel": (2, (220, 220, 40)),  # fewer photos than min_faces_per_person: left out
}


def _lfw_home(data_home: Path) -> None:
    """scikit-learn's LFW layout: ``lfw_home/`` with the three pairs files and
    ``lfw_funneled/<First_Last>/<First_Last>_0001.jpg``, 250 x 250 colour JPEGs."""
    home = data_home / "lfw_home"
    rng = np.random.default_rng(0)
    for person, (count, colour) in PEOPLE.items():
        folder = home / "lfw_funneled" / person
        folder.mkdir(parents=True)
        for k in range(1, count + 1):
            pixels = np.clip(np.array(colour) + rng.integers(-6, 7, size=(250, 250, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{person}_{k:04d}.jpg", quality=95)
    names = list(PEOPLE)
    same = [f"{p}\t1\t2" for p in names]
    different = [f"{a}\t1\t{b}\t1" for a, b in zip(names, names[1:])]
    for filename in ("pairsDevTrain.txt", "pairsDevTest.txt"):
        (home / filename).write_text("\n".join([str(len(same))] + same + different) + "\n")
    (home / "pairs.txt").write_text("\n".join([f"1\t{len(same)}"] + same + different) + "\n")


def test_load_lfw_reads_the_lfw_folder_layout_and_chapter11_pairs_come_out(online, tmp_path, capsys):
    _lfw_home(tmp_path / "sklearn")
    real = faces.load_lfw(16, min_faces_per_person=4, data_home=tmp_path / "sklearn", fallback=(5, 2))
    _no_fallback(capsys, online)
    assert real.source == "lfw" and real.names == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert real.images.dtype == torch.float32 and tuple(real.images.shape) == (16, 3, 16, 16)
    assert real.ids.dtype == torch.int64 and torch.bincount(real.ids).tolist() == [5, 6, 5]
    assert 0.0 <= real.images.min() and real.images.max() <= 1.0
    # each photo's mean colour is its person's colour scaled to [0, 1]: the ids match the names
    colours = torch.tensor([PEOPLE[name.replace(" ", "_")][1] for name in real.names], dtype=torch.float32) / 255
    torch.testing.assert_close(real.images.mean((2, 3)), colours[real.ids], atol=0.02, rtol=0)
    # Chapter 11's pairs and identity split on it
    i, j, same = faces.make_pairs(real.ids, 40, seed=3)
    assert same.sum() == 20 and torch.equal(real.ids[i] == real.ids[j], same) and not (i == j).any()
    colour_i, colour_j = real.images[i].mean((2, 3)), real.images[j].mean((2, 3))
    assert torch.equal((colour_i - colour_j).abs().max(1).values < 0.05, same)
    train, _, test = faces.split_identities(real.ids, 0, 1, seed=0)
    held_out = real.subset(test)
    assert held_out.source == "lfw" and len(torch.unique(held_out.ids)) == 1
    assert not set(real.ids[train].tolist()) & set(held_out.ids.tolist())


def test_load_lfw_without_network_falls_back_at_once(online, tmp_path, capsys):
    fake = faces.load_lfw(16, data_home=tmp_path / "empty", fallback=(3, 2), timeout=1.0)
    said = capsys.readouterr().out
    assert "cannot reach the LFW host" in said and fake.source == "synthetic" and len(fake) == 6
    assert online, "the connect check did not run"
