"""Convolution arithmetic and convolution from scratch.

* :func:`conv_output_size`, :func:`same_padding` and :func:`receptive_field` - the
  sizes that every convolutional layer obeys;
* :func:`conv2d_naive` (loops) and :func:`conv2d_im2col` (unfold + one matrix
  product) - two from-scratch versions of ``torch.nn.functional.conv2d``, with
  stride, padding, dilation, several input and output channels and a bias;
* :func:`pool2d` - max and average pooling from scratch;
* :data:`KERNELS` - the classic hand-made filters (blur, sharpen, Laplacian, outline,
  edge, Sobel, Scharr).

Like PyTorch (and every deep-learning library), "convolution" here means
cross-correlation: the kernel is not flipped. Taught in Chapter 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "KERNELS",
    "conv_output_size",
    "same_padding",
    "receptive_field",
    "receptive_field_of",
    "conv2d_naive",
    "conv2d_im2col",
    "pool2d",
]

#: Classic 3x3 filters (float32, shape (3, 3)), as cross-correlation kernels.
KERNELS: dict[str, torch.Tensor] = {
    name: torch.tensor(values, dtype=torch.float32)
    for name, values in {
        "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        "box_blur": [[1 / 9] * 3] * 3,
        "gaussian_blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
        "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        "outline": [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]],
        "diagonal_edge": [[1, 0, -1], [0, 0, 0], [-1, 0, 1]],
        "vertical_edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
        "horizontal_edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
        "sobel_x": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
        "sobel_y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
        "scharr_x": [[3, 0, -3], [10, 0, -10], [3, 0, -3]],
        "scharr_y": [[3, 10, 3], [0, 0, 0], [-3, -10, -3]],
    }.items()
}


def _pos_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def same_padding(f: int, d: int = 1) -> int:
    """Padding that keeps the size at stride 1: ``p = d (f - 1) / 2`` (``f`` must be odd).

    Taught in Chapter 2.
    """
    _pos_int("f", f)
    _pos_int("d", d)
    if (d * (f - 1)) % 2:
        raise ValueError(f"'same' padding needs an odd filter size, got f={f}")
    return d * (f - 1) // 2


def _resolve_padding(padding, f: int, d: int) -> int:
    if isinstance(padding, str):
        if padding == "valid":
            return 0
        if padding == "same":
            return same_padding(f, d)
        if padding == "full":
            return d * (f - 1)
        raise ValueError(f"padding must be an int or 'valid', 'same', 'full', got {padding!r}")
    return _pos_int("p", padding, minimum=0)


def conv_output_size(n: int, f: int, p: int | str = 0, s: int = 1, d: int = 1) -> int:
    """Output size of a convolution or pooling along one axis.

    ``floor((n + 2p - d (f - 1) - 1) / s) + 1``, which for ``d = 1`` is the
    lectures' ``floor((n + 2p - f) / s) + 1``. ``p`` may be an int or ``"valid"``
    (0), ``"same"`` (``d (f - 1) / 2``) or ``"full"`` (``d (f - 1)``). Raises
    ``ValueError`` if the (dilated) filter does not fit. Taught in Chapter 2.
    """
    _pos_int("n", n)
    _pos_int("f", f)
    _pos_int("s", s)
    _pos_int("d", d)
    p = _resolve_padding(p, f, d)
    span = d * (f - 1) + 1
    if n + 2 * p < span:
        raise ValueError(f"a filter spanning {span} pixels does not fit an input of {n} padded by {p}")
    return (n + 2 * p - span) // s + 1


def receptive_field(layers: Iterable[Sequence[int]]) -> list[tuple[int, int]]:
    """Receptive field of each layer of a stack.

    layers: ``(f, s)`` or ``(f, s, d)`` per layer (filter size, stride, dilation).
    Returns, per layer, ``(r, j)``: the receptive field ``r`` in input pixels and the
    jump ``j`` (input pixels between neighbouring outputs), from
    ``r_l = r_{l-1} + d_l (f_l - 1) j_{l-1}`` and ``j_l = j_{l-1} s_l``, with
    ``r_0 = j_0 = 1``. Taught in Chapter 2.
    """
    r, j = 1, 1
    out = []
    for k, layer in enumerate(layers):
        if len(layer) not in (2, 3):
            raise ValueError(f"layer {k} must be (f, s) or (f, s, d), got {tuple(layer)}")
        f, s, d = (*layer, 1) if len(layer) == 2 else layer
        _pos_int(f"layer {k} f", f)
        _pos_int(f"layer {k} s", s)
        _pos_int(f"layer {k} d", d)
        r += d * (f - 1) * j
        j *= s
        out.append((r, j))
    return out


def _pair_first(value) -> int:
    value = value if isinstance(value, int) else value[0]
    return int(value)


def receptive_field_of(model: nn.Module) -> list[tuple[str, int, int]]:
    """``(layer name, r, j)`` for every Conv2d and pooling layer of ``model``, in order.

    Square kernels are assumed (the first entry of each size is used); layers that
    do not change the geometry (activations, batch norm) are skipped.
    Taught in Chapter 2.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names, layers = [], []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            f = _pair_first(module.kernel_size)
            s = _pair_first(module.stride if module.stride is not None else module.kernel_size)
            d = _pair_first(getattr(module, "dilation", 1))
            names.append(name or type(module).__name__)
            layers.append((f, s, d))
    return [(name, r, j) for name, (r, j) in zip(names, receptive_field(layers))]


_AXES = {1: ("L", "f"), 2: ("H, W", "f_h, f_w"), 3: ("D, H, W", "f_d, f_h, f_w")}


def _check_conv_args(x: torch.Tensor, weight: torch.Tensor, bias, stride, dilation, groups=1, dims: int = 2):
    """Shared argument checks of the from-scratch convolutions (``dims`` spatial axes)."""
    axes, taps = _AXES[dims]
    if x.ndim != dims + 2:
        raise ValueError(f"x must have shape (N, C_in, {axes}), got {tuple(x.shape)}")
    if weight.ndim != dims + 2:
        raise ValueError(f"weight must have shape (C_out, C_in, {taps}), got {tuple(weight.shape)}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"weight expects {weight.shape[1]} input channels but x has {x.shape[1]} "
            f"(x {tuple(x.shape)}, weight {tuple(weight.shape)})"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must have shape ({weight.shape[0]},), got {tuple(bias.shape)}")
    _pos_int("stride", stride)
    _pos_int("dilation", dilation)


def _pad(x: torch.Tensor, weight: torch.Tensor, padding, dilation: int) -> tuple[torch.Tensor, int, int]:
    ph = _resolve_padding(padding, weight.shape[2], dilation)
    pw = _resolve_padding(padding, weight.shape[3], dilation)
    return F.pad(x, (pw, pw, ph, ph)), ph, pw


def conv2d_naive(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """Convolution (cross-correlation) with explicit loops over every output value.

    x: (N, C_in, H, W); weight: (C_out, C_in, f_h, f_w); bias: (C_out,) or None.
    Each output value is the sum of the element-wise product of one (dilated)
    window of x with one filter, plus the bias:
    ``out[n, k, i, j] = b[k] + sum_{c,u,v} x[n, c, i s + u d, j s + v d] w[k, c, u, v]``.
    Returns (N, C_out, H_out, W_out). Slow on purpose: it shows the definition.
    Taught in Chapter 2.
    """
    _check_conv_args(x, weight, bias, stride, dilation)
    xp, _, _ = _pad(x, weight, padding, dilation)
    n_batch, _, hp, wp = xp.shape
    c_out, _, fh, fw = weight.shape
    h_out = conv_output_size(hp, fh, 0, stride, dilation)
    w_out = conv_output_size(wp, fw, 0, stride, dilation)
    out = torch.empty(n_batch, c_out, h_out, w_out, dtype=torch.result_type(x, weight), device=x.device)
    span_h, span_w = dilation * (fh - 1) + 1, dilation * (fw - 1) + 1
    for n in range(n_batch):
        for k in range(c_out):
            for i in range(h_out):
                for j in range(w_out):
                    top, left = i * stride, j * stride
                    window = xp[n, :, top : top + span_h : dilation, left : left + span_w : dilation]
                    out[n, k, i, j] = (window * weight[k]).sum()
    if bias is not None:
        out += bias.view(1, -1, 1, 1)
    return out


def conv2d_im2col(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int | str = 0,
    dilation: int = 1,
) -> torch.Tensor:
    """Convolution as one matrix product (im2col).

    ``F.unfold`` copies every (dilated) window of x into a column, giving a matrix of
    shape (N, C_in f_h f_w, L) with ``L = H_out W_out`` columns; the filters,
    flattened to (C_out, C_in f_h f_w), multiply it in one ``matmul``. Same
    arguments and result as :func:`conv2d_naive`. Taught in Chapter 2.
    """
    _check_conv_args(x, weight, bias, stride, dilation)
    xp, _, _ = _pad(x, weight, padding, dilation)
    c_out, _, fh, fw = weight.shape
    h_out = conv_output_size(xp.shape[2], fh, 0, stride, dilation)
    w_out = conv_output_size(xp.shape[3], fw, 0, stride, dilation)
    columns = F.unfold(xp, (fh, fw), dilation=dilation, stride=stride)  # (N, C_in fh fw, L)
    out = weight.reshape(c_out, -1) @ columns  # (N, C_out, L)
    if bias is not None:
        out = out + bias.view(1, -1, 1)
    return out.reshape(x.shape[0], c_out, h_out, w_out)


def pool2d(x: torch.Tensor, f: int, s: int | None = None, mode: str = "max", p: int = 0) -> torch.Tensor:
    """Max or average pooling from scratch: each channel separately, no weights.

    x: (N, C, H, W); window ``f``, stride ``s`` (default ``f``), zero padding ``p``
    (for max pooling the padding is -inf, as in PyTorch). Returns
    (N, C, H_out, W_out) with ``H_out = floor((H + 2p - f) / s) + 1``. As in PyTorch,
    ``p`` may be at most ``f // 2`` (a larger padding would put windows wholly in the
    padding: -inf or 0 borders), else ``ValueError``. Average pooling counts the zero
    padding in the mean (PyTorch's ``count_include_pad=True``). Taught in Chapter 2.
    """
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got {tuple(x.shape)}")
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    s = f if s is None else s
    _pos_int("f", f)
    _pos_int("s", s)
    _pos_int("p", p, minimum=0)
    if p > f // 2:
        raise ValueError(
            f"p must be at most half the window, f // 2 = {f // 2}, got p={p} "
            "(as torch.nn.functional.max_pool2d and avg_pool2d)"
        )
    if x.is_complex() or x.dtype == torch.bool or (mode == "avg" and not x.is_floating_point()):
        raise ValueError(f"x must be a real tensor (float for mode='avg'), got {x.dtype}")
    n, c, h, w = x.shape
    h_out, w_out = conv_output_size(h, f, p, s), conv_output_size(w, f, p, s)
    fill = -math.inf if mode == "max" else 0.0
    xp = F.pad(x, (p, p, p, p), value=fill) if p else x
    windows = F.unfold(xp.reshape(n * c, 1, *xp.shape[2:]), f, stride=s)  # (N C, f f, L)
    pooled = windows.amax(dim=1) if mode == "max" else windows.mean(dim=1)
    return pooled.reshape(n, c, h_out, w_out)
