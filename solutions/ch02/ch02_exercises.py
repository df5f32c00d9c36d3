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
# # Chapter 2 exercises: convolution from scratch
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch02/ch02_exercises.ipynb)
#
# Six exercises on Chapter 2, *Convolution from scratch*: the output-size formula, a
# convolution of one channel with stride and padding written by hand, the convolution
# of a volume by a bank of filters, max and average pooling, a hand-designed filter
# that finds diagonal edges, and the receptive field of a stack of layers. 21 points
# in all.
#
# As in PyTorch and the chapter, "convolution" means **cross-correlation**: the kernel
# slides over the image as it is, it is **not** flipped.
#
# **How to work**
#
# - Run the cells from the top, in order (in Colab the first cell installs the book's
#   package, `cvbook`; elsewhere it does nothing).
# - Each exercise says what to implement, gives the function's signature and one
#   worked example. Write your code in the cell below it, in place of the lines
#   `# YOUR CODE HERE` and `raise NotImplementedError()`. Keep the function's name and
#   arguments. Use NumPy and PyTorch; do not call the library function that an
#   exercise imitates: here `torch.nn.functional.conv2d` (or `nn.Conv2d`), the pooling
#   functions of `torch.nn.functional` (or `nn.MaxPool2d`, `nn.AvgPool2d`) and the
#   book's `cvbook.conv`. The tests check it: they make those functions fail while
#   your code runs. Slicing, `sum`, `amax`, `mean`, `torch.nn.functional.pad` and
#   `Tensor.unfold` are all allowed.
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
#   `ch02_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch02_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
from contextlib import contextmanager

import numpy as np
import torch

from cvbook.checks import expect_error, refusing
from cvbook.conv import conv2d_naive as _book_conv2d

CONV_LIBRARY = ("torch.conv2d", "torch.nn.functional.conv2d", "cvbook.conv.conv2d_naive", "cvbook.conv.conv2d_im2col")


@contextmanager
def book_conv2d_single(_reference=_book_conv2d):
    """Used by the tests of exercise 3: the book's conv2d_single stands in for yours while conv2d_volume
    runs, so that a slip in exercise 2 costs exercise 2's points only."""
    global conv2d_single
    yours = globals().get("conv2d_single")

    def book(image, kernel, stride=1, padding=0):
        dtype = torch.result_type(image, kernel)
        return _reference(image[None, None].to(dtype), kernel[None, None].to(dtype), stride=stride, padding=padding)[
            0, 0
        ]

    conv2d_single = book
    try:
        yield
    finally:
        conv2d_single = yours


del _book_conv2d
POOL_LIBRARY = (
    "torch.max_pool2d",
    "torch.nn.functional.max_pool2d",
    "torch.nn.functional.max_pool2d_with_indices",
    "torch.nn.functional.avg_pool2d",
    "torch.nn.functional.adaptive_max_pool2d",
    "torch.nn.functional.adaptive_avg_pool2d",
    "cvbook.conv.pool2d",
)

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: the output size of a convolution (3 points)
#
# An $n \times n$ input, padded with $p$ zeros on every side and scanned by an
# $f \times f$ filter that moves $s$ pixels at a time, gives an output of
#
# $$\left\lfloor \frac{n + 2p - f}{s} \right\rfloor + 1$$
#
# values along each axis. The same formula holds for pooling windows.
#
# `output_size(n, f, p=0, s=1)`
# : Return this size as a Python `int`. Raise `ValueError` if `n` or `f` is not a
#   positive integer, `p` is not an integer $\ge 0$, `s` is not an integer $\ge 1$, or
#   the filter does not fit in the padded input ($f > n + 2p$).
#
# Worked examples, a 6 × 6 image and a 3 × 3 filter: "valid" (no padding), "same"
# (padding $p = (f - 1) / 2$ keeps the size), and with a stride of 2:
#
# ```python
# >>> output_size(6, 3), output_size(6, 3, p=1), output_size(7, 3, s=2)
# (4, 6, 3)
# ```
#
# Points: the size 2, the `ValueError`s 1.


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def output_size(n, f, p=0, s=1):
    """Size along one axis of the output of an f x f filter, padding p, stride s, on an n x n input."""
    ### BEGIN SOLUTION
    for name, value, minimum in (("n", n, 1), ("f", f, 1), ("p", p, 0), ("s", s, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if f > n + 2 * p:
        raise ValueError(f"a filter of size {f} does not fit an input of size {n} padded by {p}")
    return (n + 2 * p - f) // s + 1
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_output_size_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of output_size (2 points).
size = output_size(6, 3)  # the worked examples
assert isinstance(size, int), f"expected a Python int, got {type(size).__name__}"
assert size == 4, f"output_size(6, 3): a 'valid' convolution gives n - f + 1 = 4, got {size}"
size = output_size(6, 3, p=1)
assert size == 6, f"output_size(6, 3, p=1): padding (f - 1) / 2 = 1 keeps the size 6, got {size}"
size = output_size(7, 3, s=2)
assert size == 3, f"output_size(7, 3, s=2): expected (7 - 3) // 2 + 1 = 3, got {size}"
size = output_size(8, 3, s=2)
assert size == 3, f"output_size(8, 3, s=2): expected floor((8 - 3) / 2) + 1 = 3 (round down), got {size}"
size = output_size(32, 5, p=2, s=1)
assert size == 32, f"output_size(32, 5, p=2): expected 32, got {size}"
assert output_size(3, 3) == 1, f"a filter as large as the input gives one value, got {output_size(3, 3)}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

from cvbook.conv import conv_output_size as _reference

for _n, _f, _p, _s in [
    (28, 5, 0, 1),
    (227, 11, 0, 4),
    (7, 3, 1, 2),
    (5, 5, 0, 3),
    (224, 7, 3, 2),
    (13, 3, 1, 1),
    (10, 4, 0, 3),
    (1, 1, 0, 1),
    (2, 5, 2, 1),
    (9, 2, 0, 2),
]:
    _got = output_size(_n, _f, p=_p, s=_s)
    _conv = _nn.Conv2d(1, 1, _f, stride=_s, padding=_p, device="meta")  # shapes only, no memory
    _want = _conv(torch.empty(1, 1, _n, _n, device="meta")).shape[-1]
    assert isinstance(_got, int), f"expected a Python int, got {type(_got).__name__}"
    assert _got == _want == _reference(_n, _f, _p, _s), (
        f"output_size({_n}, {_f}, p={_p}, s={_s}): expected {_want}, got {_got}"
    )
assert output_size(3, 5, p=1) == 1, "a 5 x 5 filter fits a 3 x 3 input padded by 1"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of output_size (1 point).
with expect_error(ValueError, "a 7 x 7 filter on a 4 x 4 input (it does not fit)"):
    output_size(4, 7)
with expect_error(ValueError, "a stride of 0 (s must be an int >= 1)"):
    output_size(6, 3, s=0)
try:
    output_size(3, 5, p=1)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"output_size(3, 5, p=1) (a 5 x 5 filter fits a 3 x 3 input padded by 1) is valid input, but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in [(3, 5, 0, 1), (2, 7, 2, 1), (0, 1, 0, 1), (5, 0, 0, 1), (5, 3, -1, 1), (5, 3, 0, -2)]:
    with expect_error(ValueError, f"output_size(n={_args[0]}, f={_args[1]}, p={_args[2]}, s={_args[3]})"):
        output_size(*_args)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: convolution of one channel, with stride and padding (5 points)
#
# Convolving an image $x$ with an $f \times f$ kernel $w$ puts a window of $f \times f$
# pixels on the image, multiplies it element by element with the kernel, sums, and
# moves the window $s$ pixels at a time, first along the row, then down:
#
# $$y[i, j] = \sum_{u=0}^{f-1} \sum_{v=0}^{f-1} x_p[i s + u,\; j s + v]\; w[u, v],$$
#
# where $x_p$ is the image with $p$ rows and columns of zeros added on every side.
#
# `conv2d_single(image, kernel, stride=1, padding=0)`
# : `image` is a tensor of shape (H, W) (the image need not be square), `kernel` a
#   tensor of shape (f, f). Return the tensor $y$ of shape (H_out, W_out), with
#   $H_{out} = \lfloor (H + 2p - f) / s \rfloor + 1$ and $W_{out}$ likewise. Its dtype
#   is `torch.result_type(image, kernel)`: integers stay integers (and exact), a
#   `uint8` image with a float kernel gives floats; convert both tensors to that dtype
#   **before** multiplying (a `uint8` product overflows past 255). Do not flip the
#   kernel, and do not change `image`. Raise `ValueError` if `image` is not 2-D,
#   `kernel` is not square and 2-D, `stride` is not an int $\ge 1$, `padding` is not
#   an int $\ge 0$, or the kernel does not fit in the padded image.
#
# Do not call `torch.nn.functional.conv2d`: two loops over the output positions are
# fine (the images here are tiny), and `Tensor.unfold` makes it a one-liner for the
# curious (`torch.nn.functional.unfold`, the im2col of the chapter, does not take
# integer tensors).
#
# Worked example, the vertical-edge detector of the lecture:
#
# ```python
# >>> image = torch.tensor([[3, 0, 1, 2, 7, 4],
# ...                       [1, 5, 8, 9, 3, 1],
# ...                       [2, 7, 2, 5, 1, 3],
# ...                       [0, 1, 3, 1, 7, 8],
# ...                       [4, 2, 1, 6, 2, 8],
# ...                       [2, 4, 5, 2, 3, 9]])
# >>> kernel = torch.tensor([[1, 0, -1],
# ...                        [1, 0, -1],
# ...                        [1, 0, -1]])
# >>> conv2d_single(image, kernel)
# tensor([[ -5,  -4,   0,   8],
#         [-10,  -2,   2,   3],
#         [  0,  -2,  -4,  -7],
#         [ -3,  -2,  -3, -16]])
# >>> conv2d_single(image, kernel, stride=2, padding=1)
# tensor([[ -5,  -6,   6],
#         [-13,  -2,   3],
#         [ -7,  -2, -16]])
# ```
#
# The top-left value of the first result is the window `[[3, 0, 1], [1, 5, 8], [2, 7, 2]]`
# times the kernel: $3 + 1 + 2 - 1 - 8 - 2 = -5$.
#
# Points: valid convolutions 2, stride and padding 2, the `ValueError`s 1.


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d_single(image, kernel, stride=1, padding=0):
    """Cross-correlate an (H, W) image with an (f, f) kernel; return (H_out, W_out)."""
    ### BEGIN SOLUTION
    if image.ndim != 2:
        raise ValueError(f"image must have shape (H, W), got {tuple(image.shape)}")
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1]:
        raise ValueError(f"kernel must have shape (f, f), got {tuple(kernel.shape)}")
    for name, value, minimum in (("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    f = kernel.shape[0]
    height, width = image.shape
    if f > min(height, width) + 2 * padding:
        raise ValueError(f"a {f} x {f} kernel does not fit a {height} x {width} image padded by {padding}")
    dtype = torch.result_type(image, kernel)
    padded = torch.zeros(height + 2 * padding, width + 2 * padding, dtype=dtype, device=image.device)
    padded[padding : padding + height, padding : padding + width] = image
    kernel = kernel.to(dtype)
    h_out = (height + 2 * padding - f) // stride + 1
    w_out = (width + 2 * padding - f) // stride + 1
    out = torch.empty(h_out, w_out, dtype=dtype, device=image.device)
    for i in range(h_out):
        for j in range(w_out):
            window = padded[i * stride : i * stride + f, j * stride : j * stride + f]
            out[i, j] = (window * kernel).sum()
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_valid_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of conv2d_single without stride or padding (2 points).
image = torch.tensor(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ]
)  # the worked example
kernel = torch.tensor([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
before = image.clone()
with refusing(*CONV_LIBRARY):
    result = conv2d_single(image, kernel)
assert isinstance(result, torch.Tensor), f"expected a torch.Tensor, got {type(result).__name__}"
assert tuple(result.shape) == (4, 4), (
    f"a 6 x 6 image and a 3 x 3 kernel give 6 - 3 + 1 = 4: expected shape (4, 4), got {tuple(result.shape)}"
)
assert result.dtype == torch.int64, f"two int64 tensors must give int64, got {result.dtype}"
expected = torch.tensor([[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]])
if torch.equal(result, -expected):
    raise AssertionError(
        "you flipped the kernel (true convolution): CNNs slide the kernel as it is (cross-correlation)"
    )
if torch.equal(result, expected.T):
    raise AssertionError("the result is transposed: i runs down the rows, j along the columns")
assert torch.equal(result, expected), f"expected\n{expected}\ngot\n{result}"
assert torch.equal(image, before), "conv2d_single must not change its input"

step = torch.tensor([[10.0, 10.0, 10.0, 0.0, 0.0, 0.0]] * 6)  # bright left half, dark right half
result = conv2d_single(step, kernel.float())
expected = torch.tensor([[0.0, 30.0, 30.0, 0.0]] * 4)
assert torch.equal(result, expected), (
    f"the bright/dark step must give a band of 30s: expected\n{expected}\ngot\n{result}"
)

image = torch.tensor(
    [[4, 9, 3, 0, 3, 9, 7], [3, 7, 3, 1, 6, 6, 9], [8, 6, 6, 8, 4, 3, 6], [9, 1, 4, 4, 1, 9, 9], [9, 0, 1, 2, 3, 0, 5]]
)  # 5 x 7: not square
result = conv2d_single(image.float(), torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
assert tuple(result.shape) == (4, 6), f"a 5 x 7 image and a 2 x 2 kernel give shape (4, 6), got {tuple(result.shape)}"
assert result[0, 0].item() == 4 * 1 + 9 * 2 + 3 * 3 + 7 * 4, (
    f"y[0, 0] must be 4*1 + 9*2 + 3*3 + 7*4 = 59, got {result[0, 0].item()}"
)
assert result[3, 5].item() == 9 * 1 + 9 * 2 + 0 * 3 + 5 * 4, (
    f"y[3, 5] must be 9*1 + 9*2 + 0*3 + 5*4 = 47, got {result[3, 5].item()}"
)

photo = torch.full((4, 4), 200, dtype=torch.uint8)
blurred = conv2d_single(photo, torch.full((3, 3), 1 / 9))
assert blurred.dtype == torch.float32, f"a uint8 image and a float32 kernel must give float32, got {blurred.dtype}"
assert torch.allclose(blurred, torch.full((2, 2), 200.0)), (
    f"a box blur of a flat image of 200s must give 200s, got\n{blurred}\n(did uint8 arithmetic overflow?)"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(202)
for _h, _w, _f in [(5, 5, 3), (8, 6, 3), (4, 9, 2), (7, 7, 5), (3, 4, 1), (6, 5, 4), (3, 3, 3)]:
    _image = torch.randn(_h, _w, generator=_gen, dtype=torch.float64)
    _kernel = torch.randn(_f, _f, generator=_gen, dtype=torch.float64)
    _before = _image.clone()
    with refusing(*CONV_LIBRARY):
        _got = conv2d_single(_image, _kernel)
    _want = _F.conv2d(_image[None, None], _kernel[None, None])[0, 0]
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"image {_h} x {_w}, kernel {_f} x {_f}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert _got.dtype == torch.float64, f"float64 inputs must give float64, got {_got.dtype}"
    assert torch.allclose(_got, _want, atol=1e-10), f"image {_h} x {_w}, kernel {_f} x {_f}: wrong values"
    assert torch.equal(_image, _before), "conv2d_single must not change its input"
_image = torch.randint(0, 256, (6, 7), generator=_gen, dtype=torch.uint8)
_kernel = torch.randint(-3, 4, (3, 3), generator=_gen)
_got = conv2d_single(_image, _kernel)
_want = _F.conv2d(_image.long()[None, None], _kernel[None, None])[0, 0]
assert _got.dtype == torch.int64, f"a uint8 image and an int64 kernel must give int64, got {_got.dtype}"
assert torch.equal(_got, _want), "a uint8 image with an int64 kernel: wrong values (uint8 overflow?)"
_got = conv2d_single(_image, _kernel.float() / 4)
assert _got.dtype == torch.float32, f"a uint8 image and a float32 kernel must give float32, got {_got.dtype}"
assert torch.allclose(_got, _F.conv2d(_image.float()[None, None], _kernel.float()[None, None] / 4)[0, 0], atol=1e-4)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_stride_padding_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of conv2d_single with stride and padding (2 points).
image = torch.tensor(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ]
)  # the worked example
kernel = torch.tensor([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
with refusing(*CONV_LIBRARY):
    result = conv2d_single(image, kernel, stride=2, padding=1)
expected = torch.tensor([[-5, -6, 6], [-13, -2, 3], [-7, -2, -16]])
assert tuple(result.shape) == (3, 3), (
    f"n=6, f=3, p=1, s=2 gives floor((6 + 2 - 3) / 2) + 1 = 3: expected shape (3, 3), got {tuple(result.shape)}"
)
assert torch.equal(result, expected), f"expected\n{expected}\ngot\n{result}"

same = conv2d_single(image, kernel, padding=1)
assert tuple(same.shape) == (6, 6), (
    f"'same' padding p = (f - 1) / 2 = 1 must keep the 6 x 6 size, got {tuple(same.shape)}"
)
assert same[0, 0].item() == -5, (
    f"y[0, 0] with padding 1 sees a column of zeros on the left: 0 - (0 + 5) = -5, got {same[0, 0].item()}"
)
assert torch.equal(same[1:5, 1:5], conv2d_single(image, kernel)), (
    "with padding 1 the inner 4 x 4 values must equal the unpadded result"
)
assert same[5, 5].item() == 5, f"y[5, 5] must be 2 + 3 + 0 (the padding) = 5, got {same[5, 5].item()}"

strided = conv2d_single(image, kernel, stride=2)
assert torch.equal(strided, torch.tensor([[-5, 0], [0, -4]])), (
    f"stride 2 keeps every other value of the stride-1 result: expected [[-5, 0], [0, -4]], got\n{strided}"
)
strided = conv2d_single(image, kernel, stride=3)
assert tuple(strided.shape) == (2, 2), (
    f"n=6, f=3, s=3 gives floor(3 / 3) + 1 = 2: expected shape (2, 2), got {tuple(strided.shape)}"
)

laplacian = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
image = torch.tensor(
    [[4, 9, 3, 0, 3, 9, 7], [3, 7, 3, 1, 6, 6, 9], [8, 6, 6, 8, 4, 3, 6], [9, 1, 4, 4, 1, 9, 9], [9, 0, 1, 2, 3, 0, 5]]
)
result = conv2d_single(image, laplacian, stride=2, padding=1)
expected = torch.tensor([[-4, 0, 3, -10], [-14, -3, 2, -3], [-27, 2, -9, -11]])
assert torch.equal(result, expected), (
    f"5 x 7 image, Laplacian, stride 2, padding 1: expected\n{expected}\ngot\n{result}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(2024)
for _h, _w, _f, _s, _p in [
    (7, 7, 3, 2, 1),
    (8, 5, 3, 3, 2),
    (6, 9, 2, 2, 0),
    (5, 5, 5, 1, 2),
    (9, 7, 4, 3, 1),
    (4, 4, 3, 5, 1),
    (2, 3, 5, 1, 2),
    (10, 6, 1, 4, 0),
]:
    _image = torch.randn(_h, _w, generator=_gen, dtype=torch.float64)
    _kernel = torch.randn(_f, _f, generator=_gen, dtype=torch.float64)
    with refusing(*CONV_LIBRARY):
        _got = conv2d_single(_image, _kernel, stride=_s, padding=_p)
    _want = _F.conv2d(_image[None, None], _kernel[None, None], stride=_s, padding=_p)[0, 0]
    _case = f"image {_h} x {_w}, kernel {_f} x {_f}, stride {_s}, padding {_p}"
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"{_case}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert torch.allclose(_got, _want, atol=1e-10), f"{_case}: wrong values"
_image = torch.randint(-9, 10, (5, 6), generator=_gen)
_kernel = torch.randint(-9, 10, (3, 3), generator=_gen)
assert torch.equal(
    conv2d_single(_image, _kernel, stride=2, padding=2),
    _F.conv2d(_image[None, None], _kernel[None, None], stride=2, padding=2)[0, 0],
), "integer tensors, stride 2, padding 2: wrong values"
assert tuple(conv2d_single(torch.ones(2, 2), torch.ones(4, 4), padding=1).shape) == (1, 1), (
    "a 4 x 4 kernel fits a 2 x 2 image padded by 1"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of conv2d_single (1 point).
with expect_error(ValueError, "an image of shape (1, 6, 6) (the image must be 2-D)"):
    conv2d_single(torch.zeros(1, 6, 6), torch.ones(3, 3))
with expect_error(ValueError, "a 7 x 7 kernel on a 6 x 6 image (it does not fit)"):
    conv2d_single(torch.zeros(6, 6), torch.ones(7, 7))
with expect_error(ValueError, "stride=0 (stride must be an int >= 1)"):
    conv2d_single(torch.zeros(6, 6), torch.ones(3, 3), stride=0)
with expect_error(ValueError, "padding=-1 (padding must be an int >= 0)"):
    conv2d_single(torch.zeros(6, 6), torch.ones(3, 3), padding=-1)
try:
    conv2d_single(torch.zeros(5, 5), torch.ones(7, 7), padding=1)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"a 7 x 7 kernel on a 5 x 5 image padded by 1 (5 + 2 = 7) is valid input, but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "a 1-d image"):
    conv2d_single(torch.ones(6), torch.ones(3, 3))
with expect_error(ValueError, "a kernel of shape (2, 3)"):
    conv2d_single(torch.ones(6, 6), torch.ones(2, 3))
with expect_error(ValueError, "a kernel of shape (1, 3, 3)"):
    conv2d_single(torch.ones(6, 6), torch.ones(1, 3, 3))
with expect_error(ValueError, "a 4 x 4 kernel on a 3 x 8 image"):
    conv2d_single(torch.ones(3, 8), torch.ones(4, 4))
with expect_error(ValueError, "stride=1.5"):
    conv2d_single(torch.ones(5, 5), torch.ones(3, 3), stride=1.5)
### END HIDDEN TESTS

# %% [markdown]
# Once your function passes its tests, this cell reproduces the edge-detection examples
# of the lecture: the worked example, a bright/dark step (a band of 30s where the
# edge is) and the horizontal-edge kernel on a checkerboard of four 3 × 3 blocks
# (30 where the edge is clean, 10 and -10 where the vertical edge mixes in).

# %%
# NBVAL_CHECK_OUTPUT
lecture_image = torch.tensor(
    [
        [3, 0, 1, 2, 7, 4],
        [1, 5, 8, 9, 3, 1],
        [2, 7, 2, 5, 1, 3],
        [0, 1, 3, 1, 7, 8],
        [4, 2, 1, 6, 2, 8],
        [2, 4, 5, 2, 3, 9],
    ]
)
vertical = torch.tensor([[1, 0, -1], [1, 0, -1], [1, 0, -1]])
horizontal = vertical.T.contiguous()
step = torch.tensor([[10, 10, 10, 0, 0, 0]] * 6)
blocks = torch.zeros(6, 6, dtype=torch.int64)
blocks[:3, :3] = 10
blocks[3:, 3:] = 10
print("vertical edges of the lecture's 6 x 6 image:\n", conv2d_single(lecture_image, vertical))
print("vertical edges of a bright/dark step:\n", conv2d_single(step, vertical))
print("horizontal edges of four blocks:\n", conv2d_single(blocks, horizontal))

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: convolution over volumes (4 points)
#
# A colour image has C channels, so a filter has C channels too: a 3 × 3 filter for an
# RGB image is a 3 × 3 × 3 block of weights. Each output value is the sum over **all**
# channels of the window times the filter, plus the filter's bias: one filter gives
# one output channel. K filters give K output channels, stacked into a volume:
# a 6 × 6 × 3 image and two 3 × 3 × 3 filters give a 4 × 4 × 2 volume.
#
# $$y[k, i, j] = b[k] + \sum_{c=0}^{C-1} \sum_{u=0}^{f-1} \sum_{v=0}^{f-1} x[c, i + u, j + v]\; w[k, c, u, v]$$
#
# `conv2d_volume(x, weights, bias=None)`
# : `x` is a tensor of shape (C, H, W), `weights` a tensor of shape (K, C, f, f)
#   (PyTorch's layout: output channels first), `bias` a tensor of shape (K,) or
#   `None` (no bias). Stride 1, no padding. Return the tensor $y$ of shape
#   (K, H - f + 1, W - f + 1) with dtype `torch.result_type(x, weights)`. Raise
#   `ValueError` if `x` is not 3-D, `weights` is not 4-D, the filters' C does not
#   match the image's, or `bias` is not `None` and not of shape (K,).
#
# Hint: your `conv2d_single` of Exercise 2 does one channel of one filter.
#
# Worked example: channel 0 of the image is the lecture's 6 × 6 image, channel 1 the
# bright/dark step, channel 2 is black. Filter 0 looks for vertical edges in channel 0
# only; filter 1 looks for them in channel 1 only and has a bias of 1:
#
# ```python
# >>> lecture = torch.tensor([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
# ...                         [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])
# >>> step = torch.tensor([[10, 10, 10, 0, 0, 0]] * 6)
# >>> x = torch.stack([lecture, step, torch.zeros(6, 6, dtype=torch.int64)])  # (3, 6, 6)
# >>> edge, zero = torch.tensor([[1, 0, -1]] * 3), torch.zeros(3, 3, dtype=torch.int64)
# >>> weights = torch.stack([torch.stack([edge, zero, zero]),
# ...                        torch.stack([zero, edge, zero])])                 # (2, 3, 3, 3)
# >>> conv2d_volume(x, weights, bias=torch.tensor([0, 1]))                    # (2, 4, 4)
# tensor([[[ -5,  -4,   0,   8],
#          [-10,  -2,   2,   3],
#          [  0,  -2,  -4,  -7],
#          [ -3,  -2,  -3, -16]],
#
#         [[  1,  31,  31,   1],
#          [  1,  31,  31,   1],
#          [  1,  31,  31,   1],
#          [  1,  31,  31,   1]]])
# ```
#
# If your `conv2d_volume` calls your `conv2d_single`, its tests run it with the book's
# `conv2d_single` instead, so that a slip in exercise 2 is not paid twice.
#
# Points: the convolution 3, the `ValueError`s 1.


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def conv2d_volume(x, weights, bias=None):
    """Convolve a (C, H, W) volume with K filters (K, C, f, f) plus bias (K,); return (K, H_out, W_out)."""
    ### BEGIN SOLUTION
    if x.ndim != 3:
        raise ValueError(f"x must have shape (C, H, W), got {tuple(x.shape)}")
    if weights.ndim != 4:
        raise ValueError(f"weights must have shape (K, C, f, f), got {tuple(weights.shape)}")
    if weights.shape[1] != x.shape[0]:
        raise ValueError(f"the filters have {weights.shape[1]} channels but x has {x.shape[0]}")
    if bias is not None and tuple(bias.shape) != (weights.shape[0],):
        raise ValueError(f"bias must have shape ({weights.shape[0]},), got {tuple(bias.shape)}")
    outputs = []
    for k in range(weights.shape[0]):
        total = sum(conv2d_single(x[c], weights[k, c]) for c in range(x.shape[0]))
        outputs.append(total if bias is None else total + bias[k])
    return torch.stack(outputs).to(torch.result_type(x, weights))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_volume_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of conv2d_volume (3 points).
with book_conv2d_single():  # the book's conv2d_single stands in for yours (see the text)
    lecture = torch.tensor(
        [
            [3, 0, 1, 2, 7, 4],
            [1, 5, 8, 9, 3, 1],
            [2, 7, 2, 5, 1, 3],
            [0, 1, 3, 1, 7, 8],
            [4, 2, 1, 6, 2, 8],
            [2, 4, 5, 2, 3, 9],
        ]
    )  # the worked example
    step = torch.tensor([[10, 10, 10, 0, 0, 0]] * 6)
    x = torch.stack([lecture, step, torch.zeros(6, 6, dtype=torch.int64)])
    edge, zero = torch.tensor([[1, 0, -1]] * 3), torch.zeros(3, 3, dtype=torch.int64)
    weights = torch.stack([torch.stack([edge, zero, zero]), torch.stack([zero, edge, zero])])
    with refusing(*CONV_LIBRARY):
        result = conv2d_volume(x, weights, bias=torch.tensor([0, 1]))
    assert isinstance(result, torch.Tensor), f"expected a torch.Tensor, got {type(result).__name__}"
    assert tuple(result.shape) == (2, 4, 4), (
        f"a (3, 6, 6) image and two (3, 3, 3) filters give (K, H_out, W_out) = (2, 4, 4), got {tuple(result.shape)}"
    )
    expected = torch.stack(
        [
            torch.tensor([[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]),
            torch.full((4, 4), 31) - 30 * torch.tensor([[1, 0, 0, 1]] * 4),
        ]
    )
    assert torch.equal(result[0], expected[0]), (
        f"output channel 0 must be the lecture's vertical-edge result, got\n{result[0]}"
    )
    assert torch.equal(result[1], expected[1]), (
        f"output channel 1 must be the band of 30s of the step, plus the bias 1, got\n{result[1]}"
    )

    torch.manual_seed(1)
    x = torch.randint(-3, 4, (2, 4, 5))
    weights = torch.randint(-2, 3, (3, 2, 2, 2))
    bias = torch.tensor([1, 0, -1])
    result = conv2d_volume(x, weights, bias)
    assert tuple(result.shape) == (3, 3, 4), (
        f"(2, 4, 5) with (3, 2, 2, 2) filters: expected shape (3, 3, 4), got {tuple(result.shape)}"
    )
    value = (x[:, 1:3, 2:4] * weights[2]).sum().item() + bias[2].item()
    assert result[2, 1, 2].item() == value, (
        f"y[2, 1, 2] must be the sum over both channels of the window x[:, 1:3, 2:4] times filter 2, plus bias[2] "
        f"= {value}, got {result[2, 1, 2].item()}"
    )
    no_bias = conv2d_volume(x, weights)
    assert torch.equal(no_bias, result - bias.view(3, 1, 1)), "bias=None must give the same result without the bias"
    ones = conv2d_volume(x.float(), torch.ones(1, 2, 4, 4))
    sums = torch.tensor([[[x[:, :, :4].sum(), x[:, :, 1:].sum()]]]).float()
    assert tuple(ones.shape) == (1, 1, 2), (
        f"(2, 4, 5) with one (2, 4, 4) filter: expected shape (1, 1, 2), got {tuple(ones.shape)}"
    )
    assert torch.allclose(ones, sums), (
        f"a filter of ones must sum each 4 x 4 window over both channels: expected {sums.flatten()}, got {ones.flatten()}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with book_conv2d_single():  # the book's conv2d_single stands in for yours (see the text)
    import torch.nn.functional as _F

    _gen = torch.Generator().manual_seed(33)
    for _c, _h, _w, _k, _f in [(3, 6, 6, 2, 3), (1, 5, 7, 4, 3), (4, 5, 4, 1, 2), (2, 3, 3, 3, 3), (3, 4, 6, 2, 1)]:
        _x = torch.randn(_c, _h, _w, generator=_gen, dtype=torch.float64)
        _weights = torch.randn(_k, _c, _f, _f, generator=_gen, dtype=torch.float64)
        _bias = torch.randn(_k, generator=_gen, dtype=torch.float64)
        _before = _x.clone()
        with refusing(*CONV_LIBRARY):
            _got = conv2d_volume(_x, _weights, _bias)
            _got_no_bias = conv2d_volume(_x, _weights)
        _want = _F.conv2d(_x[None], _weights, _bias)[0]
        _case = f"x {(_c, _h, _w)}, weights {(_k, _c, _f, _f)}"
        assert tuple(_got.shape) == tuple(_want.shape), (
            f"{_case}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
        )
        assert _got.dtype == torch.float64, f"{_case}: float64 inputs must give float64, got {_got.dtype}"
        assert torch.allclose(_got, _want, atol=1e-10), f"{_case}: wrong values"
        assert torch.allclose(_got_no_bias, _F.conv2d(_x[None], _weights)[0], atol=1e-10), (
            f"{_case}, no bias: wrong values"
        )
        assert torch.equal(_x, _before), "conv2d_volume must not change its input"
    _x = torch.randint(0, 256, (3, 5, 5), generator=_gen, dtype=torch.uint8)
    _weights = torch.randn(2, 3, 3, 3, generator=_gen)
    _got = conv2d_volume(_x, _weights)
    assert _got.dtype == torch.float32, f"a uint8 image and float32 filters must give float32, got {_got.dtype}"
    assert torch.allclose(_got, _F.conv2d(_x.float()[None], _weights)[0], atol=1e-3), (
        "uint8 image, float filters: wrong values"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of conv2d_volume (1 point).
with book_conv2d_single():  # the book's conv2d_single stands in for yours (see the text)
    with expect_error(ValueError, "3-channel filters on a 2-channel image (the channels must match)"):
        conv2d_volume(torch.zeros(2, 4, 5), torch.ones(1, 3, 2, 2))
    with expect_error(ValueError, "a bias of shape (2,) for 3 filters (one bias per filter)"):
        conv2d_volume(torch.zeros(2, 4, 5), torch.ones(3, 2, 2, 2), torch.zeros(2))
    try:
        conv2d_volume(torch.zeros(2, 4, 5), torch.ones(3, 2, 4, 4), torch.zeros(3))
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, (
        f"3 filters (3, 2, 4, 4) with a bias (3,) on a (2, 4, 5) image is valid input, but it raised ValueError: {refused}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with book_conv2d_single():  # the book's conv2d_single stands in for yours (see the text)
    with expect_error(ValueError, "an image of shape (1, 3, 5, 5)"):
        conv2d_volume(torch.zeros(1, 3, 5, 5), torch.zeros(2, 3, 3, 3))
    with expect_error(ValueError, "filters of shape (3, 3, 3)"):
        conv2d_volume(torch.zeros(3, 5, 5), torch.zeros(3, 3, 3))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: max and average pooling (4 points)
#
# A pooling layer slides an $f \times f$ window with stride $s$ over each channel
# **separately** and keeps the largest value of every window (max pooling) or its mean
# (average pooling). It has no weights to learn. The output size follows the formula
# of Exercise 1 with $p = 0$: rows and columns left over at the bottom and the right,
# too few to fill a window, are dropped (as PyTorch does by default).
#
# `max_pool(x, f, s=None)` and `avg_pool(x, f, s=None)`
# : `x` is a tensor of shape (H, W), or (C, H, W) for several channels, each pooled on
#   its own. `s` defaults to `f` (windows side by side, the usual choice). Return a
#   tensor of shape (H_out, W_out), or (C, H_out, W_out), with
#   $H_{out} = \lfloor (H - f) / s \rfloor + 1$. `max_pool` keeps the dtype of `x`
#   (integers too); `avg_pool` returns floats: the dtype of `x` if it is a floating
#   dtype, `torch.float32` otherwise. Raise `ValueError` if `x` has neither 2 nor 3
#   dimensions or the window does not fit ($f > H$ or $f > W$). Do not change `x`.
#
# Worked example, the lecture's 4 × 4 input with 2 × 2 windows and stride 2:
#
# ```python
# >>> x = torch.tensor([[1, 3, 2, 1],
# ...                   [2, 9, 1, 1],
# ...                   [1, 3, 2, 3],
# ...                   [5, 6, 1, 2]])
# >>> max_pool(x, 2)
# tensor([[9, 2],
#         [6, 3]])
# >>> avg_pool(x, 2)
# tensor([[3.7500, 1.2500],
#         [3.7500, 2.0000]])
# ```
#
# Points: `max_pool` 2, `avg_pool` 1, the `ValueError`s of both 1.


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def max_pool(x, f, s=None):
    """Max pooling of an (H, W) or (C, H, W) tensor with f x f windows and stride s (default f)."""
    ### BEGIN SOLUTION
    s = f if s is None else s
    if x.ndim not in (2, 3):
        raise ValueError(f"x must have shape (H, W) or (C, H, W), got {tuple(x.shape)}")
    if f > min(x.shape[-2:]):
        raise ValueError(f"a {f} x {f} window does not fit an input of {tuple(x.shape[-2:])}")
    windows = x.unfold(-2, f, s).unfold(-2, f, s)  # (..., H_out, W_out, f, f), a view
    return windows.amax(dim=(-2, -1))
    ### END SOLUTION


def avg_pool(x, f, s=None):
    """Average pooling of an (H, W) or (C, H, W) tensor with f x f windows and stride s (default f)."""
    ### BEGIN SOLUTION
    s = f if s is None else s
    if x.ndim not in (2, 3):
        raise ValueError(f"x must have shape (H, W) or (C, H, W), got {tuple(x.shape)}")
    if f > min(x.shape[-2:]):
        raise ValueError(f"a {f} x {f} window does not fit an input of {tuple(x.shape[-2:])}")
    if not x.is_floating_point():
        x = x.float()
    return x.unfold(-2, f, s).unfold(-2, f, s).mean(dim=(-2, -1))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_max_pool_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of max_pool (2 points).
x = torch.tensor([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])  # the worked example
before = x.clone()
with refusing(*POOL_LIBRARY):
    result = max_pool(x, 2)
assert isinstance(result, torch.Tensor), f"expected a torch.Tensor, got {type(result).__name__}"
assert tuple(result.shape) == (2, 2), (
    f"4 x 4 with 2 x 2 windows, stride 2: expected shape (2, 2), got {tuple(result.shape)}"
)
assert result.dtype == x.dtype, f"max pooling must keep the dtype {x.dtype}, got {result.dtype}"
expected = torch.tensor([[9, 2], [6, 3]])
assert torch.equal(result, expected), f"expected\n{expected}\ngot\n{result}"
assert torch.equal(x, before), "max_pool must not change its input"

x = torch.tensor([[1, 3, 2, 1, 3], [2, 9, 1, 1, 5], [1, 3, 2, 3, 2], [8, 3, 5, 1, 0], [5, 6, 1, 2, 9]])
result = max_pool(x, 3, s=1)  # overlapping windows
expected = torch.tensor([[9, 9, 5], [9, 9, 5], [8, 6, 9]])
assert tuple(result.shape) == (3, 3), f"5 x 5, f=3, s=1: expected shape (3, 3), got {tuple(result.shape)}"
assert torch.equal(result, expected), f"5 x 5, f=3, s=1: expected\n{expected}\ngot\n{result}"
result = max_pool(x, 2)
assert torch.equal(result, torch.tensor([[9, 2], [8, 5]])), (
    f"5 x 5, f=2, s=2: the last row and column fill no window and are dropped: expected [[9, 2], [8, 5]], got\n{result}"
)

volume = torch.stack([x, -x, 10 * x]).float()  # (3, 5, 5): each channel pooled on its own
result = max_pool(volume, 3, s=2)
assert tuple(result.shape) == (3, 2, 2), f"(3, 5, 5), f=3, s=2: expected shape (3, 2, 2), got {tuple(result.shape)}"
assert torch.equal(result[0], torch.tensor([[9.0, 5.0], [8.0, 9.0]])), (
    f"channel 0: expected [[9, 5], [8, 9]], got\n{result[0]}"
)
assert torch.equal(result[1], torch.tensor([[-1.0, -1.0], [-1.0, 0.0]])), (
    f"channel 1 (-x): expected [[-1, -1], [-1, 0]], got\n{result[1]}\n(pool each channel separately)"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(44)
for _shape, _f, _s in [
    ((8, 8), 2, None),
    ((7, 9), 3, 2),
    ((3, 6, 5), 2, 1),
    ((2, 9, 9), 3, None),
    ((5, 4), 4, 3),
    ((1, 5, 7), 5, 2),
    ((4, 6, 6), 1, 2),
    ((6, 7), 2, 3),
]:
    _x = torch.randn(_shape, generator=_gen, dtype=torch.float64)
    _before = _x.clone()
    with refusing(*POOL_LIBRARY):
        _got = max_pool(_x, _f, _s) if _s is not None else max_pool(_x, _f)
    _want = _F.max_pool2d(_x[None], _f, _s)[0]
    _case = f"shape {_shape}, f={_f}, s={_s}"
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"{_case}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert _got.dtype == torch.float64, f"{_case}: expected float64, got {_got.dtype}"
    assert torch.equal(_got, _want), f"{_case}: wrong values"
    assert torch.equal(_x, _before), "max_pool must not change its input"
_x = -torch.randint(1, 100, (2, 6, 6), generator=_gen)  # all negative: a max that starts at 0 is wrong
assert torch.equal(max_pool(_x, 2), _F.max_pool2d(_x[None].float(), 2)[0].long()), "negative values: wrong maxima"
_x = torch.randint(0, 256, (5, 5), generator=_gen, dtype=torch.uint8)
assert max_pool(_x, 2).dtype == torch.uint8, "a uint8 input must give uint8"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_avg_pool_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of avg_pool (1 point).
x = torch.tensor([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])  # the worked example
with refusing(*POOL_LIBRARY):
    result = avg_pool(x, 2)
assert isinstance(result, torch.Tensor), f"expected a torch.Tensor, got {type(result).__name__}"
assert result.dtype == torch.float32, f"an int64 input must give float32, got {result.dtype}"
expected = torch.tensor([[3.75, 1.25], [3.75, 2.0]])
assert tuple(result.shape) == (2, 2), f"expected shape (2, 2), got {tuple(result.shape)}"
assert torch.allclose(result, expected), (
    f"expected\n{expected}\ngot\n{result}\n(top-left: (1 + 3 + 2 + 9) / 4 = 3.75; integer division loses the .75)"
)
volume = torch.arange(2 * 5 * 5, dtype=torch.float64).reshape(2, 5, 5)
result = avg_pool(volume, 3, s=2)
assert tuple(result.shape) == (2, 2, 2), f"(2, 5, 5), f=3, s=2: expected shape (2, 2, 2), got {tuple(result.shape)}"
assert result.dtype == torch.float64, f"a float64 input must give float64, got {result.dtype}"
expected = torch.tensor([[[6.0, 8.0], [16.0, 18.0]], [[31.0, 33.0], [41.0, 43.0]]], dtype=torch.float64)
assert torch.allclose(result, expected), f"expected\n{expected}\ngot\n{result}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_gen = torch.Generator().manual_seed(45)
for _shape, _f, _s in [((8, 8), 2, None), ((7, 9), 3, 2), ((3, 6, 5), 2, 1), ((5, 4), 4, 3), ((2, 7, 7), 3, None)]:
    _x = torch.randn(_shape, generator=_gen, dtype=torch.float64)
    with refusing(*POOL_LIBRARY):
        _got = avg_pool(_x, _f, _s) if _s is not None else avg_pool(_x, _f)
    _want = _F.avg_pool2d(_x[None], _f, _s)[0]
    _case = f"shape {_shape}, f={_f}, s={_s}"
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"{_case}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert torch.allclose(_got, _want, atol=1e-12), f"{_case}: wrong values"
_x = torch.randint(0, 256, (3, 6, 6), generator=_gen, dtype=torch.uint8)
_got = avg_pool(_x, 2)
assert _got.dtype == torch.float32, f"a uint8 input must give float32, got {_got.dtype}"
assert torch.allclose(_got, _F.avg_pool2d(_x[None].float(), 2)[0]), "uint8 input: wrong averages (overflow?)"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of max_pool and avg_pool (1 point).
with expect_error(ValueError, "max_pool with a 6 x 6 window on a 5 x 5 input (it does not fit)"):
    max_pool(torch.zeros(5, 5), 6)
with expect_error(ValueError, "max_pool of an input of shape (5,) (it must be 2-D or 3-D)"):
    max_pool(torch.zeros(5), 2)
with expect_error(ValueError, "avg_pool with a 6 x 6 window on a 4 x 4 input (it does not fit)"):
    avg_pool(torch.zeros(4, 4), 6)
try:
    max_pool(torch.zeros(2, 5, 5), 5)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"max_pool with a 5 x 5 window on a (2, 5, 5) input is valid input, but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "a 4-d input"):
    max_pool(torch.zeros(1, 1, 4, 4), 2)
with expect_error(ValueError, "a 3 x 3 window on a 2 x 8 input"):
    max_pool(torch.zeros(2, 8), 3)
with expect_error(ValueError, "a 1-d input"):
    avg_pool(torch.zeros(9), 3)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: a filter for diagonal edges (2 points)
#
# The vertical-edge kernel `[[1, 0, -1], [1, 0, -1], [1, 0, -1]]` gives a large positive
# value where a bright region on the left meets a dark region on the right, a negative
# value for the opposite edge, and 0 on flat regions because its weights sum to 0.
# Design its counterpart for **45° edges**: an edge along the line from the lower-left
# to the upper-right, with the bright side at the **upper left** and the dark side at
# the lower right, as in the image `(rows + cols < 8)` below.
#
# `diagonal_edge_kernel()`
# : Return a floating-point tensor of shape (3, 3) such that, applied as in
#   Exercise 2 (no flip):
#
#   - a flat region (a constant image) gives 0: the weights sum to 0;
#   - the 45° edge above gives a positive response where the edge is;
#   - that response is **stronger** (its largest value is larger) than the largest
#     absolute response to a vertical, a horizontal or the other diagonal edge (bright
#     upper right, dark lower left) of the same contrast.
#
# There are many right answers; think of how the vertical-edge kernel and the Sobel
# kernel `[[1, 0, -1], [2, 0, -2], [1, 0, -1]]` are built, and turn the idea by 45°.
#
# The edge image of the tests, 8 × 8, bright (1) at the upper left, dark (0) at the
# lower right:
#
# ```python
# >>> rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
# >>> (rows + cols < 8).int()
# tensor([[1, 1, 1, 1, 1, 1, 1, 1],
#         [1, 1, 1, 1, 1, 1, 1, 0],
#         [1, 1, 1, 1, 1, 1, 0, 0],
#         [1, 1, 1, 1, 1, 0, 0, 0],
#         [1, 1, 1, 1, 0, 0, 0, 0],
#         [1, 1, 1, 0, 0, 0, 0, 0],
#         [1, 1, 0, 0, 0, 0, 0, 0],
#         [1, 0, 0, 0, 0, 0, 0, 0]], dtype=torch.int32)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def diagonal_edge_kernel():
    """A (3, 3) float kernel: positive on 45-degree edges, bright upper left; 0 on flat regions."""
    ### BEGIN SOLUTION
    return torch.tensor([[2.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -2.0]])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_diagonal_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of diagonal_edge_kernel (2 points).
kernel = diagonal_edge_kernel()
assert isinstance(kernel, torch.Tensor), f"expected a torch.Tensor, got {type(kernel).__name__}"
assert tuple(kernel.shape) == (3, 3), f"expected shape (3, 3), got {tuple(kernel.shape)}"
assert kernel.is_floating_point(), f"expected a floating-point dtype, got {kernel.dtype}"
total = kernel.double().sum().item()
assert abs(total) <= 1e-6 * max(1.0, kernel.double().abs().sum().item()), (
    f"a flat region must give 0, so the weights must sum to 0; yours sum to {total:g}"
)


def strongest_responses(kernel, size=8):
    """Largest response to the 45-degree edge, largest absolute response to the other edges."""
    rows, cols = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    edges = {
        "the 45-degree edge": rows + cols < size,
        "a vertical edge (bright left)": cols < size // 2,
        "a vertical edge (bright right)": cols >= size // 2,
        "a horizontal edge (bright top)": rows < size // 2,
        "a horizontal edge (bright bottom)": rows >= size // 2,
        "the other diagonal (bright upper right)": cols > rows,
        "the other diagonal (bright lower left)": rows > cols,
    }
    weights = kernel.detach().double()[None, None]
    responses = {
        name: torch.nn.functional.conv2d(image.double()[None, None], weights)[0, 0] for name, image in edges.items()
    }
    diagonal = responses.pop("the 45-degree edge").max().item()
    return diagonal, {name: response.abs().max().item() for name, response in responses.items()}


diagonal, others = strongest_responses(kernel)
assert diagonal > 1e-6, (
    f"the 45-degree edge (bright upper left) must give a positive response, the largest is {diagonal:g}"
)
for name, value in others.items():
    assert diagonal > value + 1e-6, (
        f"the kernel must respond more strongly to the 45-degree edge ({diagonal:g}) than to {name} ({value:g})"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torch.nn.functional as _F

_kernel = diagonal_edge_kernel().detach().double()
for _size in (5, 7, 12):
    _diagonal, _others = strongest_responses(_kernel, _size)
    assert _diagonal > 1e-6 and all(_diagonal > _v + 1e-6 for _v in _others.values()), (
        f"on {_size} x {_size} images the 45-degree edge must still win: {_diagonal:g} vs {_others}"
    )
_rows, _cols = torch.meshgrid(torch.arange(10), torch.arange(10), indexing="ij")
_gen = torch.Generator().manual_seed(5)
for _offset in (6, 9, 12):  # the edge at other places, with other brightness and contrast
    _low, _contrast = torch.rand(2, generator=_gen, dtype=torch.float64) * torch.tensor([100.0, 150.0]) + 1
    _unit = (_rows + _cols < _offset).double()
    _image = _low + _contrast * _unit
    _got = _F.conv2d(_image[None, None], _kernel[None, None])[0, 0]
    _want = _contrast * _F.conv2d(_unit[None, None], _kernel[None, None])[0, 0]
    assert torch.allclose(_got, _want, atol=1e-6), "the response must not depend on the overall brightness"
    assert _got.max() > 0 and _got.min() > -_got.max(), "the edge must give mostly positive responses"
    _mirror = _F.conv2d((_low + _contrast * (1 - _unit))[None, None], _kernel[None, None])[0, 0]
    assert torch.allclose(_mirror, -_got, atol=1e-6), (
        "the opposite edge (dark upper left) must give the opposite response"
    )
_flat = torch.full((6, 6), 0.7, dtype=torch.float64)
assert _F.conv2d(_flat[None, None], _kernel[None, None]).abs().max() < 1e-9, "a flat image must give 0 everywhere"
### END HIDDEN TESTS

# %% [markdown]
# What your kernel does to the four kinds of edges, with your `conv2d_single` of
# Exercise 2: the strongest response to each (contrast 1).

# %%
# NBVAL_CHECK_OUTPUT
rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
for name, image in [
    ("45-degree edge, bright upper left", rows + cols < 8),
    ("vertical edge, bright left", cols < 4),
    ("horizontal edge, bright top", rows < 4),
    ("other diagonal, bright upper right", cols > rows),
]:
    response = conv2d_single(image.float(), diagonal_edge_kernel())
    print(f"{name:<36} max {response.max().item():5.1f}   min {response.min().item():5.1f}")


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex6_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 6: the receptive field of a stack of layers (3 points)
#
# One value of a convolution's output depends on an $f \times f$ window of its input:
# that window is the value's **receptive field**. Stack two 3 × 3 convolutions and one
# value of the second depends on 3 × 3 values of the first, which together depend on
# 5 × 5 input pixels. Each layer $l$ with filter size $f_l$ widens the receptive field
# by $f_l - 1$ steps of the layer's input grid; a stride $s_l$ makes every later step
# $s_l$ times longer in input pixels. With $r_0 = 1$ and $j_0 = 1$:
#
# $$r_l = r_{l-1} + (f_l - 1)\, j_{l-1}, \qquad j_l = j_{l-1}\, s_l .$$
#
# `receptive_field(filter_sizes, strides=None)`
# : `filter_sizes` is a list of the filter (or pooling window) sizes $f_l$ of the
#   layers, from the input up; `strides` a list of their strides $s_l$, of the same
#   length, or `None` for stride 1 everywhere. Return, as a Python `int`, the side
#   $r$ of the square of input pixels that one value of the last layer depends on
#   (1 for an empty list). Raise `ValueError` if the two lists have different lengths
#   or a size or stride is not a positive integer.
#
# Worked examples: two and three 3 × 3 convolutions, and a 3 × 3 convolution, a 2 × 2
# max pooling with stride 2, and another 3 × 3 convolution:
#
# ```python
# >>> receptive_field([3, 3]), receptive_field([3, 3, 3])
# (5, 7)
# >>> receptive_field([3, 2, 3], strides=[1, 2, 1])
# 8
# ```
#
# Points: the receptive field 2, the `ValueError`s 1.


# %% nbgrader={"grade": false, "grade_id": "ex6_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def receptive_field(filter_sizes, strides=None):
    """Side of the input square that one output value of a stack of layers depends on."""
    ### BEGIN SOLUTION
    filter_sizes = list(filter_sizes)
    strides = [1] * len(filter_sizes) if strides is None else list(strides)
    if len(strides) != len(filter_sizes):
        raise ValueError(f"got {len(filter_sizes)} filter sizes but {len(strides)} strides")
    r, j = 1, 1
    for f, s in zip(filter_sizes, strides):
        for name, value in (("filter size", f), ("stride", s)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"every {name} must be a positive int, got {value!r}")
        r += (f - 1) * j
        j *= s
    return r
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex6_receptive_field_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of receptive_field (2 points).
r = receptive_field([3, 3])  # the worked examples
assert isinstance(r, int), f"expected a Python int, got {type(r).__name__}"
assert r == 5, f"two 3 x 3 convolutions: expected 5, got {r}"
r = receptive_field([3, 3, 3])
assert r == 7, f"three 3 x 3 convolutions: expected 7 (each adds f - 1 = 2), got {r}"
r = receptive_field([3, 2, 3], strides=[1, 2, 1])
assert r == 8, (
    f"conv 3, pool 2 / stride 2, conv 3: expected 3 + 1 + 2 * 2 = 8 (after the pooling every step "
    f"covers 2 input pixels), got {r}"
)
assert receptive_field([5]) == 5, f"one 5 x 5 convolution sees 5 x 5 pixels, got {receptive_field([5])}"
assert receptive_field([]) == 1, f"no layers: a value is one pixel, expected 1, got {receptive_field([])}"
r = receptive_field([3] * 5)
assert r == 11, f"five 3 x 3 convolutions: expected 11, got {r}"
r = receptive_field([3, 2, 3, 2, 3], strides=[1, 2, 1, 2, 1])
assert r == 18, f"conv 3, pool 2/2, conv 3, pool 2/2, conv 3: expected 18, got {r}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

from cvbook.conv import receptive_field as _reference


def _measured(filter_sizes, strides):
    """The receptive field found by backpropagation: which input pixels change output[0, 0]?"""
    _layers = [
        _nn.Conv2d(1, 1, _f, stride=_s, bias=False, dtype=torch.float64) for _f, _s in zip(filter_sizes, strides)
    ]
    for _layer in _layers:
        _nn.init.ones_(_layer.weight)
    _x = torch.zeros(1, 1, 128, 128, dtype=torch.float64, requires_grad=True)
    _nn.Sequential(*_layers)(_x)[0, 0, 0, 0].backward()
    return int((_x.grad[0, 0, 0] != 0).sum())


for _fs, _ss in [
    ([3, 3, 3, 3], [1, 1, 1, 1]),
    ([7, 3, 3], [2, 2, 1]),
    ([11, 3, 5, 3], [4, 2, 1, 2]),
    ([1, 1], [1, 1]),
    ([2, 2, 2], [2, 2, 2]),
    ([5, 3, 3, 2], [1, 3, 1, 1]),
    ([4], [3]),
]:
    _got = receptive_field(_fs, strides=_ss)
    _want = _reference(list(zip(_fs, _ss)))[-1][0]
    assert isinstance(_got, int), f"expected a Python int, got {type(_got).__name__}"
    assert _got == _want == _measured(_fs, _ss), f"receptive_field({_fs}, strides={_ss}): expected {_want}, got {_got}"
assert receptive_field([3, 5, 7]) == _reference([(3, 1), (5, 1), (7, 1)])[-1][0] == 13, (
    "stride 1 everywhere when strides is None"
)
assert receptive_field((3, 3), strides=(2, 2)) == 7, "tuples must work as well as lists"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex6_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of receptive_field (1 point).
with expect_error(ValueError, "3 filter sizes and 2 strides (the lists must have the same length)"):
    receptive_field([3, 3, 3], strides=[1, 2])
with expect_error(ValueError, "a filter size of 0 (sizes must be positive integers)"):
    receptive_field([3, 0])
with expect_error(ValueError, "a stride of 0 (strides must be positive integers)"):
    receptive_field([3, 3], strides=[1, 0])
try:
    receptive_field([1], strides=[1])
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"receptive_field([1], strides=[1]) (a 1 x 1 filter) is valid input, but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _fs, _ss in [([3, -1], None), ([3, 3], [2, -1]), ([3], [1, 1])]:
    with expect_error(ValueError, f"filter_sizes={_fs}, strides={_ss}"):
        receptive_field(_fs, strides=_ss)
### END HIDDEN TESTS

# %% [markdown]
# How deep must a stack of 3 × 3 convolutions be for one value to see a whole 32 × 32
# image? Without pooling the receptive field grows by 2 pixels a layer: 16 layers. With
# a 2 × 2 max pooling of stride 2 after every second convolution it doubles its pace
# after every pooling: 6 convolutions suffice.

# %%
# NBVAL_CHECK_OUTPUT
print("convolutions   without pooling   with pooling")
for depth in range(1, 9):
    sizes, strides = [], []
    for layer in range(depth):
        sizes.append(3)
        strides.append(1)
        if layer % 2 == 1 and layer < depth - 1:  # a pooling between every two convolutions
            sizes.append(2)
            strides.append(2)
    print(f"{depth:12d}   {receptive_field([3] * depth):15d}   {receptive_field(sizes, strides):12d}")
print(f"{16:12d}   {receptive_field([3] * 16):15d}")

# %% [markdown]
# These are the pieces of every convolutional network: Chapter 3 stacks convolutions,
# non-linearities and pooling into a network and trains its filters, instead of
# designing them by hand as in Exercise 5.
