"""Plotting helpers: training curves and image grids.

Taught in Chapter 1, used everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

__all__ = ["plot_history", "show_images", "to_display"]


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
