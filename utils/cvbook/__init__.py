"""cvbook: the shared package of the course-book "Convolutional Neural Networks for Computer Vision".

Modules (import them explicitly, e.g. ``from cvbook import data, train``):

* :mod:`cvbook.checks` - helpers for the exercises' tests (``expect_error``, ...);
* :mod:`cvbook.conv` - convolution arithmetic and convolution from scratch;
* :mod:`cvbook.cost` - multiply-add counts of layers and whole models;
* :mod:`cvbook.device` - device choice (CUDA, MPS, CPU) and seeding;
* :mod:`cvbook.data` - the book's offline data (digits, sample photos, synthetic shapes)
  and real datasets behind the online switch;
* :mod:`cvbook.train` - ``fit``/``evaluate`` with mixed precision on CUDA;
* :mod:`cvbook.models` - model summaries (shapes, activation sizes, parameters);
* :mod:`cvbook.plot` - training curves and image grids.
"""

__version__ = "0.1.0"

from . import checks, conv, cost, data, device, models, plot, train  # noqa: E402

__all__ = ["checks", "conv", "cost", "data", "device", "models", "plot", "train", "__version__"]
