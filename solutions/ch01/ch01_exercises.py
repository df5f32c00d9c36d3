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
# # Chapter 1 exercises: images as data
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch01/ch01_exercises.ipynb)
#
# Five short exercises on Chapter 1, *Images as data*: moving images between the
# layout of image files (HWC, `uint8`) and the layout of PyTorch (CHW, `float`),
# standardising a batch, turning colour into gray, counting the weights of a fully
# connected layer, and shifting an image. 16 points in all. The computation and the
# errors a function must raise are graded in separate test cells, so a missing check
# costs only its own point.
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
#   `ch01_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch01_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import numpy as np
import torch

from cvbook.checks import expect_error
from cvbook.data import load_digits

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: from image file to tensor and back (4 points)
#
# Image files load as NumPy arrays of shape (H, W, C) ("HWC", channels last) with
# dtype `uint8`, values 0 to 255. PyTorch layers want float tensors of shape
# (C, H, W) ("CHW", channels first) with values in [0, 1]. Implement both directions.
#
# `hwc_uint8_to_chw_float(image)`
# : `image` is a NumPy `uint8` array of shape (H, W, C), or (H, W) for a grayscale
#   image. Return a `torch.float32` tensor of shape (C, H, W), or (1, H, W) for a
#   grayscale image, holding `image / 255`. Raise `ValueError` if `image` does not
#   have 2 or 3 dimensions or its dtype is not `uint8`. It must also accept views such
#   as a flipped image `image[::-1]` (`torch.from_numpy` refuses those: copy first).
#   Do not change `image`.
#
# `chw_float_to_hwc_uint8(tensor)`
# : the inverse. `tensor` is a floating-point tensor of shape (C, H, W), possibly the
#   output of a network (so it may require gradients: `.detach()` it). Clip its values
#   to [0, 1], multiply by 255, **round** to the nearest integer and return a NumPy
#   `uint8` array of shape (H, W, C), or (H, W) when C = 1. Raise `ValueError` if
#   `tensor` does not have 3 dimensions or is not floating point. Do not change
#   `tensor` itself.
#
# Worked example, an image of 1 row, 2 pixels and 3 channels:
#
# ```python
# >>> image = np.array([[[255, 0, 51], [0, 128, 255]]], dtype=np.uint8)  # (H, W, C) = (1, 2, 3)
# >>> hwc_uint8_to_chw_float(image)                                     # (C, H, W) = (3, 1, 2)
# tensor([[[1.0000, 0.0000]],
#         [[0.0000, 0.5020]],
#         [[0.2000, 1.0000]]])
# >>> chw_float_to_hwc_uint8(torch.tensor([[[-0.2, 0.004]], [[0.998, 1.3]], [[0.999, 0.2]]]))
# array([[[  0, 254, 255],
#         [  1, 255,  51]]], dtype=uint8)
# ```
#
# Why round? 0.999 × 255 = 254.7: truncating (what `.astype(np.uint8)` and
# `.to(torch.uint8)` do) gives 254 and darkens every pixel a little.
#
# Points: `hwc_uint8_to_chw_float` 2, `chw_float_to_hwc_uint8` 1, the `ValueError`s of
# both 1.


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def hwc_uint8_to_chw_float(image):
    """uint8 array (H, W, C) or (H, W) -> float32 tensor (C, H, W) with values in [0, 1]."""
    ### BEGIN SOLUTION
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C), got {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must have dtype uint8, got {image.dtype}")
    if image.ndim == 2:
        image = image[:, :, None]
    chw = np.ascontiguousarray(image.transpose(2, 0, 1))
    return torch.from_numpy(chw).float() / 255
    ### END SOLUTION


def chw_float_to_hwc_uint8(tensor):
    """float tensor (C, H, W) -> uint8 array (H, W, C), or (H, W) for one channel."""
    ### BEGIN SOLUTION
    if tensor.ndim != 3:
        raise ValueError(f"tensor must have shape (C, H, W), got {tuple(tensor.shape)}")
    if not tensor.is_floating_point():
        raise ValueError(f"tensor must be floating point, got {tensor.dtype}")
    scaled = (tensor.detach().cpu().clamp(0, 1) * 255).round()
    image = scaled.to(torch.uint8).permute(1, 2, 0).numpy()
    return image[:, :, 0] if image.shape[2] == 1 else image
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_to_chw_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of hwc_uint8_to_chw_float (2 points).
image = np.array([[[255, 0, 51], [0, 128, 255]]], dtype=np.uint8)  # the worked example
tensor = hwc_uint8_to_chw_float(image)
assert isinstance(tensor, torch.Tensor), f"expected a torch.Tensor, got {type(tensor).__name__}"
assert tuple(tensor.shape) == (3, 1, 2), f"expected shape (3, 1, 2), that is (C, H, W), got {tuple(tensor.shape)}"
assert tensor.dtype == torch.float32, f"expected dtype torch.float32, got {tensor.dtype}"
expected = torch.tensor([[[1.0, 0.0]], [[0.0, 128 / 255]], [[0.2, 1.0]]])
assert torch.allclose(tensor, expected, atol=1e-6), f"expected\n{expected}\ngot\n{tensor}"

photo = np.random.default_rng(0).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
tensor = hwc_uint8_to_chw_float(photo)
assert tuple(tensor.shape) == (3, 4, 5), f"expected shape (3, 4, 5), got {tuple(tensor.shape)}"
assert abs(tensor[2, 1, 3].item() - photo[1, 3, 2] / 255) < 1e-6, (
    "channel c of the pixel at row y, column x must end up at tensor[c, y, x]"
)
gray = hwc_uint8_to_chw_float(photo[:, :, 0])
assert tuple(gray.shape) == (1, 4, 5), f"a grayscale (4, 5) image must give shape (1, 4, 5), got {tuple(gray.shape)}"
before = photo.copy()
try:
    flipped = hwc_uint8_to_chw_float(photo[::-1])  # a view with a negative stride
except ValueError as error:
    raise AssertionError(
        f"a flipped view photo[::-1] must work, but it raised ValueError ({error}): "
        "torch.from_numpy refuses views with negative strides, copy the array first"
    ) from None
assert torch.allclose(flipped, tensor.flip(1), atol=1e-6), (
    "a flipped view photo[::-1] must give the tensor of the flipped photo (copy the view first)"
)
assert np.array_equal(photo, before), "hwc_uint8_to_chw_float must not change its input"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.data import image_to_tensor as _reference

_rng = np.random.default_rng(2024)
for _shape in [(7, 3, 3), (2, 9, 1), (6, 8), (1, 1, 4), (5, 6, 2)]:
    _image = _rng.integers(0, 256, size=_shape, dtype=np.uint8)
    _got, _want = hwc_uint8_to_chw_float(_image), _reference(_image)
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"shape {_shape}: expected {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert _got.dtype == torch.float32, f"expected torch.float32, got {_got.dtype}"
    assert torch.allclose(_got, _want, atol=1e-6, rtol=0), f"wrong values for an image of shape {_shape}"
_image = _rng.integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
_before = _image.copy()
_view = _image[::-1, 1:5]
assert torch.allclose(hwc_uint8_to_chw_float(_view), _reference(np.ascontiguousarray(_view)), atol=1e-6), (
    "a flipped view must work"
)
assert np.array_equal(_image, _before), "the input image must not change"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_to_hwc_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of chw_float_to_hwc_uint8 (1 point).
tensor = torch.tensor([[[-0.2, 0.004]], [[0.998, 1.3]], [[0.999, 0.2]]])  # the worked example
image = chw_float_to_hwc_uint8(tensor)
assert isinstance(image, np.ndarray), f"expected a NumPy array, got {type(image).__name__}"
assert image.shape == (1, 2, 3), f"expected shape (1, 2, 3), that is (H, W, C), got {image.shape}"
assert image.dtype == np.uint8, f"expected dtype uint8, got {image.dtype}"
expected = np.array([[[0, 254, 255], [1, 255, 51]]], dtype=np.uint8)
assert image[0, 0, 0] == 0, f"-0.2 must be clipped to 0, got {image[0, 0, 0]}"
assert image[0, 1, 1] == 255, (
    f"1.3 must be clipped to 1 (which gives 255) before the cast to uint8, got {image[0, 1, 1]}"
)
assert image[0, 0, 2] == 255, f"0.999 * 255 = 254.7 must round to 255, got {image[0, 0, 2]} (did you truncate?)"
assert np.array_equal(image, expected), f"expected\n{expected}\ngot\n{image}"

photo = np.random.default_rng(1).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
tensor = torch.from_numpy(photo).permute(2, 0, 1).float() / 255
back = chw_float_to_hwc_uint8(tensor)
assert back.shape == (4, 5, 3), f"expected shape (4, 5, 3), got {back.shape}"
assert np.array_equal(back, photo), "converting photo / 255 back must give the photo exactly"
gray = chw_float_to_hwc_uint8(tensor[:1])
assert gray.shape == (4, 5), f"a one-channel (1, 4, 5) tensor must give shape (4, 5), got {gray.shape}"
output = (tensor * 1.0).requires_grad_()  # like the output of a network
assert np.array_equal(chw_float_to_hwc_uint8(output), photo), (
    "a tensor that requires grad must work too (call .detach() before .numpy())"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.data import tensor_to_image as _reference

_gen = torch.Generator().manual_seed(7)
for _shape in [(3, 6, 7), (1, 5, 2), (2, 3, 3), (4, 1, 9)]:
    # values k/255 + a little, away from the ties at .5, and some outside [0, 1]
    _levels = torch.randint(-20, 276, _shape, generator=_gen).float()
    _tensor = (_levels + torch.empty(_shape).uniform_(-0.4, 0.4, generator=_gen)) / 255
    _got, _want = chw_float_to_hwc_uint8(_tensor), _reference(_tensor)
    assert _got.shape == _want.shape, f"shape {_shape}: expected {_want.shape}, got {_got.shape}"
    assert _got.dtype == np.uint8, f"expected uint8, got {_got.dtype}"
    assert np.array_equal(_got, _want), f"wrong values for a tensor of shape {_shape}"
_tensor = torch.rand(3, 4, 4, generator=_gen, dtype=torch.float64) * 1.4 - 0.2
_before = _tensor.clone()
assert np.array_equal(chw_float_to_hwc_uint8(_tensor), _reference(_tensor)), "float64 tensors must work too"
assert torch.equal(_tensor, _before), "the input tensor must not change (no in-place clamp_)"
_tensor = torch.rand(3, 4, 4, generator=_gen).requires_grad_()
assert np.array_equal(chw_float_to_hwc_uint8(_tensor * 1), _reference(_tensor)), (
    "a tensor that requires grad must work (detach it)"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of both functions (1 point).
photo = np.random.default_rng(0).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
with expect_error(ValueError, "hwc_uint8_to_chw_float of a float64 image (the dtype must be uint8)"):
    hwc_uint8_to_chw_float(photo.astype(np.float64))
with expect_error(ValueError, "hwc_uint8_to_chw_float of an image of shape (1, 4, 5, 3) (2 or 3 dimensions)"):
    hwc_uint8_to_chw_float(photo[None])
with expect_error(ValueError, "chw_float_to_hwc_uint8 of a tensor of shape (4, 5) (it must be (C, H, W))"):
    chw_float_to_hwc_uint8(torch.zeros(4, 5))
with expect_error(ValueError, "chw_float_to_hwc_uint8 of a uint8 tensor (it must be floating point)"):
    chw_float_to_hwc_uint8(torch.zeros(3, 4, 5, dtype=torch.uint8))
for call, case in [
    (lambda: hwc_uint8_to_chw_float(photo[:, :, 0]), "hwc_uint8_to_chw_float of a (4, 5) uint8 grayscale image"),
    (
        lambda: chw_float_to_hwc_uint8(torch.zeros(1, 4, 5, dtype=torch.float64)),
        "chw_float_to_hwc_uint8 of a (1, 4, 5) float64 tensor",
    ),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "an int64 image"):
    hwc_uint8_to_chw_float(np.zeros((2, 2, 3), dtype=np.int64))
with expect_error(ValueError, "a 1-d array"):
    hwc_uint8_to_chw_float(np.zeros(5, dtype=np.uint8))
with expect_error(ValueError, "an int64 tensor"):
    chw_float_to_hwc_uint8(torch.zeros(3, 2, 2, dtype=torch.int64))
with expect_error(ValueError, "a tensor of shape (1, 3, 2, 2)"):
    chw_float_to_hwc_uint8(torch.zeros(1, 3, 2, 2))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: per-channel standardisation (3 points)
#
# Networks learn faster from inputs centred on 0 with a spread of about 1. The usual
# recipe computes one mean $\mu_c$ and one standard deviation $\sigma_c$ per colour
# channel $c$, over all images and all pixels of a (training) batch, and maps every
# value to $(x - \mu_c) / \sigma_c$. That is what torchvision's
# `transforms.v2.Normalize(mean, std)` does with the statistics you give it.
#
# `standardize(images, eps=1e-8)`
# : `images` is a float tensor of shape (N, C, H, W). Return a tuple
#   `(normalized, mean, std)`: `mean` and `std` are tensors of shape (C,), computed
#   over the N, H and W axes; `std` is the population standard deviation (divide by
#   the number of values: `correction=0`), raised to at least `eps` so that a constant
#   channel gives zeros instead of NaN; `normalized` is `(images - mean) / std`, channel
#   by channel, with the shape and dtype of `images`. Do not change `images`. Raise
#   `ValueError` if `images` does not have 4 dimensions.
#
# Worked example, one image with one channel of 2 × 2 pixels:
#
# ```python
# >>> normalized, mean, std = standardize(torch.tensor([[[[0.0, 2.0], [4.0, 6.0]]]]))
# >>> mean, std                      # std = sqrt(((-3)² + (-1)² + 1² + 3²) / 4) = sqrt(5)
# (tensor([3.]), tensor([2.2361]))
# >>> normalized
# tensor([[[[-1.3416, -0.4472],
#           [ 0.4472,  1.3416]]]])
# ```
#
# Hint: `images.mean(dim=(0, 2, 3))`, and `.view(1, C, 1, 1)` (or `[None, :, None, None]`)
# to broadcast a per-channel vector over a batch.


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def standardize(images, eps=1e-8):
    """Standardise a batch (N, C, H, W) per channel; return (normalized, mean (C,), std (C,))."""
    ### BEGIN SOLUTION
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    mean = images.mean(dim=(0, 2, 3))
    std = images.std(dim=(0, 2, 3), correction=0).clamp_min(eps)
    normalized = (images - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)
    return normalized, mean, std
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_standardize_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of standardize (3 points).
normalized, mean, std = standardize(torch.tensor([[[[0.0, 2.0], [4.0, 6.0]]]]))  # the worked example
assert torch.allclose(mean, torch.tensor([3.0])), f"expected mean tensor([3.]), got {mean}"
assert torch.allclose(std, torch.tensor([5**0.5])), (
    f"expected std tensor([2.2361]) (population std, correction=0), got {std}"
)
expected = torch.tensor([[[[-1.3416, -0.4472], [0.4472, 1.3416]]]])
assert torch.allclose(normalized, expected, atol=1e-4), f"expected\n{expected}\ngot\n{normalized}"

torch.manual_seed(0)
scale, offset = torch.tensor([1.0, 2.0, 0.5]).view(1, 3, 1, 1), torch.tensor([0.0, 1.0, -3.0]).view(1, 3, 1, 1)
images = torch.rand(8, 3, 5, 6) * scale + offset
before = images.clone()
normalized, mean, std = standardize(images)
assert tuple(mean.shape) == (3,) and tuple(std.shape) == (3,), (
    f"expected mean and std of shape (3,), one value per channel, got {tuple(mean.shape)} and {tuple(std.shape)}"
)
assert torch.allclose(mean, torch.tensor([0.4902, 2.0313, -2.7557]), atol=1e-4), (
    f"expected mean tensor([ 0.4902,  2.0313, -2.7557]), got {mean}"
)
assert torch.allclose(std, torch.tensor([0.2955, 0.5699, 0.1490]), atol=1e-4), (
    f"expected std tensor([0.2955, 0.5699, 0.1490]), got {std}"
)
assert normalized.shape == images.shape, f"expected shape {tuple(images.shape)}, got {tuple(normalized.shape)}"
per_channel_mean = normalized.mean(dim=(0, 2, 3))
per_channel_std = normalized.std(dim=(0, 2, 3), correction=0)
assert torch.allclose(per_channel_mean, torch.zeros(3), atol=1e-5), (
    f"each channel of the result must have mean 0, got {per_channel_mean}"
)
assert torch.allclose(per_channel_std, torch.ones(3), atol=1e-5), (
    f"each channel of the result must have std 1, got {per_channel_std}"
)
assert torch.equal(images, before), "standardize must not change its input"
doubles = images.double()
doubles[:, 1] = 0.25  # a constant channel: its std is 0
normalized, mean, std = standardize(doubles)
assert normalized.dtype == torch.float64, (
    f"float64 images must give a float64 result (the dtype of images), got {normalized.dtype}"
)
assert torch.isfinite(normalized).all() and torch.equal(normalized[:, 1], torch.zeros_like(normalized[:, 1])), (
    "a constant channel must become zeros, not NaN: raise its std to eps"
)
assert 0 < std[1].item() <= 1e-6, f"the std of a constant channel must be eps = 1e-8, got {std[1].item()}"
with expect_error(ValueError, "a single image of shape (3, 5, 6)"):
    standardize(images[0])
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torchvision.transforms import v2 as _v2

_gen = torch.Generator().manual_seed(11)
for _shape in [(5, 2, 7, 3), (1, 4, 3, 3), (6, 1, 2, 5)]:
    _images = torch.randn(_shape, generator=_gen) * torch.arange(1.0, _shape[1] + 1).view(1, -1, 1, 1) + 2.0
    _normalized, _mean, _std = standardize(_images)
    assert torch.allclose(_mean, _images.mean(dim=(0, 2, 3)), atol=1e-5), f"wrong mean for shape {_shape}"
    assert torch.allclose(_std, _images.std(dim=(0, 2, 3), correction=0), atol=1e-5), f"wrong std for shape {_shape}"
    _want = _v2.Normalize(_mean.tolist(), _std.tolist())(_images)
    assert torch.allclose(_normalized, _want, atol=1e-5), f"result differs from v2.Normalize for shape {_shape}"
_images = torch.rand(4, 3, 5, 5, generator=_gen, dtype=torch.float64)
_images[:, 1] = 0.25  # a constant channel
_normalized, _mean, _std = standardize(_images)
assert _normalized.dtype == torch.float64, f"float64 in must give float64 out, got {_normalized.dtype}"
assert torch.isfinite(_normalized).all(), "a constant channel must not give NaN or inf (use eps)"
assert torch.equal(_normalized[:, 1], torch.zeros_like(_normalized[:, 1])), "a constant channel must become zeros"
assert 0 < _std[1].item() <= 1e-6, f"std of a constant channel must be eps, got {_std[1].item()}"
_normalized, _mean, _std = standardize(_images, eps=0.5)
assert _std[1].item() == 0.5, "std must be at least eps"
with expect_error(ValueError, "a 5-d tensor"):
    standardize(torch.zeros(2, 2, 2, 2, 2))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: from colour to gray (3 points)
#
# A gray value is a weighted sum of red, green and blue. The weights model how bright
# each primary looks to us: green the most, blue the least. scikit-image (and the
# Rec. 709 standard of HD television) uses the luminance
#
# $$Y = 0.2125\,R + 0.7154\,G + 0.0721\,B .$$
#
# `rgb_to_gray(image)`
# : `image` is a NumPy array of shape (H, W, 3). A `uint8` image is first scaled to
#   [0, 1] (divide by 255); a float image is taken to be in [0, 1] already. Return the
#   luminance as a `float64` array of shape (H, W), whatever the input's dtype. Raise
#   `ValueError` if `image` does not have shape (H, W, 3). Compute it yourself: do not
#   call scikit-image's `rgb2gray`.
#
# Points: the luminance 2, the `ValueError`s 1.
#
# Worked example, a red, a green, a blue and a white pixel:
#
# ```python
# >>> rgb_to_gray(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], dtype=np.uint8))
# array([[0.2125, 0.7154, 0.0721, 1.    ]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rgb_to_gray(image):
    """RGB array (H, W, 3), uint8 or float in [0, 1] -> float64 luminance (H, W) in [0, 1]."""
    ### BEGIN SOLUTION
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape (H, W, 3), got {image.shape}")
    values = image.astype(np.float64)
    if image.dtype == np.uint8:
        values = values / 255
    return values @ np.array([0.2125, 0.7154, 0.0721])
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_gray_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of rgb_to_gray (2 points).
pixels = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], dtype=np.uint8)  # the worked example
gray = rgb_to_gray(pixels)
assert isinstance(gray, np.ndarray), f"expected a NumPy array, got {type(gray).__name__}"
assert gray.shape == (1, 4), f"expected shape (1, 4), that is (H, W), got {gray.shape}"
assert gray.dtype == np.float64, f"expected dtype float64, got {gray.dtype}"
expected = np.array([[0.2125, 0.7154, 0.0721, 1.0]])
if gray.max() > 1:
    raise AssertionError(
        f"the worked example gave {gray}: a uint8 image must be divided by 255 first (gray lies in [0, 1])"
    )
assert np.allclose(gray, expected), f"worked example: expected {expected}, got {gray}"

photo = np.random.default_rng(3).integers(0, 256, size=(4, 5, 3), dtype=np.uint8)
from_uint8, from_float = rgb_to_gray(photo), rgb_to_gray(photo / 255)
assert np.allclose(from_uint8, from_float), "a uint8 image and the same image as floats / 255 must give the same gray"
assert np.isclose(
    from_uint8[2, 1], 0.2125 * photo[2, 1, 0] / 255 + 0.7154 * photo[2, 1, 1] / 255 + 0.0721 * photo[2, 1, 2] / 255
), "the gray of pixel (2, 1) is wrong"
gray32 = rgb_to_gray((photo / 255).astype(np.float32))
assert gray32.dtype == np.float64, f"a float32 image must give a float64 result too, got {gray32.dtype}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from skimage.color import rgb2gray as _reference

from cvbook.data import sample_image as _sample_image

for _name in ("astronaut", "coffee"):
    _photo = _sample_image(_name)
    _got = rgb_to_gray(_photo)
    assert _got.shape == _photo.shape[:2], f"{_name}: expected shape {_photo.shape[:2]}, got {_got.shape}"
    assert np.allclose(_got, _reference(_photo), atol=1e-9, rtol=0), f"{_name}: differs from skimage's rgb2gray"
_floats = np.random.default_rng(5).random((3, 7, 3))
assert np.allclose(rgb_to_gray(_floats), _reference(_floats), atol=1e-9), "float images must not be rescaled"
assert rgb_to_gray(_floats.astype(np.float32)).dtype == np.float64, "float32 in must give float64 out"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of rgb_to_gray (1 point).
with expect_error(ValueError, "a grayscale image of shape (4, 5) (it must be (H, W, 3))"):
    rgb_to_gray(np.zeros((4, 5), dtype=np.uint8))
with expect_error(ValueError, "an RGBA image of shape (4, 5, 4) (it must be (H, W, 3))"):
    rgb_to_gray(np.zeros((4, 5, 4), dtype=np.uint8))
for call, case in [
    (lambda: rgb_to_gray(np.zeros((4, 5, 3), dtype=np.float32)), "rgb_to_gray of a (4, 5, 3) float32 image"),
    (lambda: rgb_to_gray(np.zeros((1, 1, 3), dtype=np.uint8)), "rgb_to_gray of a single uint8 pixel (1, 1, 3)"),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input, but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "a CHW image of shape (3, 4, 5)"):
    rgb_to_gray(np.zeros((3, 4, 5)))
with expect_error(ValueError, "a batch of shape (2, 4, 5, 3)"):
    rgb_to_gray(np.zeros((2, 4, 5, 3)))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: why fully connected layers do not scale (3 points)
#
# A fully connected (linear) layer from $n$ inputs to $m$ outputs has an $m \times n$
# weight matrix and, with a bias, $m$ more parameters. Fed an image, it sees the
# flattened pixels: $n = H \cdot W \cdot C$ inputs.
#
# `fc_parameters(height, width, channels, hidden, bias=True)`
# : Return, as a Python `int`, the number of learnable parameters of one fully
#   connected layer from a flattened `height` × `width` × `channels` image to `hidden`
#   units, with or without a bias. Raise `ValueError` if any of the four sizes is not
#   a positive integer (0, -1 and 2.5 are refused).
#
# Points: the counts 2, the `ValueError`s 1.
#
# Worked example: a small 64 × 64 RGB image already has 64 · 64 · 3 = 12,288 inputs,
# so a single hidden unit needs 12,288 weights and 1 bias:
#
# ```python
# >>> fc_parameters(64, 64, 3, 1)
# 12289
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fc_parameters(height, width, channels, hidden, bias=True):
    """Number of parameters of a linear layer from a flattened H x W x C image to `hidden` units."""
    ### BEGIN SOLUTION
    for name, value in (("height", height), ("width", width), ("channels", channels), ("hidden", hidden)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    inputs = height * width * channels
    return inputs * hidden + (hidden if bias else 0)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_fc_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of fc_parameters (2 points).
count = fc_parameters(64, 64, 3, 1)  # the worked example
assert isinstance(count, int), f"expected a Python int, got {type(count).__name__}"
assert count == 12_289, f"expected 12,289 (12,288 weights + 1 bias), got {count:,}"
count = fc_parameters(64, 64, 3, 1, bias=False)
assert count == 12_288, f"expected 12,288 weights and no bias, got {count:,}"
count = fc_parameters(1000, 1000, 3, 1000)  # a 1-megapixel photo, 1000 hidden units
assert count == 3_000_001_000, f"expected 3,000,001,000 (3 billion weights + 1000 biases), got {count:,}"
count = fc_parameters(1000, 1000, 3, 1000, bias=False)
assert count == 3_000_000_000, f"expected 3,000,000,000, got {count:,}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from torch import nn as _nn

for _h, _w, _c, _hidden, _bias in [
    (28, 28, 1, 128, True),
    (32, 32, 3, 10, False),
    (7, 5, 2, 3, True),
    (224, 224, 3, 4096, True),
    (1, 1, 1, 1, False),
]:
    _layer = _nn.Linear(_h * _w * _c, _hidden, bias=_bias, device="meta")  # shapes only, no memory
    _want = sum(_p.numel() for _p in _layer.parameters())
    _got = fc_parameters(_h, _w, _c, _hidden, bias=_bias)
    assert isinstance(_got, int), f"expected a Python int, got {type(_got).__name__}"
    assert _got == _want, f"fc_parameters({_h}, {_w}, {_c}, {_hidden}, bias={_bias}): expected {_want}, got {_got}"
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of the ValueErrors of fc_parameters (1 point).
for args in [(64, 64, 3, 0), (0, 64, 3, 10), (64, 64, 2.5, 10)]:
    with expect_error(ValueError, f"fc_parameters{args} (every size must be a positive integer)"):
        fc_parameters(*args)
for call, case in [
    (lambda: fc_parameters(1, 1, 1, 1, bias=False), "fc_parameters(1, 1, 1, 1, bias=False)"),
]:
    try:
        call()
        refused = None
    except ValueError as error:
        refused = error
    assert refused is None, f"{case} is valid input (sizes of 1 are positive), but it raised ValueError: {refused}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _args in [(64, -1, 3, 10), (64, 64, 0, 10), (64, 64, 3, -5), (64.0, 64, 3, 10), (64, 64, 3, 1.5)]:
    with expect_error(ValueError, f"sizes {_args}"):
        fc_parameters(*_args)
### END HIDDEN TESTS

# %% [markdown]
# Once your function passes its tests, this cell prints the numbers of the lecture:

# %%
# NBVAL_CHECK_OUTPUT
for h, w, c, hidden in [(64, 64, 3, 1000), (1000, 1000, 3, 1000)]:
    print(f"{h} x {w} x {c} image -> {hidden} hidden units: {fc_parameters(h, w, c, hidden):>13,} parameters")


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: shifting an image (3 points)
#
# A fully connected layer gives every pixel position its own weights, so it has no
# idea that an object one pixel to the right is the same object: shift the image and
# the layer sees a different input. To measure that we need a shift that moves the
# content and fills the gap with zeros, without the wrap-around of `torch.roll`.
#
# `shift_image(image, dx, dy)`
# : `image` is a tensor of shape (..., H, W), for example (H, W) or (C, H, W). Return a
#   new tensor of the same shape and dtype whose content is moved `dx` pixels to the
#   right (left if `dx` is negative) and `dy` pixels down (up if `dy` is negative).
#   Pixels moved past the border are lost; the pixels left empty are 0. A shift of the
#   image's size or more gives all zeros. Do not change `image`.
#
# Worked example:
#
# ```python
# >>> image = torch.tensor([[1, 2, 3],
# ...                       [4, 5, 6]])
# >>> shift_image(image, dx=1, dy=0)
# tensor([[0, 1, 2],
#         [0, 4, 5]])
# >>> shift_image(image, dx=-1, dy=1)
# tensor([[0, 0, 0],
#         [2, 3, 0]])
# ```
#
# Hint: start from `torch.zeros_like(image)` and copy one rectangle with slices on the
# last two axes (`out[..., y0:y1, x0:x1] = image[..., ...]`).


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shift_image(image, dx, dy):
    """Move the content of `image` (..., H, W) dx pixels right and dy pixels down, filling with 0."""
    ### BEGIN SOLUTION
    height, width = image.shape[-2:]
    out = torch.zeros_like(image)
    if abs(dx) >= width or abs(dy) >= height:
        return out
    src_y = slice(max(0, -dy), height - max(0, dy))
    dst_y = slice(max(0, dy), height - max(0, -dy))
    src_x = slice(max(0, -dx), width - max(0, dx))
    dst_x = slice(max(0, dx), width - max(0, -dx))
    out[..., dst_y, dst_x] = image[..., src_y, src_x]
    return out
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_shift_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of shift_image (3 points).
image = torch.tensor([[1, 2, 3], [4, 5, 6]])  # the worked example
before = image.clone()
shifted = shift_image(image, dx=1, dy=0)
assert isinstance(shifted, torch.Tensor), f"expected a torch.Tensor, got {type(shifted).__name__}"
assert shifted.shape == image.shape and shifted.dtype == image.dtype, (
    f"expected shape (2, 3) and dtype {image.dtype}, got {tuple(shifted.shape)} and {shifted.dtype}"
)
expected = torch.tensor([[0, 1, 2], [0, 4, 5]])
if torch.equal(shifted, torch.tensor([[3, 1, 2], [6, 4, 5]])):
    raise AssertionError("the content wrapped around (like torch.roll): pixels moved in must be 0")
assert torch.equal(shifted, expected), f"shift_image(image, dx=1, dy=0): expected\n{expected}\ngot\n{shifted}"
expected = torch.tensor([[0, 0, 0], [2, 3, 0]])
shifted = shift_image(image, dx=-1, dy=1)
assert torch.equal(shifted, expected), f"shift_image(image, dx=-1, dy=1): expected\n{expected}\ngot\n{shifted}"
assert torch.equal(image, before), "shift_image must not change its input"
assert torch.equal(shift_image(image, 0, 0), image), "a shift by (0, 0) must return the image unchanged"
assert shift_image(image, 0, 0) is not image, "return a new tensor, not the input itself"

torch.manual_seed(0)
image = torch.rand(3, 4, 5)  # (C, H, W): every channel moves the same way
shifted = shift_image(image, dx=2, dy=-1)
assert shifted.shape == (3, 4, 5), f"expected shape (3, 4, 5), got {tuple(shifted.shape)}"
assert torch.equal(shifted[:, :3, 2:], image[:, 1:, :3]), "pixel (y, x) must move to (y + dy, x + dx) in every channel"
assert (shifted[:, 3, :] == 0).all() and (shifted[:, :, :2] == 0).all(), "the pixels left empty must be 0"
assert (shift_image(image, dx=5, dy=0) == 0).all(), "a shift by the width or more must give all zeros"
assert (shift_image(image, dx=0, dy=-9) == 0).all(), "a shift up by more than the height must give all zeros"
pixels = torch.tensor([[[10, 20], [30, 40]]], dtype=torch.uint8)
moved = shift_image(pixels, dx=-1, dy=-1)
assert moved.dtype == torch.uint8 and torch.equal(moved, torch.tensor([[[40, 0], [0, 0]]], dtype=torch.uint8)), (
    f"a uint8 (1, 2, 2) image shifted by dx=-1, dy=-1: expected [[[40, 0], [0, 0]]] as uint8, got {moved.tolist()} ({moved.dtype})"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook.data import shift_images as _reference

_gen = torch.Generator().manual_seed(3)
for _image in [
    torch.rand(4, 5, generator=_gen),
    torch.rand(2, 4, 5, generator=_gen),
    torch.randint(1, 255, (2, 3, 6, 4), generator=_gen, dtype=torch.uint8),
]:
    _before = _image.clone()
    for _dx in range(-7, 8):
        for _dy in range(-7, 8):
            _got = shift_image(_image, _dx, _dy)
            _want = _reference(_image, _dx, _dy)
            assert _got.shape == _want.shape and _got.dtype == _want.dtype, (
                f"dx={_dx}, dy={_dy}: expected shape {tuple(_want.shape)}, dtype {_want.dtype}"
            )
            assert torch.equal(_got, _want), f"dx={_dx}, dy={_dy}, image shape {tuple(_image.shape)}: wrong result"
    assert torch.equal(_image, _before), "shift_image must not change its input"
### END HIDDEN TESTS

# %% [markdown]
# What a one-pixel shift does to the input of a fully connected layer, on one of the
# 8 × 8 handwritten digits of Chapter 1 (run it once your `shift_image` passes):

# %%
# NBVAL_CHECK_OUTPUT
digit, label = load_digits("test")[0]  # a (1, 8, 8) image in [0, 1]
moved = shift_image(digit, dx=1, dy=0)
changed = (moved != digit).float().mean().item()
print(f"a {label.item()} shifted one pixel to the right: {changed:.0%} of the 64 input values change")

# %% [markdown]
# The digit is the same to us, but for a fully connected layer more than half of its
# inputs changed: it would have to learn every digit at every position. Chapter 2's
# convolutions share one small set of weights across all positions instead.
