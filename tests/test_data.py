import socket
import time

import numpy as np
import pytest
import torch
import torchvision

from cvbook import data

# ---------------------------------------------------------------- digits


def test_digits_split_shapes_and_range():
    train, test = data.load_digits("train"), data.load_digits("test")
    assert len(train) + len(test) == 1797 and len(test) == 450
    image, label = train[0]
    assert image.shape == (1, 8, 8) and image.dtype == torch.float32
    assert label.dtype == torch.int64
    assert 0.0 <= float(train.images.min()) and float(train.images.max()) <= 1.0
    assert sorted(torch.unique(test.targets).tolist()) == list(range(10))


def test_digits_split_is_fixed_and_disjoint():
    a, b = data.load_digits("train"), data.load_digits("train")
    assert torch.equal(a.images, b.images) and torch.equal(a.targets, b.targets)
    everything = data.load_digits("all")
    test = data.load_digits("test")
    rows = {tuple(x.flatten().tolist()) for x in a.images}
    overlap = sum(tuple(x.flatten().tolist()) in rows for x in test.images)
    assert overlap < 5  # the digits data set holds a handful of exact duplicates
    assert len(everything) == 1797


@pytest.mark.parametrize("size", [28, 32])
def test_digits_resized(size):
    ds = data.load_digits("test", size=size)
    assert ds.images.shape == (450, 1, size, size)
    assert float(ds.images.max()) <= 1.0


def test_digits_in_a_margin():
    """size=28, margin=4: the 20x20 resized digit inside a black frame, as MNIST lays it out."""
    framed = data.load_digits("test", size=28, margin=4)
    plain = data.load_digits("test", size=20)
    assert framed.images.shape == (450, 1, 28, 28)
    assert torch.equal(framed.images[..., 4:24, 4:24], plain.images)
    inside = torch.zeros(28, 28, dtype=torch.bool)
    inside[4:24, 4:24] = True
    assert float(framed.images[..., ~inside].abs().max()) == 0.0
    assert torch.equal(framed.targets, plain.targets)
    assert torch.equal(
        data.load_digits("test", size=16, margin=4).images[..., 4:12, 4:12], data.load_digits("test").images
    )


def test_digits_bad_arguments():
    with pytest.raises(ValueError, match="split"):
        data.load_digits("validation")
    with pytest.raises(ValueError, match="size"):
        data.load_digits("train", size=4)


def test_transform_is_applied():
    ds = data.load_digits("test", transform=lambda x: x * 0 + 7)
    assert float(ds[3][0].mean()) == 7.0


def test_tensor_dataset_checks_shapes():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        data.TensorImageDataset(torch.zeros(3, 8, 8), torch.zeros(3))
    with pytest.raises(ValueError, match="3 images but 2 targets"):
        data.TensorImageDataset(torch.zeros(3, 1, 8, 8), torch.zeros(2))


def test_make_loader_is_deterministic():
    ds = data.load_digits("train")
    first = [y for _, y in data.make_loader(ds, 32, shuffle=True, seed=5)]
    again = [y for _, y in data.make_loader(ds, 32, shuffle=True, seed=5)]
    other = [y for _, y in data.make_loader(ds, 32, shuffle=True, seed=6)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))
    with pytest.raises(ValueError, match="batch_size"):
        data.make_loader(ds, 0)


# ---------------------------------------------------------------- photos


@pytest.mark.parametrize("name", data.sample_image_names())
def test_every_sample_image_loads_offline(name):
    image = data.sample_image(name)
    assert image.dtype == np.uint8 and image.ndim in (2, 3)
    if image.ndim == 3:
        assert image.shape[2] == 3
    assert image.shape[0] >= 64 and image.shape[1] >= 64


def test_unknown_sample_image():
    with pytest.raises(ValueError, match="unknown sample image 'lena'"):
        data.sample_image("lena")


def test_image_tensor_round_trip():
    image = data.sample_image("chelsea")
    tensor = data.image_to_tensor(image)
    assert tensor.shape == (3, image.shape[0], image.shape[1]) and tensor.dtype == torch.float32
    assert np.array_equal(data.tensor_to_image(tensor), image)
    gray = data.sample_image("camera")
    assert data.image_to_tensor(gray).shape[0] == 1
    assert np.array_equal(data.tensor_to_image(data.image_to_tensor(gray)), gray)
    with pytest.raises(ValueError, match="uint8"):
        data.image_to_tensor(image.astype(np.float32))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        data.tensor_to_image(torch.zeros(2, 2))


# ---------------------------------------------------------------- shifting


def test_shift_images_matches_a_padded_crop():
    x = torch.rand(2, 1, 10, 12)
    for dx, dy in [(0, 0), (3, 0), (-2, 1), (0, -4), (5, 5)]:
        padded = torch.nn.functional.pad(x, (12, 12, 10, 10))
        expected = padded[..., 10 - dy : 20 - dy, 12 - dx : 24 - dx]
        assert torch.equal(data.shift_images(x, dx, dy), expected)
    assert torch.equal(data.shift_images(x, 12, 0), torch.zeros_like(x))
    with pytest.raises(ValueError):
        data.shift_images(torch.zeros(5), 1, 0)


# ---------------------------------------------------------------- shapes


def test_shapes_are_deterministic_and_fast():
    start = time.perf_counter()
    a = data.make_shapes(2000, seed=3)
    assert time.perf_counter() - start < 20
    b = data.make_shapes(50, seed=3)
    assert torch.equal(a.images[:50], b.images) and torch.equal(a.masks[:50], b.masks)
    c = data.make_shapes(50, seed=4)
    assert not torch.equal(b.images, c.images)
    assert a.images.shape == (2000, 3, 64, 64) and a.images.dtype == torch.float32
    assert 0.0 <= float(a.images.min()) and float(a.images.max()) <= 1.0
    assert a.masks.dtype == torch.int64 and set(torch.unique(a.masks).tolist()) == {0, 1, 2, 3}


def test_shapes_targets_agree_with_masks():
    scenes = data.make_shapes(300, seed=1, max_objects=4)
    counts = [len(b) for b in scenes.boxes]
    assert min(counts) >= 1 and max(counts) <= 4
    for mask, boxes, labels in zip(scenes.masks, scenes.boxes, scenes.labels):
        assert boxes.shape == (len(labels), 4) and labels.dtype == torch.int64
        covered = torch.zeros_like(mask, dtype=torch.bool)
        for (x1, y1, x2, y2), label in zip(boxes.long().tolist(), labels.tolist()):
            assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64
            inside = mask[y1:y2, x1:x2] == label + 1
            # the box is tight: its border rows and columns touch the object
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
            covered[y1:y2, x1:x2] |= inside
        # every object pixel lies in a box of its own class
        assert torch.equal(covered, mask > 0)


def test_shapes_datasets():
    cls = data.ShapesClassification(30, 32, seed=0)
    image, label = cls[0]
    assert image.shape == (3, 32, 32) and 0 <= int(label) < 3
    assert torch.equal(cls.targets, torch.stack([lab[0] for lab in cls.scenes.labels]))
    det = data.ShapesDetection(8, seed=0)
    loader = torch.utils.data.DataLoader(det, batch_size=4, collate_fn=data.detection_collate)
    images, targets = next(iter(loader))
    assert images.shape == (4, 3, 64, 64) and set(targets[0]) == {"boxes", "labels"}
    seg = data.ShapesSegmentation(8, seed=0)
    assert seg[0][1].shape == (64, 64)


def test_shapes_bad_arguments():
    with pytest.raises(ValueError, match="n must"):
        data.make_shapes(-1)
    with pytest.raises(ValueError, match="min_objects"):
        data.make_shapes(2, min_objects=3, max_objects=2)
    with pytest.raises(ValueError, match="size"):
        data.make_shapes(2, size=8)


# ---------------------------------------------------------------- real datasets, offline fallback


def test_real_dataset_is_off_by_default(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv(data.ONLINE_ENV, raising=False)
    ds = data.load_real("mnist", "test", root=tmp_path)
    assert "downloads are off" in capsys.readouterr().out
    assert isinstance(ds, data.TensorImageDataset) and ds.images.shape[1:] == (1, 28, 28)
    assert not any(tmp_path.iterdir())  # nothing was downloaded


@pytest.fixture
def no_network(monkeypatch):
    """Block every outgoing connection, as on a machine without network."""

    def refuse(*args, **kwargs):
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_online_request_falls_back_fast_without_network(no_network, tmp_path, capsys, name):
    start = time.perf_counter()
    ds = data.load_real(name, "test", root=tmp_path, online=True)
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert "cannot reach" in out and "offline" in out
    assert elapsed < 10
    image, label = ds[0]
    assert image.dtype == torch.float32 and image.ndim == 3


def test_unreachable_host_times_out_quickly(monkeypatch):
    def hang(address, timeout=None):
        time.sleep(min(timeout, 0.2))
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    start = time.perf_counter()
    assert data.network_available("https://example.invalid/", timeout=0.2) is False
    assert time.perf_counter() - start < 2


def test_failed_download_falls_back(monkeypatch, tmp_path, capsys):
    import torchvision

    monkeypatch.setattr(data, "network_available", lambda url, timeout=3.0: True)

    class Broken:
        def __init__(self, download=False, **kwargs):
            raise RuntimeError("download broke" if download else "Dataset not found")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Broken)
    ds = data.load_real("mnist", "train", root=tmp_path, online=True)
    assert "download broke" in capsys.readouterr().out
    assert len(ds) == 1347


def test_real_dataset_bad_arguments():
    with pytest.raises(ValueError, match="unknown dataset"):
        data.load_real("imagenet")
    with pytest.raises(ValueError, match="split"):
        data.load_real("mnist", "val")


def test_online_switch(monkeypatch):
    monkeypatch.setenv(data.ONLINE_ENV, "1")
    assert data.online_enabled() is True
    assert data.online_enabled(False) is False
    monkeypatch.setenv(data.ONLINE_ENV, "0")
    assert data.online_enabled() is False


def test_random_shift_is_a_seeded_integer_shift():
    image = torch.rand(1, 12, 12)
    torch.manual_seed(0)
    a = [data.RandomShift(2)(image) for _ in range(20)]
    torch.manual_seed(0)
    b = [data.RandomShift(2)(image) for _ in range(20)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    candidates = [data.shift_images(image, dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)]
    assert all(any(torch.equal(x, c) for c in candidates) for x in a)
    assert len({tuple(x.flatten().tolist()) for x in a}) > 3
    assert torch.equal(data.RandomShift(0)(image), image)
    with pytest.raises(ValueError, match="max_shift"):
        data.RandomShift(-1)


def test_make_shapes_overlap_and_clutter_describe_visible_objects_only():
    scenes = data.make_shapes(80, 48, seed=5, max_objects=4, overlap=0.5, clutter=4)
    overlapping = 0
    for i in range(len(scenes)):
        mask, boxes, labels = scenes.masks[i], scenes.boxes[i], scenes.labels[i]
        assert len(boxes) == len(labels)
        # every labelled pixel lies in a box of its class; boxes are tight on visible pixels
        for box, label in zip(boxes.long().tolist(), labels.tolist()):
            x1, y1, x2, y2 = box
            inside = mask[y1:y2, x1:x2] == label + 1
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any() and inside[:, -1].any()
        covered = torch.zeros_like(mask, dtype=torch.bool)
        for box in boxes.long().tolist():
            covered[box[1] : box[3], box[0] : box[2]] = True
        assert not ((mask > 0) & ~covered).any(), "a labelled pixel outside every box"
        if len(boxes) > 1:
            iou = torchvision.ops.box_iou(boxes, boxes).fill_diagonal_(0)
            overlapping += int((iou > 0).any())
    assert overlapping > 0, "overlap=0.5 should give some touching boxes"


def test_make_shapes_new_options_validate_and_keep_the_default_scenes():
    with pytest.raises(ValueError, match="overlap"):
        data.make_shapes(2, overlap=1.0)
    with pytest.raises(ValueError, match="clutter"):
        data.make_shapes(2, clutter=-1)
    a = data.make_shapes(5, 32, seed=9)
    b = data.make_shapes(5, 32, seed=9, overlap=0.0, clutter=0)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    c = data.make_shapes(5, 32, seed=9, clutter=3)
    assert not torch.equal(a.images, c.images)
