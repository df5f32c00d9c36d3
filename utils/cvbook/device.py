"""Devices and reproducibility.

The book never assumes a GPU. :func:`pick_device` chooses CUDA, then Apple
MPS, then the CPU, unless the environment variable ``CVBOOK_DEVICE`` names one
(``cpu``, ``cuda``, ``cuda:1``, ``mps``). :func:`seed_everything` makes a run
repeatable. Taught in Chapter 1.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

__all__ = [
    "DEVICE_ENV",
    "SEED_OFFSET_ENV",
    "pick_device",
    "device_of",
    "device_report",
    "seed_everything",
    "in_colab",
]

#: Environment variable that overrides the automatic device choice.
DEVICE_ENV = "CVBOOK_DEVICE"
#: Environment variable added to every seed given to :func:`seed_everything` (spread runs).
SEED_OFFSET_ENV = "CVBOOK_SEED_OFFSET"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def pick_device(prefer: str | torch.device | None = None) -> torch.device:
    """Return the device the book's code should run on.

    Order: ``prefer`` if given, else ``$CVBOOK_DEVICE`` if set, else CUDA,
    then Apple MPS, then the CPU. Asking for a device that is not available
    raises ``RuntimeError`` naming it (a silent fallback would hide a
    misconfigured GPU runtime). Taught in Chapter 1.
    """
    choice = prefer if prefer is not None else os.environ.get(DEVICE_ENV, "").strip()
    if choice:
        try:
            device = torch.device(choice)
        except RuntimeError as err:  # torch's own message is cryptic
            raise ValueError(f"unknown device {str(choice)!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'") from err
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {str(choice)!r} was asked for, but CUDA is not available")
        if device.type == "mps" and not _mps_available():
            raise RuntimeError(f"device {str(choice)!r} was asked for, but Apple MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def device_of(module: torch.nn.Module) -> torch.device:
    """The device that holds ``module``'s first parameter (or buffer); the CPU if it has none.

    :func:`cvbook.train.fit` leaves a model on the device it trained on (a GPU when there is
    one), so code that feeds it tensors by hand moves them there first:
    ``model(x.to(device_of(model)))``. Used in Chapters 7 and 13.
    """
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    for tensor in module.parameters():
        return tensor.device
    for tensor in module.buffers():
        return tensor.device
    return torch.device("cpu")


def device_report(device: torch.device | str | None = None) -> str:
    """One line saying which device is used and why. Taught in Chapter 1."""
    device = pick_device(device)
    how = f"set by ${DEVICE_ENV}" if os.environ.get(DEVICE_ENV, "").strip() else "picked automatically"
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        what = f"{torch.cuda.get_device_name(index)} (CUDA {torch.version.cuda})"
    elif device.type == "mps":
        what = "Apple GPU (MPS)"
    else:
        threads = torch.get_num_threads()
        what = f"CPU, {threads} thread{'s' if threads != 1 else ''}"
    return f"cvbook: using {device} - {what}; {how}; torch {torch.__version__}"


def seed_everything(seed: int = 0, deterministic: bool = True) -> int:
    """Seed Python, NumPy and torch (all devices); optionally make kernels deterministic.

    With ``deterministic=True`` cuDNN autotuning is off and torch is asked for
    deterministic algorithms in warn-only mode, so an operation that has no
    deterministic CUDA kernel warns instead of failing. Returns the seed.
    The environment variable ``CVBOOK_SEED_OFFSET`` (default 0) is added to ``seed``: the tool
    that measures the spread of the book's trained numbers (``tools/measure_spread.py``) re-runs
    every notebook with offsets 1, 2, ... to see how much a result depends on the random
    initialisation and data order. Taught in Chapter 1.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    offset = os.environ.get(SEED_OFFSET_ENV, "").strip()
    if offset:
        if not offset.isdigit():
            raise ValueError(f"${SEED_OFFSET_ENV} must be a non-negative integer, got {offset!r}")
        seed += int(offset)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)
        # cuBLAS needs this to be deterministic; it must be set before the first CUDA call.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return seed


def in_colab() -> bool:
    """True when running inside Google Colab. Taught in Chapter 1."""
    return "google.colab" in sys.modules
