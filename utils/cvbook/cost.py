"""Cost arithmetic: how many multiplications a convolution or a whole model needs.

A convolution producing an ``h_out x w_out x c_out`` volume with ``f x f`` filters
over ``c_in`` channels does ``h_out * w_out * c_out * f * f * c_in / groups``
multiply-adds: (number of filter parameters) x (number of filter positions) x (number
of filters). :func:`count_mult_adds` adds this up over every ``Conv2d`` and ``Linear``
layer of a built model by running it once with hooks. Batch norm, activations,
pooling and biases are not counted, as in the papers. Taught in Chapter 5 (Inception)
and Chapter 6 (MobileNet).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["conv_mult_adds", "count_mult_adds"]


def conv_mult_adds(h_out: int, w_out: int, c_out: int, f: int, c_in: int, groups: int = 1) -> int:
    """Multiply-adds of one convolution layer: ``h_out w_out c_out f^2 c_in / groups``."""
    for name, value in dict(h_out=h_out, w_out=w_out, c_out=c_out, f=f, c_in=c_in, groups=groups).items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide c_in={c_in} and c_out={c_out}")
    return h_out * w_out * c_out * f * f * (c_in // groups)


def count_mult_adds(model: nn.Module, input_shape: tuple[int, ...], *, device="cpu",
                    by_layer: bool = False):
    """Multiply-adds of one forward pass of ``model`` on one example of shape ``input_shape``.

    Counts ``Conv2d`` (via :func:`conv_mult_adds`) and ``Linear`` (``in * out``)
    layers. Returns the total, or with ``by_layer=True`` a dict layer name -> count.
    Works on the ``meta`` device.
    """
    counts: dict[str, int] = {}
    names = {m: n for n, m in model.named_modules()}

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            _, c_out, h, w = output.shape
            kh, kw = module.kernel_size
            counts[names[module]] = h * w * c_out * kh * kw * (module.in_channels // module.groups)
        else:
            counts[names[module]] = output.numel() // output.shape[0] * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
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
