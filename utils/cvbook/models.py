"""Models and model inspection.

:func:`summary` runs one forward pass with hooks and tabulates, layer by layer, the
output shape, the activation size (values per example) and the parameters, the
table the lectures draw by hand (Chapter 3). The classic architectures of Chapter 4
(:class:`LeNet5`, :class:`AlexNet`, :class:`VGG`) take the number of classes and input
channels, so the same code describes the ImageNet-size original and trains a small
copy on a CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

__all__ = ["LayerRow", "ModelSummary", "summary", "count_parameters", "LeNet5", "AlexNet", "VGG",
           "VGG_CONFIGS"]


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
        header = f"{'layer':<14} {'type':<18} {'output shape':<16} {'activation size':>15} {'parameters':>12}"
        lines = [header, "-" * len(header)]
        size = 1
        for d in self.input_shape:
            size *= d
        lines.append(f"{'input':<14} {'':<18} {str(self.input_shape):<16} {size:>15,} {0:>12,}")
        for r in self.rows:
            lines.append(f"{r.name:<14} {r.kind:<18} {str(r.output_shape):<16} {r.activation_size:>15,} "
                         f"{r.parameters:>12,}")
        lines.append("-" * len(header))
        lines.append(f"{'total':<14} {'':<18} {'':<16} {'':>15} {self.total_parameters:>12,}")
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


# --------------------------------------------------------------------------- classic architectures

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class LeNet5(nn.Sequential):
    """LeNet-5 for 32x32 inputs (LeCun et al., 1998).

    CONV 5x5 (6) - POOL 2 - CONV 5x5 (16) - POOL 2 - FC 120 - FC 84 - FC num_classes:
    (C, 32, 32) -> (6, 28, 28) -> (6, 14, 14) -> (16, 10, 10) -> (16, 5, 5) -> 400 -> 120 -> 84.
    variant: ``"modern"`` (ReLU, max pooling), ``"classic"`` (tanh, average pooling) or
    ``"classic-sigmoid"`` (sigmoid, average pooling). The original's trainable
    subsampling layers, partial C3 connection table and RBF output layer are left
    out, as in every modern re-implementation. Taught in Chapter 4.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, variant: str = "modern"):
        variants = {"modern": ("relu", nn.MaxPool2d), "classic": ("tanh", nn.AvgPool2d),
                    "classic-sigmoid": ("sigmoid", nn.AvgPool2d)}
        if variant not in variants:
            raise ValueError(f"variant must be one of {sorted(variants)}, got {variant!r}")
        act_name, pool = variants[variant]
        act = _ACTIVATIONS[act_name]
        super().__init__(
            nn.Conv2d(in_channels, 6, 5), act(), pool(2),
            nn.Conv2d(6, 16, 5), act(), pool(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )
        self.variant = variant


class AlexNet(nn.Module):
    """AlexNet (Krizhevsky et al., 2012) as a single-tower network.

    widths ``"paper"`` (default): 96, 256, 384, 384, 256 filters for 227x227 inputs
    (11x11 stride-4 conv without padding: 227 -> 55 -> 27 -> 27 -> 13 -> 13 -> 6, so
    6x6x256 = 9,216 features), as in the lectures. widths ``"torchvision"``: 64, 192,
    384, 256, 256 with padding 2 in the first layer for 224x224 inputs, the variant
    torchvision ships (equal parameter count to ``torchvision.models.alexnet``).
    An adaptive average pool to 6x6 lets smaller inputs through. No local response
    normalisation (see Chapter 4). Taught in Chapter 4.
    """

    WIDTHS = {"paper": ((96, 256, 384, 384, 256), 0), "torchvision": ((64, 192, 384, 256, 256), 2)}

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, widths: str = "paper",
                 hidden: int = 4096, dropout: float = 0.5):
        super().__init__()
        if widths not in self.WIDTHS:
            raise ValueError(f"widths must be one of {sorted(self.WIDTHS)}, got {widths!r}")
        (c1, c2, c3, c4, c5), pad = self.WIDTHS[widths]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 11, stride=4, padding=pad), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(c5 * 6 * 6, hidden), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


#: Convolution widths of VGG-11/13/16/19 (Simonyan and Zisserman, 2015); "M" is a 2x2 max pool.
VGG_CONFIGS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
         512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    """VGG-11/13/16/19: 3x3 'same' convolutions and 2x2 max pools, then three FC layers.

    depth: 11, 13, 16 or 19. width: divides every conv width (``width=8`` turns
    64..512 into 8..64 for CPU experiments). pool_size: the adaptive average pool
    before the classifier (7 for 224x224 ImageNet inputs, giving 7x7x512 = 25,088
    features; 1 for small images). hidden: the FC width (4096 in the paper). With the
    defaults the parameter count equals ``torchvision.models.vgg16``'s (138,357,544).
    Taught in Chapter 4.
    """

    def __init__(self, depth: int = 16, num_classes: int = 1000, in_channels: int = 3, *, width: int = 1,
                 hidden: int = 4096, pool_size: int = 7, batch_norm: bool = False, dropout: float = 0.5):
        super().__init__()
        if depth not in VGG_CONFIGS:
            raise ValueError(f"depth must be one of {sorted(VGG_CONFIGS)}, got {depth!r}")
        if not isinstance(width, int) or width < 1 or 64 % width:
            raise ValueError(f"width must be a divisor of 64, got {width!r}")
        layers: list[nn.Module] = []
        channels = in_channels
        for item in VGG_CONFIGS[depth]:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            out = item // width
            layers.append(nn.Conv2d(channels, out, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU(inplace=True))
            channels = out
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(pool_size)
        self.classifier = nn.Sequential(
            nn.Linear(channels * pool_size * pool_size, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))
