"""Cost arithmetic: how many multiplications a convolution or a whole model needs.

A convolution producing an ``h_out x w_out x c_out`` volume with ``f x f`` filters
over ``c_in`` channels does ``h_out * w_out * c_out * f * f * c_in / groups``
multiply-adds: (number of filter parameters) x (number of filter positions) x (number
of filters). :func:`count_mult_adds` adds this up over every ``Conv2d`` and ``Linear``
layer of a built model by running it once with hooks. Batch norm, activations,
pooling and biases are not counted, as in the papers. The depthwise-separable cost
formulas of MobileNet (with width and resolution multipliers) are here too. Taught in
Chapter 5 (Inception) and Chapter 6 (MobileNet).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

__all__ = [
    "Cost",
    "conv_mult_adds",
    "count_mult_adds",
    "standard_conv_cost",
    "depthwise_cost",
    "pointwise_cost",
    "separable_cost",
    "separable_ratio",
]


def conv_mult_adds(h_out: int, w_out: int, c_out: int, f: int, c_in: int, groups: int = 1) -> int:
    """Multiply-adds of one convolution layer: ``h_out w_out c_out f^2 c_in / groups``."""
    for name, value in dict(h_out=h_out, w_out=w_out, c_out=c_out, f=f, c_in=c_in, groups=groups).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide c_in={c_in} and c_out={c_out}")
    return h_out * w_out * c_out * f * f * (c_in // groups)


@dataclass(frozen=True)
class Cost:
    """Multiply-adds and parameters (weights only, no biases or batch norm) of a layer."""

    mult_adds: int
    params: int

    def __add__(self, other: Cost) -> Cost:
        if not isinstance(other, Cost):
            return NotImplemented  # Cost + 3: TypeError, as for any unsupported operand
        return Cost(self.mult_adds + other.mult_adds, self.params + other.params)


def _scaled(value: int, factor: float, name: str) -> int:
    if not 0 < factor <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {factor!r}")
    return max(1, round(value * factor))


def standard_conv_cost(d_k: int, m: int, n: int, d_f: int) -> Cost:
    """A standard ``d_k x d_k`` convolution from ``m`` to ``n`` channels on a ``d_f x d_f`` output.

    Mult-adds ``D_K^2 M N D_F^2``, parameters ``D_K^2 M N`` (Howard et al.'s notation).
    """
    return Cost(conv_mult_adds(d_f, d_f, n, d_k, m), d_k * d_k * m * n)


def depthwise_cost(d_k: int, m: int, d_f: int) -> Cost:
    """One ``d_k x d_k`` filter per channel: mult-adds ``D_K^2 M D_F^2``, parameters ``D_K^2 M``."""
    return Cost(conv_mult_adds(d_f, d_f, m, d_k, m, groups=m), d_k * d_k * m)


def pointwise_cost(m: int, n: int, d_f: int) -> Cost:
    """A 1x1 convolution from ``m`` to ``n`` channels: mult-adds ``M N D_F^2``, parameters ``M N``."""
    return Cost(conv_mult_adds(d_f, d_f, n, 1, m), m * n)


def separable_cost(d_k: int, m: int, n: int, d_f: int, alpha: float = 1.0, rho: float = 1.0) -> Cost:
    """Depthwise then pointwise, with width multiplier ``alpha`` and resolution multiplier ``rho``.

    ``alpha`` scales the channels (``M -> alpha M``, ``N -> alpha N``), ``rho`` the
    feature map (``D_F -> rho D_F``); scaled sizes are rounded to whole numbers:
    ``D_K^2 (aM) (rD_F)^2 + (aM)(aN)(rD_F)^2``. Taught in Chapter 6.
    """
    m_, n_, f_ = _scaled(m, alpha, "alpha"), _scaled(n, alpha, "alpha"), _scaled(d_f, rho, "rho")
    return depthwise_cost(d_k, m_, f_) + pointwise_cost(m_, n_, f_)


def separable_ratio(n: int, d_k: int) -> float:
    """Cost of a separable over a standard convolution: ``1 / N + 1 / D_K^2``."""
    if n < 1 or d_k < 1:
        raise ValueError(f"n and d_k must be positive, got {n!r}, {d_k!r}")
    return 1.0 / n + 1.0 / (d_k * d_k)


_COUNTED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def count_mult_adds(model: nn.Module, input_shape: tuple[int, ...], *, device="cpu", by_layer: bool = False):
    """Multiply-adds of one forward pass of ``model`` on one example of shape ``input_shape``.

    Counts ``Conv1d``, ``Conv2d`` and ``Conv3d`` (output values x filter weights
    ``prod(kernel) * in_channels / groups``, as :func:`conv_mult_adds`) and ``Linear``
    (``in * out`` per row) layers; biases, normalisation, activations and pooling are not
    counted. ``input_shape`` excludes the batch axis, e.g. ``(3, 224, 224)``. Returns the
    total, or with ``by_layer=True`` a dict layer name -> count. A layer called several
    times in one forward pass (shared weights, a reused block) is counted every time it
    runs (its ``by_layer`` entry is the sum over the calls), as ``FlopCounterMode`` counts
    it. Works on the ``meta`` device. Taught in Chapter 5 (2D) and Chapter 13 (1D and 3D).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if (
        not isinstance(input_shape, (tuple, list))
        or not input_shape
        or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in input_shape)
    ):
        raise ValueError(
            f"input_shape must be a tuple of positive ints without the batch axis, "
            f"e.g. (3, 224, 224), got {input_shape!r}"
        )
    counts: dict[str, int] = {}
    names = {m: n for n, m in model.named_modules()}

    def hook(module, inputs, output):
        per_example = output.numel() // output.shape[0]
        if isinstance(module, nn.Linear):
            count = per_example * module.in_features
        else:
            count = per_example * math.prod(module.kernel_size) * (module.in_channels // module.groups)
        # a module called several times in one pass (weight sharing, a reused block) costs each time
        counts[names[module]] = counts.get(names[module], 0) + count

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, _COUNTED)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return counts if by_layer else sum(counts.values())
