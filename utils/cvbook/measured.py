"""Measured numbers: claims on bands, and the jitter that keeps checked outputs honest.

The book prints two kinds of numbers.

* **Exact** numbers (lecture arithmetic, parameter and mult-add counts, shapes,
  from-scratch-versus-library agreement) come out the same on every machine. They are
  printed in cells marked ``# NBVAL_CHECK_OUTPUT`` and the tests compare them to the digit.
* **Measured** numbers (anything after a gradient step, any timing) do not: float32
  training sums in a different order on AVX2, AVX-512 or ARM kernels, and a few hundred
  steps turn the last bit into the third decimal. Each claim about such a number is made
  with :func:`claim`, which asserts that the value lies in a band. The band is set from
  the spread measured over seeds and kernel configurations (``tests/measured_spread.csv``,
  made by ``tools/measure_spread.py``), with margin beyond the worst case.

:func:`claim` also records every value it sees in the CSV file named by
``$CVBOOK_MEASURE_LOG`` (the spread tool sets it), and with ``CVBOOK_MEASURE_ONLY=1`` it
records without raising, so that one run collects every value even when a band is wrong.

**The jitter.** ``make test`` must catch a measured number that slipped into a checked cell
on the author's own machine, before it reaches another one. When the environment variable
``CVBOOK_JITTER`` holds a relative size (the tests use ``1e-2``: one per cent, far below the
noise of a mini-batch gradient and far above the last-bit differences between CPUs), importing
:mod:`cvbook` installs a global optimiser pre-step hook that multiplies every float32 (or lower
precision) gradient by ``1 + CVBOOK_JITTER * u`` with ``u`` uniform in [-1, 1), from the fourth step of
each optimiser on (``EXACT_STEPS``). The noise is a
fixed function of the optimiser's step number and the parameter's position, so two runs of the
same training (or the same training computed two ways) still agree with each other, but every
trained number differs from the un-jittered run that stored the outputs, as it would on
another CPU. Exact numbers never pass through an optimiser step and cannot change. float64
parameters are left alone: the book uses float64 only for exact demonstrations (e.g.
gradient descent by hand versus autograd), which agree across machines to ~1e-15.
Taught in Chapter 1 (how to read the book's numbers); used in every chapter.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import re
from pathlib import Path

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

__all__ = ["claim", "JITTER_ENV", "LOG_ENV", "ONLY_ENV", "RUN_ENV", "jitter_size", "install_jitter", "remove_jitter"]

#: Relative size of the test-time gradient jitter (unset or 0: no jitter).
JITTER_ENV = "CVBOOK_JITTER"
#: CSV file that :func:`claim` appends ``run,name,value`` rows to.
LOG_ENV = "CVBOOK_MEASURE_LOG"
#: Set to 1 to record claims without raising (spread collection).
ONLY_ENV = "CVBOOK_MEASURE_ONLY"
#: Label of the current run in the log (e.g. ``seed1`` or ``default``).
RUN_ENV = "CVBOOK_MEASURE_RUN"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)+$")


def _as_float(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"{what} must be a single number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def claim(name: str, value, *, low: float | None = None, high: float | None = None) -> float:
    """Assert that a measured ``value`` lies in ``[low, high]``; record it; return it as a float.

    ``name`` is ``chapter.what`` in lower case (e.g. ``"ch03.lenet5.test_accuracy"``), the key of
    the claim in ``tests/measured_spread.csv``. At least one of ``low`` and ``high`` is needed
    (a claim without a band cannot fail). A value outside the band raises ``AssertionError``
    naming the claim, the value and the band; NaN is always outside. With
    ``$CVBOOK_MEASURE_LOG`` set the value is appended to that CSV file first, and with
    ``CVBOOK_MEASURE_ONLY=1`` nothing is raised. Taught in Chapter 1.

    >>> claim("ch00.example.accuracy", 0.93, low=0.85)
    0.93
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must look like 'ch03.lenet5.test_accuracy' (lower case, dotted), got {name!r}")
    value = _as_float(value, "value")
    if low is None and high is None:
        raise ValueError(f"claim {name!r} needs low= or high= (a claim without a band cannot fail)")
    low = None if low is None else _as_float(low, "low")
    high = None if high is None else _as_float(high, "high")
    if low is not None and high is not None and low > high:
        raise ValueError(f"claim {name!r}: low={low} is above high={high}")
    log = os.environ.get(LOG_ENV, "").strip()
    if log:
        path = Path(log)
        new = not path.exists()
        with path.open("a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(["run", "name", "value", "low", "high"])
            writer.writerow(
                [
                    os.environ.get(RUN_ENV, ""),
                    name,
                    repr(value),
                    "" if low is None else repr(low),
                    "" if high is None else repr(high),
                ]
            )
    inside = not math.isnan(value) and (low is None or value >= low) and (high is None or value <= high)
    if not inside and os.environ.get(ONLY_ENV, "").strip() not in ("1", "true", "yes"):
        band = f"[{'-inf' if low is None else f'{low:g}'}, {'inf' if high is None else f'{high:g}'}]"
        raise AssertionError(
            f"measured claim {name!r} failed: {value:.6g} is outside its band {band}. Bands come from "
            "the spread over seeds and CPU kernels in tests/measured_spread.csv; if the experiment "
            "changed, re-measure it with tools/measure_spread.py rather than moving the band by hand."
        )
    return value


# --------------------------------------------------------------------------- the test-time jitter

_handle = None
_size = 0.0


def jitter_size() -> float:
    """The relative gradient jitter in force (0.0 when none is installed)."""
    return _size if _handle is not None else 0.0


#: The first steps of every optimiser are not jittered: a worked example of one or two steps
#: (a loss after one SGD step, checked to four decimals) is exact on every machine; what differs
#: between CPUs is a training of hundreds of steps.
EXACT_STEPS = 3


def _jitter_hook(optimizer, args, kwargs):
    step = getattr(optimizer, "_cvbook_jitter_step", 0) + 1
    optimizer._cvbook_jitter_step = step
    if step <= EXACT_STEPS:
        return None
    position = 0
    for group in optimizer.param_groups:
        for p in group["params"]:
            position += 1
            grad = p.grad
            if grad is None or grad.is_sparse or not grad.is_floating_point() or grad.dtype == torch.float64:
                continue
            gen = torch.Generator().manual_seed((step * 1_000_003 + position) % (2**63))
            u = torch.rand(grad.shape, generator=gen, dtype=torch.float32).mul_(2).sub_(1)
            grad.mul_(u.mul_(_size).add_(1).to(device=grad.device, dtype=grad.dtype))
    return None


def install_jitter(size: float) -> None:
    """Jitter every float32/16 gradient by a relative ``size`` before each optimiser step.

    See the module docstring. ``size`` must be in (0, 0.1]. Installing again replaces the size.
    """
    global _handle, _size
    size = _as_float(size, "size")
    if not 0 < size <= 0.1:
        raise ValueError(f"size must be in (0, 0.1], got {size}")
    _size = size
    if _handle is None:
        _handle = register_optimizer_step_pre_hook(_jitter_hook)


def remove_jitter() -> None:
    """Remove the jitter installed by :func:`install_jitter` (no-op when none is)."""
    global _handle
    if _handle is not None:
        _handle.remove()
        _handle = None


def _install_from_env() -> None:
    text = os.environ.get(JITTER_ENV, "").strip()
    if not text:
        return
    try:
        size = float(text)
    except ValueError as err:
        raise ValueError(f"${JITTER_ENV} must be a number such as 1e-3, got {text!r}") from err
    if size:
        install_jitter(size)


_install_from_env()
