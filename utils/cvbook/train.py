"""Training and evaluation helpers.

:func:`fit` trains a model for a number of epochs and returns a
:class:`History`; :func:`evaluate` measures a model on a loader. Both run on
whatever :func:`cvbook.device.pick_device` picks. On CUDA they use automatic
mixed precision (bfloat16 where the GPU supports it, else float16 with a
gradient scaler), pinned memory and non-blocking copies, and optionally the
``channels_last`` memory format; on the CPU they run in plain float32.

The progress bar (one bar over the epochs) is written to standard output and is
switched off by ``CVBOOK_PROGRESS=0`` (the tests and ``make refresh`` do so, to
keep stored notebook outputs clean). Taught in Chapter 1, used everywhere.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import torch
from torch import nn

from .device import pick_device

__all__ = [
    "PROGRESS_ENV",
    "History",
    "accuracy",
    "fit",
    "evaluate",
    "predict",
    "progress_enabled",
    "amp_dtype",
]

#: Environment variable that switches the progress bar off (``0``, ``false``, ``off``, ``no``).
PROGRESS_ENV = "CVBOOK_PROGRESS"

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor | float]


def progress_enabled(progress: bool | None = None) -> bool:
    """Whether to show a progress bar: ``progress`` if given, else ``$CVBOOK_PROGRESS`` (default on)."""
    if progress is not None:
        return bool(progress)
    return os.environ.get(PROGRESS_ENV, "1").strip().lower() not in {"0", "false", "off", "no"}


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows of ``outputs`` (N, C) whose arg-max equals ``targets`` (N,)."""
    if outputs.ndim != 2 or targets.ndim != 1 or outputs.shape[0] != targets.shape[0]:
        raise ValueError(
            f"accuracy expects outputs (N, C) and targets (N,), got {tuple(outputs.shape)} "
            f"and {tuple(targets.shape)}"
        )
    return (outputs.argmax(dim=1) == targets).float().mean()


@dataclass
class History:
    """What :func:`fit` measured, one row per epoch.

    ``history["train_loss"]`` is the list of per-epoch training losses;
    likewise ``val_loss``, ``train_<metric>``, ``val_<metric>``, ``lr`` and
    ``time_s`` (wall seconds of the epoch). ``history.total_time_s`` is the sum.
    """

    rows: list[dict[str, float]] = field(default_factory=list)

    def append(self, row: Mapping[str, float]) -> None:
        self.rows.append(dict(row))

    @property
    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.rows:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def __getitem__(self, key: str) -> list[float]:
        if key not in self.keys:
            raise KeyError(f"history has no {key!r}; it has {self.keys}")
        return [row.get(key, math.nan) for row in self.rows]

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.rows)

    def last(self, key: str) -> float:
        """The value of ``key`` after the last epoch."""
        return self[key][-1]

    @property
    def total_time_s(self) -> float:
        return float(sum(self["time_s"])) if self.rows else 0.0

    def as_dict(self) -> dict[str, list[float]]:
        return {key: self[key] for key in self.keys}


def amp_dtype(device: torch.device) -> torch.dtype | None:
    """The autocast dtype used on ``device``: bf16 or fp16 on CUDA, ``None`` (float32) elsewhere."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def _to_device(x, device: torch.device, channels_last: bool):
    if isinstance(x, torch.Tensor):
        non_blocking = device.type == "cuda"
        if channels_last and x.ndim == 4:
            return x.to(device, non_blocking=non_blocking, memory_format=torch.channels_last)
        return x.to(device, non_blocking=non_blocking)
    if isinstance(x, (list, tuple)):
        return type(x)(_to_device(v, device, channels_last) for v in x)
    if isinstance(x, dict):
        return {k: _to_device(v, device, channels_last) for k, v in x.items()}
    return x


def _split_batch(batch):
    if isinstance(batch, (list, tuple)) and len(batch) == 2:
        return batch[0], batch[1]
    raise ValueError(
        "each batch must be a pair (inputs, targets); got "
        f"{type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}"
    )


def _check_args(epochs: int, clip_grad_norm: float | None) -> None:
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"clip_grad_norm must be positive or None, got {clip_grad_norm!r}")


class _Meter:
    """Sums per-batch values weighted by batch size without syncing the device each step."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0

    def add(self, name: str, value, n: int) -> None:
        value = value.detach().float() if isinstance(value, torch.Tensor) else torch.tensor(float(value))
        self.sums[name] = self.sums.get(name, 0.0) + value * n

    def result(self) -> dict[str, float]:
        return {k: float(v) / max(self.count, 1) for k, v in self.sums.items()}


def _run_epoch(model, loader, loss_fn, metrics, device, dtype, channels_last,
               optimizer=None, scaler=None, clip_grad_norm=None, scheduler=None):
    meter = _Meter()
    training = optimizer is not None
    model.train(training)
    grad_mode = contextlib.nullcontext() if training else torch.inference_mode()
    with grad_mode:
        for batch in loader:
            inputs, targets = _split_batch(batch)
            inputs = _to_device(inputs, device, channels_last)
            targets = _to_device(targets, device, False)
            with _autocast(device, dtype):
                outputs = model(inputs)
                loss = loss_fn(outputs, targets)
            if training:
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    if clip_grad_norm is not None:
                        scaler.unscale_(optimizer)
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    if clip_grad_norm is not None:
                        nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                    optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            n = len(targets) if hasattr(targets, "__len__") else 1
            meter.count += n
            meter.add("loss", loss, n)
            for name, fn in metrics.items():
                meter.add(name, fn(outputs.float(), targets), n)
    if meter.count == 0:
        raise ValueError("the loader yielded no batches")
    return meter.result()


def _prepare(model: nn.Module, device, channels_last: bool, amp: bool | str):
    device = pick_device(device)
    channels_last = bool(channels_last) and device.type == "cuda"
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    if amp not in (True, False, "auto"):
        raise ValueError(f"amp must be True, False or 'auto', got {amp!r}")
    dtype = amp_dtype(device) if amp else None
    return device, channels_last, dtype


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    *,
    loss_fn: Callable | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    epochs: int = 1,
    scheduler=None,
    scheduler_step: str = "epoch",
    clip_grad_norm: float | None = None,
    metrics: Mapping[str, Metric] | None = None,
    device: torch.device | str | None = None,
    amp: bool | str = "auto",
    channels_last: bool = False,
    progress: bool | None = None,
) -> History:
    """Train ``model`` and return its :class:`History`.

    model: any ``nn.Module``; it is moved to ``device`` (default: :func:`pick_device`).
    train_loader, val_loader: iterables of ``(inputs, targets)`` batches.
    loss_fn: default ``nn.CrossEntropyLoss()``. optimizer: default Adam (lr 1e-3).
    scheduler: stepped once per epoch (``scheduler_step="epoch"``) or per
    batch (``"batch"``, e.g. ``OneCycleLR``). clip_grad_norm: max gradient norm.
    metrics: name -> fn(outputs, targets) averaged over samples; default
    ``{"acc": accuracy}`` with the default loss, none otherwise.
    amp: ``"auto"`` uses mixed precision on CUDA only. channels_last: CUDA only.
    Taught in Chapter 1.
    """
    _check_args(epochs, clip_grad_norm)
    if scheduler_step not in ("epoch", "batch"):
        raise ValueError(f"scheduler_step must be 'epoch' or 'batch', got {scheduler_step!r}")
    if metrics is None:
        metrics = {"acc": accuracy} if loss_fn is None else {}
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    device, channels_last, dtype = _prepare(model, device, channels_last, amp)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None

    history = History()
    bar = None
    if progress_enabled(progress):
        from tqdm.std import tqdm

        bar = tqdm(total=epochs, desc="fit", unit="epoch", file=sys.stdout, leave=True)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            row: dict[str, float] = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"]}
            train = _run_epoch(model, train_loader, loss_fn, metrics, device, dtype, channels_last,
                               optimizer, scaler, clip_grad_norm,
                               scheduler if scheduler_step == "batch" else None)
            row.update({f"train_{k}": v for k, v in train.items()})
            if val_loader is not None:
                val = _run_epoch(model, val_loader, loss_fn, metrics, device, dtype, channels_last)
                row.update({f"val_{k}": v for k, v in val.items()})
            if scheduler is not None and scheduler_step == "epoch":
                scheduler.step()
            row["time_s"] = time.perf_counter() - start
            history.append(row)
            if bar is not None:
                shown = {k: f"{v:.4g}" for k, v in row.items() if k.startswith(("train_", "val_"))}
                bar.set_postfix(shown, refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return history


def evaluate(
    model: nn.Module,
    loader: Iterable,
    *,
    loss_fn: Callable | None = None,
    metrics: Mapping[str, Metric] | None = None,
    device: torch.device | str | None = None,
    amp: bool | str = "auto",
    channels_last: bool = False,
) -> dict[str, float]:
    """Average loss and metrics of ``model`` over ``loader`` (in eval mode, no gradients).

    Defaults as in :func:`fit`. Returns e.g. ``{"loss": 0.12, "acc": 0.97}``.
    Taught in Chapter 1.
    """
    if metrics is None:
        metrics = {"acc": accuracy} if loss_fn is None else {}
    loss_fn = loss_fn if loss_fn is not None else nn.CrossEntropyLoss()
    device, channels_last, dtype = _prepare(model, device, channels_last, amp)
    return _run_epoch(model, loader, loss_fn, metrics, device, dtype, channels_last)


def predict(
    model: nn.Module,
    loader: Iterable,
    *,
    device: torch.device | str | None = None,
    amp: bool | str = "auto",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``model`` over ``loader``; return ``(outputs, targets)`` concatenated on the CPU."""
    device, _, dtype = _prepare(model, device, False, amp)
    model.eval()
    outs, tgts = [], []
    with torch.inference_mode():
        for batch in loader:
            inputs, targets = _split_batch(batch)
            with _autocast(device, dtype):
                outputs = model(_to_device(inputs, device, False))
            outs.append(outputs.float().cpu())
            tgts.append(targets.cpu() if isinstance(targets, torch.Tensor) else torch.as_tensor(targets))
    if not outs:
        raise ValueError("the loader yielded no batches")
    return torch.cat(outs), torch.cat(tgts)
