"""cvbook: the shared package of the course-book "Convolutional Neural Networks for Computer Vision".

Modules (import them explicitly, e.g. ``from cvbook import data, train``):

* :mod:`cvbook.augment` - colour shift and PCA colour augmentation (transforms v2), freezing and
  new heads for transfer learning, ten-crop and ensemble prediction;
* :mod:`cvbook.boxes` - box formats, IoU, NMS, YOLO targets, AP / mAP / COCO mAP;
* :mod:`cvbook.checks` - helpers for the exercises' tests (``expect_error``, ...);
* :mod:`cvbook.conv` - convolution arithmetic and convolution from scratch;
* :mod:`cvbook.cost` - multiply-add counts of layers and whole models;
* :mod:`cvbook.detection` - a small YOLO-style detector, its loss and ``detect``;
* :mod:`cvbook.device` - device choice (CUDA, MPS, CPU) and seeding;
* :mod:`cvbook.faces` - synthetic identities, siamese losses, triplet mining, verification and
  recognition;
* :mod:`cvbook.grading` - the instructors' grading command (``cvbook-grade``);
* :mod:`cvbook.metrics` - classification metrics (confusion matrix, precision/recall/F1 with
  macro/micro/weighted averages, ROC/AUC, PR curve, AP with VOC interpolations);
* :mod:`cvbook.data` - the book's offline data (digits, sample photos, synthetic shapes)
  and real datasets behind the online switch;
* :mod:`cvbook.train` - ``fit``/``evaluate`` with mixed precision on CUDA, data-parallel under
  ``torchrun`` (DDP), checkpoint and resume;
* :mod:`cvbook.measured` - ``claim``: measured numbers asserted on bands; the test-time jitter;
* :mod:`cvbook.models` - model summaries (shapes, activation sizes, parameters);
* :mod:`cvbook.plot` - training curves and image grids;
* :mod:`cvbook.segment` - convolution as a matrix, transposed convolution, U-Net, Dice loss,
  pixel accuracy / IoU / mIoU;
* :mod:`cvbook.signals` - 1D and 3D convolution helpers, synthetic ECG-like signals and clips;
* :mod:`cvbook.style` - what CNNs learn (top activating patches) and neural style transfer.
"""

__version__ = "0.1.0"

import importlib as _importlib
import os as _os
import sys as _sys


class _MeasuredAfterTorch:
    """Imports cvbook.measured as soon as torch has been imported (a one-shot import hook)."""

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        _sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec("torch")
        loader = getattr(spec, "loader", None)
        if loader is not None and hasattr(loader, "exec_module"):
            run = loader.exec_module

            def exec_module(module):
                run(module)
                del loader.exec_module  # back to the loader's own method
                _importlib.import_module("cvbook.measured")

            loader.exec_module = exec_module
        return spec


# With $CVBOOK_JITTER set (the tests), `measured` installs the test-time gradient jitter as it
# is imported (see cvbook.measured): now if torch is loaded, else the moment it is. Nothing else
# is imported here, so `import cvbook` costs no torch import (the grading command needs none).
if _os.environ.get("CVBOOK_JITTER", "").strip() not in ("", "0"):
    if "torch" in _sys.modules:
        from . import measured  # noqa: F401 - imported for its side effect (the jitter)
    else:
        _sys.meta_path.insert(0, _MeasuredAfterTorch())

_MODULES = (
    "augment",
    "boxes",
    "checks",
    "conv",
    "cost",
    "data",
    "detection",
    "device",
    "faces",
    "grading",
    "measured",
    "metrics",
    "models",
    "plot",
    "segment",
    "signals",
    "style",
    "train",
)

__all__ = [*_MODULES, "__version__"]


def __getattr__(name: str):
    # The other modules load on first use (`cvbook.data`, `from cvbook import data`): importing
    # all of them (torchvision, scikit-learn, scikit-image, matplotlib) costs seconds that a
    # notebook kernel or a grading kernel that needs one module should not pay.
    if name in _MODULES:
        module = _importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'cvbook' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULES))
