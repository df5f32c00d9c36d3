"""Convolutions beyond images: 1D signals and 3D volumes or clips.

* :func:`conv_output_shape` - the output size of a convolution along every axis
  (1D, 2D or 3D), one :func:`cvbook.conv.conv_output_size` per axis;
* :func:`conv_cost` and :func:`count_mult_adds_nd` - multiply-adds and weights of
  ``Conv1d``, ``Conv2d`` and ``Conv3d`` layers, by formula and from a built model;
* :func:`conv1d_naive` (a loop over output positions) and :func:`conv1d_unfold`
  (``Tensor.unfold`` + one product) - two from-scratch versions of
  ``torch.nn.functional.conv1d``;
* :func:`make_ecg_like` - a seeded generator of ECG-like 1D signals in four classes
  (normal rhythm, irregular RR intervals, wide QRS complexes, missing P waves), with
  noise, baseline wander and a random phase;
* :func:`make_moving_squares` - a seeded generator of short clips (T frames) of a
  square moving left, staying still or moving right: a task where one frame is not
  enough.

As everywhere in the book, "convolution" means cross-correlation (no kernel flip).
Taught in Chapter 13.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import cost
from .conv import _check_conv_args, _resolve_padding, conv_output_size
from .cost import Cost

__all__ = [
    "ECG_CLASSES",
    "MOTION_CLASSES",
    "conv_output_shape",
    "conv_cost",
    "count_mult_adds_nd",
    "conv1d_naive",
    "conv1d_unfold",
    "make_ecg_like",
    "make_moving_squares",
]

#: Class names of :func:`make_ecg_like`, in label order.
ECG_CLASSES = ("normal", "irregular_rr", "wide_qrs", "no_p_wave")
#: Class names of :func:`make_moving_squares`, in label order.
MOTION_CLASSES = ("left", "static", "right")


def _pos_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _per_axis(name: str, value, ndim: int) -> tuple:
    if isinstance(value, (tuple, list)):
        if len(value) != ndim:
            raise ValueError(f"{name} must be an int or a tuple of {ndim} values, got {tuple(value)}")
        return tuple(value)
    return (value,) * ndim


# --------------------------------------------------------------------------- sizes and cost


def conv_output_shape(size: int | Sequence[int], f, p=0, s=1, d=1) -> tuple[int, ...]:
    """Output size of a 1D, 2D or 3D convolution (or pooling), axis by axis.

    size: the input's spatial size, an int (1D) or a tuple ``(L,)``, ``(H, W)`` or
    ``(D, H, W)``. ``f``, ``p``, ``s``, ``d`` (filter, padding, stride, dilation) are
    an int for every axis or a tuple with one value per axis; ``p`` may also be
    ``"valid"``, ``"same"`` or ``"full"``. Each axis follows
    ``floor((n + 2p - d (f - 1) - 1) / s) + 1`` (:func:`cvbook.conv.conv_output_size`).
    Returns a tuple of ints, e.g. ``conv_output_shape((14, 14, 14), 5) == (10, 10, 10)``.
    Taught in Chapter 13.
    """
    size = (size,) if isinstance(size, (int, np.integer)) and not isinstance(size, bool) else tuple(size)
    if not 1 <= len(size) <= 3:
        raise ValueError(f"size must be an int or a tuple of 1 to 3 ints, got {size!r}")
    ndim = len(size)
    fs, ps, ss, ds = (_per_axis(name, v, ndim) for name, v in (("f", f), ("p", p), ("s", s), ("d", d)))
    return tuple(conv_output_size(n, fi, pi, si, di) for n, fi, pi, si, di in zip(size, fs, ps, ss, ds))


def conv_cost(size: int | Sequence[int], f, c_in: int, c_out: int, p=0, s=1) -> Cost:
    """Multiply-adds and weights of one 1D, 2D or 3D convolution layer.

    size: the input's spatial size (int, ``(H, W)`` or ``(D, H, W)``); ``f``, ``p``,
    ``s`` as in :func:`conv_output_shape`; ``c_in`` input channels, ``c_out`` filters.
    Each output value is one dot product with a filter of ``prod(f) * c_in`` weights, so

    * mult-adds = ``prod(output size) * c_out * prod(f) * c_in``,
    * weights = ``prod(f) * c_in * c_out`` (biases not counted, as in the papers).

    Returns a :class:`cvbook.cost.Cost`. Taught in Chapter 13.
    """
    _pos_int("c_in", c_in)
    _pos_int("c_out", c_out)
    out = conv_output_shape(size, f, p, s)
    fs = _per_axis("f", f, len(out))
    weights = math.prod(fs) * c_in * c_out
    return Cost(mult_adds=math.prod(out) * weights, params=weights)


def count_mult_adds_nd(model: nn.Module, input_shape: tuple[int, ...], *, device="cpu") -> int:
    """Multiply-adds of one forward pass of ``model`` on one example of shape ``input_shape``.

    Counts every ``Conv1d``, ``Conv2d``, ``Conv3d`` (output values x filter weights
    ``prod(kernel) * in_channels / groups``) and ``Linear`` (``in * out`` per row) layer,
    with forward hooks; biases, normalisation, activations and pooling are not counted.
    ``input_shape`` excludes the batch axis, e.g. ``(1, 16, 16, 16)`` for a Conv3d net.
    The name Chapter 13 uses for :func:`cvbook.cost.count_mult_adds`. Taught in Chapter 13.
    """
    return cost.count_mult_adds(model, input_shape, device=device)


# --------------------------------------------------------------------------- 1D convolution


def _check_conv1d_args(x, weight, bias, stride, dilation):
    _check_conv_args(x, weight, bias, stride, dilation, dims=1)


def _pad1d(x, f, padding, dilation):
    p = _resolve_padding(padding, f, dilation)
    return F.pad(x, (p, p)) if p else x


def conv1d_naive(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """1D convolution (cross-correlation) with an explicit loop over output positions.

    x: (N, C_in, L); weight: (C_out, C_in, f); bias: (C_out,) or None.
    ``out[n, k, i] = b[k] + sum_{c, u} x[n, c, i s + u d] w[k, c, u]``: each output
    value is the sum of one window of every input channel times one filter.
    Returns (N, C_out, L_out) with ``L_out = floor((L + 2p - d (f - 1) - 1) / s) + 1``.
    Taught in Chapter 13.
    """
    _check_conv1d_args(x, weight, bias, stride, dilation)
    f = weight.shape[2]
    xp = _pad1d(x, f, padding, dilation)
    l_out = conv_output_size(xp.shape[2], f, 0, stride, dilation)
    span = dilation * (f - 1) + 1
    out = torch.empty(x.shape[0], weight.shape[0], l_out, dtype=torch.result_type(x, weight), device=x.device)
    for i in range(l_out):
        window = xp[:, :, i * stride : i * stride + span : dilation]  # (N, C_in, f)
        out[:, :, i] = (window[:, None] * weight[None]).sum(dim=(2, 3))  # (N, C_out)
    if bias is not None:
        out += bias.view(1, -1, 1)
    return out


def conv1d_unfold(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """1D convolution as one product: ``Tensor.unfold`` cuts every window, ``einsum`` weighs them.

    Same arguments, shapes and result as :func:`conv1d_naive`: the windows form a
    (N, C_in, L_out, f) view of x, multiplied by the (C_out, C_in, f) filters.
    Taught in Chapter 13.
    """
    _check_conv1d_args(x, weight, bias, stride, dilation)
    f = weight.shape[2]
    xp = _pad1d(x, f, padding, dilation)
    span = dilation * (f - 1) + 1
    conv_output_size(xp.shape[2], f, 0, stride, dilation)  # raises if the filter does not fit
    windows = xp.unfold(2, span, stride)[..., ::dilation]  # (N, C_in, L_out, f)
    out = torch.einsum("nclf,kcf->nkl", windows, weight)
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out


# --------------------------------------------------------------------------- synthetic signals


def _gauss(t: np.ndarray, centre: float, sigma: float) -> np.ndarray:
    return np.exp(-0.5 * ((t - centre) / sigma) ** 2)


def _beat(t: np.ndarray, kind: int, amp: float) -> np.ndarray:
    """One P-QRS-T complex centred on its R peak at t = 0 (t in seconds)."""
    wide = 2.6 if kind == 2 else 1.0
    p_amp = 0.0 if kind == 3 else 0.15
    return amp * (
        p_amp * _gauss(t, -0.17, 0.022)
        - 0.12 * _gauss(t, -0.028 * wide, 0.009 * wide)
        + 1.0 * _gauss(t, 0.0, 0.011 * wide)
        - 0.22 * _gauss(t, 0.03 * wide, 0.011 * wide)
        + 0.3 * _gauss(t, 0.3, 0.045)
    )


def make_ecg_like(
    n: int, length: int = 512, seed: int = 0, *, fs: float = 100.0, noise: float = 0.05, wander: float = 0.3
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate ``n`` ECG-like signals, balanced over the four :data:`ECG_CLASSES`.

    Every beat is a P wave, a QRS complex and a T wave (sums of Gaussians), at a
    heart rate drawn per signal between 60 and 90 beats per minute, with a random
    phase (the first beat falls anywhere in the first RR interval), a random
    amplitude, a slow baseline wander (two sinusoids below 0.5 Hz, amplitude up to
    ``wander``) and white noise of standard deviation ``noise``. The classes differ
    in one feature each:

    0. ``normal``: regular RR intervals (3 % jitter);
    1. ``irregular_rr``: every RR interval scaled by a factor in [0.5, 1.5];
    2. ``wide_qrs``: QRS complexes 2.6 times wider;
    3. ``no_p_wave``: regular rhythm without P waves.

    Returns ``(signals, labels)``: float32 (n, 1, length) sampled at ``fs`` Hz, and
    int64 (n,). The same ``seed`` gives the same signals. Taught in Chapter 13.
    """
    _pos_int("n", n, minimum=0)
    _pos_int("length", length, minimum=16)
    if not fs > 0:
        raise ValueError(f"fs must be positive, got {fs!r}")
    if noise < 0 or wander < 0:
        raise ValueError(f"noise and wander must be >= 0, got {noise!r}, {wander!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(ECG_CLASSES))
    t = np.arange(length) / fs
    signals = np.empty((n, 1, length), dtype=np.float32)
    for i, kind in enumerate(labels):
        rr = 60.0 / rng.uniform(60, 90)
        amp = rng.uniform(0.7, 1.3)
        beat_time = -rng.uniform(0, rr)  # a beat before the start, so the first visible one has a random phase
        x = np.zeros(length)
        while beat_time < t[-1] + 0.5:
            x += _beat(t - beat_time, int(kind), amp)
            scale = rng.uniform(0.5, 1.5) if kind == 1 else rng.uniform(0.97, 1.03)
            beat_time += rr * scale
        for _ in range(2):
            x += rng.uniform(0, wander / 2) * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t + rng.uniform(0, 2 * np.pi))
        x += rng.normal(0, noise, size=length)
        signals[i, 0] = x
    return torch.from_numpy(signals), torch.from_numpy(labels.astype(np.int64))


def make_moving_squares(
    n: int, frames: int = 8, size: int = 16, seed: int = 0, *, speed: int = 1, noise: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generate ``n`` short clips of a bright square, balanced over :data:`MOTION_CLASSES`.

    In each clip a square (side 3 to 5 pixels, brightness 0.6 to 1) at a random row
    moves ``speed`` pixels per frame to the left (label 0), stays still (1) or moves
    to the right (2), on a dark background with Gaussian noise of standard deviation
    ``noise``. Start positions are drawn so that the *set* of square positions seen
    over a clip has the same distribution for "left" and "right": a single frame, or
    the frames in any order, cannot tell the two apart; only their order can.
    ``size`` must be at least ``5 + speed (frames - 1)`` so that every path fits.

    Returns ``(clips, labels)``: float32 (n, 1, frames, size, size), the layout
    (N, C, D, H, W) of ``nn.Conv3d`` with time as depth, and int64 (n,).
    Taught in Chapter 13.
    """
    _pos_int("n", n, minimum=0)
    _pos_int("frames", frames, minimum=2)
    _pos_int("speed", speed, minimum=1)
    _pos_int("size", size, minimum=5 + speed * (frames - 1))
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(MOTION_CLASSES))
    clips = rng.normal(0.0, noise, size=(n, 1, frames, size, size)).astype(np.float32)
    travel = speed * (frames - 1)
    for i, label in enumerate(labels):
        side = int(rng.integers(3, 6))
        row = int(rng.integers(0, size - side + 1))
        brightness = rng.uniform(0.6, 1.0)
        if label == 1:
            cols = [int(rng.integers(0, size - side + 1))] * frames
        else:
            first = int(rng.integers(0, size - side - travel + 1))  # leftmost position of the path
            cols = [first + speed * k for k in range(frames)]
            if label == 0:
                cols = cols[::-1]
        for k, col in enumerate(cols):
            clips[i, 0, k, row : row + side, col : col + side] += brightness
    return torch.from_numpy(clips), torch.from_numpy(labels.astype(np.int64))
