"""The book's data, all available offline.

* :func:`load_digits` - scikit-learn's 1,797 handwritten digits (8x8, optionally
  resized to 28 or 32 px) with a fixed train/test split.
* :func:`sample_image` - real photos that ship inside scikit-image and
  matplotlib, by name (:func:`sample_image_names` lists them).
* :func:`make_shapes` and the ``Shapes*`` datasets - a seeded generator of
  coloured circles, squares and triangles on noisy backgrounds; one scene gives
  a classification label, detection targets (boxes and classes) and a
  segmentation mask.
* :func:`load_real` - MNIST, Fashion-MNIST or CIFAR-10 through torchvision, only
  when asked for (``online=True`` or ``CVBOOK_ONLINE=1``). Offline, or when the
  download host cannot be reached within seconds, it prints a notice and
  returns the offline equivalent.
* :func:`weights_available` - whether a pretrained checkpoint (a torchvision
  ``Weights`` member or its URL) can be had: downloads on, and the file already in
  torch's cache (:func:`cached_checkpoint`) or its host reachable.

Every dataset yields ``(image, target)`` with ``image`` a float tensor
(C, H, W) in [0, 1], and takes an optional ``transform`` (e.g. torchvision
transforms v2). Taught in Chapter 1.
"""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

__all__ = [
    "ONLINE_ENV",
    "SHAPE_CLASSES",
    "TensorImageDataset",
    "ShapesScenes",
    "ShapesClassification",
    "ShapesDetection",
    "ShapesSegmentation",
    "detection_collate",
    "image_to_tensor",
    "tensor_to_image",
    "load_digits",
    "load_real",
    "make_loader",
    "make_shapes",
    "online_enabled",
    "network_available",
    "cached_checkpoint",
    "weights_available",
    "sample_image",
    "sample_image_names",
    "shift_images",
    "RandomShift",
]

#: Environment variable that allows downloads of real datasets and weights (``1`` to allow).
ONLINE_ENV = "CVBOOK_ONLINE"

#: Class names of the synthetic shapes; class ``k`` is painted as ``k + 1`` in masks (0 is background).
SHAPE_CLASSES = ("circle", "square", "triangle")


# --------------------------------------------------------------------------- datasets


class TensorImageDataset(Dataset):
    """Images (N, C, H, W) float in [0, 1] and targets (N,), with an optional transform."""

    def __init__(
        self,
        images: torch.Tensor,
        targets: torch.Tensor,
        transform: Callable | None = None,
        classes: Sequence[str] | None = None,
    ):
        if images.ndim != 4:
            raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
        if len(targets) != len(images):
            raise ValueError(f"got {len(images)} images but {len(targets)} targets")
        self.images = images
        self.targets = targets
        self.transform = transform
        self.classes = list(classes) if classes is not None else None

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, self.targets[index]


def make_loader(
    dataset: Dataset,
    batch_size: int = 64,
    shuffle: bool = False,
    *,
    seed: int = 0,
    num_workers: int = 0,
    device: torch.device | str | None = None,
    collate_fn: Callable | None = None,
    drop_last: bool = False,
) -> DataLoader:
    """A ``DataLoader`` that is deterministic for ``seed`` and pins memory when training on CUDA.

    Workers (``num_workers > 0``) run the dataset's transforms in parallel with
    training; each worker is seeded from ``seed``. Taught in Chapter 1.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    from .device import pick_device

    generator = torch.Generator().manual_seed(seed)
    pin = pick_device(device).type == "cuda"

    def _seed_worker(worker_id: int) -> None:
        worker_seed = torch.initial_seed() % 2**32
        np.random.seed(worker_seed)
        import random

        random.seed(worker_seed)

    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        generator=generator,
        worker_init_fn=_seed_worker if num_workers else None,
        pin_memory=pin,
        collate_fn=collate_fn,
        drop_last=drop_last,
        persistent_workers=num_workers > 0,
    )


# --------------------------------------------------------------------------- digits


def load_digits(
    split: str = "train",
    size: int = 8,
    transform: Callable | None = None,
    test_fraction: float = 0.25,
    margin: int = 0,
) -> TensorImageDataset:
    """scikit-learn's handwritten digits as a dataset of (1, size, size) images in [0, 1].

    split: ``"train"``, ``"test"`` or ``"all"``; the split is stratified and fixed
    (the same on every machine). size: 8 (the original) or any larger size, e.g.
    28 (MNIST-like) or 32 (LeNet-5's input), by bilinear resizing.
    margin: black pixels around the digit. The scanned digits fill their whole 8x8 frame;
    MNIST's digits are 20x20 inside a 28x28 field, so ``size=28, margin=4`` gives MNIST's
    layout (and ``size=32, margin=6`` LeNet-5's padded input): a shift of a few pixels then
    moves the digit without cutting its strokes off. The digit is resized to
    ``size - 2 * margin`` pixels, which must be at least 8.
    Taught in Chapter 1.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if not isinstance(size, int) or isinstance(size, bool) or size < 8:
        raise ValueError(f"size must be an int >= 8, got {size!r}")
    if not isinstance(margin, int) or isinstance(margin, bool) or margin < 0 or size - 2 * margin < 8:
        raise ValueError(
            f"margin must be an int >= 0 that leaves at least 8 pixels for the digit "
            f"(size - 2 * margin >= 8), got margin={margin!r} with size={size}"
        )
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = _sk_load_digits()
    images = torch.from_numpy(bunch.images.astype(np.float32) / 16.0).unsqueeze(1)
    targets = torch.from_numpy(bunch.target.astype(np.int64))
    inner = size - 2 * margin
    if inner != 8:
        images = F.interpolate(images, size=(inner, inner), mode="bilinear", align_corners=False)
        images = images.clamp_(0.0, 1.0)
    if margin:
        images = F.pad(images, (margin, margin, margin, margin))
    if split != "all":
        index = np.arange(len(targets))
        train_idx, test_idx = train_test_split(index, test_size=test_fraction, random_state=0, stratify=bunch.target)
        chosen = torch.from_numpy(np.sort(train_idx if split == "train" else test_idx))
        images, targets = images[chosen], targets[chosen]
    return TensorImageDataset(images.contiguous(), targets, transform, classes=[str(d) for d in range(10)])


# --------------------------------------------------------------------------- sample photos

# Images that ship inside scikit-image (no download needed).
_SKIMAGE_IMAGES = (
    "astronaut",
    "brick",
    "camera",
    "cat",
    "chelsea",
    "checkerboard",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "moon",
    "page",
    "rocket",
    "text",
    "retina",
    "microaneurysms",
    "cell",
)
# Images that ship inside matplotlib's sample data.
_MATPLOTLIB_IMAGES = {"grace_hopper": "grace_hopper.jpg"}


def sample_image_names() -> list[str]:
    """Names accepted by :func:`sample_image`."""
    return sorted(set(_SKIMAGE_IMAGES) | set(_MATPLOTLIB_IMAGES))


def sample_image(name: str) -> np.ndarray:
    """A real photo that ships with scikit-image or matplotlib, as a uint8 array.

    Grayscale images come as (H, W), colour ones as (H, W, 3) (an alpha channel
    is dropped). Nothing is downloaded. Taught in Chapter 1.
    """
    if name in _MATPLOTLIB_IMAGES:
        import matplotlib.cbook
        import matplotlib.image

        with matplotlib.cbook.get_sample_data(_MATPLOTLIB_IMAGES[name]) as fh:
            image = np.asarray(matplotlib.image.imread(fh, format="jpg"))
    elif name in _SKIMAGE_IMAGES:
        import skimage.data

        image = np.asarray(getattr(skimage.data, name)())
    else:
        raise ValueError(f"unknown sample image {name!r}; choose from {sample_image_names()}")
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif image.dtype != np.uint8:
        image = np.clip(np.rint(image * 255.0 if image.max() <= 1.0 else image), 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    return np.ascontiguousarray(image)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W) or (H, W, C) array -> float tensor (C, H, W) in [0, 1]. Taught in Chapter 1."""
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got {array.shape}")
    if array.dtype != np.uint8:
        raise ValueError(f"image must be uint8 in [0, 255], got dtype {array.dtype}")
    return torch.from_numpy(array.transpose(2, 0, 1).copy()).float().div_(255.0)


def tensor_to_image(tensor: torch.Tensor) -> np.ndarray:
    """float tensor (C, H, W) in [0, 1] -> uint8 array (H, W, C), or (H, W) for one channel."""
    if tensor.ndim != 3:
        raise ValueError(f"tensor must have shape (C, H, W), got {tuple(tensor.shape)}")
    array = (tensor.detach().cpu().float().clamp(0, 1) * 255.0).round().to(torch.uint8).numpy()
    array = array.transpose(1, 2, 0)
    return array[:, :, 0] if array.shape[2] == 1 else array


def shift_images(images: torch.Tensor, dx: int = 0, dy: int = 0, fill: float = 0.0) -> torch.Tensor:
    """Translate images (..., H, W) by ``dx`` pixels right and ``dy`` pixels down.

    Pixels that move out are lost; pixels that move in are ``fill``. Unlike
    ``torch.roll`` nothing wraps around. Taught in Chapter 1.
    """
    if images.ndim < 2:
        raise ValueError(f"images must have shape (..., H, W), got {tuple(images.shape)}")
    for name, value in (("dx", dx), ("dy", dy)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{name} must be an int number of pixels, got {value!r}")
    h, w = images.shape[-2:]
    out = torch.full_like(images, fill)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y = slice(max(0, -dy), h - max(0, dy))
    dst_y = slice(max(0, dy), h - max(0, -dy))
    src_x = slice(max(0, -dx), w - max(0, dx))
    dst_x = slice(max(0, dx), w - max(0, -dx))
    out[..., dst_y, dst_x] = images[..., src_y, src_x]
    return out


class RandomShift:
    """Transform: shift an image (C, H, W) by a random whole number of pixels in each axis.

    The shifts are drawn uniformly from ``-max_shift .. max_shift`` with torch's
    global generator (so :func:`cvbook.device.seed_everything` makes them
    repeatable); vacated pixels get ``fill``. The simplest data augmentation,
    used in Chapter 3; Chapter 7 covers the rest.
    """

    def __init__(self, max_shift: int, fill: float = 0.0):
        if not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int, got {max_shift!r}")
        self.max_shift, self.fill = max_shift, fill

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        dx, dy = torch.randint(-self.max_shift, self.max_shift + 1, (2,)).tolist()
        return shift_images(image, dx, dy, self.fill)

    def __repr__(self) -> str:
        return f"RandomShift(max_shift={self.max_shift}, fill={self.fill})"


# --------------------------------------------------------------------------- synthetic shapes


@dataclass
class ShapesScenes:
    """Scenes made by :func:`make_shapes`.

    images: (N, 3, H, W) float32 in [0, 1]. masks: (N, H, W) int64, 0 for
    background and ``k + 1`` for class ``k``. boxes: list of N (K_i, 4) float32
    tensors, corners (x1, y1, x2, y2) in pixels, the tight box of the object's
    pixels (pixel ``j`` spans [j, j + 1)). labels: list of N (K_i,) int64
    tensors of class indices into :data:`SHAPE_CLASSES`.
    """

    images: torch.Tensor
    masks: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]

    def __len__(self) -> int:
        return len(self.images)


def _shape_mask(kind: int, cx: float, cy: float, r: float, angle: float, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    if kind == 0:  # circle
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    if kind == 1:  # square, axis-aligned, half-side r * 0.85 so its area is close to the circle's
        h = 0.85 * r
        return (np.abs(xx - cx) <= h) & (np.abs(yy - cy) <= h)
    # triangle: equilateral, circumradius r * 1.15, rotated by angle
    R = 1.15 * r
    verts = [(cx + R * np.cos(angle + k * 2 * np.pi / 3), cy + R * np.sin(angle + k * 2 * np.pi / 3)) for k in range(3)]
    inside = np.ones_like(xx, dtype=bool)
    for (x1, y1), (x2, y2) in zip(verts, verts[1:] + verts[:1]):
        # the centre is on the positive side of each edge
        side_c = (x2 - x1) * (cy - y1) - (y2 - y1) * (cx - x1)
        side = (x2 - x1) * (yy - y1) - (y2 - y1) * (xx - x1)
        inside &= side * np.sign(side_c) >= 0
    return inside


def _draw_clutter(image: np.ndarray, count: int, rng: np.random.Generator, xx, yy) -> None:
    """Paint ``count`` thin distractor strokes (lines 1-2 px wide) into ``image`` (3, H, W)."""
    size = image.shape[-1]
    for _ in range(count):
        x1, y1, x2, y2 = rng.uniform(0, size, size=4)
        width = rng.uniform(0.6, 1.2)
        dx, dy = x2 - x1, y2 - y1
        t = np.clip(((xx - x1) * dx + (yy - y1) * dy) / max(dx * dx + dy * dy, 1e-6), 0, 1)
        stroke = (xx - x1 - t * dx) ** 2 + (yy - y1 - t * dy) ** 2 <= width**2
        colour = rng.uniform(0.55, 1.0, size=3).astype(np.float32)
        colour[rng.integers(0, 3)] *= rng.uniform(0.1, 0.5)
        image[:, stroke] = colour[:, None]


def make_shapes(
    n: int,
    size: int = 64,
    *,
    seed: int = 0,
    min_objects: int = 1,
    max_objects: int = 3,
    min_radius: float | None = None,
    max_radius: float | None = None,
    noise: float = 0.06,
    overlap: float = 0.0,
    clutter: int = 0,
) -> ShapesScenes:
    """Generate ``n`` scenes of coloured shapes on noisy backgrounds.

    Each scene holds between ``min_objects`` and ``max_objects`` shapes (circle,
    square, triangle) of random size, position and colour, on a smooth random
    colour gradient with Gaussian pixel noise of standard deviation ``noise``.
    By default shapes keep apart; ``overlap`` in [0, 1) shrinks the required gap
    between centres by that fraction, so later shapes can cover parts of earlier
    ones (masks and boxes then describe the *visible* pixels, as COCO's do).
    ``clutter`` draws up to that many distractor strokes per scene (thin lines in
    object-like colours, under the shapes; not objects: no label, box or mask).
    The same ``seed`` gives the same scenes on every machine (the defaults draw
    exactly the random numbers they always did). A few thousand 64x64 scenes take
    a few seconds. Taught in Chapter 1; overlap and clutter in Chapter 9.
    """
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if not isinstance(size, int) or size < 16:
        raise ValueError(f"size must be an int >= 16, got {size!r}")
    if not (1 <= min_objects <= max_objects):
        raise ValueError(f"need 1 <= min_objects <= max_objects, got {min_objects}, {max_objects}")
    min_radius = size / 12 if min_radius is None else float(min_radius)
    max_radius = size / 5 if max_radius is None else float(max_radius)
    if not (0 < min_radius <= max_radius):
        raise ValueError(f"need 0 < min_radius <= max_radius, got {min_radius}, {max_radius}")
    if not (0.0 <= float(overlap) < 1.0):
        raise ValueError(f"overlap must be in [0, 1), got {overlap!r}")
    if not isinstance(clutter, int) or clutter < 0:
        raise ValueError(f"clutter must be a non-negative int, got {clutter!r}")
    gap = 1.0 - float(overlap)
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5  # pixel centres
    images = np.empty((n, 3, size, size), dtype=np.float32)
    masks = np.zeros((n, size, size), dtype=np.int64)
    all_boxes, all_labels = [], []
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    for i in range(n):
        # background: a gentle gradient between two muted colours, plus noise
        c0, c1 = rng.uniform(0.1, 0.55, size=(2, 3)).astype(np.float32)
        t = ramp[None, :] * np.cos(rng.uniform(0, 2 * np.pi)) + ramp[:, None] * np.sin(rng.uniform(0, 2 * np.pi))
        t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
        image = c0[:, None, None] + (c1 - c0)[:, None, None] * t[None]
        if clutter:
            _draw_clutter(image, int(rng.integers(0, clutter + 1)), rng, xx, yy)
        placed: list[tuple[float, float, float]] = []
        boxes, labels = [], []
        wanted = int(rng.integers(min_objects, max_objects + 1))
        for _ in range(wanted):
            for _attempt in range(50):
                r = float(rng.uniform(min_radius, max_radius))
                margin = 1.2 * r + 1
                cx, cy = (float(v) for v in rng.uniform(margin, size - margin, size=2))
                if all((cx - px) ** 2 + (cy - py) ** 2 > (gap * (1.25 * (r + pr) + 2)) ** 2 for px, py, pr in placed):
                    break
            else:
                continue  # no room left in this scene
            kind = int(rng.integers(0, 3))
            mask = _shape_mask(kind, cx, cy, r, float(rng.uniform(0, 2 * np.pi)), xx, yy)
            if not mask.any():
                continue
            placed.append((cx, cy, r))
            colour = rng.uniform(0.55, 1.0, size=3).astype(np.float32)
            colour[rng.integers(0, 3)] *= rng.uniform(0.1, 0.5)  # saturated, away from the background
            image[:, mask] = colour[:, None]
            masks[i][mask] = len(labels) + 1  # instance ids for now, classes below
            labels.append(kind)
        # boxes of the visible pixels (equal to the whole shape when nothing overlaps)
        instances = masks[i].copy()
        kept = []
        for k, kind in enumerate(labels):
            rows, cols = np.nonzero(instances == k + 1)
            if rows.size:
                boxes.append([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
                kept.append(kind)
            masks[i][instances == k + 1] = kind + 1
        labels = kept
        image += rng.normal(0.0, noise, size=image.shape).astype(np.float32)
        images[i] = np.clip(image, 0.0, 1.0)
        all_boxes.append(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
        all_labels.append(torch.tensor(labels, dtype=torch.int64))
    return ShapesScenes(torch.from_numpy(images), torch.from_numpy(masks), all_boxes, all_labels)


class ShapesClassification(TensorImageDataset):
    """One shape per image; the target is its class index (0 circle, 1 square, 2 triangle)."""

    def __init__(self, n: int, size: int = 64, *, seed: int = 0, transform: Callable | None = None, **shape_kwargs):
        scenes = make_shapes(n, size, seed=seed, min_objects=1, max_objects=1, **shape_kwargs)
        targets = torch.stack([lab[0] for lab in scenes.labels]) if n else torch.zeros(0, dtype=torch.int64)
        super().__init__(scenes.images, targets, transform, classes=SHAPE_CLASSES)
        self.scenes = scenes


class ShapesDetection(Dataset):
    """Scenes with several shapes; the target is ``{"boxes": (K, 4), "labels": (K,)}``.

    Batch it with ``collate_fn=detection_collate`` (targets stay a list).
    """

    classes = list(SHAPE_CLASSES)

    def __init__(self, n: int, size: int = 64, *, seed: int = 0, **shape_kwargs):
        self.scenes = make_shapes(n, size, seed=seed, **shape_kwargs)

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, index: int):
        s = self.scenes
        return s.images[index], {"boxes": s.boxes[index], "labels": s.labels[index]}


class ShapesSegmentation(Dataset):
    """Scenes with several shapes; the target is the (H, W) int64 mask (0 background, k + 1 class k)."""

    classes = ["background", *SHAPE_CLASSES]

    def __init__(self, n: int, size: int = 64, *, seed: int = 0, **shape_kwargs):
        self.scenes = make_shapes(n, size, seed=seed, **shape_kwargs)

    def __len__(self) -> int:
        return len(self.scenes)

    def __getitem__(self, index: int):
        return self.scenes.images[index], self.scenes.masks[index]


def detection_collate(batch):
    """Stack images, keep per-image detection targets as a list."""
    if len(batch) == 0:
        raise ValueError("batch is empty: give at least one (image, target) pair")
    images, targets = zip(*batch)
    return torch.stack(images), list(targets)


# --------------------------------------------------------------------------- real datasets (online option)

# name -> (torchvision class name, download URL used for the connect check, offline equivalent)
_REAL = {
    "mnist": ("MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/", "digits at 28 px"),
    "fashion-mnist": ("FashionMNIST", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", "digits at 28 px"),
    "cifar10": ("CIFAR10", "https://www.cs.toronto.edu/~kriz/", "shapes at 32 px (3 classes)"),
}


def online_enabled(online: bool | None = None) -> bool:
    """Whether downloads are allowed: ``online`` if given, else ``$CVBOOK_ONLINE`` (default off)."""
    if online is not None:
        if not isinstance(online, (bool, np.bool_)):
            raise ValueError(f"online must be True, False or None, got {online!r}")
        return bool(online)
    return os.environ.get(ONLINE_ENV, "0").strip().lower() in {"1", "true", "on", "yes"}


def network_available(url: str, timeout: float = 3.0) -> bool:
    """A short TCP connect check to ``url``'s host; never blocks longer than ``timeout`` seconds."""
    parsed = urlparse(url)
    if not parsed.hostname:
        raise ValueError(f"url must be an address with a host, such as https://example.org/, got {url!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _weights_url(weights) -> str:
    url = getattr(weights, "url", weights)
    if not isinstance(url, str) or not urlparse(url).hostname:
        raise ValueError(
            "weights must be a torchvision Weights member (with a .url) or the checkpoint's "
            f"URL, such as https://download.pytorch.org/models/x.pth, got {weights!r}"
        )
    return url


def cached_checkpoint(weights) -> Path:
    """Where torch keeps the checkpoint of ``weights`` once downloaded (it may not be there yet).

    weights: a torchvision ``Weights`` member (e.g. ``MobileNet_V2_Weights.IMAGENET1K_V2``)
    or its URL. The path is ``<torch.hub.get_dir()>/checkpoints/<file name of the URL>``,
    the file ``torch.hub.load_state_dict_from_url`` reads before it downloads anything
    (``$TORCH_HOME`` moves it). Taught in Chapter 7.
    """
    url = _weights_url(weights)
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def weights_available(weights, *, online: bool | None = None, timeout: float = 3.0) -> bool:
    """Whether a pretrained checkpoint can be had without a long wait or a failure.

    weights: a torchvision ``Weights`` member or its URL. True when downloads are on
    (:func:`online_enabled`) and the checkpoint is already in torch's cache
    (:func:`cached_checkpoint`; then nothing is downloaded and no network is needed)
    or its host answers within ``timeout`` seconds. With downloads off it is False
    even for a cached file, so the default run is the same on every machine. Check
    the cache first: a machine with the weights cached but no network (a laptop on a
    train, a cluster node) still gets them. Taught in Chapter 7 (Chapter 12 uses it
    for VGG-19).
    """
    url = _weights_url(weights)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
    if not online_enabled(online):
        return False
    return cached_checkpoint(url).is_file() or network_available(url, timeout=timeout)


def _offline_equivalent(name: str, split: str, transform):
    if name in ("mnist", "fashion-mnist"):
        return load_digits(split, size=28, transform=transform)
    n = 2000 if split == "train" else 500
    return ShapesClassification(n, 32, seed=0 if split == "train" else 1, transform=transform)


def load_real(
    name: str,
    split: str = "train",
    *,
    root: str | os.PathLike | None = None,
    transform: Callable | None = None,
    online: bool | None = None,
    timeout: float = 3.0,
) -> Dataset:
    """A real dataset through torchvision when online, else its offline equivalent.

    name: ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``. split: ``"train"``
    or ``"test"``. root: where to keep the files (default ``~/.cache/cvbook``).
    A copy already on disk is used without the network. Otherwise, with
    downloads off (the default), or when the host does not answer within
    ``timeout`` seconds, or the download fails, a notice is printed and the
    offline equivalent is returned (digits for MNIST-like sets, 32 px shapes for
    CIFAR-10). Images come as float tensors (C, H, W) in [0, 1].
    Taught in Chapter 1.
    """
    if name not in _REAL:
        raise ValueError(f"unknown dataset {name!r}; choose from {sorted(_REAL)}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    import torchvision
    from torchvision.transforms import v2

    cls_name, url, fallback = _REAL[name]
    cls = getattr(torchvision.datasets, cls_name)
    root = Path(root) if root is not None else Path.home() / ".cache" / "cvbook"
    to_tensor = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])
    full = to_tensor if transform is None else v2.Compose([to_tensor, transform])
    kwargs = dict(root=str(root), train=(split == "train"), transform=full)
    try:
        return cls(download=False, **kwargs)
    except (RuntimeError, OSError):
        pass  # not on disk yet
    if not online_enabled(online):
        print(
            f"cvbook: {name} is not on disk and downloads are off (set {ONLINE_ENV}=1 to allow); "
            f"using the offline {fallback} instead."
        )
        return _offline_equivalent(name, split, transform)
    if not network_available(url, timeout):
        print(
            f"cvbook: cannot reach {urlparse(url).hostname} within {timeout:g} s; using the offline {fallback} instead."
        )
        return _offline_equivalent(name, split, transform)
    previous_timeout = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(max(timeout, 30.0))  # a stalled transfer fails instead of hanging
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(download=True, **kwargs)
    except Exception as err:  # noqa: BLE001 - any failure falls back, with the reason printed
        print(f"cvbook: downloading {name} failed ({type(err).__name__}: {err}); using the offline {fallback} instead.")
        return _offline_equivalent(name, split, transform)
    finally:
        socket.setdefaulttimeout(previous_timeout)
