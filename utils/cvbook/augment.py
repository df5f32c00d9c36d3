"""Data augmentation, transfer learning and test-time tricks.

* Colour augmentation: :func:`colour_shift` (add a fixed amount to each RGB
  channel, clipped, the lectures' "+20, -20, +20"), :class:`RandomColourShift`,
  and AlexNet's PCA colour augmentation (:func:`pca_colour_basis`,
  :func:`pca_colour_augment`, :class:`PCAColour`). The two transforms are
  torchvision transforms v2, usable inside ``v2.Compose`` on uint8 or float images.
* Transfer learning: :func:`freeze`, :func:`unfreeze`, :func:`trainable_parameters`,
  :func:`replace_head`, :func:`extract_features` (pre-computed features for a
  frozen body), :func:`few_per_class` (a small labelled subset).
* Benchmark tricks: :func:`ten_crop_predict` (10-crop test-time augmentation)
  and :func:`ensemble_predict` (average the probabilities of several networks).

Images are ``(C, H, W)`` or ``(N, C, H, W)`` tensors with ``C = 3`` for the colour
functions: uint8 in [0, 255] or float in [0, 1]. Taught in Chapter 7.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn
from torchvision import tv_tensors
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from .device import device_of

__all__ = [
    "colour_shift",
    "RandomColourShift",
    "pca_colour_basis",
    "pca_colour_augment",
    "PCAColour",
    "freeze",
    "unfreeze",
    "trainable_parameters",
    "replace_head",
    "extract_features",
    "few_per_class",
    "ten_crop_predict",
    "ensemble_predict",
]


# --------------------------------------------------------------------------- colour


def _check_rgb(image: torch.Tensor, name: str = "image") -> None:
    if not isinstance(image, torch.Tensor):
        raise ValueError(f"{name} must be a tensor (3, H, W) or (N, 3, H, W), got {type(image).__name__}")
    if image.ndim not in (3, 4) or image.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (3, H, W) or (N, 3, H, W), got {tuple(image.shape)}")
    if image.dtype != torch.uint8 and not image.is_floating_point():
        raise ValueError(f"{name} must be uint8 in [0, 255] or float in [0, 1], got dtype {image.dtype}")


def _three(values, name: str) -> torch.Tensor:
    t = torch.as_tensor(values, dtype=torch.float64)
    if t.shape != (3,):
        raise ValueError(f"{name} must have 3 values (R, G, B), got shape {tuple(t.shape)}")
    return t


def _to_unit(image: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float64 [0, 1]; float -> float64."""
    return image.double() / 255.0 if image.dtype == torch.uint8 else image.double()


def _from_unit(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """float64 in [0, 1] (clipped here) -> the dtype of ``like`` (uint8 rounded to the nearest level)."""
    values = values.clamp(0.0, 1.0)
    if like.dtype == torch.uint8:
        return (values * 255.0).round().to(torch.uint8)
    return values.to(like.dtype)


def colour_shift(image: torch.Tensor, shift: Sequence[float]) -> torch.Tensor:
    """Add ``shift[c]`` to every pixel of channel ``c`` (R, G, B), clipped to the valid range.

    image: (3, H, W) or (N, 3, H, W), uint8 in [0, 255] or float in [0, 1].
    shift: three numbers on the **0-255 scale** (e.g. ``(20, -20, 20)``: more red
    and blue, less green); for float images they are divided by 255. Returns a
    tensor of the same shape and dtype; uint8 results are rounded and clipped to
    [0, 255], float results clipped to [0, 1]. Taught in Chapter 7.
    """
    _check_rgb(image)
    delta = _three(shift, "shift").view(3, 1, 1) / 255.0
    return _from_unit(_to_unit(image) + delta, image)


def pca_colour_basis(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues and eigenvectors of the 3 x 3 covariance of the RGB values of all pixels.

    images: (3, H, W) or (N, 3, H, W), uint8 (scaled to [0, 1] first) or float.
    Returns ``(eigvals, eigvecs)``: eigvals (3,) in descending order, eigvecs
    (3, 3) with eigenvector ``i`` in **column** ``i`` (``eigvecs[:, i]``), both
    float64; each eigenvector's sign is chosen so that its components sum to >= 0
    (so ``eigvecs[:, 0]``, the brightness direction of a photo, is positive). The covariance is
    the unbiased one (divides by the number of pixels minus one, like ``np.cov``). Taught in Chapter 7.
    """
    _check_rgb(images, "images")
    pixels = _to_unit(images).movedim(-3, -1).reshape(-1, 3)  # (P, 3): one row per pixel
    if len(pixels) < 2:
        raise ValueError(f"images must hold at least 2 pixels, got {len(pixels)}")
    centred = pixels - pixels.mean(dim=0)
    cov = centred.T @ centred / (len(pixels) - 1)
    eigvals, eigvecs = torch.linalg.eigh(cov)  # ascending
    eigvals, eigvecs = eigvals.flip(0), eigvecs.flip(1)
    signs = torch.where(eigvecs.sum(dim=0) < 0, -1.0, 1.0).to(eigvecs.dtype)
    return eigvals, eigvecs * signs  # a fixed sign: components sum >= 0


def pca_colour_augment(
    image: torch.Tensor,
    alpha: Sequence[float],
    eigvals: torch.Tensor | None = None,
    eigvecs: torch.Tensor | None = None,
) -> torch.Tensor:
    """AlexNet's PCA colour augmentation with given ``alpha``: add ``sum_i alpha_i lambda_i p_i`` to every pixel.

    image: (3, H, W) or (N, 3, H, W), uint8 or float in [0, 1]; the shift is
    computed and added on the [0, 1] scale, then clipped (and, for uint8,
    rounded back). alpha: three numbers (drawn from N(0, 0.1^2) in the paper).
    eigvals (3,), eigvecs (3, 3) with eigenvectors in columns, as returned by
    :func:`pca_colour_basis`; if omitted they are computed from ``image`` itself.
    Returns a tensor of the same shape and dtype. Taught in Chapter 7.
    """
    _check_rgb(image)
    alpha_t = _three(alpha, "alpha")
    if eigvals is None or eigvecs is None:
        if eigvals is not None or eigvecs is not None:
            raise ValueError("give both eigvals and eigvecs, or neither")
        eigvals, eigvecs = pca_colour_basis(image)
    lam = _three(eigvals, "eigvals")
    vecs = torch.as_tensor(eigvecs, dtype=torch.float64)
    if vecs.shape != (3, 3):
        raise ValueError(f"eigvecs must have shape (3, 3), got {tuple(vecs.shape)}")
    delta = vecs @ (alpha_t * lam)  # (3,) = [p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T
    return _from_unit(_to_unit(image) + delta.view(3, 1, 1), image)


class _ImageOnly(v2.Transform):
    """A v2 transform that changes images (plain tensors, ``tv_tensors.Image``) and passes the rest through."""

    def _colour(self, inpt: Any, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if isinstance(inpt, tv_tensors.TVTensor) and not isinstance(inpt, tv_tensors.Image):
            return inpt  # boxes, masks, ...: colour does not move them
        _check_rgb(inpt)
        out = self._colour(inpt.as_subclass(torch.Tensor), params)
        return tv_tensors.wrap(out, like=inpt) if isinstance(inpt, tv_tensors.Image) else out


class RandomColourShift(_ImageOnly):
    """Transform: add a random shift to each RGB channel, clipped (the lectures' colour shifting).

    Each channel's shift is a whole number drawn uniformly from
    ``-max_shift .. max_shift`` on the 0-255 scale, with torch's global
    generator (``device.seed_everything`` makes it repeatable). Works on uint8
    and float images (3, H, W) or (N, 3, H, W) inside ``v2.Compose``; labels
    pass through. Taught in Chapter 7.
    """

    def __init__(self, max_shift: int = 20):
        super().__init__()
        if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative int (0-255 scale), got {max_shift!r}")
        self.max_shift = max_shift

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        shift = torch.randint(-self.max_shift, self.max_shift + 1, (3,))
        return {"shift": shift.tolist()}

    def _colour(self, inpt: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
        return colour_shift(inpt, params["shift"])

    def extra_repr(self) -> str:
        return f"max_shift={self.max_shift}"


class PCAColour(_ImageOnly):
    """Transform: AlexNet's PCA colour augmentation with ``alpha ~ N(0, std^2)``.

    eigvals (3,), eigvecs (3, 3) (columns): the principal components of the
    training set's RGB values (:func:`pca_colour_basis` of the training images);
    if omitted, each image's own components are used. ``alpha`` is drawn
    once per call with torch's global generator. Works on uint8 and float
    images (3, H, W) or (N, 3, H, W) inside ``v2.Compose``. Taught in Chapter 7.
    """

    def __init__(self, std: float = 0.1, eigvals: torch.Tensor | None = None, eigvecs: torch.Tensor | None = None):
        super().__init__()
        if isinstance(std, bool) or not isinstance(std, (int, float)) or std < 0:
            raise ValueError(f"std must be a number >= 0, got {std!r}")
        if (eigvals is None) != (eigvecs is None):
            raise ValueError("give both eigvals and eigvecs, or neither")
        if eigvals is not None:
            eigvals = _three(eigvals, "eigvals")
            eigvecs = torch.as_tensor(eigvecs, dtype=torch.float64)
            if eigvecs.shape != (3, 3):
                raise ValueError(f"eigvecs must have shape (3, 3), got {tuple(eigvecs.shape)}")
        self.std, self.eigvals, self.eigvecs = float(std), eigvals, eigvecs

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {"alpha": (torch.randn(3, dtype=torch.float64) * self.std).tolist()}

    def _colour(self, inpt: torch.Tensor, params: dict[str, Any]) -> torch.Tensor:
        return pca_colour_augment(inpt, params["alpha"], self.eigvals, self.eigvecs)

    def extra_repr(self) -> str:
        basis = "per image" if self.eigvals is None else "fixed basis"
        return f"std={self.std}, {basis}"


# --------------------------------------------------------------------------- transfer learning


def _check_module(module: nn.Module, name: str = "module") -> None:
    if not isinstance(module, nn.Module):
        raise ValueError(f"{name} must be an nn.Module, got {type(module).__name__}")


def freeze(module: nn.Module, except_: Iterable[nn.Module] = ()) -> nn.Module:
    """Set ``requires_grad = False`` on every parameter of ``module``, except those in ``except_``.

    ``except_``: sub-modules (e.g. the new head) that stay trainable. Returns
    ``module``. Frozen parameters get no gradient, so an optimizer leaves them
    alone. Batch-norm statistics still update in train mode: call ``.eval()``
    on a frozen body (or keep it in eval mode) to freeze them too. Taught in Chapter 7.
    """
    _check_module(module)
    keep = set()
    for sub in except_:
        _check_module(sub, "except_ entries")
        keep.update(id(p) for p in sub.parameters())
    for p in module.parameters():
        p.requires_grad_(id(p) in keep)
    return module


def unfreeze(module: nn.Module) -> nn.Module:
    """Set ``requires_grad = True`` on every parameter of ``module``; returns it. Taught in Chapter 7."""
    _check_module(module)
    for p in module.parameters():
        p.requires_grad_(True)
    return module


def trainable_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module`` with ``requires_grad`` (shared ones counted once). Taught in Chapter 7."""
    _check_module(module)
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _last_linear(model: nn.Module) -> tuple[nn.Module, str, nn.Linear]:
    found = None
    for name, sub in model.named_modules():
        if isinstance(sub, nn.Linear):
            found = name
    if found is None:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer to replace")
    parent_name, _, attr = found.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    return parent, attr, getattr(parent, attr)


def replace_head(model: nn.Module, num_classes: int) -> nn.Linear:
    """Replace the **last** ``nn.Linear`` of ``model`` by a new one with ``num_classes`` outputs.

    Works for torchvision classifiers (ResNet's ``fc``, MobileNet's
    ``classifier[-1]``) and the book's models. The new layer has the same
    ``in_features``, fresh weights, is trainable, and sits on the old layer's
    device and dtype. Returns the new layer. Taught in Chapter 7.
    """
    _check_module(model, "model")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    parent, attr, old = _last_linear(model)
    new = nn.Linear(
        old.in_features, num_classes, bias=old.bias is not None, device=old.weight.device, dtype=old.weight.dtype
    )
    setattr(parent, attr, new)
    return new


@torch.no_grad()
def extract_features(body: nn.Module, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Run a (frozen) ``body`` once over ``images`` (N, C, H, W) in eval mode; return (N, D) features.

    The lectures' trick for a frozen feature extractor: compute the features
    once, then train only the head on them. Outputs with more than 2
    dimensions are flattened. The batches run on the body's device; the
    features come back on the images' device. Taught in Chapter 7.
    """
    _check_module(body, "body")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {getattr(images, 'shape', type(images))}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    was_training = body.training
    body.eval()
    on = device_of(body)  # the body may sit on a GPU (after fit) while the images are on the CPU
    try:
        parts = [
            body(images[i : i + batch_size].to(on)).flatten(1).to(images.device)
            for i in range(0, len(images), batch_size)
        ]
    finally:
        body.train(was_training)
    return torch.cat(parts) if parts else torch.zeros(0, 0)


def few_per_class(targets: torch.Tensor, k: int, classes: Sequence[int] | None = None, seed: int = 0) -> torch.Tensor:
    """Indices of ``k`` examples of each class in ``classes`` (default: all), drawn with ``seed``.

    targets: (N,) integer labels. Returns a sorted int64 tensor of
    ``k * len(classes)`` indices. Raises ``ValueError`` if a class has fewer
    than ``k`` examples. Taught in Chapter 7.
    """
    targets = torch.as_tensor(targets)
    if targets.ndim != 1:
        raise ValueError(f"targets must have shape (N,), got {tuple(targets.shape)}")
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise ValueError(f"targets must hold integer class labels, got {targets.dtype}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    classes = sorted(targets.unique().tolist()) if classes is None else list(classes)
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c in classes:
        where = torch.nonzero(targets == c).flatten()
        if len(where) < k:
            raise ValueError(f"class {c} has {len(where)} examples, fewer than k={k}")
        chosen.append(where[torch.randperm(len(where), generator=g)[:k]])
    return torch.cat(chosen).sort().values


# --------------------------------------------------------------------------- benchmark tricks


def _probabilities(model: nn.Module, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    # batches run on the model's device (a GPU after fit); the result comes back to the images'
    on = device_of(model)
    return torch.cat(
        [
            model(images[i : i + batch_size].to(on)).softmax(dim=1).to(images.device)
            for i in range(0, len(images), batch_size)
        ]
    )


@torch.no_grad()
def ten_crop_predict(
    model: nn.Module, images: torch.Tensor, size: int | Sequence[int], *, mirror: bool = True, batch_size: int = 256
) -> torch.Tensor:
    """Multi-crop test-time augmentation: average the softmax over 10 crops (or 5 without mirrors).

    images: (N, C, H, W); size: the crop size (int or (h, w)), at most (H, W).
    The crops are the 4 corners and the centre of each image and, with
    ``mirror=True``, the same 5 crops of its horizontal mirror: exactly
    ``torchvision.transforms.v2.functional.ten_crop`` (``five_crop`` without
    mirrors; use that when mirroring changes the label, e.g. for digits).
    ``model`` runs in eval mode on each crop batch (N, C, h, w) and must return
    logits (N, K). Returns the averaged probabilities (N, K). Taught in Chapter 7.
    """
    _check_module(model, "model")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {getattr(images, 'shape', type(images))}")
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if not (0 < h <= images.shape[-2] and 0 < w <= images.shape[-1]):
        raise ValueError(f"size {(h, w)} must be positive and fit in the images' (H, W) = {tuple(images.shape[-2:])}")
    was_training = model.training
    model.eval()
    try:
        crops = TF.ten_crop(images, [h, w]) if mirror else TF.five_crop(images, [h, w])
        probs = torch.stack([_probabilities(model, crop, batch_size) for crop in crops])
    finally:
        model.train(was_training)
    return probs.mean(dim=0)


@torch.no_grad()
def ensemble_predict(models: Sequence[nn.Module], images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Average the softmax probabilities (N, K) of several networks on ``images`` (N, C, H, W).

    Each model is run in eval mode and must return logits (N, K) with the same K.
    Taught in Chapter 7.
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one network")
    for m in models:
        _check_module(m, "models entries")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {getattr(images, 'shape', type(images))}")
    outs = []
    for m in models:
        was_training = m.training
        m.eval()
        try:
            outs.append(_probabilities(m, images, batch_size))
        finally:
            m.train(was_training)
    if len({o.shape for o in outs}) != 1:
        raise ValueError(f"the models disagree on the output shape: {sorted({tuple(o.shape) for o in outs})}")
    return torch.stack(outs).mean(dim=0)
