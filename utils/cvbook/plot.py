"""Plotting helpers: training curves, image grids and architecture diagrams.

Training curves and image grids are taught in Chapter 1 and used everywhere; the
architecture diagrams (:func:`plot_architecture` for a sequential network,
:func:`plot_block` for a residual block or an Inception module), drawn from the model
itself with one forward pass, in Chapters 4 and 5.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from . import models

__all__ = [
    "plot_history",
    "show_images",
    "to_display",
    "OKABE_ITO",
    "architecture_layers",
    "plot_architecture",
    "plot_block",
    "plot_blocks",
]


def plot_history(
    history,
    metrics: Sequence[str] = ("loss", "acc"),
    *,
    title: str | None = None,
    axes=None,
    label: str | None = None,
    eval_name: str = "val",
):
    """Plot train (solid) and validation (dashed) curves of a :class:`cvbook.train.History`.

    One panel per metric in ``metrics`` that the history holds. Pass ``axes``
    (from an earlier call) and a ``label`` to overlay several runs. ``eval_name`` names the
    evaluated split in the legend: ``fit`` stores it as ``val_*`` whatever it was, so pass
    ``"test"`` when the held-out set was the test set. Returns the figure.
    """
    if not isinstance(eval_name, str) or not eval_name.strip():
        raise ValueError(f"eval_name must be a non-empty string, got {eval_name!r}")
    if not hasattr(history, "keys") and not isinstance(history, dict):
        raise ValueError(
            f"history must be a mapping metric name -> list of values (or fit's History), got {type(history).__name__}"
        )
    present = [m for m in metrics if f"train_{m}" in history or f"val_{m}" in history]
    if not present:
        raise ValueError(f"history has none of {list(metrics)}; it has {history.keys}")
    if axes is None:
        fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.2), squeeze=False)
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        fig = axes[0].figure
    epochs = history["epoch"]
    for ax, metric in zip(axes, present):
        prefix = f"{label}: " if label else ""
        for split, style, name in (("train", "-", "train"), ("val", "--", eval_name)):
            key = f"{split}_{metric}"
            if key in history:
                ax.plot(epochs, history[key], style, marker="o", markersize=3, label=f"{prefix}{name}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def to_display(image) -> np.ndarray:
    """Tensor (C, H, W) or array (H, W[, C]) -> array that ``imshow`` shows correctly."""
    if isinstance(image, torch.Tensor):
        image = image.detach().cpu().float()
        if image.ndim == 3:
            image = image.permute(1, 2, 0)
        image = image.numpy()
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3):
        raise ValueError(f"cannot show an image of shape {image.shape}")
    return image


def show_images(
    images,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 8,
    cmap: str | None = None,
    size: float = 1.6,
    suptitle: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Show images in a grid with optional titles; returns the figure.

    images: a tensor (N, C, H, W) or a sequence of tensors (C, H, W) / arrays
    (H, W[, C]). Grayscale images use ``cmap`` (default ``"gray"``).
    """
    items = list(images)
    if not items:
        raise ValueError("no images to show")
    if titles is not None and len(titles) != len(items):
        raise ValueError(f"got {len(items)} images but {len(titles)} titles")
    ncols = max(1, min(ncols, len(items)))
    nrows = (len(items) + ncols - 1) // ncols
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size * ncols, size * nrows + (0.4 if suptitle else 0)), squeeze=False
    )
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(items):
            continue
        img = to_display(items[k])
        ax.imshow(img, cmap=(cmap or "gray") if img.ndim == 2 else None, vmin=vmin, vmax=vmax, interpolation="nearest")
        if titles is not None:
            ax.set_title(titles[k], fontsize="small")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- architecture diagrams

#: The Okabe-Ito palette (Okabe and Ito, 2008): eight colours told apart with every common
#: kind of colour blindness. The diagrams below use it for the kinds of layer.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "black": "#000000",
}

# kind of layer -> (legend name, colour); input and output volumes are neutral grey
_KINDS = {
    "input": ("input / output", "#BBBBBB"),
    "conv": ("convolution", OKABE_ITO["blue"]),
    "pool": ("pooling", OKABE_ITO["orange"]),
    "fc": ("fully connected", OKABE_ITO["bluish green"]),
    "flatten": ("flatten", OKABE_ITO["yellow"]),
    "shortcut": ("shortcut", OKABE_ITO["vermillion"]),
    "merge": ("add / concatenate", OKABE_ITO["reddish purple"]),
    "other": ("other", OKABE_ITO["sky blue"]),
}
_ACT_NAMES = {
    "ReLU": "ReLU",
    "ReLU6": "ReLU6",
    "LeakyReLU": "leaky ReLU",
    "Tanh": "tanh",
    "Sigmoid": "sigmoid",
    "GELU": "GELU",
    "SiLU": "SiLU",
    "Hardswish": "h-swish",
}
_PASSTHROUGH = (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d, torch.nn.AlphaDropout, torch.nn.Identity)
_FONT = 8.0  # points
_LINE = _FONT * 1.25 / 72  # inches per text line
_CHAR = _FONT * 0.58 / 72  # inches per character (DejaVu Sans, a little generous)


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[-1]))


def _shape_text(shape: Sequence[int]) -> str:
    """(C, H, W) -> 'H×W×C' (the lectures' order); (F,) -> 'F'."""
    if len(shape) == 3:
        c, h, w = shape
        return f"{h}×{w}×{c}"
    if len(shape) == 1:
        return f"{shape[0]:,}"
    return "×".join(str(d) for d in shape)


def _describe(module: torch.nn.Module) -> tuple[str, str]:
    """(kind, label) of one leaf module that does the work of a layer."""
    from torch import nn

    name = type(module).__name__
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        k = "×".join(str(d) for d in module.kernel_size)
        depthwise = module.groups > 1 and module.groups == module.in_channels
        label = f"{'depthwise ' if depthwise else ''}conv {k}, {module.out_channels}"
        if max(module.stride) > 1:
            label += f", s{max(module.stride)}"
        return "conv", label
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        (kh, kw), (sh, _) = _pair(module.kernel_size), _pair(module.stride)
        label = f"{'max' if isinstance(module, nn.MaxPool2d) else 'avg'} pool {kh}×{kw}"
        return "pool", label + (f", s{sh}" if sh != kh else "")
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size = _pair(module.output_size)
        return "pool", "global avg pool" if size == (1, 1) else f"adaptive pool to {size[0]}×{size[1]}"
    if isinstance(module, nn.Linear):
        return "fc", "FC"  # its width is the shape below it
    if isinstance(module, nn.Flatten):
        return "flatten", "flatten"
    if isinstance(module, nn.Identity):
        return "shortcut", "identity"
    if name == "_PadShortcut":  # cvbook.models' option A shortcut
        return "shortcut", f"subsample s{module.stride},\npad {module.extra} zero channels"
    return "other", name


def _is_extra(module: torch.nn.Module) -> str | None:
    """The short name of an activation or a normalisation (drawn inside the layer before it)."""
    from torch import nn

    name = type(module).__name__
    if name in _ACT_NAMES:
        return _ACT_NAMES[name]
    if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
        return "BN"
    if isinstance(module, nn.LocalResponseNorm):
        return "LRN"
    return None


def _leaf_shapes(model: torch.nn.Module, input_shape: Sequence[int], device) -> dict[str, tuple[int, ...]]:
    """Output shape (no batch axis) of every leaf module that runs, by name, from one forward pass."""
    table = models.summary(model, tuple(input_shape), device=device)
    return {row.name: row.output_shape for row in table.rows}


def _model_device(model: torch.nn.Module):
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


def _light(colour: str, amount: float = 0.55) -> tuple[float, float, float]:
    """``colour`` mixed with ``amount`` of white: a fill that black text stays readable on."""
    from matplotlib.colors import to_rgb

    return tuple(c + (1 - c) * amount for c in to_rgb(colour))


def _box(ax, x: float, y: float, w: float, h: float, kind: str, text: str | None = None) -> None:
    """A rounded box centred at (x, y) in inches: light fill and edge of the kind's colour."""
    from matplotlib.patches import FancyBboxPatch

    colour = _KINDS[kind][1]
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=0.04",
            facecolor=colour if kind == "input" else _light(colour),
            edgecolor="#333333" if kind == "input" else colour,
            linewidth=1.2,
            zorder=2,
        )
    )
    if text:
        ax.text(x, y, text, ha="center", va="center", fontsize=_FONT, zorder=3, linespacing=1.15)


def _arrow(ax, start, end, colour: str = "#333333") -> None:
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=8, color=colour, linewidth=1.0, zorder=1))


def _legend(ax, kinds: Sequence[str], y: float, x: float) -> None:
    from matplotlib.patches import Patch

    handles = [
        Patch(
            facecolor=_KINDS[k][1] if k == "input" else _light(_KINDS[k][1]),
            edgecolor="#333333" if k == "input" else _KINDS[k][1],
        )
        for k in kinds
    ]
    ax.legend(
        handles,
        [_KINDS[k][0] for k in kinds],
        loc="lower center",
        bbox_to_anchor=(x, y),
        bbox_transform=ax.transData,
        ncol=len(kinds),
        fontsize=_FONT,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )


def _blank_figure(width: float, height: float, ax):
    """An axes in which one data unit is one inch, [0, width] x [0, height], without frame."""
    if ax is None:
        fig = plt.figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure, ax


def architecture_layers(model: torch.nn.Module, input_shape: Sequence[int], *, device=None) -> list[dict]:
    """The layers an architecture diagram draws, traced from one forward pass of ``model``.

    ``input_shape`` excludes the batch axis, e.g. ``(1, 32, 32)``. Every leaf module that
    runs is visited in order (hooks, as :func:`cvbook.models.summary`): convolutions,
    fully connected layers and every parameter-free layer that changes the shape (pooling,
    flatten) become entries; activations and batch norm are folded into the layer before
    them (``extras``); layers that change nothing visible (dropout, an identity-sized
    adaptive pool) are left out. Each entry is a dict with ``name`` (the module's name in
    the model), ``kind`` (``"input"``, ``"conv"``, ``"pool"``, ``"fc"``, ``"flatten"`` or
    ``"other"``), ``label`` (e.g. ``"conv 5×5, 6"``), ``extras`` (e.g. ``["tanh"]``) and
    ``shape`` (the output shape without the batch axis, ``(C, H, W)`` or ``(F,)``); the
    first entry is the input. ``device`` defaults to the model's (``"meta"`` for a model
    built on the meta device: no memory, no time). Taught in Chapter 4.
    """
    models._check_model_and_shape(model, input_shape)
    device = _model_device(model) if device is None else device
    shapes = _leaf_shapes(model, input_shape, device)
    names = {m: n for n, m in model.named_modules()}
    layers = [{"name": "input", "kind": "input", "label": "input", "extras": [], "shape": tuple(input_shape)}]
    for module in model.modules():
        if list(module.children()):
            continue
        name = names[module] or type(module).__name__
        if name not in shapes:  # defined but never run in the forward pass
            continue
        shape = shapes[name]
        extra = _is_extra(module)
        if extra is not None:
            if extra not in layers[-1]["extras"]:
                layers[-1]["extras"].append(extra)
            continue
        if isinstance(module, _PASSTHROUGH):
            continue  # dropout (off at inference) and identities change nothing
        has_params = any(True for _ in module.parameters(recurse=False))
        if not has_params and shape == layers[-1]["shape"]:
            continue  # e.g. an adaptive pool to the size its input already has
        kind, label = _describe(module)
        layers.append({"name": name, "kind": kind, "label": label, "extras": [], "shape": shape})
    return layers


def plot_architecture(
    model: torch.nn.Module,
    input_shape: Sequence[int],
    *,
    per_row: int | None = None,
    title: str | None = None,
    device=None,
):
    """Draw a sequential network as a row of boxes, one per layer, from the model itself.

    The layers come from :func:`architecture_layers` (one forward pass with hooks, on the
    model's device; build big models on ``torch.device("meta")``). Each box is one
    activation volume: its height grows with the square root of the spatial size ``H``,
    its width with ``log2`` of the channels ``C``; flat vectors ``(F,)`` are thin bars
    whose height grows with ``log F``. The label below a box names the layer that produced
    it, the activation and normalisation folded into it, and its shape (``H×W×C``, the
    lectures' order). Colours (Okabe-Ito, safe for colour-blind readers): grey input,
    blue convolution, orange pooling, yellow flatten, green fully connected. ``per_row``
    wraps long networks into several rows. Returns the figure. Taught in Chapter 4.
    """
    if per_row is not None and (isinstance(per_row, bool) or not isinstance(per_row, int) or per_row < 1):
        raise ValueError(f"per_row must be an int >= 1 or None, got {per_row!r}")
    layers = architecture_layers(model, input_shape, device=device)
    spatial = [ly["shape"][-1] for ly in layers if len(ly["shape"]) == 3]
    flat = [ly["shape"][0] for ly in layers if len(ly["shape"]) == 1]
    h_max, gap = 1.5, 0.18
    max_hw, max_f = max(spatial, default=1), max(flat, default=2)

    def size(shape):
        if len(shape) == 3:
            c, h, _ = shape
            return 0.1 + 0.055 * math.log2(max(c, 1)), max(0.12, h_max * math.sqrt(h / max_hw))
        if len(shape) == 1:
            return 0.12, max(0.2, h_max * 0.7 * math.log(max(shape[0], 2)) / math.log(max(max_f, 2)))
        return 0.3, 0.3

    items = []
    for ly in layers:
        lines = [ly["label"]]
        if ly["extras"]:
            lines.append(" + ".join(ly["extras"]))
        lines.append(_shape_text(ly["shape"]))
        text = "\n".join(lines)
        text_w = max(len(t) for t in text.split("\n")) * _CHAR
        w, h = size(ly["shape"])
        items.append({**ly, "text": text, "w": w, "h": h, "slot": max(w, text_w) + gap, "lines": text.count("\n") + 1})
    n_per = per_row or len(items)
    rows = [items[k : k + n_per] for k in range(0, len(items), n_per)]
    margin, legend_h, title_h = 0.15, 0.35, (0.35 if title else 0.0)
    label_h = max(it["lines"] for it in items) * _LINE + 0.12
    row_heights = [max(it["h"] for it in row) + label_h + 0.2 for row in rows]
    width = 2 * margin + max(sum(it["slot"] for it in row) for row in rows)
    height = margin + title_h + sum(row_heights) + legend_h
    fig, ax = _blank_figure(width, height, None)
    top = height - margin - title_h
    for row, row_h in zip(rows, row_heights):
        box_h = max(it["h"] for it in row)
        y = top - 0.1 - box_h / 2
        x = margin
        previous = None
        for it in row:
            cx = x + it["slot"] / 2
            _box(ax, cx, y, it["w"], it["h"], it["kind"])
            ax.text(cx, y - box_h / 2 - 0.08, it["text"], ha="center", va="top", fontsize=_FONT, linespacing=1.15)
            if previous is not None:
                _arrow(ax, (previous + 0.01, y), (cx - it["w"] / 2 - 0.01, y))
            previous = cx + it["w"] / 2
            x += it["slot"]
        if row is not rows[-1]:  # the flow goes on in the next row
            _arrow(ax, (previous + 0.01, y), (min(previous + 0.16, width - 0.02), y))
        if row is not rows[0]:
            first = row[0]
            start = margin + first["slot"] / 2 - first["w"] / 2
            _arrow(ax, (max(start - 0.16, 0.02), y), (start - 0.01, y))
        top -= row_h
    if title:
        ax.text(width / 2, height - margin, title, ha="center", va="top", fontsize=_FONT + 2, weight="bold")
    kinds = [k for k in _KINDS if any(it["kind"] == k for it in items)]
    _legend(ax, kinds, 0.02, width / 2)
    return fig


def _ops(block: torch.nn.Module, prefix: str, shapes: dict[str, tuple[int, ...]]) -> list[dict]:
    """The operations of one path of a block: a conv (or pool, ...) with its BN and activation."""
    ops: list[dict] = []
    names = {m: n for n, m in block.named_modules()}
    for module in block.modules():
        if list(module.children()):
            continue
        name = prefix + ("." + names[module] if names[module] else "")
        if name not in shapes:
            continue
        extra = _is_extra(module)
        if extra is not None and ops:
            ops[-1]["extras"].append(extra)
            ops[-1]["shape"] = shapes[name]
            continue
        kind, label = ("other", extra) if extra is not None else _describe(module)
        ops.append({"kind": kind, "label": label, "extras": [], "shape": shapes[name]})
    return ops


def _op_text(op: dict, prefix: str = "") -> str:
    lines = [prefix + op["label"]]
    if op["extras"]:
        lines.append(", ".join(op["extras"]))
    lines.append(_shape_text(op["shape"]))
    return "\n".join(lines)


def plot_block(block: torch.nn.Module, input_shape: Sequence[int], *, title: str | None = None, device=None):
    """Draw a residual block or an Inception module from its own children, top to bottom.

    ``input_shape`` is one example's ``(C, H, W)``; one forward pass with hooks (on the
    block's device, or ``device``) gives every output shape. Two kinds of block are
    understood:

    * a **residual block** (a ``body`` child, and a ``shortcut`` child that is ``None``,
      an identity, a projection or cvbook's zero-padding shortcut; an optional final
      ``relu``), as :class:`cvbook.models.BasicBlock` and :class:`cvbook.models.Bottleneck`:
      the body runs down the middle, the shortcut beside it (vermillion), and the two
      meet at the addition;
    * an **Inception module** (children named ``branch...`` whose outputs are concatenated
      along the channels), as :class:`cvbook.models.InceptionModule`: one column per
      branch between the input and the concatenation.

    Each box is one operation (its convolution or pooling, with the batch norm and
    activation that follow it) and shows its output shape ``H×W×C``. The figure has the
    drawing's natural size (text is never squeezed). Returns the figure. Taught in
    Chapter 5.
    """
    return plot_blocks([block], [input_shape], titles=None if title is None else [title], device=device)


def plot_blocks(
    blocks: Sequence[torch.nn.Module],
    input_shapes: Sequence[Sequence[int]],
    *,
    titles: Sequence[str] | None = None,
    device=None,
):
    """Several blocks side by side, each drawn as :func:`plot_block` draws one.

    ``input_shapes[k]`` is the ``(C, H, W)`` of ``blocks[k]``'s input; ``titles`` (one per
    block) go above the panels. Returns the figure. Taught in Chapter 5.
    """
    if isinstance(blocks, torch.nn.Module) or not isinstance(blocks, Sequence) or not blocks:
        raise ValueError(f"blocks must be a non-empty sequence of modules, got {type(blocks).__name__}")
    if not isinstance(input_shapes, Sequence) or len(input_shapes) != len(blocks):
        raise ValueError(f"input_shapes must give one (C, H, W) per block ({len(blocks)}), got {input_shapes!r}")
    if titles is not None and (isinstance(titles, str) or len(titles) != len(blocks)):
        raise ValueError(f"titles must give one title per block ({len(blocks)}), got {titles!r}")
    panels = [
        _block_panel(b, shape, None if titles is None else titles[k], device)
        for k, (b, shape) in enumerate(zip(blocks, input_shapes))
    ]
    gap = 0.3
    width = sum(w for w, _, _ in panels) + gap * (len(panels) - 1)
    height = max(h for _, h, _ in panels)
    fig, ax = _blank_figure(width, height, None)
    x = 0.0
    for w, _, draw in panels:
        draw(ax, x, height)
        x += w + gap
    return fig


def _block_panel(block, input_shape, title, device):
    """(width, height, draw(ax, left, top)) of one block's drawing, in inches."""
    models._check_model_and_shape(block, input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W) for a block, got {tuple(input_shape)}")
    children = dict(block.named_children())
    branches = [name for name in children if name.startswith("branch")]
    if "body" not in children and not branches:
        raise ValueError(
            f"block must be a residual block (with a .body) or an Inception-style module (with .branch... "
            f"children); {type(block).__name__} has children {list(children)}"
        )
    device = _model_device(block) if device is None else device
    shapes = _leaf_shapes(block, input_shape, device)
    input_text = f"input\n{_shape_text(tuple(input_shape))}"
    if "body" in children:
        return _residual_panel(block, input_text, shapes, title)
    return _branches_panel(block, branches, input_text, shapes, title)


_BH, _STEP, _MARGIN, _TITLE_H = 0.52, 0.78, 0.12, 0.35  # box height, box pitch, margin, title room


def _text_width(texts) -> float:
    return max(len(line) for t in texts for line in t.split("\n")) * _CHAR


def _title(ax, x: float, top: float, title: str | None) -> None:
    if title:
        ax.text(x, top - _MARGIN, title, ha="center", va="top", fontsize=_FONT + 1.5, weight="bold")


def _residual_panel(block, input_text, shapes, title):
    main = _ops(block.body, "body", shapes)
    shortcut = getattr(block, "shortcut", None)
    if shortcut is None and getattr(block, "residual", False):  # e.g. MobileNet v2: x + body(x)
        side_text: str | None = "identity"
    elif shortcut is None:
        side_text = None
    else:
        side = _ops(shortcut, "shortcut", shapes)
        if side and side[0]["label"] == "identity":
            side_text = "identity"
        else:
            side_text = "\n".join(
                _op_text(op, "$W_s$: " if k == 0 and op["kind"] == "conv" else "") for k, op in enumerate(side)
            )
    final = getattr(block, "relu", None)
    final_op = None
    if final is not None and "relu" in shapes:
        final_op = {"label": _is_extra(final) or type(final).__name__, "shape": shapes["relu"]}
    main_texts = [_op_text(op) for op in main] + [input_text]
    bw = max(1.45, _text_width(main_texts) + 0.2)
    side_w = 0.0 if side_text is None else max(0.9, _text_width([side_text]) + 0.2)
    n_boxes = 1 + len(main) + (1 if side_text is not None else 0) + (1 if final_op else 0)
    title_h = _TITLE_H if title else 0.0
    width = 2 * _MARGIN + bw + (0.3 + side_w if side_text is not None else 0.0)
    width = max(width, _text_width([title]) * 1.2 + 2 * _MARGIN if title else 0.0)
    height = 2 * _MARGIN + title_h + (n_boxes - 1) * _STEP + _BH

    def draw(ax, left, top):
        x = left + _MARGIN + bw / 2
        y = top - _MARGIN - title_h - _BH / 2
        _title(ax, left + width / 2, top, title)
        _box(ax, x, y, bw, _BH, "input", input_text)
        y_in = y
        for op in main:
            _arrow(ax, (x, y - _BH / 2), (x, y - _STEP + _BH / 2))
            y -= _STEP
            _box(ax, x, y, bw, _BH, op["kind"], _op_text(op))
        bottom = (x, y - _BH / 2)
        if side_text is not None:
            radius = 0.13
            y -= _STEP
            _arrow(ax, bottom, (x, y + radius))
            ax.add_patch(
                plt.Circle((x, y), radius, facecolor=_light(_KINDS["merge"][1]), edgecolor=_KINDS["merge"][1], zorder=2)
            )
            ax.text(x, y, "+", ha="center", va="center", fontsize=_FONT + 4, weight="bold", zorder=3)
            xs = x + bw / 2 + 0.3 + side_w / 2
            colour = _KINDS["shortcut"][1]
            ax.plot([x + bw / 2, xs, xs], [y_in, y_in, y], color=colour, linewidth=1.4, zorder=1)
            _arrow(ax, (xs, y), (x + radius, y), colour=colour)
            lines = side_text.count("\n") + 1
            _box(ax, xs, (y_in + y) / 2, side_w, lines * _LINE + 0.14, "shortcut", side_text)
            bottom = (x, y - radius)
        if final_op is not None:
            y -= _STEP
            _arrow(ax, bottom, (x, y + _BH / 2))
            _box(ax, x, y, bw, _BH, "other", f"{final_op['label']}\noutput {_shape_text(final_op['shape'])}")

    return width, height, draw


def _branches_panel(block, branches, input_text, shapes, title):
    columns = [_ops(getattr(block, name), name, shapes) for name in branches]
    bw = max(1.3, _text_width([_op_text(op) for col in columns for op in col]) + 0.15)
    gap = 0.15
    depth = max(len(col) for col in columns)
    out_channels = [col[-1]["shape"][0] for col in columns]
    _, h, w = columns[-1][-1]["shape"]
    total = sum(out_channels)
    concat = f"concatenate the channels: {' + '.join(str(c) for c in out_channels)} = {total}\noutput {h}×{w}×{total}"
    title_h = _TITLE_H if title else 0.0
    width = 2 * _MARGIN + len(columns) * bw + (len(columns) - 1) * gap
    height = 2 * _MARGIN + title_h + (depth + 1) * _STEP + 0.3 + _BH

    def draw(ax, left, top):
        _title(ax, left + width / 2, top, title)
        y_in = top - _MARGIN - title_h - _BH / 2
        _box(ax, left + width / 2, y_in, max(1.45, _text_width([input_text]) + 0.2), _BH, "input", input_text)
        y_cat = y_in - (depth + 1) * _STEP - 0.3
        for k, col in enumerate(columns):
            xc = left + _MARGIN + bw / 2 + k * (bw + gap)
            ys = [y_in - (j + 1) * _STEP for j in range(len(col))]  # as in the paper: first ops side by side
            _arrow(ax, (left + width / 2, y_in - _BH / 2), (xc, ys[0] + _BH / 2))
            for j, (op, y) in enumerate(zip(col, ys)):
                _box(ax, xc, y, bw, _BH, op["kind"], _op_text(op))
                if j:
                    _arrow(ax, (xc, ys[j - 1] - _BH / 2), (xc, y + _BH / 2))
            _arrow(ax, (xc, ys[-1] - _BH / 2), (xc, y_cat + _BH / 2))
        _box(ax, left + width / 2, y_cat, width - 2 * _MARGIN, _BH, "merge", concat)

    return width, height, draw
