"""Models and model inspection.

:func:`summary` runs one forward pass with hooks and tabulates, layer by layer, the
output shape, the activation size (values per example) and the parameters, the
table the lectures draw by hand. Taught in Chapter 3; later chapters add models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["LayerRow", "ModelSummary", "summary", "count_parameters"]


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (all, or only those with ``requires_grad``)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


@dataclass
class LayerRow:
    """One row of a :class:`ModelSummary`."""

    name: str
    kind: str
    output_shape: tuple[int, ...]   # without the batch axis
    activation_size: int            # values per example
    parameters: int


@dataclass
class ModelSummary:
    """Rows of :func:`summary`, plus the input row and totals; ``str()`` gives the table."""

    input_shape: tuple[int, ...]
    rows: list[LayerRow] = field(default_factory=list)

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    def row(self, name: str) -> LayerRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"no layer named {name!r}; layers are {[r.name for r in self.rows]}")

    def __str__(self) -> str:
        header = f"{'layer':<14} {'type':<12} {'output shape':<16} {'activation size':>15} {'parameters':>12}"
        lines = [header, "-" * len(header)]
        size = 1
        for d in self.input_shape:
            size *= d
        lines.append(f"{'input':<14} {'':<12} {str(self.input_shape):<16} {size:>15,} {0:>12,}")
        for r in self.rows:
            lines.append(f"{r.name:<14} {r.kind:<12} {str(r.output_shape):<16} {r.activation_size:>15,} "
                         f"{r.parameters:>12,}")
        lines.append("-" * len(header))
        lines.append(f"{'total':<14} {'':<12} {'':<16} {'':>15} {self.total_parameters:>12,}")
        return "\n".join(lines)


def summary(model: nn.Module, input_shape: tuple[int, ...], *, device: str | torch.device = "cpu",
            dtype: torch.dtype = torch.float32) -> ModelSummary:
    """Layer-by-layer table of ``model`` for one example of shape ``input_shape`` (no batch axis).

    Every leaf module (one without children) that runs in the forward pass gets a
    row: its name, type, output shape (without the batch axis), activation size
    (number of output values per example) and number of own parameters. The model
    runs once on zeros of shape ``(1, *input_shape)`` in eval mode; its train/eval
    state is restored afterwards. Use ``device="meta"`` for models too big to run.
    Taught in Chapter 3.
    """
    if not input_shape or any(not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"input_shape must be positive ints without the batch axis, e.g. (3, 32, 32); "
                         f"got {input_shape!r}")
    result = ModelSummary(tuple(input_shape))
    handles = []
    names = {module: name for name, module in model.named_modules()}

    def hook(module, inputs, output):
        if isinstance(output, (tuple, list)):
            output = output[0]
        shape = tuple(output.shape[1:])
        size = 1
        for d in shape:
            size *= d
        result.rows.append(LayerRow(names[module] or type(module).__name__, type(module).__name__, shape, size,
                                    sum(p.numel() for p in module.parameters(recurse=False))))

    for module in model.modules():
        if not list(module.children()):
            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=device, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return result
