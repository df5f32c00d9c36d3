# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %%
# Colab only: install the book's package (Colab's own torch and torchvision are kept).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "cvbook @ git+https://github.com/cnn-cv-book/cnn-cv-book@v0.1.0",
        ],
        check=True,
    )

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Chapter 4 exercises: classic architectures
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch04/ch04_exercises.ipynb)
#
# Five exercises on Chapter 4, *Classic architectures*: the layer-by-layer table of
# output shapes and parameter counts that describes LeNet-5 and AlexNet, why AlexNet's
# input is 227 × 227 and not 224 × 224, the parameters and receptive field of stacked
# 3 × 3 convolutions against one large filter, the block that VGG-16 repeats, and
# where the parameters of the classic networks live. 18 points in all. The errors a
# function must raise are graded in their own test cells, so a missing check costs
# only its own point.
#
# **How to work**
#
# - Run the cells from the top, in order (in Colab the first cell installs the book's
#   package, `cvbook`; elsewhere it does nothing).
# - Each exercise says what to implement, gives the function's signature and one
#   worked example. Write your code in the cell below it, in place of the lines
#   `# YOUR CODE HERE` and `raise NotImplementedError()`. Keep the function's name and
#   arguments. Use NumPy and PyTorch; do not call the library function that an
#   exercise imitates.
# - The cell after your answer holds **tests**: run it. A failing test says what it
#   expected and what it got; when all pass it prints `Visible tests passed.`. When
#   your notebook is graded, more tests with other inputs (hidden tests) run as well,
#   so write code that works for any valid input, not just for the examples.
# - **Do not delete, edit, move or copy the test cells** (or any other read-only cell),
#   and do not rename the notebook: the grader finds the tests by their place in it.
#   You may add cells of your own to try things out.
# - Before you hand in, restart and run everything (Colab: *Runtime > Restart session
#   and run all*; Jupyter: *Kernel > Restart Kernel and Run All Cells*) and check that
#   every test cell passes.
#
# **Handing in**
#
# - **Colab**: *File > Download > Download .ipynb*, then upload the downloaded
#   `ch04_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch04_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import torch
from torch import nn

from cvbook.checks import expect_error, refusing

# What exercise 1 must not use: it counts with integer arithmetic (these raise while its tests run).
TABLE_SHORTCUTS = ("cvbook.models.summary", "torch.nn.Conv2d", "torch.nn.MaxPool2d", "torch.nn.Linear")
from cvbook.models import LeNet5

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: the layer table of a classic network (5 points)
#
# The lectures describe LeNet-5, AlexNet and VGG-16 by a table: the shape of every
# layer's output and its number of parameters. Write the function that fills in
# such a table from a list of layer specifications.
#
# `layer_table(layers, input_shape)`
# : `input_shape` is a tuple `(H, W, C)` of positive ints (height, width, channels, as
#   in the lectures). `layers` is a list of tuples, one per layer, of three kinds:
#
#   - `("conv", f, n_filters, stride, padding)`: `n_filters` convolution filters of size
#     $f \times f$ over all $C$ input channels, each with one bias;
#   - `("pool", f, stride)`: max (or average) pooling of size $f \times f$, no padding,
#     no parameters, the channels unchanged;
#   - `("fc", n_out)`: a fully connected layer with `n_out` units and their biases; its
#     input is the previous output **flattened** (the first `fc` layer after a
#     `conv`/`pool` sees $H \cdot W \cdot C$ values).
#
#   Return a list with one tuple `(output_shape, n_params)` per layer: `output_shape` is
#   a tuple of ints, `(H', W', C')` after a `conv` or `pool` layer and `(n_out,)` after
#   an `fc` layer, with $H' = \lfloor (H + 2p - f) / s \rfloor + 1$ (and the same for
#   $W'$, which may differ from $H'$); `n_params` is an int. Raise `ValueError` for an
#   unknown kind, for a `conv` or `pool` layer after an `fc` layer, and for a filter that
#   does not fit in its (padded) input. Use integer arithmetic (do not build the network
#   in PyTorch, and do not call `cvbook.models.summary`: `nn.Conv2d`, `nn.MaxPool2d`,
#   `nn.Linear` and `summary` raise an error while the tests run). Do not change `layers`.
#
# Points: LeNet-5 2, strides, padding and rectangles 2, the `ValueError`s 1.
#
# Worked example, the lectures' LeNet-5 (about 60,000 parameters in all):
#
# ```python
# >>> LENET5 = [("conv", 5, 6, 1, 0), ("pool", 2, 2), ("conv", 5, 16, 1, 0), ("pool", 2, 2),
# ...           ("fc", 120), ("fc", 84), ("fc", 10)]
# >>> layer_table(LENET5, (32, 32, 1))
# [((28, 28, 6), 156), ((14, 14, 6), 0), ((10, 10, 16), 2416), ((5, 5, 16), 0),
#  ((120,), 48120), ((84,), 10164), ((10,), 850)]
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def layer_table(layers, input_shape):
    """[(output_shape, n_params), ...], one row per layer spec, for an (H, W, C) input."""
    ### BEGIN SOLUTION
    if len(input_shape) != 3 or any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in input_shape):
        raise ValueError(f"input_shape must be three positive ints (H, W, C), got {input_shape!r}")
    shape = tuple(input_shape)
    table = []
    for k, layer in enumerate(layers):
        kind = layer[0]
        if kind in ("conv", "pool"):
            if len(shape) != 3:
                raise ValueError(f"layer {k}: a {kind} layer needs an (H, W, C) input, not the output of an fc layer")
            if kind == "conv":
                _, f, n_out, stride, padding = layer
            else:
                (_, f, stride), n_out, padding = layer, shape[2], 0
            h, w = ((n + 2 * padding - f) // stride + 1 for n in shape[:2])
            if h < 1 or w < 1:
                raise ValueError(
                    f"layer {k}: a {f} x {f} filter does not fit in a {shape[0]} x {shape[1]} input "
                    f"with padding {padding}"
                )
            n_params = (f * f * shape[2] + 1) * n_out if kind == "conv" else 0
            shape = (h, w, n_out)
        elif kind == "fc":
            _, n_out = layer
            n_in = int(np.prod(shape))
            n_params, shape = n_in * n_out + n_out, (n_out,)
        else:
            raise ValueError(f"layer {k}: the kind must be 'conv', 'pool' or 'fc', got {kind!r}")
        table.append((shape, n_params))
    return table
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_lenet_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of layer_table on LeNet-5 (2 points).
LENET5 = [
    ("conv", 5, 6, 1, 0),
    ("pool", 2, 2),
    ("conv", 5, 16, 1, 0),
    ("pool", 2, 2),
    ("fc", 120),
    ("fc", 84),
    ("fc", 10),
]
with refusing(*TABLE_SHORTCUTS):
    table = layer_table(LENET5, (32, 32, 1))  # the worked example
assert isinstance(table, list), f"expected a list, got {type(table).__name__}"
assert len(table) == 7, f"expected one row per layer (7), got {len(table)}"
expected = [
    ((28, 28, 6), 156),
    ((14, 14, 6), 0),
    ((10, 10, 16), 2416),
    ((5, 5, 16), 0),
    ((120,), 48120),
    ((84,), 10164),
    ((10,), 850),
]
names = ["CONV1", "POOL1", "CONV2", "POOL2", "FC3", "FC4", "output"]
for name, row, (want_shape, want_params) in zip(names, table, expected):
    assert isinstance(row, tuple) and len(row) == 2, f"{name}: expected a tuple (output_shape, n_params), got {row!r}"
    shape, n_params = row
    assert isinstance(shape, tuple), f"{name}: expected the output shape as a tuple, got {type(shape).__name__}"
    assert shape == want_shape, f"{name}: expected output shape {want_shape}, got {shape}"
    assert isinstance(n_params, int), f"{name}: expected the parameter count as an int, got {type(n_params).__name__}"
    if name == "CONV1" and n_params == 150:
        raise AssertionError("CONV1 has 150 weights and 6 biases: one bias per filter is missing")
    if name == "CONV2" and n_params == (5 * 5 + 1) * 16:
        raise AssertionError("CONV2: each of its 16 filters is 5 x 5 x 6, across all 6 channels of its input")
    if name == "FC3" and n_params == 400 * 120:
        raise AssertionError("FC3 has 400 x 120 weights and 120 biases: the biases are missing")
    if name == "FC3" and n_params == 400 * 120 + 400:
        raise AssertionError("FC3 has 400 x 120 weights and one bias per output unit (120), not per input (400)")
    assert n_params == want_params, f"{name}: expected {want_params:,} parameters, got {n_params:,}"
total = sum(n for _, n in table)
assert total == 61_706, f"expected 61,706 parameters in all (the lectures' 'about 60k'), got {total:,}"
table = layer_table(LENET5, (32, 32, 3))  # colour input: only CONV1 changes
assert table[0] == ((28, 28, 6), 456), f"a 32 x 32 x 3 input: expected CONV1 ((28, 28, 6), 456), got {table[0]}"
assert table[2:] == expected[2:], "a 32 x 32 x 3 input changes CONV1's parameters, but no later row"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.models import AlexNet as _AlexNet, summary as _summary

_ALEXNET = [
    ("conv", 11, 96, 4, 0),
    ("pool", 3, 2),
    ("conv", 5, 256, 1, 2),
    ("pool", 3, 2),
    ("conv", 3, 384, 1, 1),
    ("conv", 3, 384, 1, 1),
    ("conv", 3, 256, 1, 1),
    ("pool", 3, 2),
    ("fc", 4096),
    ("fc", 4096),
    ("fc", 1000),
]
_want = [
    ((55, 55, 96), 34_944),
    ((27, 27, 96), 0),
    ((27, 27, 256), 614_656),
    ((13, 13, 256), 0),
    ((13, 13, 384), 885_120),
    ((13, 13, 384), 1_327_488),
    ((13, 13, 256), 884_992),
    ((6, 6, 256), 0),
    ((4096,), 37_752_832),
    ((4096,), 16_781_312),
    ((1000,), 4_097_000),
]
_got = layer_table(_ALEXNET, (227, 227, 3))
assert _got == _want, f"AlexNet on 227 x 227 x 3: expected\n{_want}\ngot\n{_got}"
with torch.device("meta"):
    _model = _AlexNet()
_rows = [
    (_r.output_shape[1:] + _r.output_shape[:1] if len(_r.output_shape) == 3 else _r.output_shape, _r.parameters)
    for _r in _summary(_model, (3, 227, 227), device="meta").rows
    if _r.kind in ("Conv2d", "MaxPool2d", "Linear")
]
assert _got == _rows, "AlexNet: the table differs from cvbook.models.summary's"
assert sum(_n for _, _n in _got) == 62_378_344, "AlexNet: expected 62,378,344 parameters in all"
# LeNet-5 on other inputs and class counts.
_got = layer_table(LENET5[:-1] + [("fc", 26)], (32, 32, 1))
assert _got[-1] == ((26,), 84 * 26 + 26), f"LeNet-5 with 26 classes: expected ((26,), 2210), got {_got[-1]}"
_got = layer_table(LENET5, (36, 36, 1))
assert _got[3] == ((6, 6, 16), 0) and _got[4] == ((120,), 6 * 6 * 16 * 120 + 120), (
    f"LeNet-5 on 36 x 36: expected POOL2 ((6, 6, 16), 0) and FC3 ((120,), 69240), got {_got[3]} and {_got[4]}"
)
_got = layer_table(LENET5, (35, 35, 1))  # 35 -> 31 -> 15 (15.5 rounded down) -> 11 -> 5
assert [_row[0] for _row in _got[:4]] == [(31, 31, 6), (15, 15, 6), (11, 11, 16), (5, 5, 16)], (
    f"LeNet-5 on 35 x 35: expected (31, 31, 6), (15, 15, 6), (11, 11, 16), (5, 5, 16) (pooling rounds down), got {_got[:4]}"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_general_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of layer_table on strides, padding, rectangles and errors (2 points).
table = layer_table([("conv", 11, 96, 4, 0), ("pool", 3, 2)], (227, 227, 3))  # AlexNet's first two layers
assert table == [((55, 55, 96), 34_944), ((27, 27, 96), 0)], (
    f"AlexNet's CONV1 (96 filters 11 x 11, stride 4) and POOL1 (3 x 3, stride 2): expected "
    f"[((55, 55, 96), 34944), ((27, 27, 96), 0)], got {table}"
)
table = layer_table([("conv", 3, 4, 2, 1)], (9, 5, 2))  # a rectangle: H and W apart
assert table == [((5, 3, 4), 76)], (
    f"3 x 3 conv, stride 2, padding 1, on 9 x 5 x 2: expected [((5, 3, 4), 76)], got {table}"
)
table = layer_table([("pool", 2, 2)], (7, 7, 5))  # floor((7 - 2) / 2) + 1 = 3
assert table == [((3, 3, 5), 0)], (
    f"2 x 2 pool, stride 2, on 7 x 7 x 5: expected [((3, 3, 5), 0)] (round down), got {table}"
)
table = layer_table([("conv", 3, 8, 1, 1), ("conv", 3, 8, 1, 1)], (6, 6, 8))  # 'same' convs keep the size
assert table == [((6, 6, 8), 584), ((6, 6, 8), 584)], f"expected [((6, 6, 8), 584)] * 2, got {table}"
table = layer_table([("fc", 10)], (4, 4, 3))  # an fc layer straight on the input flattens it
assert table == [((10,), 490)], f"fc 10 on a 4 x 4 x 3 input (48 values): expected [((10,), 490)], got {table}"
assert layer_table([], (8, 8, 1)) == [], "no layers, no rows"
spec = [("conv", 3, 4, 1, 1), ("pool", 2, 2), ("fc", 5)]
layer_table(spec, (8, 8, 1))
assert spec == [("conv", 3, 4, 1, 1), ("pool", 2, 2), ("fc", 5)], (
    f"layer_table must not change the list of layers, now {spec}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

from cvbook.models import summary as _summary


def _reference_rows(_spec, _shape):
    """Build the spec in PyTorch and read the table off cvbook.models.summary."""
    _h, _w, _c = _shape
    _mods = []
    for _layer in _spec:
        if _layer[0] == "conv":
            _mods.append(_nn.Conv2d(_c, _layer[2], _layer[1], stride=_layer[3], padding=_layer[4]))
            _c = _layer[2]
        elif _layer[0] == "pool":
            _mods.append(_nn.MaxPool2d(_layer[1], _layer[2]))
        else:
            if not any(isinstance(_m, _nn.Flatten) for _m in _mods):
                _mods.append(_nn.Flatten())
            _n_in = _nn.Sequential(*_mods)(torch.zeros(1, _shape[2], _h, _w)).shape[1]
            _mods.append(_nn.Linear(_n_in, _layer[1]))
    _rows = _summary(_nn.Sequential(*_mods), (_shape[2], _h, _w)).rows
    return [
        (_r.output_shape[1:] + _r.output_shape[:1] if len(_r.output_shape) == 3 else _r.output_shape, _r.parameters)
        for _r in _rows
        if _r.kind in ("Conv2d", "MaxPool2d", "Linear")
    ]


_rng = np.random.default_rng(41)
for _trial in range(12):
    _shape = (int(_rng.integers(6, 24)), int(_rng.integers(6, 24)), int(_rng.integers(1, 6)))
    _spec, _h, _w = [], _shape[0], _shape[1]
    for _ in range(int(_rng.integers(1, 5))):
        if _rng.random() < 0.6:
            _f = int(_rng.choice([1, 3, 5]))
            _s, _p, _n = int(_rng.integers(1, 3)), int(_rng.integers(0, _f // 2 + 1)), int(_rng.integers(1, 9))
            if min(_h, _w) + 2 * _p < _f:
                continue
            _spec.append(("conv", _f, _n, _s, _p))
            _h, _w = (_h + 2 * _p - _f) // _s + 1, (_w + 2 * _p - _f) // _s + 1
        else:
            _f, _s = int(_rng.integers(2, 4)), int(_rng.integers(1, 3))
            if min(_h, _w) < _f:
                continue
            _spec.append(("pool", _f, _s))
            _h, _w = (_h - _f) // _s + 1, (_w - _f) // _s + 1
    _spec += [("fc", int(_rng.integers(1, 30))) for _ in range(int(_rng.integers(0, 3)))]
    _before = list(_spec)
    _want, _got = _reference_rows(_spec, _shape), layer_table(_spec, _shape)
    assert _got == _want, f"layers {_spec} on {_shape}: expected\n{_want} (cvbook.models.summary)\ngot\n{_got}"
    assert _spec == _before, "layer_table must not change the list of layers"
assert layer_table([("conv", 5, 2, 1, 2)], (1, 1, 1)) == [((1, 1, 2), 52)], (
    "a 5 x 5 conv with padding 2 fits a 1 x 1 input"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of layer_table (1 point).
with expect_error(ValueError, "an unknown kind 'dense' (the kinds are 'conv', 'pool' and 'fc')"):
    layer_table([("dense", 10)], (8, 8, 1))
with expect_error(ValueError, "a conv layer after an fc layer (its input is no longer (H, W, C))"):
    layer_table([("fc", 10), ("conv", 3, 4, 1, 1)], (8, 8, 1))
with expect_error(ValueError, "a 7 x 7 filter on a 5 x 5 input without padding (it does not fit)"):
    layer_table([("conv", 7, 4, 1, 0)], (5, 5, 1))
try:
    rows = layer_table([("conv", 7, 4, 1, 1)], (5, 5, 1))
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"a 7 x 7 filter fits a 5 x 5 input padded by 1 (5 + 2 = 7), but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _spec, _shape in [
    ([("conv", 5, 2, 1, 0)], (4, 9, 1)),
    ([("pool", 3, 1)], (9, 2, 4)),
    ([("conv", 3, 2, 2, 1), ("conv", 5, 2, 1, 0)], (4, 4, 1)),
]:
    with expect_error(ValueError, f"layers {_spec} on {_shape}: a filter does not fit"):
        layer_table(_spec, _shape)
with expect_error(ValueError, "a pool layer after an fc layer"):
    layer_table([("conv", 3, 4, 1, 1), ("fc", 10), ("pool", 2, 2)], (8, 8, 1))
with expect_error(ValueError, "an unknown kind 'relu'"):
    layer_table([("conv", 3, 4, 1, 1), ("relu",)], (8, 8, 1))
### END HIDDEN TESTS

# %% [markdown]
# The same function gives AlexNet's table, with the lectures' 6 × 6 × 256 = 9,216
# features before the first fully connected layer and about 60 million parameters:

# %%
# NBVAL_CHECK_OUTPUT
ALEXNET = [
    ("conv", 11, 96, 4, 0),
    ("pool", 3, 2),
    ("conv", 5, 256, 1, 2),
    ("pool", 3, 2),
    ("conv", 3, 384, 1, 1),
    ("conv", 3, 384, 1, 1),
    ("conv", 3, 256, 1, 1),
    ("pool", 3, 2),
    ("fc", 4096),
    ("fc", 4096),
    ("fc", 1000),
]
table = layer_table(ALEXNET, (227, 227, 3))
print(f"{'layer':<28} {'output shape':<16} {'parameters':>12}")
for layer, (shape, n_params) in zip(ALEXNET, table):
    print(f"{str(layer):<28} {str(shape):<16} {n_params:>12,}")
print(f"{'total':<28} {'':<16} {sum(n for _, n in table):>12,}")
print(f"flattened features before the first fc layer: {int(np.prod(table[7][0])):,}")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: why AlexNet's input is 227 × 227 (3 points)
#
# The AlexNet paper says its input is 224 × 224, but its numbers only work out for
# 227 × 227 (the lectures point this out). With $n = 227$, the first layer (11 × 11,
# stride 4, no padding) gives $(227 - 11)/4 + 1 = 55$ exactly; with $n = 224$,
# $(224 - 11)/4 = 53.25$ is not an integer: PyTorch rounds down to 54 and the filter's
# last step stops one pixel before the border, which it never sees.
#
# `spatial_sizes(input_size, layers, exact=False)`
# : `input_size` is a positive int, the height (or width) of a square input. `layers` is
#   a list of `(f, s, p)` tuples, one per convolution or pooling layer: filter size,
#   stride and padding. Return the list of the output sizes (ints) after each layer,
#   $n_{l} = \lfloor (n_{l-1} + 2p - f) / s \rfloor + 1$. Raise `ValueError` if a filter
#   does not fit in its padded input ($n + 2p < f$), and, when `exact` is true, also if
#   the division is not exact ($n + 2p - f$ not a multiple of $s$), naming the layer.
#
# Points: the sizes 2, the `ValueError`s (a filter that does not fit, `exact=True`) 1.
#
# Worked example, AlexNet's eight size-changing layers (CONV1, POOL1, CONV2, POOL2,
# CONV3-5, POOL3):
#
# ```python
# >>> ALEXNET_SIZES = [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]
# >>> spatial_sizes(227, ALEXNET_SIZES)
# [55, 27, 27, 13, 13, 13, 13, 6]
# >>> spatial_sizes(224, ALEXNET_SIZES)
# [54, 26, 26, 12, 12, 12, 12, 5]
# >>> spatial_sizes(224, ALEXNET_SIZES, exact=True)
# ValueError: layer 0: (224 + 0 - 11) / 4 is not an integer
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def spatial_sizes(input_size, layers, exact=False):
    """Output size after each (f, s, p) layer for an input_size x input_size input; a list of ints."""
    ### BEGIN SOLUTION
    sizes, n = [], input_size
    for k, (f, s, p) in enumerate(layers):
        span = n + 2 * p - f
        if span < 0:
            raise ValueError(f"layer {k}: a filter of size {f} does not fit in an input of size {n} with padding {p}")
        if exact and span % s:
            raise ValueError(f"layer {k}: ({n} + {2 * p} - {f}) / {s} is not an integer")
        n = span // s + 1
        sizes.append(n)
    return sizes
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_spatial_sizes_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of spatial_sizes (2 points).
ALEXNET_SIZES = [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]
sizes = spatial_sizes(227, ALEXNET_SIZES)  # the worked example
assert isinstance(sizes, list), f"expected a list, got {type(sizes).__name__}"
assert all(isinstance(n, int) for n in sizes), (
    f"expected ints, got {[type(n).__name__ for n in sizes]} (use // for the floor division)"
)
assert sizes == [55, 27, 27, 13, 13, 13, 13, 6], f"227 x 227: expected [55, 27, 27, 13, 13, 13, 13, 6], got {sizes}"
sizes = spatial_sizes(224, ALEXNET_SIZES)
if sizes[0] == 55:
    raise AssertionError("224 x 224: (224 - 11) / 4 + 1 = 54.25 rounds down to 54 (PyTorch floors), not up to 55")
assert sizes == [54, 26, 26, 12, 12, 12, 12, 5], f"224 x 224: expected [54, 26, 26, 12, 12, 12, 12, 5], got {sizes}"
assert spatial_sizes(227, ALEXNET_SIZES, exact=True) == [55, 27, 27, 13, 13, 13, 13, 6], (
    "227 x 227 divides exactly at every layer: exact=True must not raise and must give the same sizes"
)
assert spatial_sizes(32, [(5, 1, 0), (2, 2, 0), (5, 1, 0), (2, 2, 0)]) == [28, 14, 10, 5], (
    "LeNet-5: expected [28, 14, 10, 5]"
)
assert spatial_sizes(7, [(7, 1, 0)], exact=True) == [1], "a 7 x 7 filter on a 7 x 7 input fits once: expected [1]"
assert spatial_sizes(5, []) == [], "no layers, no sizes"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

from cvbook.models import AlexNet as _AlexNet

_rng = np.random.default_rng(42)
for _trial in range(20):
    _n = int(_rng.integers(5, 64))
    _layers, _x = [], torch.empty(1, 1, _n, _n, device="meta")
    _exact = True
    for _ in range(int(_rng.integers(1, 6))):
        _f, _s = int(_rng.integers(1, 8)), int(_rng.integers(1, 5))
        _p = int(_rng.integers(0, _f // 2 + 1))
        if _x.shape[-1] + 2 * _p < _f:
            continue
        _exact = _exact and (_x.shape[-1] + 2 * _p - _f) % _s == 0
        _x = _nn.Conv2d(1, 1, _f, stride=_s, padding=_p, device="meta")(_x)
        _layers.append((_f, _s, _p))
    if not _layers:
        continue
    _got = spatial_sizes(_n, _layers)
    assert _got[-1] == _x.shape[-1] and len(_got) == len(_layers), (
        f"input {_n}, layers {_layers}: expected a last size of {_x.shape[-1]} (nn.Conv2d), got {_got}"
    )
    if _exact:
        assert spatial_sizes(_n, _layers, exact=True) == _got, f"input {_n}, layers {_layers}: every division is exact"
# AlexNet's output size for other inputs, against the network itself (on the meta device: no computation).
with torch.device("meta"):
    _model = _AlexNet()
for _n in (67, 163, 195, 200, 259, 300):
    _want = _model.features(torch.empty(1, 3, _n, _n, device="meta")).shape[-1]
    _got = spatial_sizes(_n, ALEXNET_SIZES)
    assert _got[-1] == _want, f"AlexNet on {_n} x {_n}: expected a last size of {_want}, got {_got}"
# torchvision's AlexNet pads the first layer by 2: 224 -> 55, but (224 + 4 - 11) / 4 is not exact either.
_tv = [(11, 4, 2)] + ALEXNET_SIZES[1:]
assert spatial_sizes(224, _tv) == [55, 27, 27, 13, 13, 13, 13, 6], "torchvision's AlexNet on 224: expected 55 ... 6"
assert spatial_sizes(3, [(5, 1, 1)], exact=True) == [1], "a 5 x 5 filter fits a 3 x 3 input padded by 1"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_exact_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of spatial_sizes: a filter that does not fit, and exact=True (1 point).
ALEXNET_SIZES = [(11, 4, 0), (3, 2, 0), (5, 1, 2), (3, 2, 0), (3, 1, 1), (3, 1, 1), (3, 1, 1), (3, 2, 0)]
with expect_error(ValueError, "224 x 224 with exact=True ((224 - 11) / 4 = 53.25 is not an integer)"):
    spatial_sizes(224, ALEXNET_SIZES, exact=True)
with expect_error(ValueError, "55 x 55 with exact=True at the last layer ((13 - 3) / 2 is exact, (6 - 2) / 4 is not)"):
    spatial_sizes(55, [(3, 2, 0), (3, 2, 0), (2, 4, 0)], exact=True)
with expect_error(ValueError, "a 7 x 7 filter on a 5 x 5 input without padding (5 + 0 < 7: it does not fit)"):
    spatial_sizes(5, [(7, 1, 0)])
assert spatial_sizes(227, ALEXNET_SIZES, exact=True) == [55, 27, 27, 13, 13, 13, 13, 6], (
    "227 x 227 divides exactly at every layer: exact=True must not raise and must give the same sizes"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

_rng = np.random.default_rng(43)
for _trial in range(20):
    _n = int(_rng.integers(5, 64))
    _layers, _m, _exact = [], _n, True
    for _ in range(int(_rng.integers(1, 6))):
        _f, _s = int(_rng.integers(1, 8)), int(_rng.integers(1, 5))
        _p = int(_rng.integers(0, _f // 2 + 1))
        if _m + 2 * _p < _f:
            continue
        _exact = _exact and (_m + 2 * _p - _f) % _s == 0
        _m = (_m + 2 * _p - _f) // _s + 1
        _layers.append((_f, _s, _p))
    if _layers and not _exact:
        with expect_error(ValueError, f"input {_n}, layers {_layers} with exact=True"):
            spatial_sizes(_n, _layers, exact=True)
with expect_error(ValueError, "(224 + 4 - 11) / 4 with exact=True: the padding counts"):
    spatial_sizes(224, [(11, 4, 2)] + ALEXNET_SIZES[1:], exact=True)
with expect_error(ValueError, "a filter of size 5 on 2 pixels padded by 1"):
    spatial_sizes(2, [(5, 1, 1)])
with expect_error(ValueError, "a filter that no longer fits at the third layer"):
    spatial_sizes(9, [(3, 2, 0), (3, 2, 0), (3, 1, 0)])
### END HIDDEN TESTS

# %% [markdown]
# Which input sizes does every AlexNet layer divide exactly? They come 32 pixels
# apart, the product of the strides $4 \cdot 2 \cdot 2 \cdot 2$, and 227 is the one
# closest to 224:


# %%
# NBVAL_CHECK_OUTPUT
def divides_exactly(n, layers):
    try:
        spatial_sizes(n, layers, exact=True)
    except ValueError:
        return False
    return True


print("exact sizes from 100 to 400:", [n for n in range(100, 401) if divides_exactly(n, ALEXNET_SIZES)])
for n in (224, 227):
    last = spatial_sizes(n, ALEXNET_SIZES)[-1]
    print(f"{n} x {n} input: {last} x {last} x 256 = {last * last * 256:,} features")

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: three 3 × 3 convolutions or one 7 × 7? (3 points)
#
# VGG uses only 3 × 3 convolutions. A stack of $n$ of them (stride 1) sees as much of
# the input as one $(2n+1) \times (2n+1)$ convolution: each layer widens the receptive
# field by $f - 1 = 2$ pixels. But the stack has fewer weights, and $n$ non-linearities
# instead of one.
#
# `stacked_vs_single(c, n_layers=3)`
# : `c` and `n_layers` are positive ints. Compare `n_layers` stacked 3 × 3 convolutions,
#   stride 1, from `c` to `c` channels, with one $(2n+1) \times (2n+1)$ convolution from
#   `c` to `c` channels, both **without biases**. Return a dict of four ints:
#   `"stacked_params"` and `"single_params"` (the numbers of weights),
#   `"stacked_rf"` and `"single_rf"` (the receptive fields, in input pixels along one
#   axis). Raise `ValueError` if `c` or `n_layers` is not a positive int (`0`, `-1`,
#   `64.0` and `True` are refused: a `bool` is an `int` in Python, but not a count).
#
# Worked example, the VGG paper's case (three 3 × 3 layers against one 7 × 7, 64 channels):
#
# ```python
# >>> stacked_vs_single(64)
# {'stacked_params': 110592, 'single_params': 200704, 'stacked_rf': 7, 'single_rf': 7}
# ```
#
# that is $3 \cdot 9 c^2 = 27 c^2$ against $49 c^2$ weights, 45 % fewer.


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stacked_vs_single(c, n_layers=3):
    """Weights and receptive fields of n_layers stacked 3x3 convs vs one (2n+1)x(2n+1) conv, c -> c channels."""
    ### BEGIN SOLUTION
    for name, value in (("c", c), ("n_layers", n_layers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rf = 1
    for _ in range(n_layers):
        rf += 3 - 1
    f = 2 * n_layers + 1
    return {
        "stacked_params": n_layers * 3 * 3 * c * c,
        "single_params": f * f * c * c,
        "stacked_rf": rf,
        "single_rf": f,
    }
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_stacked_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of stacked_vs_single (2 points).
result = stacked_vs_single(64)  # the worked example
assert isinstance(result, dict), f"expected a dict, got {type(result).__name__}"
keys = {"stacked_params", "single_params", "stacked_rf", "single_rf"}
assert set(result) == keys, f"expected the keys {sorted(keys)}, got {sorted(result)}"
assert all(isinstance(v, int) for v in result.values()), f"expected ints, got {result!r}"
if result["stacked_params"] == 3 * (9 * 64 + 1) * 64:
    raise AssertionError("stacked_params counts biases: count the weights only (bias=False)")
if result["stacked_params"] == 9 * 64 * 64:
    raise AssertionError("stacked_params is the count of one 3 x 3 layer: the stack has n_layers of them")
assert result["stacked_params"] == 110_592, (
    f"three 3 x 3 convs, 64 -> 64: expected 27 * 64^2 = 110,592, got {result['stacked_params']:,}"
)
assert result["single_params"] == 200_704, (
    f"one 7 x 7 conv, 64 -> 64: expected 49 * 64^2 = 200,704, got {result['single_params']:,}"
)
if result["stacked_rf"] == 9:
    raise AssertionError("receptive fields do not add up filter sizes: each 3 x 3 layer widens it by 2, 1 + 3 * 2 = 7")
assert result["stacked_rf"] == 7 and result["single_rf"] == 7, (
    f"expected receptive fields 7 and 7, got {result['stacked_rf']} and {result['single_rf']}"
)
result = stacked_vs_single(3, n_layers=2)
assert result == {"stacked_params": 162, "single_params": 225, "stacked_rf": 5, "single_rf": 5}, (
    f"c=3, two layers (vs one 5 x 5): expected 162, 225, 5, 5, got {result}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

from cvbook.conv import receptive_field as _receptive_field


def _weights(_c, _f):
    return sum(_p.numel() for _p in _nn.Conv2d(_c, _c, _f, bias=False, device="meta").parameters())


for _c, _n in [(1, 1), (1, 4), (17, 3), (256, 2), (512, 5), (5, 10)]:
    _want = {
        "stacked_params": _n * _weights(_c, 3),
        "single_params": _weights(_c, 2 * _n + 1),
        "stacked_rf": _receptive_field([(3, 1)] * _n)[-1][0],
        "single_rf": _receptive_field([(2 * _n + 1, 1)])[-1][0],
    }
    _got = stacked_vs_single(_c, n_layers=_n)
    assert _got == _want, f"c={_c}, n_layers={_n}: expected {_want}, got {_got}"
assert stacked_vs_single(8, 1)["stacked_params"] == stacked_vs_single(8, 1)["single_params"], (
    "one 3 x 3 layer is the same as one 3 x 3 layer"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of stacked_vs_single (1 point).
for args in [(64, 0), (0, 3), (64.0, 3), (True, 3)]:
    with expect_error(ValueError, f"stacked_vs_single{args} (c and n_layers must be positive ints, not bools)"):
        stacked_vs_single(*args)
assert stacked_vs_single(1, 1)["stacked_params"] == 9, (
    "stacked_vs_single(1, 1) is valid: one 3 x 3 weight set, 9 weights"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in [(-4, 3), (64, -1), (64, 2.0), (64, True), ("64", 3)]:
    with expect_error(ValueError, f"stacked_vs_single{_args}"):
        stacked_vs_single(*_args)
### END HIDDEN TESTS

# %% [markdown]
# The saving grows with depth: $9n$ against $(2n+1)^2$ weights per channel pair.

# %%
# NBVAL_CHECK_OUTPUT
for n in (1, 2, 3, 4, 5):
    r = stacked_vs_single(512, n)
    print(
        f"{n} x (3x3) vs one {r['single_rf']}x{r['single_rf']}: receptive field {r['stacked_rf']}, "
        f"weights {r['stacked_params']:>10,} vs {r['single_params']:>10,} "
        f"({1 - r['stacked_params'] / r['single_params']:.0%} fewer)"
    )

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: a VGG block (4 points)
#
# VGG-16 is five blocks of the same pattern: a few 3 × 3 "same" convolutions (stride 1,
# padding 1), each followed by a ReLU, then a 2 × 2 max pool with stride 2 that halves
# the height and width. Only the channel counts and the number of convolutions change:
# 2 × 64, 2 × 128, 3 × 256, 3 × 512, 3 × 512.
#
# `vgg_block(in_channels, out_channels, n_convs)`
# : all three are positive ints. Return an `nn.Sequential` of, in this order,
#   `n_convs` pairs `nn.Conv2d` (3 × 3, stride 1, padding 1, with bias) + `nn.ReLU`, and
#   one `nn.MaxPool2d` (2 × 2, stride 2): `2 * n_convs + 1` modules, no nested
#   `nn.Sequential`. The first convolution goes from `in_channels` to `out_channels`, the
#   others from `out_channels` to `out_channels`. An input of shape (N, in_channels, H, W)
#   gives (N, out_channels, ⌊H/2⌋, ⌊W/2⌋). Raise `ValueError` if an argument is not a
#   positive int (`0`, `-1` and `2.0` are refused). (`nn.ReLU(inplace=True)`, as in
#   torchvision, is fine.)
#
# Worked example, VGG-16's first block:
#
# ```python
# >>> block = vgg_block(3, 64, 2)
# >>> block
# Sequential(
#   (0): Conv2d(3, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
#   (1): ReLU()
#   (2): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
#   (3): ReLU()
#   (4): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
# )
# >>> block(torch.zeros(1, 3, 224, 224)).shape
# torch.Size([1, 64, 112, 112])
# >>> sum(p.numel() for p in block.parameters())
# 38720
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def vgg_block(in_channels, out_channels, n_convs):
    """nn.Sequential of n_convs (3x3 same conv + ReLU) and a 2x2 max pool; (N, C_in, H, W) -> (N, C_out, H/2, W/2)."""
    ### BEGIN SOLUTION
    for name, value in (("in_channels", in_channels), ("out_channels", out_channels), ("n_convs", n_convs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    layers = []
    for k in range(n_convs):
        layers += [
            nn.Conv2d(in_channels if k == 0 else out_channels, out_channels, 3, padding=1),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers, nn.MaxPool2d(2, 2))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_vgg_block_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of vgg_block (3 points).
def pair(value):
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


block = vgg_block(3, 64, 2)  # the worked example
assert isinstance(block, nn.Sequential), f"expected an nn.Sequential, got {type(block).__name__}"
kinds = [type(m).__name__ for m in block]
assert kinds == ["Conv2d", "ReLU", "Conv2d", "ReLU", "MaxPool2d"], (
    f"expected the modules [Conv2d, ReLU, Conv2d, ReLU, MaxPool2d], got {kinds}"
)
convs = [m for m in block if isinstance(m, nn.Conv2d)]
for k, conv in enumerate(convs):
    assert conv.kernel_size == (3, 3), f"conv {k}: expected a 3 x 3 kernel, got {conv.kernel_size}"
    assert conv.stride == (1, 1), f"conv {k}: expected stride 1, got {conv.stride}"
    assert conv.padding in ((1, 1), "same"), f"conv {k}: expected padding 1 ('same'), got {conv.padding}"
    assert conv.bias is not None, f"conv {k}: VGG's convolutions have biases"
assert (convs[0].in_channels, convs[0].out_channels) == (3, 64), (
    f"the first conv: expected 3 -> 64 channels, got {convs[0].in_channels} -> {convs[0].out_channels}"
)
assert (convs[1].in_channels, convs[1].out_channels) == (64, 64), (
    f"the second conv: expected 64 -> 64 channels, got {convs[1].in_channels} -> {convs[1].out_channels}"
)
pool = block[-1]
assert pair(pool.kernel_size) == (2, 2) and pair(pool.stride) == (2, 2), (
    f"expected a 2 x 2 max pool with stride 2, got kernel {pool.kernel_size}, stride {pool.stride}"
)
n_params = sum(p.numel() for p in block.parameters())
assert n_params == 38_720, f"expected 1,792 + 36,928 = 38,720 parameters, got {n_params:,}"
x = torch.randn(2, 3, 16, 12, generator=torch.Generator().manual_seed(0))
out = block(x)
assert tuple(out.shape) == (2, 64, 8, 6), (
    f"input (2, 3, 16, 12): expected output shape (2, 64, 8, 6), got {tuple(out.shape)}"
)
assert (out >= 0).all(), "the block ends with ReLU then max pool: its outputs cannot be negative"
block = vgg_block(128, 256, 3)
kinds = [type(m).__name__ for m in block]
assert kinds == ["Conv2d", "ReLU"] * 3 + ["MaxPool2d"], (
    f"vgg_block(128, 256, 3): expected 3 x (Conv2d, ReLU) + MaxPool2d, got {kinds}"
)
n_params = sum(p.numel() for p in block.parameters())
assert n_params == 1_475_328, (
    f"vgg_block(128, 256, 3): expected 295,168 + 2 x 590,080 = 1,475,328 parameters, got {n_params:,}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _torchvision
from torch import nn as _nn

from cvbook.models import VGG as _VGG

_STAGES = [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]


def _vgg16_features(_divide):
    _blocks, _c = [], 3
    for _n, _out in _STAGES:
        _blocks.append(vgg_block(_c, _out // _divide, _n))
        _c = _out // _divide
    return _blocks


# VGG-16's features from five blocks, against torchvision's (built on the meta device: no memory, no time).
with torch.device("meta"):
    _blocks = _vgg16_features(1)
    _tv = _torchvision.models.vgg16(weights=None).features
_mine = [_m for _b in _blocks for _m in _b]
assert [type(_m).__name__ for _m in _mine] == [type(_m).__name__ for _m in _tv], (
    "five blocks (2 x 64, 2 x 128, 3 x 256, 3 x 512, 3 x 512) must give torchvision's vgg16().features, layer by layer"
)
_count = sum(_p.numel() for _b in _blocks for _p in _b.parameters())
assert _count == sum(_p.numel() for _p in _tv.parameters()) == 14_714_688, (
    f"VGG-16's convolutional part: expected 14,714,688 parameters (torchvision), got {_count:,}"
)
assert tuple(_nn.Sequential(*_mine)(torch.empty(1, 3, 224, 224, device="meta")).shape) == (1, 512, 7, 7), (
    "VGG-16 on 224 x 224 must end at 7 x 7 x 512"
)
# Same weights, same outputs: copy a narrow cvbook VGG-16's weights into the blocks and compare.
torch.manual_seed(43)
_ref = _VGG(16, width=8).features.eval()
_mine = _nn.Sequential(*[_m for _b in _vgg16_features(8) for _m in _b]).eval()
_ref_convs = [_m for _m in _ref if isinstance(_m, _nn.Conv2d)]
_my_convs = [_m for _m in _mine if isinstance(_m, _nn.Conv2d)]
assert len(_my_convs) == len(_ref_convs) == 13, f"VGG-16 has 13 convolutions, the blocks gave {len(_my_convs)}"
with torch.no_grad():
    for _a, _b in zip(_my_convs, _ref_convs):
        _a.weight.copy_(_b.weight)
        _a.bias.copy_(_b.bias)
    _x = torch.randn(2, 3, 64, 48)
    _want, _got = _ref(_x), _mine(_x)
assert _got.shape == _want.shape and torch.allclose(_got, _want, atol=1e-5), (
    "with VGG-16's weights the blocks must compute what cvbook.models.VGG(16).features computes"
)
# One convolution, odd sizes, other channel counts.
_block = vgg_block(5, 7, 1)
assert [type(_m).__name__ for _m in _block] == ["Conv2d", "ReLU", "MaxPool2d"], "n_convs=1: Conv2d, ReLU, MaxPool2d"
assert sum(_p.numel() for _p in _block.parameters()) == 9 * 5 * 7 + 7, "vgg_block(5, 7, 1): expected 322 parameters"
assert tuple(_block(torch.zeros(1, 5, 7, 9)).shape) == (1, 7, 3, 4), "a 7 x 9 input must give 3 x 4 (rounded down)"
_block = vgg_block(4, 4, 4)
assert len(_block) == 9 and all(
    _m.in_channels == _m.out_channels == 4 for _m in _block if isinstance(_m, _nn.Conv2d)
), "vgg_block(4, 4, 4): four 4 -> 4 convolutions"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of vgg_block (1 point).
for args in [(3, 64, 0), (0, 64, 2), (3, 64, 2.0)]:
    with expect_error(ValueError, f"vgg_block{args} (every argument must be a positive int)"):
        vgg_block(*args)
assert len(vgg_block(1, 1, 1)) == 3, "vgg_block(1, 1, 1) is valid: Conv2d, ReLU, MaxPool2d"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in [(3, -1, 2), (3.0, 64, 2), (3, 64, -2), (3, "64", 2)]:
    with expect_error(ValueError, f"vgg_block{_args}"):
        vgg_block(*_args)
### END HIDDEN TESTS

# %% [markdown]
# Five blocks are VGG-16's convolutional part: 13 convolutions, 14.7 million
# parameters, and a 224 × 224 image comes out as 7 × 7 × 512 (run on the `meta`
# device, which computes shapes without any arithmetic):

# %%
# NBVAL_CHECK_OUTPUT
with torch.device("meta"):
    blocks = [
        vgg_block(3, 64, 2),
        vgg_block(64, 128, 2),
        vgg_block(128, 256, 3),
        vgg_block(256, 512, 3),
        vgg_block(512, 512, 3),
    ]
    x = torch.empty(1, 3, 224, 224)
    for k, block in enumerate(blocks, 1):
        x = block(x)
        print(
            f"block {k}: output {str(tuple(x.shape[1:])):<16} {sum(p.numel() for p in block.parameters()):>9,} parameters"
        )
print(
    f"total: {sum(p.numel() for b in blocks for p in b.parameters()):,} parameters, "
    f"{x[0].numel():,} features for the classifier"
)

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: where do the parameters live? (3 points)
#
# The convolutions of the classic networks do most of the computing, but most of the
# parameters sit in their fully connected layers. Count them.
#
# `parameter_breakdown(model)`
# : `model` is an `nn.Module`. Return a dict of three ints: `"conv"`, the parameters of
#   its `nn.Conv2d` layers; `"fc"`, those of its `nn.Linear` layers; `"other"`, all the
#   rest (batch norm, or a parameter that a module holds itself, next to its layers).
#   Every parameter counts once, trainable or frozen: the three add up to
#   `sum(p.numel() for p in model.parameters())`. Layers may sit at any depth (inside
#   `nn.Sequential`s or your own modules).
#
# `fc_fraction(model)`
# : The fraction of the model's parameters in its `nn.Linear` layers, a Python `float`
#   between 0 and 1. Raise `ValueError` if the model has no parameters.
#
# Worked example, LeNet-5 (`cvbook.models.LeNet5`, imported above):
#
# ```python
# >>> parameter_breakdown(LeNet5())
# {'conv': 2572, 'fc': 59134, 'other': 0}
# >>> fc_fraction(LeNet5())
# 0.9583184779438
# ```
#
# Hint: `model.modules()` visits every module once, the model itself included, and
# `module.parameters(recurse=False)` gives a module's own parameters only.


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def parameter_breakdown(model):
    """{'conv': ..., 'fc': ..., 'other': ...}: the model's parameters in Conv2d, Linear and other modules."""
    ### BEGIN SOLUTION
    counts = {"conv": 0, "fc": 0, "other": 0}
    for module in model.modules():
        n = sum(p.numel() for p in module.parameters(recurse=False))
        key = "conv" if isinstance(module, nn.Conv2d) else "fc" if isinstance(module, nn.Linear) else "other"
        counts[key] += n
    return counts
    ### END SOLUTION


def fc_fraction(model):
    """Fraction (a float) of the model's parameters in its Linear layers."""
    ### BEGIN SOLUTION
    counts = parameter_breakdown(model)
    total = sum(counts.values())
    if total == 0:
        raise ValueError(f"the model has no parameters: {type(model).__name__}")
    return counts["fc"] / total
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_breakdown_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of parameter_breakdown and fc_fraction (3 points).
counts = parameter_breakdown(LeNet5())  # the worked example
assert isinstance(counts, dict), f"expected a dict, got {type(counts).__name__}"
assert set(counts) == {"conv", "fc", "other"}, f"expected the keys ['conv', 'fc', 'other'], got {sorted(counts)}"
assert all(isinstance(v, int) for v in counts.values()), f"expected ints, got {counts!r}"
assert counts == {"conv": 2572, "fc": 59134, "other": 0}, (
    f"LeNet-5: expected {{'conv': 2572, 'fc': 59134, 'other': 0}}, got {counts}"
)
fraction = fc_fraction(LeNet5())
assert isinstance(fraction, float), f"expected a Python float, got {type(fraction).__name__}"
assert abs(fraction - 59134 / 61706) < 1e-12, f"LeNet-5: expected 59134 / 61706 = 0.9583, got {fraction}"


class ScaledNet(nn.Module):
    """Conv + batch norm + a classifier, and a learned temperature that the model holds itself."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
        self.temperature = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.head(self.features(x)) / self.temperature


model = ScaledNet()
counts = parameter_breakdown(model)
total = sum(p.numel() for p in model.parameters())
assert sum(counts.values()) == total, (
    f"the three counts must add up to the model's {total} parameters, got {counts} (sum {sum(counts.values())})"
)
if counts["other"] == 8:
    raise AssertionError(
        "the temperature (1 parameter held by the model itself, not by a layer) is missing from 'other'"
    )
assert counts == {"conv": 112, "fc": 10, "other": 9}, (
    f"ScaledNet: expected conv 3*3*3*4 + 4 = 112, fc 4*2 + 2 = 10, other 8 (batch norm) + 1 (temperature) = 9, got {counts}"
)
assert abs(fc_fraction(model) - 10 / 131) < 1e-12, f"ScaledNet: expected 10 / 131, got {fc_fraction(model)}"
assert fc_fraction(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())) == 0.0, "a network without Linear layers: expected 0.0"
with expect_error(ValueError, "a model without parameters (nn.ReLU())"):
    fc_fraction(nn.ReLU())
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _torchvision
from torch import nn as _nn

from cvbook.models import VGG as _VGG, AlexNet as _AlexNet


def _reference(_model):
    _counts = {"conv": 0, "fc": 0, "other": 0}
    for _m in _model.modules():
        _n = sum(_p.numel() for _p in _m.parameters(recurse=False))
        _counts["conv" if isinstance(_m, _nn.Conv2d) else "fc" if isinstance(_m, _nn.Linear) else "other"] += _n
    return _counts


with torch.device("meta"):
    _vgg16 = _torchvision.models.vgg16(weights=None)
    _models = {
        "VGG-16 (torchvision)": _vgg16,
        "AlexNet (paper)": _AlexNet(),
        "ResNet-18 (torchvision)": _torchvision.models.resnet18(weights=None),
        "VGG-11 with batch norm": _VGG(11, batch_norm=True, width=4, num_classes=37),
    }
_got = parameter_breakdown(_vgg16)
assert _got == {"conv": 14_714_688, "fc": 123_642_856, "other": 0}, (
    f"VGG-16: expected conv 14,714,688, fc 123,642,856, got {_got}"
)
assert abs(fc_fraction(_vgg16) - 123_642_856 / 138_357_544) < 1e-12, "VGG-16: expected an fc fraction of 0.8936"
for _name, _model in _models.items():
    _want, _got = _reference(_model), parameter_breakdown(_model)
    assert _got == _want, f"{_name}: expected {_want}, got {_got}"
    _frac = fc_fraction(_model)
    assert isinstance(_frac, float) and abs(_frac - _want["fc"] / sum(_want.values())) < 1e-12, (
        f"{_name}: expected {_want['fc'] / sum(_want.values()):.6f}, got {_frac}"
    )
# Frozen parameters count; so do parameters held by a container at any depth.
_model = _nn.Sequential(_nn.Conv2d(2, 3, 3), _nn.Sequential(_nn.Flatten(), _nn.Linear(12, 5, bias=False)))
for _p in _model[0].parameters():
    _p.requires_grad_(False)
_model[1].register_parameter("offset", _nn.Parameter(torch.zeros(7)))
assert parameter_breakdown(_model) == {"conv": 57, "fc": 60, "other": 7}, (
    f"frozen conv, Linear without bias, a parameter in a nested container: expected conv 57, fc 60, other 7, "
    f"got {parameter_breakdown(_model)}"
)
assert abs(fc_fraction(_model) - 60 / 124) < 1e-12, "expected 60 / 124"
assert parameter_breakdown(_nn.Linear(3, 2)) == {"conv": 0, "fc": 8, "other": 0}, "a bare Linear layer: expected fc 8"
assert fc_fraction(_nn.Linear(3, 2)) == 1.0, "a bare Linear layer: expected 1.0"
assert parameter_breakdown(_nn.Sequential(_nn.ReLU())) == {"conv": 0, "fc": 0, "other": 0}, "no parameters: all zero"
with expect_error(ValueError, "a model without parameters (nn.Sequential(nn.Flatten()))"):
    fc_fraction(_nn.Sequential(_nn.Flatten()))
### END HIDDEN TESTS

# %% [markdown]
# The three classic networks of the chapter, built on the `meta` device (parameters
# without memory) with the book's models: from LeNet-5 to VGG-16 the parameter count
# grows more than 2,000-fold, and about nine in ten parameters sit in the fully
# connected layers. ResNet-18 (Chapter 5) replaces them by a global average pool and a
# single small Linear layer:

# %%
# NBVAL_CHECK_OUTPUT
import torchvision

from cvbook.models import VGG, AlexNet

with torch.device("meta"):
    networks = {
        "LeNet-5": LeNet5(),
        "AlexNet": AlexNet(),
        "VGG-16": VGG(16),
        "ResNet-18": torchvision.models.resnet18(weights=None),
    }
print(f"{'network':<10} {'conv':>12} {'fc':>13} {'other':>8} {'fc share':>9}")
for name, net in networks.items():
    counts = parameter_breakdown(net)
    print(f"{name:<10} {counts['conv']:>12,} {counts['fc']:>13,} {counts['other']:>8,} {fc_fraction(net):>9.1%}")

# %% [markdown]
# Chapter 5 goes deeper: residual networks, 1 × 1 convolutions and Inception, which
# train networks far deeper than VGG-16 with fewer parameters.
