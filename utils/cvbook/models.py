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

__all__ = [
    "LayerRow",
    "ModelSummary",
    "summary",
    "count_parameters",
    "LeNet5",
    "AlexNet",
    "VGG",
    "VGG_CONFIGS",
    "BasicBlock",
    "Bottleneck",
    "ResNet",
    "StageRow",
    "resnet_stages",
    "CifarResNet",
    "InceptionModule",
    "GoogLeNet",
    "MobileNetV1",
    "InvertedResidual",
    "MobileNetV2",
]


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (all, or only those with ``requires_grad``)."""
    if not isinstance(module, nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


@dataclass
class LayerRow:
    """One row of a :class:`ModelSummary`."""

    name: str
    kind: str
    output_shape: tuple[int, ...]  # without the batch axis
    activation_size: int  # values per example
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
            lines.append(
                f"{r.name:<14} {r.kind:<18} {str(r.output_shape):<16} {r.activation_size:>15,} {r.parameters:>12,}"
            )
        lines.append("-" * len(header))
        lines.append(f"{'total':<14} {'':<18} {'':<16} {'':>15} {self.total_parameters:>12,}")
        return "\n".join(lines)


def _check_model_and_shape(model, input_shape) -> None:
    """ValueError unless ``model`` is a module and ``input_shape`` positive ints (no batch axis)."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if (
        not isinstance(input_shape, (tuple, list))
        or not input_shape
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape)
    ):
        raise ValueError(
            f"input_shape must be positive ints without the batch axis, e.g. (3, 32, 32); got {input_shape!r}"
        )


def summary(
    model: nn.Module,
    input_shape: tuple[int, ...],
    *,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> ModelSummary:
    """Layer-by-layer table of ``model`` for one example of shape ``input_shape`` (no batch axis).

    Every leaf module (one without children) that runs in the forward pass gets a
    row: its name, type, output shape (without the batch axis), activation size
    (number of output values per example) and number of own parameters. The model
    runs once on zeros of shape ``(1, *input_shape)`` in eval mode; its train/eval
    state is restored afterwards. Use ``device="meta"`` for models too big to run.
    A module called several times (shared weights) gets a row per call, its parameters
    only in the first, so ``total_parameters`` counts each parameter once (as
    :func:`count_parameters` does for the modules that run). Taught in Chapter 3.
    """
    _check_model_and_shape(model, input_shape)
    result = ModelSummary(tuple(input_shape))
    handles = []
    names = {module: name for name, module in model.named_modules()}
    seen: set[int] = set()

    def hook(module, inputs, output):
        if isinstance(output, (tuple, list)):
            output = output[0]
        shape = tuple(output.shape[1:])
        size = 1
        for d in shape:
            size *= d
        first_call = id(module) not in seen
        seen.add(id(module))
        params = sum(p.numel() for p in module.parameters(recurse=False)) if first_call else 0
        result.rows.append(LayerRow(names[module] or type(module).__name__, type(module).__name__, shape, size, params))

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
        variants = {
            "modern": ("relu", nn.MaxPool2d),
            "classic": ("tanh", nn.AvgPool2d),
            "classic-sigmoid": ("sigmoid", nn.AvgPool2d),
        }
        if variant not in variants:
            raise ValueError(f"variant must be one of {sorted(variants)}, got {variant!r}")
        act_name, pool = variants[variant]
        act = _ACTIVATIONS[act_name]
        super().__init__(
            nn.Conv2d(in_channels, 6, 5),
            act(),
            pool(2),
            nn.Conv2d(6, 16, 5),
            act(),
            pool(2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
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

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        widths: str = "paper",
        hidden: int = 4096,
        dropout: float = 0.5,
    ):
        super().__init__()
        if widths not in self.WIDTHS:
            raise ValueError(f"widths must be one of {sorted(self.WIDTHS)}, got {widths!r}")
        (c1, c2, c3, c4, c5), pad = self.WIDTHS[widths]
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 11, stride=4, padding=pad),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c1, c2, 5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d(6)
        self.classifier = nn.Sequential(
            nn.Dropout(dropout),
            nn.Linear(c5 * 6 * 6, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


#: Convolution widths of VGG-11/13/16/19 (Simonyan and Zisserman, 2015); "M" is a 2x2 max pool.
VGG_CONFIGS: dict[int, list] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
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

    def __init__(
        self,
        depth: int = 16,
        num_classes: int = 1000,
        in_channels: int = 3,
        *,
        width: int = 1,
        hidden: int = 4096,
        pool_size: int = 7,
        batch_norm: bool = False,
        dropout: float = 0.5,
    ):
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
            nn.Linear(channels * pool_size * pool_size, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# --------------------------------------------------------------------------- residual networks


def _positive(**values) -> None:
    """ValueError naming the first argument that is not an int >= 1."""
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")


def _conv_bn(c_in: int, c_out: int, f: int, stride: int = 1, bn: bool = True) -> list[nn.Module]:
    conv = nn.Conv2d(c_in, c_out, f, stride=stride, padding=f // 2, bias=not bn)
    return [conv, nn.BatchNorm2d(c_out)] if bn else [conv]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut: ``a[l+2] = g(z[l+2] + shortcut(a[l]))``.

    residual=False drops the shortcut (a "plain" block, for comparisons). When the
    stride or the number of channels changes, the shortcut is a projection
    ``W_s`` (1x1 conv + BN, ``shortcut="projection"``, as in torchvision) or the
    parameter-free option of He et al.'s CIFAR nets (``shortcut="pad"``: subsample and
    pad the new channels with zeros). Taught in Chapter 5.
    """

    expansion = 1

    def __init__(
        self,
        c_in: int,
        c_out: int,
        stride: int = 1,
        *,
        residual: bool = True,
        shortcut: str = "projection",
        batch_norm: bool = True,
    ):
        super().__init__()
        _positive(c_in=c_in, c_out=c_out, stride=stride)
        if shortcut not in ("projection", "pad"):
            raise ValueError(f"shortcut must be 'projection' or 'pad', got {shortcut!r}")
        self.residual = residual
        self.body = nn.Sequential(
            *_conv_bn(c_in, c_out, 3, stride, batch_norm),
            nn.ReLU(inplace=True),
            *_conv_bn(c_out, c_out, 3, 1, batch_norm),
        )
        self.shortcut = _shortcut(c_in, c_out, stride, shortcut) if residual else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.body(x)
        if self.shortcut is not None:
            z = z + self.shortcut(x)
        return self.relu(z)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), with a shortcut; the block of ResNet-50/101/152.

    The stride sits on the 3x3 convolution, as in torchvision ("ResNet v1.5").
    Taught in Chapter 5.
    """

    expansion = 4

    def __init__(self, c_in: int, width: int, stride: int = 1, *, residual: bool = True, shortcut: str = "projection"):
        super().__init__()
        _positive(c_in=c_in, width=width, stride=stride)
        c_out = width * self.expansion
        self.residual = residual
        self.body = nn.Sequential(
            *_conv_bn(c_in, width, 1),
            nn.ReLU(inplace=True),
            *_conv_bn(width, width, 3, stride),
            nn.ReLU(inplace=True),
            *_conv_bn(width, c_out, 1),
        )
        self.shortcut = _shortcut(c_in, c_out, stride, shortcut) if residual else None
        self.relu = nn.ReLU(inplace=True)

    forward = BasicBlock.forward


class _PadShortcut(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.extra, self.stride = c_out - c_in, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra))


def _shortcut(c_in: int, c_out: int, stride: int, kind: str) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    if kind == "pad":
        if c_out < c_in:
            raise ValueError("the 'pad' shortcut cannot reduce the number of channels")
        return _PadShortcut(c_in, c_out, stride)
    return nn.Sequential(*_conv_bn(c_in, c_out, 1, stride))


class ResNet(nn.Module):
    """ResNet for ImageNet-size inputs (7x7 stem, four stages, global average pooling).

    layers: blocks per stage, e.g. (2, 2, 2, 2) with ``block=BasicBlock`` for ResNet-18,
    (3, 4, 6, 3) with ``Bottleneck`` for ResNet-50; parameter counts equal torchvision's.
    residual=False gives the plain network of the same shape. Taught in Chapter 5.
    """

    def __init__(
        self,
        layers=(2, 2, 2, 2),
        block=BasicBlock,
        num_classes: int = 1000,
        in_channels: int = 3,
        *,
        widths=(64, 128, 256, 512),
        residual: bool = True,
    ):
        super().__init__()
        if len(tuple(layers)) != len(tuple(widths)):
            raise ValueError(
                f"layers must give one block count per stage ({len(tuple(widths))} stages, "
                f"as widths), got {tuple(layers)}"
            )
        _positive(num_classes=num_classes, in_channels=in_channels)
        self.stem = nn.Sequential(*_conv_bn(in_channels, widths[0], 7, 2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
        stages, c = [], widths[0]
        for k, (n, w) in enumerate(zip(layers, widths)):
            blocks = []
            for i in range(n):
                blocks.append(block(c, w, 2 if (i == 0 and k > 0) else 1, residual=residual))
                c = w * block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        _he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


@dataclass
class StageRow:
    """One row of :func:`resnet_stages`."""

    name: str  # "conv1", "pool", "conv2_x" ... "conv5_x", "pool + fc" (the paper's names)
    output_shape: tuple[int, ...]  # without the batch axis
    blocks: int  # residual blocks in the stage; 0 for the stem and the head
    parameters: int
    mult_adds: int  # of one example, counted as cvbook.cost.count_mult_adds counts


def resnet_stages(model: ResNet, input_shape: tuple[int, ...] = (3, 224, 224), *, device=None) -> list[StageRow]:
    """Stage-by-stage table of a :class:`ResNet` for one input of ``input_shape`` (no batch axis).

    Rows, as in He et al.'s Table 1: ``conv1`` (the 7x7 stride-2 convolution with its batch
    norm and ReLU), ``pool`` (the 3x3 stride-2 max pool), one row per stage of residual
    blocks (``conv2_x`` to ``conv5_x``), and ``pool + fc`` (global average pooling and the
    classifier). Each row gives the output shape ``(C, H, W)`` (``(num_classes,)`` for the
    last), the number of blocks, the parameters and the multiply-adds (convolutions and
    fully connected layers only, see :func:`cvbook.cost.count_mult_adds`). The parameters
    add up to :func:`count_parameters` of the model. Runs on the model's device (build big
    models on ``torch.device("meta")``: no memory, no time). Taught in Chapter 5.
    """
    from . import cost

    if not isinstance(model, ResNet):
        raise ValueError(f"model must be a cvbook.models.ResNet, got {type(model).__name__}")
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 3
        or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape)
    ):
        raise ValueError(
            f"input_shape must be (C, H, W) without the batch axis, e.g. (3, 224, 224); got {input_shape!r}"
        )
    if device is None:
        device = next(model.parameters()).device
    parts: list[tuple[str, nn.Module, int]] = [("conv1", model.stem[:-1], 0), ("pool", model.stem[-1:], 0)]
    parts += [(f"conv{k + 2}_x", stage, len(stage)) for k, stage in enumerate(model.stages)]
    parts.append(("pool + fc", nn.Sequential(model.pool, nn.Flatten(), model.fc), 0))
    rows = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.zeros((1, *input_shape), device=device)
            for name, part, blocks in parts:
                mult_adds = cost.count_mult_adds(part, tuple(x.shape[1:]), device=device)
                x = part(x)
                rows.append(StageRow(name, tuple(x.shape[1:]), blocks, count_parameters(part), mult_adds))
    finally:
        model.train(was_training)
    return rows


class CifarResNet(nn.Module):
    """The plain or residual network of depth ``6n + 2`` from He et al.'s CIFAR experiments.

    A 3x3 conv, three stages of ``n`` basic blocks with ``widths`` channels (stride 2
    between stages), global average pooling and a linear layer. ``residual=False``
    removes every shortcut (the "plain" net); shortcuts are parameter-free
    (``shortcut="pad"``), so plain and residual nets have exactly the same parameters.
    Sized for CPU experiments with ``widths=(8, 16, 32)``. ``batch_norm=False`` and
    ``init="default"`` (PyTorch's default initialisation instead of He's) reproduce the
    setting in which gradients vanish. Taught in Chapter 5.
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        in_channels: int = 3,
        *,
        widths=(16, 32, 64),
        residual: bool = True,
        batch_norm: bool = True,
        init: str = "he",
    ):
        super().__init__()
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 with n >= 1 (8, 14, 20, 32, 56, ...), got {depth!r}")
        if init not in ("he", "default"):
            raise ValueError(f"init must be 'he' or 'default', got {init!r}")
        n = (depth - 2) // 6
        self.stem = nn.Sequential(*_conv_bn(in_channels, widths[0], 3, 1, batch_norm), nn.ReLU(inplace=True))
        stages, c = [], widths[0]
        for k, w in enumerate(widths):
            for i in range(n):
                stages.append(
                    BasicBlock(
                        c, w, 2 if (i == 0 and k > 0) else 1, residual=residual, shortcut="pad", batch_norm=batch_norm
                    )
                )
                c = w
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        if init == "he":
            _he_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def _he_init(model: nn.Module) -> None:
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


# --------------------------------------------------------------------------- Inception


class _ConvBNReLU(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, f: int, stride: int = 1, padding: int = 0):
        super().__init__(
            nn.Conv2d(c_in, c_out, f, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, eps=0.001),
            nn.ReLU(inplace=True),
        )


class InceptionModule(nn.Module):
    """Four parallel branches concatenated along channels (Szegedy et al., 2015).

    1x1 (``c1``); 1x1 bottleneck (``c3_reduce``) then 3x3 (``c3``); 1x1 bottleneck
    (``c5_reduce``) then 5x5 (``c5``); 3x3 max pool then 1x1 (``pool_proj``). Output
    channels: ``c1 + c3 + c5 + pool_proj``, same height and width. ``five=3``
    reproduces torchvision's GoogLeNet, whose "5x5" branch uses a 3x3 kernel (a known
    quirk kept for its pretrained weights). Convolutions are conv-BN-ReLU.
    Taught in Chapter 5.
    """

    def __init__(
        self, c_in: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int, pool_proj: int, *, five: int = 5
    ):
        super().__init__()
        _positive(c_in=c_in, c1=c1, c3_reduce=c3_reduce, c3=c3, c5_reduce=c5_reduce, c5=c5, pool_proj=pool_proj)
        if five not in (3, 5):
            raise ValueError(f"five must be 3 (torchvision's kernel) or 5 (the paper's), got {five!r}")
        self.branch1 = _ConvBNReLU(c_in, c1, 1)
        self.branch3 = nn.Sequential(_ConvBNReLU(c_in, c3_reduce, 1), _ConvBNReLU(c3_reduce, c3, 3, padding=1))
        self.branch5 = nn.Sequential(
            _ConvBNReLU(c_in, c5_reduce, 1), _ConvBNReLU(c5_reduce, c5, five, padding=five // 2)
        )
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), _ConvBNReLU(c_in, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.branch_pool(x)], dim=1)


class GoogLeNet(nn.Module):
    """GoogLeNet (Inception v1) without its auxiliary classifiers.

    ``five=3`` (default) matches ``torchvision.models.googlenet(aux_logits=False)``
    parameter for parameter; ``five=5`` follows the paper. Taught in Chapter 5.
    """

    CONFIG = {  # name: (c_in, c1, c3_reduce, c3, c5_reduce, c5, pool_proj)
        "3a": (192, 64, 96, 128, 16, 32, 32),
        "3b": (256, 128, 128, 192, 32, 96, 64),
        "4a": (480, 192, 96, 208, 16, 48, 64),
        "4b": (512, 160, 112, 224, 24, 64, 64),
        "4c": (512, 128, 128, 256, 24, 64, 64),
        "4d": (512, 112, 144, 288, 32, 64, 64),
        "4e": (528, 256, 160, 320, 32, 128, 128),
        "5a": (832, 256, 160, 320, 32, 128, 128),
        "5b": (832, 384, 192, 384, 48, 128, 128),
    }

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, *, five: int = 3, dropout: float = 0.2):
        super().__init__()
        _positive(num_classes=num_classes, in_channels=in_channels)
        if five not in (3, 5):
            raise ValueError(f"five must be 3 (torchvision's kernel) or 5 (the paper's), got {five!r}")

        def inception(name):
            return InceptionModule(*self.CONFIG[name], five=five)

        self.stem = nn.Sequential(
            _ConvBNReLU(in_channels, 64, 7, 2, 3),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            _ConvBNReLU(64, 64, 1),
            _ConvBNReLU(64, 192, 3, padding=1),
            nn.MaxPool2d(3, 2, ceil_mode=True),
        )
        self.inceptions = nn.Sequential(
            inception("3a"),
            inception("3b"),
            nn.MaxPool2d(3, 2, ceil_mode=True),
            *[inception(k) for k in ("4a", "4b", "4c", "4d", "4e")],
            nn.MaxPool2d(2, 2, ceil_mode=True),
            inception("5a"),
            inception("5b"),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(torch.flatten(self.pool(self.inceptions(self.stem(x))), 1)))


# --------------------------------------------------------------------------- MobileNets


def _conv_bn_act(c_in: int, c_out: int, f: int, stride: int = 1, groups: int = 1, act=nn.ReLU) -> nn.Sequential:
    layers = [
        nn.Conv2d(c_in, c_out, f, stride=stride, padding=f // 2, groups=groups, bias=False),
        nn.BatchNorm2d(c_out),
    ]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class MobileNetV1(nn.Module):
    """MobileNet v1 (Howard et al., 2017) from its body table, with width multiplier ``width``.

    A 3x3 stride-2 convolution with 32 filters, then 13 depthwise-separable blocks
    (3x3 depthwise conv-BN-ReLU, 1x1 pointwise conv-BN-ReLU) with the table's widths and
    strides, global average pooling and a fully connected layer. The table's last
    depthwise layer is printed with stride 2 but must have stride 1 (its input and
    output are both 7x7), as every implementation has it. Taught in Chapter 6.
    """

    #: (output channels of the pointwise conv, stride of the depthwise conv) per block
    BODY = [
        (64, 1),
        (128, 2),
        (128, 1),
        (256, 2),
        (256, 1),
        (512, 2),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (512, 1),
        (1024, 2),
        (1024, 1),
    ]

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, width: float = 1.0):
        super().__init__()
        if not 0 < width <= 1:
            raise ValueError(f"width must be in (0, 1], got {width!r}")
        c = int(32 * width)
        layers = [_conv_bn_act(in_channels, c, 3, 2)]
        for out, stride in self.BODY:
            out = int(out * width)
            layers += [_conv_bn_act(c, c, 3, stride, groups=c), _conv_bn_act(c, out, 1)]
            c = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


class InvertedResidual(nn.Module):
    """MobileNet v2's bottleneck block (Sandler et al., 2018).

    1x1 expansion to ``t * c_in`` channels (ReLU6; skipped when ``t == 1``), 3x3
    depthwise with ``stride`` (ReLU6), then a *linear* 1x1 projection to ``c_out``
    (no activation). A residual connection is added when ``stride == 1`` and
    ``c_in == c_out``. Taught in Chapter 6.
    """

    def __init__(self, c_in: int, c_out: int, stride: int, t: int):
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        hidden = c_in * t
        layers = [] if t == 1 else [_conv_bn_act(c_in, hidden, 1, act=nn.ReLU6)]
        layers += [
            _conv_bn_act(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
            _conv_bn_act(hidden, c_out, 1, act=None),
        ]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x) if self.residual else self.body(x)


class MobileNetV2(nn.Module):
    """MobileNet v2 from the paper's Table 2 (width 1.0); parameters equal torchvision's.

    Taught in Chapter 6.
    """

    #: (t, c, n, s) rows of the paper's Table 2
    TABLE = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.2):
        super().__init__()
        _positive(num_classes=num_classes, in_channels=in_channels)
        layers, c = [_conv_bn_act(in_channels, 32, 3, 2, act=nn.ReLU6)], 32
        for t, out, n, s in self.TABLE:
            for i in range(n):
                layers.append(InvertedResidual(c, out, s if i == 0 else 1, t))
                c = out
        layers.append(_conv_bn_act(c, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
