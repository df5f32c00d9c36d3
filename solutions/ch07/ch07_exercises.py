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
# # Chapter 7 exercises: data augmentation and transfer learning
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch07/ch07_exercises.ipynb)
#
# Four exercises on Chapter 7, *Data augmentation and transfer learning*: colour
# shifting with clipping (the lecture's +20 / -20 example), AlexNet's PCA colour
# augmentation, preparing a torchvision network for transfer learning (new head, frozen
# body, a count of the trainable parameters), and 10-crop averaging of predictions at
# test time. 14 points in all.
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
#   `ch07_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch07_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import torch
import torchvision
from torch import nn

from cvbook.checks import expect_error, refusing

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: colour shifting with clipping (3 points)
#
# The lecture's colour augmentation adds a number $s_c$ to the value of channel $c$
# (R, G, B) of every pixel, e.g. $(+20, -20, +20)$ for a more purple picture, and the
# result must stay a valid 8-bit value:
#
# $$x'_c(i, j) = \min\big(255, \max(0, x_c(i, j) + s_c)\big).$$
#
# `colour_shift(image, shift)`
# : `image` is a `torch.uint8` tensor of shape `(3, H, W)` (one image) or
#   `(N, 3, H, W)` (a batch), channels in the order R, G, B; `shift` holds three
#   integers `(s_R, s_G, s_B)`, as a list, a tuple, a NumPy array or a tensor. Return a
#   new `torch.uint8` tensor of the same
#   shape with the shifts added and the result clipped to $[0, 255]$; do not change
#   `image`. Beware: arithmetic on `uint8` wraps around (`250 + 20` gives `14`), so
#   compute in a wider integer type first. Raise `ValueError` if `image` is not a
#   `uint8` tensor with 3 or 4 dimensions and 3 channels (dimension `-3`), or if
#   `shift` does not hold exactly 3 values.
#
#   Graded in two parts: the shifted values (2 points), the `ValueError`s (1 point).
#
# Worked example: two pixels, $(100, 100, 100)$ and $(250, 10, 250)$:
#
# ```python
# >>> x = torch.tensor([[[100, 250]], [[100, 10]], [[100, 250]]], dtype=torch.uint8)  # (3, 1, 2)
# >>> colour_shift(x, (20, -20, 20)).permute(1, 2, 0).tolist()                      # pixels as (R, G, B)
# [[[120, 80, 120], [255, 0, 255]]]
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def colour_shift(image, shift):
    """Add shift[c] to channel c of a uint8 image (3, H, W) or batch (N, 3, H, W), clipped to [0, 255]."""
    ### BEGIN SOLUTION
    if not isinstance(image, torch.Tensor) or image.dtype != torch.uint8:
        raise ValueError(f"image must be a uint8 tensor, got {getattr(image, 'dtype', type(image))}")
    if image.ndim not in (3, 4) or image.shape[-3] != 3:
        raise ValueError(f"image must have shape (3, H, W) or (N, 3, H, W), got {tuple(image.shape)}")
    shift = torch.as_tensor(shift, dtype=torch.int32)
    if shift.shape != (3,):
        raise ValueError(f"shift must hold 3 values, got shape {tuple(shift.shape)}")
    return (image.to(torch.int32) + shift.view(3, 1, 1)).clamp(0, 255).to(torch.uint8)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_colour_shift_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of colour_shift: the shifted values (2 points).
x = torch.tensor([[[100, 250]], [[100, 10]], [[100, 250]]], dtype=torch.uint8)  # the worked example
out = colour_shift(x, (20, -20, 20))
assert isinstance(out, torch.Tensor), f"expected a tensor, got {type(out).__name__}"
assert out.dtype == torch.uint8, f"the worked example: expected dtype torch.uint8, got {out.dtype}"
assert out.shape == (3, 1, 2), f"the worked example: expected shape (3, 1, 2), got {tuple(out.shape)}"
got = out.permute(1, 2, 0).tolist()
if got == [[[120, 80, 120], [14, 246, 14]]]:
    raise AssertionError(
        "the worked example: 250 + 20 gave 14 and 10 - 20 gave 246, uint8 wrapped around; "
        "compute in a wider type and clip"
    )
assert got == [[[120, 80, 120], [255, 0, 255]]], (
    f"the worked example, shift (20, -20, 20): expected [[[120, 80, 120], [255, 0, 255]]], got {got}"
)
assert x[0, 0, 1] == 250, "colour_shift must not change its input"
got = colour_shift(x, (-20, 20, 20)).permute(1, 2, 0).tolist()
assert got == [[[80, 120, 120], [230, 30, 255]]], (
    f"the worked example's pixels with shift (-20, 20, 20): expected [[[80, 120, 120], [230, 30, 255]]], got {got}"
)
batch = torch.stack([x, x])
out = colour_shift(batch, (5, 0, 50))
assert out.shape == (2, 3, 1, 2), f"a batch (2, 3, 1, 2) must keep its shape, got {tuple(out.shape)}"
got = out[1].permute(1, 2, 0).tolist()
assert got == [[[105, 100, 150], [255, 10, 255]]], (
    f"a batch of the worked example, shift (5, 0, 50): the channels are dimension -3, expected "
    f"[[[105, 100, 150], [255, 10, 255]]] for the second image, got {got}"
)
for shift in (np.array([1, 2, 3]), torch.tensor([1, 2, 3]), [1, 2, 3]):
    got = colour_shift(x, shift).permute(1, 2, 0).tolist()
    assert got == [[[101, 102, 103], [251, 12, 253]]], (
        f"shift given as {type(shift).__name__} [1, 2, 3]: expected [[[101, 102, 103], [251, 12, 253]]], got {got}"
    )
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.augment import colour_shift as _reference_shift

_gen = torch.Generator().manual_seed(71)
for _shape in [(3, 5, 7), (4, 3, 6, 2), (1, 3, 1, 1), (3, 16, 16)]:
    _img = torch.randint(0, 256, _shape, generator=_gen, dtype=torch.uint8)
    _copy = _img.clone()
    _shift = torch.randint(-60, 61, (3,), generator=_gen).tolist()
    _got = colour_shift(_img, _shift)
    _want = _reference_shift(_img, _shift)
    assert _got.dtype == torch.uint8 and _got.shape == _img.shape, (
        f"an image of shape {_shape}: expected a uint8 tensor of the same shape, got {_got.dtype} {tuple(_got.shape)}"
    )
    assert torch.equal(_got, _want), f"an image of shape {_shape}, shift {_shift}: wrong values (clip to [0, 255])"
    assert torch.equal(_img, _copy), "colour_shift must not change its input"
_extreme = torch.tensor([0, 128, 255], dtype=torch.uint8).view(3, 1, 1)
for _shift, _want in [
    ((-255, 200, 255), [0, 255, 255]),
    ((255, -200, -255), [255, 0, 0]),
    (np.array([1, 2, 3]), [1, 130, 255]),
    (torch.tensor([0, 0, 0]), [0, 128, 255]),
]:
    _got = colour_shift(_extreme, _shift).flatten().tolist()
    assert _got == _want, f"the pixel (0, 128, 255) with shift {list(_shift)}: expected {_want}, got {_got}"
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex1_colour_shift_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of colour_shift: the ValueErrors (1 point).
x = torch.tensor([[[100, 250]], [[100, 10]], [[100, 250]]], dtype=torch.uint8)
with expect_error(ValueError, "a float32 image (it must be uint8)"):
    colour_shift(x.float(), (20, -20, 20))
with expect_error(ValueError, "an image of shape (4, 2, 2), with 4 channels"):
    colour_shift(torch.zeros(4, 2, 2, dtype=torch.uint8), (20, -20, 20))
with expect_error(ValueError, "an image of shape (2, 2), 2-dimensional"):
    colour_shift(torch.zeros(2, 2, dtype=torch.uint8), (20, -20, 20))
with expect_error(ValueError, "a shift with 2 values"):
    colour_shift(x, (20, -20))
try:
    colour_shift(torch.zeros(1, 3, 2, 2, dtype=torch.uint8), (1, 2, 3))
    refused = None
except ValueError as error:
    refused = error
assert refused is None, f"a batch of shape (1, 3, 2, 2) is valid, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_extreme = torch.tensor([0, 128, 255], dtype=torch.uint8).view(3, 1, 1)
for _bad in [
    torch.zeros(2, 2, dtype=torch.uint8),
    torch.zeros(3, 2, 2, dtype=torch.int64),
    torch.zeros(2, 1, 3, 3, dtype=torch.uint8),
    torch.zeros(1, 1, 3, 2, 2, dtype=torch.uint8),
]:
    with expect_error(ValueError, f"an image of shape {tuple(_bad.shape)} and dtype {_bad.dtype}"):
        colour_shift(_bad, (1, 2, 3))
with expect_error(ValueError, "a shift with 4 values"):
    colour_shift(_extreme, (1, 2, 3, 4))
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: PCA colour augmentation (4 points)
#
# AlexNet shifts the colours of an image along the principal components of its pixels'
# colours. Treat each pixel as a point $\mathbf{x} \in \mathbb{R}^3$ (R, G, B); let
# $\Sigma$ be the $3 \times 3$ covariance matrix of all pixels (the unbiased one, dividing
# by the number of pixels minus 1, as `np.cov` does), with eigenvalues
# $\lambda_1 \ge \lambda_2 \ge \lambda_3$ and unit eigenvectors
# $\mathbf{p}_1, \mathbf{p}_2, \mathbf{p}_3$. Add to every pixel
#
# $$\Delta = \sum_{i=1}^{3} \alpha_i \lambda_i \mathbf{p}_i$$
#
# and clip to $[0, 1]$. An eigenvector's sign is arbitrary (both $\mathbf{p}$ and
# $-\mathbf{p}$ are eigenvectors); use the sign for which **its three components sum to a
# number $\ge 0$**.
#
# `pca_colour_augment(image, alpha)`
# : `image` is a float tensor `(3, H, W)` with values in $[0, 1]$ (at least 2 pixels);
#   `alpha` three numbers $(\alpha_1, \alpha_2, \alpha_3)$ (in training they are drawn
#   from $\mathcal{N}(0, 0.1^2)$; here they are given). Return a new tensor of the same
#   shape and dtype: the image plus $\Delta$, clipped to $[0, 1]$. Raise `ValueError` if
#   `image` does not have shape `(3, H, W)` or if `alpha` does not hold 3 values. Use
#   `np.cov`/`np.linalg.eigh` or `torch.linalg.eigh` (it returns the eigenvalues in
#   *ascending* order), not the book's package: the tests make
#   `cvbook.augment.pca_colour_augment` and `pca_colour_basis` raise while your function
#   runs. Values are compared with a tolerance of $10^{-6}$ for float64 images.
#
#   Graded in two parts: the augmented image (3 points), the `ValueError`s (1 point).
#
# Worked example on a $2 \times 2$ image (its $\lambda_1 \approx 0.2171$ and
# $\mathbf{p}_1 \approx (0.5501, 0.6141, 0.5660)$, so with $\alpha = (1, 0, 0)$ every pixel
# gains $\lambda_1 \mathbf{p}_1 \approx (0.1194, 0.1333, 0.1229)$, and one value is clipped to 1):
#
# ```python
# >>> image = torch.tensor([[[0.2, 0.4], [0.6, 0.8]],     # R
# ...                       [[0.1, 0.3], [0.7, 0.7]],     # G
# ...                       [[0.3, 0.3], [0.5, 0.9]]],    # B
# ...                      dtype=torch.float64)
# >>> pca_colour_augment(image, (1.0, 0.0, 0.0)).round(decimals=4)
# tensor([[[0.3194, 0.5194],
#          [0.7194, 0.9194]],
#
#         [[0.2333, 0.4333],
#          [0.8333, 0.8333]],
#
#         [[0.4229, 0.4229],
#          [0.6229, 1.0000]]], dtype=torch.float64)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pca_colour_augment(image, alpha):
    """AlexNet's PCA colour augmentation of a float image (3, H, W) in [0, 1] with the given alpha."""
    ### BEGIN SOLUTION
    if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must have shape (3, H, W), got {tuple(getattr(image, 'shape', ()))}")
    alpha = torch.as_tensor(alpha, dtype=torch.float64)
    if alpha.shape != (3,):
        raise ValueError(f"alpha must hold 3 values, got shape {tuple(alpha.shape)}")
    pixels = image.double().reshape(3, -1)  # (3, P)
    centred = pixels - pixels.mean(dim=1, keepdim=True)
    cov = centred @ centred.T / (pixels.shape[1] - 1)
    eigvals, eigvecs = torch.linalg.eigh(cov)  # ascending
    eigvals, eigvecs = eigvals.flip(0), eigvecs.flip(1)
    eigvecs = eigvecs * torch.where(eigvecs.sum(dim=0) < 0, -1.0, 1.0).double()
    delta = eigvecs @ (alpha * eigvals)
    return (image.double() + delta.view(3, 1, 1)).clamp(0, 1).to(image.dtype)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_pca_colour_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of pca_colour_augment: the augmented image (3 points).
image = torch.tensor(
    [[[0.2, 0.4], [0.6, 0.8]], [[0.1, 0.3], [0.7, 0.7]], [[0.3, 0.3], [0.5, 0.9]]], dtype=torch.float64
)  # the worked example
with refusing("cvbook.augment.pca_colour_augment", "cvbook.augment.pca_colour_basis"):
    out = pca_colour_augment(image, (1.0, 0.0, 0.0))
assert isinstance(out, torch.Tensor), f"expected a tensor, got {type(out).__name__}"
assert out.shape == (3, 2, 2), f"expected shape (3, 2, 2), got {tuple(out.shape)}"
assert out.dtype == torch.float64, f"expected the input's dtype torch.float64, got {out.dtype}"
expected = torch.tensor(
    [[[0.3194, 0.5194], [0.7194, 0.9194]], [[0.2333, 0.4333], [0.8333, 0.8333]], [[0.4229, 0.4229], [0.6229, 1.0000]]],
    dtype=torch.float64,
)
worked = expected
if torch.allclose(out, image - (expected - image), atol=1e-3):
    raise AssertionError(
        "the worked example, alpha (1, 0, 0): the shift has the wrong sign; choose each "
        "eigenvector's sign so that its components sum to >= 0"
    )
if out.max() > 1:
    raise AssertionError(
        f"the worked example, alpha (1, 0, 0): clip the result to [0, 1], got a maximum of {out.max():.4f}"
    )
assert torch.allclose(out, expected, atol=1e-4), (
    f"the worked example, alpha (1, 0, 0): expected\n{expected}\ngot\n{out}"
)
assert image[2, 1, 1] == 0.9, "pca_colour_augment must not change its input"
assert torch.allclose(pca_colour_augment(image, (0.0, 0.0, 0.0)), image), (
    "the worked example with alpha (0, 0, 0): the image must stay unchanged"
)
out = pca_colour_augment(image, (0.1, -0.2, 0.3))
expected = torch.tensor(
    [[[0.2124, 0.4124], [0.6124, 0.8124]], [[0.1155, 0.3155], [0.7155, 0.7155]], [[0.3094, 0.3094], [0.5094, 0.9094]]],
    dtype=torch.float64,
)
assert torch.allclose(out, expected, atol=1e-4), f"alpha = (0.1, -0.2, 0.3): expected\n{expected}\ngot\n{out}"
out = pca_colour_augment(image.float(), (1.0, 0.0, 0.0))
assert out.dtype == torch.float32, f"the worked example as float32: a float32 image stays float32, got {out.dtype}"
assert torch.allclose(out, worked.float(), atol=1e-4), (
    f"the worked example as float32, alpha (1, 0, 0): expected\n{worked.float()}\ngot\n{out}"
)
low = pca_colour_augment(image, (-10.0, 0.0, 0.0))
assert float(low.min()) == 0.0, (
    f"the worked example, alpha (-10, 0, 0): clip at 0 too, got a minimum of {float(low.min()):.4f}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.augment import pca_colour_augment as _reference_pca

_gen = torch.Generator().manual_seed(72)
for _h, _w in [(6, 5), (16, 16), (1, 9), (30, 2)]:
    _base = torch.rand(_h, _w, generator=_gen, dtype=torch.float64)
    _img = (0.15 + 0.5 * _base + 0.3 * torch.rand(3, _h, _w, generator=_gen, dtype=torch.float64)).clamp(0, 1)
    _copy = _img.clone()
    _alpha = (torch.randn(3, generator=_gen, dtype=torch.float64) * 2).tolist()
    with refusing("cvbook.augment.pca_colour_augment", "cvbook.augment.pca_colour_basis"):
        _got = pca_colour_augment(_img, _alpha)
    _want = _reference_pca(_img, _alpha)
    assert _got.shape == _img.shape and torch.allclose(_got, _want, atol=1e-6), (
        f"a {_h} x {_w} float64 image, alpha {_alpha}: wrong values (compared with the book's pca_colour_augment)"
    )
    assert torch.equal(_img, _copy), "pca_colour_augment must not change its input"
# the shift is the same at every pixel (before clipping) and lies along the eigenvectors
_img = 0.3 + 0.4 * torch.rand(3, 8, 8, generator=_gen, dtype=torch.float64)
_d = pca_colour_augment(_img, (0.5, 0.0, 0.0)) - _img
assert torch.allclose(_d, _d[:, :1, :1].expand_as(_d), atol=1e-9), "add the same Delta to every pixel"
_pix = _img.reshape(3, -1).numpy()
_w, _v = np.linalg.eigh(np.cov(_pix))
_p1 = _v[:, -1] * (1 if _v[:, -1].sum() >= 0 else -1)
assert np.allclose(_d[:, 0, 0].numpy(), 0.5 * _w[-1] * _p1, atol=1e-9), (
    "Delta = alpha_1 lambda_1 p_1 for alpha = (a, 0, 0)"
)
# clipping at 0 too
_low = pca_colour_augment(_img, (-100.0, 0.0, 0.0))
assert float(_low.min()) == 0.0 and float(_low.max()) <= 1.0, "alpha (-100, 0, 0): clip to [0, 1]"
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex2_pca_colour_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of pca_colour_augment: the ValueErrors (1 point).
with expect_error(ValueError, "an image of shape (4, 3, 3), with 4 channels"):
    pca_colour_augment(torch.rand(4, 3, 3), (0.1, 0.1, 0.1))
with expect_error(ValueError, "an image of shape (1, 3, 4, 4), a batch instead of one image"):
    pca_colour_augment(torch.rand(1, 3, 4, 4), (0.1, 0.1, 0.1))
with expect_error(ValueError, "alpha with 2 values"):
    pca_colour_augment(torch.rand(3, 2, 2), (0.1, 0.1))
try:
    pca_colour_augment(torch.tensor([[[0.2, 0.4]], [[0.1, 0.3]], [[0.3, 0.5]]]), torch.tensor([0.1, 0.0, -0.1]))
    refused = None
except ValueError as error:
    refused = error
assert refused is None, (
    f"a (3, 1, 2) image (2 pixels are enough) with alpha given as a tensor is valid, "
    f"but it raised ValueError: {refused}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in [torch.rand(3, 4), torch.rand(1, 3, 4, 4), torch.rand(2, 4, 4)]:
    with expect_error(ValueError, f"an image of shape {tuple(_bad.shape)}"):
        pca_colour_augment(_bad, (0.1, 0.1, 0.1))
with expect_error(ValueError, "alpha with 4 values"):
    pca_colour_augment(torch.rand(3, 2, 2), (0.1, 0.1, 0.1, 0.1))
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: a new head, a frozen body (3 points)
#
# The lectures' transfer-learning recipe: take a network pre-trained on ImageNet, replace
# its 1,000-class output layer by one for your classes, and freeze everything else so
# that only the new layer trains.
#
# `prepare_for_transfer(model, num_classes)`
# : `model` is a torchvision ResNet (e.g. `torchvision.models.resnet18(weights=None)`),
#   whose last layer is the `nn.Linear` at `model.fc`. Replace `model.fc` by a new
#   `nn.Linear` with the same `in_features` and `num_classes` outputs (with a bias), set
#   `requires_grad = False` on every other parameter of the model, keep the new layer's
#   parameters trainable, and return the number of trainable parameters as a Python
#   `int`. Raise `ValueError` if `num_classes` is not a positive `int` (a `bool` or a
#   float such as `2.0` is not one). Parameters that were already frozen or unfrozen
#   before the call end up the same way: only the new layer trains.
#
#   Graded in two parts: the new head and the frozen body (2 points), the `ValueError`s
#   (1 point).
#
# Worked example: ResNet-18's last layer has 512 inputs, so a three-class head has
# $512 \cdot 3 + 3 = 1{,}539$ parameters, and they are the only trainable ones:
#
# ```python
# >>> model = torchvision.models.resnet18(weights=None)
# >>> prepare_for_transfer(model, 3)
# 1539
# >>> model.fc
# Linear(in_features=512, out_features=3, bias=True)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def prepare_for_transfer(model, num_classes):
    """Replace model.fc by a new Linear(in_features, num_classes), freeze the rest; return the trainable count."""
    ### BEGIN SOLUTION
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes, device=model.fc.weight.device)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_transfer_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of prepare_for_transfer: the new head and the frozen body (2 points).
torch.manual_seed(0)
model = torchvision.models.resnet18(weights=None)  # the worked example
old_conv1 = model.conv1.weight.clone()
count = prepare_for_transfer(model, 3)
assert isinstance(count, int), f"expected a Python int, got {type(count).__name__}"
assert isinstance(model.fc, nn.Linear), f"model.fc must be an nn.Linear, got {type(model.fc).__name__}"
assert (model.fc.in_features, model.fc.out_features) == (512, 3), (
    f"expected Linear(512, 3), got Linear({model.fc.in_features}, {model.fc.out_features})"
)
assert model.fc.bias is not None, "the new layer needs a bias"
trainable = [name for name, p in model.named_parameters() if p.requires_grad]
if len(trainable) > 2:
    raise AssertionError(
        f"{len(trainable)} parameter tensors are trainable, e.g. {trainable[0]}: freeze all but model.fc"
    )
assert trainable == ["fc.weight", "fc.bias"], f"only fc.weight and fc.bias should be trainable, got {trainable}"
if count == 11_178_051:
    raise AssertionError("you counted all parameters: count only those with requires_grad")
assert count == 1_539, f"expected 512 * 3 + 3 = 1,539 trainable parameters, got {count:,}"
assert torch.equal(model.conv1.weight, old_conv1), "the pre-trained layers must keep their weights"
assert model.eval()(torch.zeros(1, 3, 32, 32)).shape == (1, 3), "the model must now output 3 scores"
with torch.device("meta"):  # shapes only: fast
    model = torchvision.models.resnet18(weights=None)
for p in model.layer4.parameters():
    p.requires_grad = True
model.layer1[0].conv1.weight.requires_grad = False
count = prepare_for_transfer(model, 7)
trainable = [name for name, p in model.named_parameters() if p.requires_grad]
assert trainable == ["fc.weight", "fc.bias"] and count == 512 * 7 + 7, (
    f"a ResNet-18 whose layers were partly frozen before, with 7 classes: expected only fc.weight and fc.bias "
    f"trainable and 3,591 trainable parameters, got {trainable[:3]}... and {count!r}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _name, _in, _k in [("resnet50", 2048, 10), ("resnet34", 512, 1), ("resnet18", 512, 1000)]:
    with torch.device("meta"):
        _m = getattr(torchvision.models, _name)(weights=None)
    _n = prepare_for_transfer(_m, _k)
    assert _n == _in * _k + _k, (
        f"{_name} with {_k} classes: expected {_in * _k + _k:,} trainable parameters, got {_n!r}"
    )
    assert type(_n) is int, f"{_name} with {_k} classes: return a Python int, got {type(_n).__name__}"
    _trainable = [_nm for _nm, _p in _m.named_parameters() if _p.requires_grad]
    assert _trainable == ["fc.weight", "fc.bias"], (
        f"{_name} with {_k} classes: only fc.weight and fc.bias should be trainable, got {_trainable[:4]}"
    )
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex3_transfer_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of prepare_for_transfer: the ValueErrors (1 point).
with torch.device("meta"):  # shapes only, no weights to initialise: fast
    model = torchvision.models.resnet18(weights=None)
for bad in (0, True, 2.0):
    with expect_error(ValueError, f"num_classes = {bad!r} (a positive int is needed)"):
        prepare_for_transfer(model, bad)
try:
    prepare_for_transfer(model, 1)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, f"num_classes = 1 is a positive int, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in [-1, 2.5, False, "3"]:
    with torch.device("meta"):
        _m = torchvision.models.resnet18(weights=None)
    with expect_error(ValueError, f"num_classes = {_bad!r}"):
        prepare_for_transfer(_m, _bad)
### END HIDDEN TESTS


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: 10-crop test-time augmentation (4 points)
#
# At test time, a benchmark entry runs the classifier on 10 crops of every test image and
# averages the results: the four corner crops and the centre crop of the image, and the
# same five crops of its horizontal mirror.
#
# `ten_crop_average(model, images, size)`
# : `images` is a float tensor `(N, C, H, W)`, `size` the side of the square crops
#   ($1 \le$ `size` $\le \min(H, W)$). The crops of an image `x` (shape `(N, C, H, W)`) are
#   `x[..., :size, :size]` (top left), `x[..., :size, W-size:]` (top right),
#   `x[..., H-size:, :size]` (bottom left), `x[..., H-size:, W-size:]` (bottom right) and
#   the centre crop `x[..., t:t+size, l:l+size]` with `t = int(round((H - size) / 2))` and
#   `l = int(round((W - size) / 2))` (Python's `round`, as torchvision does); then the same
#   five crops of the mirrored batch `x.flip(-1)`. Run `model` (in eval mode, without
#   gradients) on each of the 10 crop batches, turn its logits `(N, K)` into probabilities
#   with a softmax over the classes, and return the mean of the 10 probability tensors,
#   shape `(N, K)`, which does not require gradients. Raise `ValueError` if `size` does
#   not fit ($<1$ or larger than `H` or `W`). Do not use torchvision's
#   `ten_crop`/`five_crop`: the tests make them raise while your function runs. (Which
#   mode the model is left in afterwards is not graded.)
#
#   Graded in two parts: the averaged probabilities (3 points), the `ValueError`s
#   (1 point).
#
# Worked example, with a "model" that scores 3 classes by the mean of the crop's pixels:
#
# ```python
# >>> class MeanScorer(nn.Module):
# ...     def forward(self, x):
# ...         m = x.mean(dim=(1, 2, 3))
# ...         return torch.stack([m, 2 * m, -m], dim=1)
# >>> images = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4) / 32
# >>> ten_crop_average(MeanScorer(), images, 2).round(decimals=4)
# tensor([[0.3431, 0.4365, 0.2204],
#         [0.3008, 0.6271, 0.0720]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ten_crop_average(model, images, size):
    """Mean softmax of model over the 10 crops (5 of images, 5 of their mirrors); returns (N, K)."""
    ### BEGIN SOLUTION
    h, w = images.shape[-2:]
    if not 1 <= size <= min(h, w):
        raise ValueError(f"size {size} does not fit in images of {h} x {w}")
    t, l = int(round((h - size) / 2)), int(round((w - size) / 2))

    def five(x):
        return [
            x[..., :size, :size],
            x[..., :size, w - size :],
            x[..., h - size :, :size],
            x[..., h - size :, w - size :],
            x[..., t : t + size, l : l + size],
        ]

    model.eval()
    with torch.no_grad():
        probs = [model(crop).softmax(dim=1) for crop in five(images) + five(images.flip(-1))]
    return torch.stack(probs).mean(dim=0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_ten_crop_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of ten_crop_average: the averaged probabilities (3 points).
class MeanScorer(nn.Module):
    def forward(self, x):
        m = x.mean(dim=(1, 2, 3))
        return torch.stack([m, 2 * m, -m], dim=1)


class CropRecorder(nn.Module):
    """Records the crops it sees; scores 2 classes."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(x.clone())
        return torch.zeros(len(x), 2)


def no_torchvision_crops():
    """Inside the `with` block, torchvision's ten_crop and five_crop raise."""
    return refusing(
        "torchvision.transforms.v2.functional.ten_crop",
        "torchvision.transforms.v2.functional.five_crop",
        "torchvision.transforms.functional.ten_crop",
        "torchvision.transforms.functional.five_crop",
    )


images = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).view(2, 1, 4, 4) / 32  # the worked example
with no_torchvision_crops():
    out = ten_crop_average(MeanScorer(), images, 2)
assert isinstance(out, torch.Tensor), f"expected a tensor, got {type(out).__name__}"
assert out.shape == (2, 3), f"expected shape (2, 3), got {tuple(out.shape)}"
assert torch.allclose(out.sum(dim=1), torch.ones(2)), (
    "the worked example: each row must be a probability distribution (softmax over the classes, then the mean)"
)
expected = torch.tensor([[0.3431, 0.4365, 0.2204], [0.3008, 0.6271, 0.0720]])
assert torch.allclose(out, expected, atol=1e-4), f"the worked example: expected\n{expected}\ngot\n{out}"
recorder = CropRecorder()
ten_crop_average(recorder, images, 2)
assert len(recorder.seen) == 10, (
    f"the worked example's images: run the model once per crop batch, 10 times; it ran {len(recorder.seen)} times"
)
x, m = images[:1], images[:1].flip(-1)  # the first image and its mirror
want = [
    x[..., :2, :2],
    x[..., :2, 2:],
    x[..., 2:, :2],
    x[..., 2:, 2:],
    x[..., 1:3, 1:3],
    m[..., :2, :2],
    m[..., :2, 2:],
    m[..., 2:, :2],
    m[..., 2:, 2:],
    m[..., 1:3, 1:3],
]
for k, crop in enumerate(want):
    assert any(torch.equal(s[:1], crop) for s in recorder.seen), (
        f"the worked example's first image, size 2: crop {k} of the expected 10 (top left, top right, bottom left, "
        f"bottom right, centre, then the same of the mirror) is missing:\n{crop}"
    )
torch.manual_seed(0)
net = nn.Sequential(nn.Flatten(), nn.Dropout(0.9), nn.Linear(3 * 3, 4))
net.train()
x = torch.randn(2, 1, 4, 5)
crops = [
    crop
    for v in (x, x.flip(-1))
    for crop in (v[..., :3, :3], v[..., :3, 2:], v[..., 1:, :3], v[..., 1:, 2:], v[..., 0:3, 1:4])
]
net.eval()
with torch.no_grad():
    want = torch.stack([net(crop).softmax(1) for crop in crops]).mean(0)
net.train()
with no_torchvision_crops():
    out = ten_crop_average(net, x, 3)
assert torch.allclose(out, want, atol=1e-6), (
    "a model with dropout, handed over in training mode, on (2, 1, 4, 5) images, size 3 (centre crop t = round(0.5) "
    "= 0, l = 1): run the model in eval mode (model.eval()), so that dropout is off"
)
assert not out.requires_grad, (
    "a model with trainable weights: the result must not require gradients (run the model under torch.no_grad())"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torchvision.transforms.v2 import functional as _TF

_gen = torch.Generator().manual_seed(74)
torch.manual_seed(74)
_net = nn.Sequential(
    nn.Conv2d(3, 4, 3),
    nn.BatchNorm2d(4),
    nn.ReLU(),
    nn.AdaptiveAvgPool2d(1),
    nn.Flatten(),
    nn.Dropout(0.5),
    nn.Linear(4, 5),
)
_net.train()
for _shape, _s in [((3, 3, 9, 8), 6), ((2, 3, 7, 7), 7), ((1, 3, 10, 13), 5), ((4, 3, 6, 11), 3), ((2, 3, 8, 9), 6)]:
    _x = torch.randn(_shape, generator=_gen)
    _net.eval()
    with torch.no_grad():
        _want = torch.stack([_net(_c).softmax(1) for _c in _TF.ten_crop(_x, [_s, _s])]).mean(0)
    _net.train()
    with refusing(
        "torchvision.transforms.v2.functional.ten_crop",
        "torchvision.transforms.v2.functional.five_crop",
        "torchvision.transforms.functional.ten_crop",
        "torchvision.transforms.functional.five_crop",
    ):
        _got = ten_crop_average(_net, _x, _s)
    assert _got.shape == _want.shape, (
        f"images {_shape}, size {_s}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert torch.allclose(_got, _want, atol=1e-5), (
        f"images {_shape}, size {_s}: wrong average (eval mode? crops of the mirrored image? softmax before the mean?)"
    )
    assert not _got.requires_grad, f"images {_shape}, size {_s}: the result must not require gradients"
### END HIDDEN TESTS


# %% nbgrader={"grade": true, "grade_id": "ex4_ten_crop_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of ten_crop_average: the ValueErrors (1 point).
class Uniform(nn.Module):
    """Scores 2 classes equally, whatever the crop."""

    def forward(self, x):
        return torch.zeros(len(x), 2)


with expect_error(ValueError, "size 5 on 4 x 4 images (a crop larger than the image)"):
    ten_crop_average(Uniform(), torch.zeros(2, 1, 4, 4), 5)
with expect_error(ValueError, "size 0 (a crop needs at least one pixel)"):
    ten_crop_average(Uniform(), torch.zeros(2, 1, 4, 4), 0)
with expect_error(ValueError, "size 5 on 4 x 6 images (the crop is taller than the image)"):
    ten_crop_average(Uniform(), torch.zeros(1, 1, 4, 6), 5)
try:
    ten_crop_average(Uniform(), torch.zeros(1, 1, 4, 6), 4)
    refused = None
except ValueError as error:
    refused = error
assert refused is None, f"size 4 on 4 x 6 images fits (size <= min(H, W)), but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in [0, 9, 10, -1]:
    with expect_error(ValueError, f"size {_bad} on 9 x 8 images"):
        ten_crop_average(Uniform(), torch.zeros(1, 1, 9, 8), _bad)
### END HIDDEN TESTS


# %% [markdown]
# These are the tools of Chapter 7 in their smallest form. The book's package has them
# as `cvbook.augment.colour_shift`, `pca_colour_augment` (with the transforms
# `RandomColourShift` and `PCAColour` for `torchvision.transforms.v2` pipelines),
# `replace_head`, `freeze`, `trainable_parameters` and `ten_crop_predict`. Chapter 8 turns
# to measuring classifiers: accuracy alone is rarely enough.
