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
# # Chapter 12 exercises: what CNNs learn and neural style transfer
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch12/ch12_exercises.ipynb)
#
# Five exercises on Chapter 12, *What CNNs learn, and neural style transfer*: the Gram
# matrix of a layer's activations, the style cost of one layer with the lecture's
# normalisation $1/(2 n_H n_W n_C)^2$, the content cost with its two normalisations
# ($\tfrac12$ and $1/(4 n_H n_W n_C)$), the total cost $J(G) = \alpha J_\text{content} +
# \beta \sum_l \lambda^{[l]} J^{[l]}_\text{style}$, and one gradient-descent step on the
# pixels of an image. 18 points in all.
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
#   `ch12_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch12_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import torch

from cvbook.checks import expect_error, refusing

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: the Gram matrix (3 points)
#
# The Gram matrix of a layer's activations $a$ (in PyTorch's order: $n_C$ channels of
# $n_H \times n_W$) says how strongly each pair of channels fires together:
#
# $$\mathcal{G}_{kk'} = \sum_{i=1}^{n_H} \sum_{j=1}^{n_W} a_{kij}\, a_{k'ij} .$$
#
# `gram_matrix(a)`
# : `a` is a float tensor of shape `(N, C, H, W)` (a batch of `N` activations). Return
#   the float tensor of shape `(N, C, C)` holding the Gram matrix of each of the `N`
#   activations (no normalisation). Raise `ValueError` if `a` is not 4-dimensional.
#   Hint: flatten each activation to a `C` × `H*W` matrix $A$; then $\mathcal{G} = A A^\top$.
#   Do not call `cvbook.style.gram_matrix`. Values are compared with a relative tolerance
#   of 1e-5.
#
# Worked example: two channels of 1 × 2 positions,
#
# ```python
# >>> gram_matrix(torch.tensor([[[[1., 2.]], [[0., 3.]]]]))
# tensor([[[5., 6.],
#          [6., 9.]]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gram_matrix(a):
    """(N, C, H, W) activations -> (N, C, C) Gram matrices."""
    ### BEGIN SOLUTION
    if not isinstance(a, torch.Tensor) or a.ndim != 4:
        raise ValueError(f"a must have shape (N, C, H, W), got {getattr(a, 'shape', a)}")
    n, c, h, w = a.shape
    flat = a.reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_gram_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of gram_matrix: the matrices (2 points).
with refusing("cvbook.style.gram_matrix"):
    g = gram_matrix(torch.tensor([[[[1.0, 2.0]], [[0.0, 3.0]]]]))  # the worked example
assert isinstance(g, torch.Tensor), f"expected a tensor, got {type(g).__name__}"
assert g.shape == (1, 2, 2), f"expected shape (1, 2, 2): one C x C matrix per image, got {tuple(g.shape)}"
if torch.equal(g, torch.tensor([[[1.0, 2.0], [2.0, 4.0]]])):
    raise AssertionError("you multiplied positions instead of channels: use A @ A.T with A of shape (C, H*W)")
assert torch.equal(g, torch.tensor([[[5.0, 6.0], [6.0, 9.0]]])), f"expected [[5, 6], [6, 9]], got {g.tolist()}"
x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))
with refusing("cvbook.style.gram_matrix"):
    g = gram_matrix(x)
assert g.shape == (2, 3, 3), f"expected shape (2, 3, 3), got {tuple(g.shape)}"
assert torch.allclose(g, g.transpose(1, 2)), "a Gram matrix is symmetric"
assert torch.allclose(g[1, 0, 2], (x[1, 0] * x[1, 2]).sum(), rtol=1e-5, atol=1e-6), (
    f"G[1, 0, 2] must be the sum over i, j of a[1, 0] * a[1, 2] = {float((x[1, 0] * x[1, 2]).sum()):.5f}, got {float(g[1, 0, 2]):.5f}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import cvbook.style as _style

for _seed, _shape in [(1, (1, 1, 1, 1)), (2, (3, 5, 2, 7)), (3, (1, 16, 8, 8)), (4, (2, 2, 9, 1))]:
    _x = torch.randn(*_shape, generator=torch.Generator().manual_seed(_seed), dtype=torch.float64)
    with refusing("cvbook.style.gram_matrix"):
        _g = gram_matrix(_x)
    _want = torch.einsum("nkij,nlij->nkl", _x, _x)
    assert _g.shape == _want.shape and torch.allclose(_g, _want, rtol=1e-5, atol=1e-6), (
        f"gram_matrix on a random input of shape {_shape}: expected shape {tuple(_want.shape)} and sum_ij a[n, k] a[n, k'], got shape {tuple(_g.shape)}"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of gram_matrix: the errors it raises (1 point).
assert tuple(gram_matrix(torch.zeros(1, 2, 1, 1)).shape) == (1, 2, 2), "a valid (1, 2, 1, 1) input must not raise"
with expect_error(ValueError, "a 3-dimensional input of shape (3, 4, 5) (it must be (N, C, H, W))"):
    gram_matrix(torch.zeros(3, 4, 5))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "a 5-dimensional input"):
    gram_matrix(torch.zeros(1, 2, 3, 4, 5))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: the style cost of one layer (4 points)
#
# With $\mathcal{G}^{(S)}$ and $\mathcal{G}^{(G)}$ the Gram matrices of one layer on the style
# image and on the generated image,
#
# $$J^{[l]}_\text{style}(S, G) = \frac{1}{(2\, n_H n_W n_C)^2} \sum_{k=1}^{n_C} \sum_{k'=1}^{n_C}
#   \left(\mathcal{G}^{(S)}_{kk'} - \mathcal{G}^{(G)}_{kk'}\right)^2 .$$
#
# `layer_style_cost(a_s, a_g)`
# : `a_s`, `a_g`: float tensors of the same shape `(N, C, H, W)`. Return a 0-dimensional
#   tensor: the cost above, added up over the `N` images (`N = 1` in style transfer).
#   Use your `gram_matrix` (the tests of this exercise put the book's `cvbook.style.gram_matrix`
#   in its place while they run, so a mistake in Exercise 1 costs points only there).
#   Raise `ValueError` if the shapes differ or are not 4-dimensional. Keep it
#   differentiable (no `.item()`, no NumPy): style transfer back-propagates through it.
#   Do not call `cvbook.style.layer_style_cost`. Values are compared with a relative
#   tolerance of 1e-5.
#
# Worked example: one channel of 1 × 2 positions; the Gram matrices are 5 and 1, and
# $(5 - 1)^2 / (2 \cdot 1 \cdot 2 \cdot 1)^2 = 16 / 16$:
#
# ```python
# >>> layer_style_cost(torch.tensor([[[[1., 2.]]]]), torch.tensor([[[[0., 1.]]]]))
# tensor(1.)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def layer_style_cost(a_s, a_g):
    """Style cost of one layer: (N, C, H, W) and (N, C, H, W) -> 0-d tensor."""
    ### BEGIN SOLUTION
    if (
        not isinstance(a_s, torch.Tensor)
        or not isinstance(a_g, torch.Tensor)
        or a_s.ndim != 4
        or a_s.shape != a_g.shape
    ):
        raise ValueError("a_s and a_g must be tensors of the same shape (N, C, H, W)")
    _, c, h, w = a_s.shape
    return ((gram_matrix(a_s) - gram_matrix(a_g)) ** 2).sum() / (2 * h * w * c) ** 2
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_style_cost_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of layer_style_cost: the cost (3 points). Your function runs with the book's Gram matrix in place of yours.
import cvbook.style

your_gram, gram_matrix = globals().get("gram_matrix"), cvbook.style.gram_matrix
try:
    with refusing("cvbook.style.layer_style_cost"):
        j = layer_style_cost(torch.tensor([[[[1.0, 2.0]]]]), torch.tensor([[[[0.0, 1.0]]]]))  # the worked example
    assert isinstance(j, torch.Tensor) and j.ndim == 0, f"the worked example: expected a 0-d tensor, got {j!r}"
    assert torch.isclose(j, torch.tensor(1.0)), (
        f"the worked example: expected (5 - 1)^2 / (2 * 1 * 2 * 1)^2 = 16 / 16 = 1, got {j.item()}"
    )
    # the chapter's tiny example: n_H = n_W = n_C = 2, so the constant is 1 / 16^2 = 1 / 256
    a_S = torch.tensor([[[[1.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 3.0]]]])
    a_G = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 2.0]]]])
    with refusing("cvbook.style.layer_style_cost"):
        j = layer_style_cost(a_S, a_G)
    if torch.isclose(j, torch.tensor(53 / 16)):
        raise AssertionError(
            "the chapter's example: got 53/16; the constant is 1 / (2 n_H n_W n_C)^2 = 1/256, squared, not 1 / (2 n_H n_W n_C)"
        )
    if torch.isclose(j, torch.tensor(53.0)):
        raise AssertionError(
            "the chapter's example: got 53; divide the sum of squared differences by (2 n_H n_W n_C)^2 = 256"
        )
    assert torch.isclose(j, torch.tensor(53 / 256)), (
        f"the chapter's example: expected 53 / 256 = 0.20703125, got {j.item()}"
    )
    assert layer_style_cost(a_S, a_S).item() == 0.0, "the style cost of an image with itself is 0"
    two = layer_style_cost(torch.cat([a_S, a_S]), torch.cat([a_G, torch.zeros_like(a_G)]))
    want = 53 / 256 + float((cvbook.style.gram_matrix(a_S) ** 2).sum()) / 256
    assert torch.isclose(two, torch.tensor(want)), (
        f"a batch of N = 2: the costs of the two images are added up, expected {want:.6f}, got {two.item():.6f}"
    )
    a_g = a_G.clone().requires_grad_(True)
    layer_style_cost(a_S, a_g).backward()
    assert a_g.grad is not None and torch.isfinite(a_g.grad).all(), (
        "the cost must be differentiable in a_g (keep tensors, no .item())"
    )
    print("Visible tests passed.")
    ### BEGIN HIDDEN TESTS
    for _seed, _shape in [(5, (1, 3, 4, 5)), (6, (2, 8, 3, 3)), (7, (1, 1, 6, 2))]:
        _gen = torch.Generator().manual_seed(_seed)
        _s = torch.randn(*_shape, generator=_gen, dtype=torch.float64)
        _g = torch.randn(*_shape, generator=_gen, dtype=torch.float64, requires_grad=True)
        with refusing("cvbook.style.layer_style_cost"):
            _j = layer_style_cost(_s, _g)
        _want = cvbook.style.layer_style_cost(_s, _g)
        assert torch.allclose(_j, _want, rtol=1e-5), (
            f"random activations of shape {_shape}: expected {_want.item()}, got {_j.item()}"
        )
        (_grad,) = torch.autograd.grad(_j, _g)
        (_grad_want,) = torch.autograd.grad(_want, _g)
        assert torch.allclose(_grad, _grad_want, rtol=1e-5), (
            f"random activations of shape {_shape}: the gradient of the style cost is wrong"
        )
    ### END HIDDEN TESTS
finally:
    gram_matrix = your_gram

# %% nbgrader={"grade": true, "grade_id": "ex2_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of layer_style_cost: the errors it raises (1 point). It runs with the book's Gram matrix in place of yours.
your_gram, gram_matrix = globals().get("gram_matrix"), cvbook.style.gram_matrix
try:
    assert layer_style_cost(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 3)).item() == 0.0, (
        "valid activations must not raise"
    )
    with expect_error(ValueError, "activations of different shapes (1, 2, 3, 3) and (1, 2, 3, 4)"):
        layer_style_cost(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 4))
    with expect_error(ValueError, "3-dimensional activations of shape (2, 3, 3) (they must be (N, C, H, W))"):
        layer_style_cost(torch.zeros(2, 3, 3), torch.zeros(2, 3, 3))
    print("Visible tests passed.")
    ### BEGIN HIDDEN TESTS
    with expect_error(ValueError, "activations of shapes (2, 2, 3, 3) and (1, 2, 3, 3)"):
        layer_style_cost(torch.zeros(2, 2, 3, 3), torch.zeros(1, 2, 3, 3))
    ### END HIDDEN TESTS
finally:
    gram_matrix = your_gram

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: the content cost (3 points)
#
# The content cost compares one layer's activations on the content image and on the
# generated image, entry by entry. Gatys et al. and the lecture use $\tfrac12$; the
# Coursera assignment divides by the layer's size instead:
#
# $$J_\text{content}(C, G) = \frac{1}{2} \sum_{k, i, j} \left(a^{(C)}_{kij} - a^{(G)}_{kij}\right)^2
#   \quad\text{or}\quad \frac{1}{4 n_H n_W n_C} \sum_{k, i, j} \left(a^{(C)}_{kij} - a^{(G)}_{kij}\right)^2 .$$
#
# `content_cost(a_c, a_g, norm="half")`
# : `a_c`, `a_g`: float tensors of the same shape `(N, C, H, W)`. `norm` is `"half"` (the
#   first formula) or `"size"` (the second). Return a 0-dimensional tensor, added up over
#   the `N` images. Raise `ValueError` if the shapes differ or are not 4-dimensional, or if
#   `norm` is anything else. Do not call `cvbook.style.content_cost`. Values are compared
#   with a relative tolerance of 1e-5.
#
# Worked example (the chapter's): the squared differences add up to 6, and
# $n_H n_W n_C = 8$:
#
# ```python
# >>> a_C = torch.tensor([[[[2., 0.], [1., 1.]], [[0., 1.], [1., 2.]]]])
# >>> a_G = torch.tensor([[[[1., 1.], [0., 1.]], [[1., 0.], [0., 2.]]]])
# >>> content_cost(a_C, a_G), content_cost(a_C, a_G, norm="size")
# (tensor(3.), tensor(0.1875))
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def content_cost(a_c, a_g, norm="half"):
    """Content cost of one layer: (N, C, H, W) and (N, C, H, W) -> 0-d tensor."""
    ### BEGIN SOLUTION
    if (
        not isinstance(a_c, torch.Tensor)
        or not isinstance(a_g, torch.Tensor)
        or a_c.ndim != 4
        or a_c.shape != a_g.shape
    ):
        raise ValueError("a_c and a_g must be tensors of the same shape (N, C, H, W)")
    squared = ((a_c - a_g) ** 2).sum()
    if norm == "half":
        return squared / 2
    if norm == "size":
        _, c, h, w = a_c.shape
        return squared / (4 * h * w * c)
    raise ValueError(f"norm must be 'half' or 'size', got {norm!r}")
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_content_cost_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of content_cost: the cost (2 points).
a_C = torch.tensor([[[[2.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 2.0]]]])
a_G = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 2.0]]]])
with refusing("cvbook.style.content_cost"):
    j = content_cost(a_C, a_G)
assert isinstance(j, torch.Tensor) and j.ndim == 0, f"expected a 0-d tensor, got {j!r}"
if torch.isclose(j, torch.tensor(6 / 16)):
    raise AssertionError("got 6/16 = the mean of the squares divided by 2: sum over all entries, do not average")
assert torch.isclose(j, torch.tensor(3.0)), f"norm='half': expected 6 / 2 = 3, got {j.item()}"
with refusing("cvbook.style.content_cost"):
    j = content_cost(a_C, a_G, norm="size")
assert torch.isclose(j, torch.tensor(0.1875)), f"norm='size': expected 6 / (4 * 2 * 2 * 2) = 0.1875, got {j.item()}"
assert content_cost(a_C, a_C).item() == 0.0, "the content cost of an image with itself is 0"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import cvbook.style as _style

for _seed, _shape in [(8, (1, 3, 4, 5)), (9, (2, 8, 3, 3)), (10, (1, 1, 6, 2))]:
    _gen = torch.Generator().manual_seed(_seed)
    _c = torch.randn(*_shape, generator=_gen, dtype=torch.float64)
    _g = torch.randn(*_shape, generator=_gen, dtype=torch.float64, requires_grad=True)
    for _norm in ("half", "size"):
        with refusing("cvbook.style.content_cost"):
            _j = content_cost(_c, _g, norm=_norm)
        _want = _style.content_cost(_c, _g, norm=_norm)
        assert torch.allclose(_j, _want, rtol=1e-5), (
            f"random activations of shape {_shape}, norm={_norm!r}: expected {_want.item()}, got {_j.item()}"
        )
    (_grad,) = torch.autograd.grad(content_cost(_c, _g), _g)
    assert torch.allclose(_grad, _g.detach() - _c, rtol=1e-5), (
        "with norm='half' the gradient must be a_g - a_c (keep tensors, no .item())"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex3_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of content_cost: the errors it raises (1 point).
assert content_cost(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 3), norm="size").item() == 0.0, (
    "valid activations with norm='size' must not raise"
)
with expect_error(ValueError, "norm='mean' (only 'half' and 'size' exist)"):
    content_cost(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 3), norm="mean")
with expect_error(ValueError, "activations of different shapes (1, 2, 3, 3) and (1, 3, 3, 3)"):
    content_cost(torch.zeros(1, 2, 3, 3), torch.zeros(1, 3, 3, 3))
with expect_error(ValueError, "3-dimensional activations of shape (2, 3, 3) (they must be (N, C, H, W))"):
    content_cost(torch.zeros(2, 3, 3), torch.zeros(2, 3, 3))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
with expect_error(ValueError, "norm=None"):
    content_cost(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), norm=None)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: the total cost with layer weights (4 points)
#
# Style transfer measures content on one layer and style on several, each with a weight
# $\lambda^{[l]}$:
#
# $$J(G) = \alpha\, J_\text{content}(C, G) + \beta \sum_l \lambda^{[l]} J^{[l]}_\text{style}(S, G).$$
#
# `total_cost(feats_c, feats_s, feats_g, content_layer, style_weights, alpha=10.0, beta=40.0)`
# : `feats_c`, `feats_s`, `feats_g` are dicts layer name → activations `(N, C, H, W)` of
#   the content, style and generated images (as a feature extractor returns them).
#   `content_layer` names the layer of the content cost (with `norm="half"`);
#   `style_weights` is a dict layer name → $\lambda^{[l]}$, and only these layers enter the
#   style cost. Return $J(G)$ as a 0-dimensional tensor, using your `content_cost` and
#   `layer_style_cost` (the tests of this exercise put the book's `cvbook.style.content_cost`
#   and `cvbook.style.layer_style_cost` in their place while they run, so a mistake in
#   Exercise 2 or 3 costs points only there). Raise `ValueError` if `content_layer` is
#   missing from `feats_c` or `feats_g`, if a layer of `style_weights` is missing from
#   `feats_s` or `feats_g`, or if `style_weights` is empty. Values are compared with a
#   relative tolerance of 1e-5.
#
# Worked example: content 3 (Exercise 3), style 53/256 on one layer (Exercise 2):
#
# ```python
# >>> # a_C, a_G from Exercise 3, a_S from Exercise 2
# >>> f_c, f_s, f_g = {"l1": a_C}, {"l1": a_S}, {"l1": a_G}
# >>> total_cost(f_c, f_s, f_g, "l1", {"l1": 1.0})      # 10 * 3 + 40 * 53/256
# tensor(38.2812)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def total_cost(feats_c, feats_s, feats_g, content_layer, style_weights, alpha=10.0, beta=40.0):
    """J(G) = alpha * J_content + beta * sum_l lambda_l * J_style^[l], a 0-d tensor."""
    ### BEGIN SOLUTION
    if content_layer not in feats_c or content_layer not in feats_g:
        raise ValueError(f"no activations for the content layer {content_layer!r}")
    if not style_weights:
        raise ValueError("style_weights must name at least one layer")
    for name in style_weights:
        if name not in feats_s or name not in feats_g:
            raise ValueError(f"no activations for the style layer {name!r}")
    j_content = content_cost(feats_c[content_layer], feats_g[content_layer])
    j_style = sum(lam * layer_style_cost(feats_s[name], feats_g[name]) for name, lam in style_weights.items())
    return alpha * j_content + beta * j_style
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_total_cost_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of total_cost: the cost (3 points). Your function runs with the book's content and style costs in place of yours.
import cvbook.style

yours = globals().get("content_cost"), globals().get("layer_style_cost")
content_cost, layer_style_cost = cvbook.style.content_cost, cvbook.style.layer_style_cost
try:
    a_C = torch.tensor([[[[2.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 2.0]]]])
    a_S = torch.tensor([[[[1.0, 0.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 3.0]]]])
    a_G = torch.tensor([[[[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 2.0]]]])
    f_c, f_s, f_g = {"l1": a_C}, {"l1": a_S}, {"l1": a_G}
    j = total_cost(f_c, f_s, f_g, "l1", {"l1": 1.0})  # the worked example
    assert isinstance(j, torch.Tensor) and j.ndim == 0, f"the worked example: expected a 0-d tensor, got {j!r}"
    assert torch.isclose(j, torch.tensor(38.28125)), (
        f"the worked example: expected 10 * 3 + 40 * 53/256 = 38.28125, got {j.item()}"
    )
    j = total_cost(f_c, f_s, f_g, "l1", {"l1": 1.0}, alpha=1.0, beta=0.0)
    assert torch.isclose(j, torch.tensor(3.0)), (
        f"the worked example with alpha=1, beta=0: only the content cost (3) remains, got {j.item()}"
    )
    # two layers: lambda weights each layer's style cost
    gen = torch.Generator().manual_seed(0)
    f_c = {"l1": a_C, "l2": torch.randn(1, 3, 2, 2, generator=gen)}
    f_s = {"l1": a_S, "l2": torch.randn(1, 3, 2, 2, generator=gen)}
    f_g = {"l1": a_G, "l2": torch.randn(1, 3, 2, 2, generator=gen), "l3": torch.randn(1, 3, 2, 2, generator=gen)}
    j = total_cost(f_c, f_s, f_g, "l2", {"l1": 0.5, "l2": 2.0}, alpha=2.0, beta=3.0)
    want = 2.0 * cvbook.style.content_cost(f_c["l2"], f_g["l2"]) + 3.0 * (
        0.5 * cvbook.style.layer_style_cost(a_S, a_G) + 2.0 * cvbook.style.layer_style_cost(f_s["l2"], f_g["l2"])
    )
    assert torch.isclose(j, want), (
        f"content on l2, style on l1 (lambda 0.5) and l2 (lambda 2), alpha 2, beta 3; l3 has no weight and does not count: expected {want.item():.6f}, got {j.item():.6f}"
    )
    print("Visible tests passed.")
    ### BEGIN HIDDEN TESTS
    _gen = torch.Generator().manual_seed(11)
    _names = ["relu1_1", "relu2_1", "relu3_1"]
    _shapes = [(1, 4, 6, 6), (1, 8, 3, 3), (1, 16, 2, 2)]
    _fc, _fs, _fg = (
        {_n: torch.rand(*_sh, generator=_gen, dtype=torch.float64) for _n, _sh in zip(_names, _shapes)}
        for _ in range(3)
    )
    _fg["extra"] = torch.zeros(1, 1, 1, 1, dtype=torch.float64)  # layers without a weight do not count
    _w = {"relu1_1": 0.2, "relu3_1": 5.0}
    _j = total_cost(_fc, _fs, _fg, "relu2_1", _w, alpha=0.7, beta=1.3)
    _want = cvbook.style.total_cost(
        cvbook.style.content_cost(_fc["relu2_1"], _fg["relu2_1"]),
        cvbook.style.style_cost(_fs, _fg, _w),
        alpha=0.7,
        beta=1.3,
    )
    assert torch.allclose(_j, _want, rtol=1e-5), (
        f"three VGG-like layers, weights {_w}, alpha 0.7, beta 1.3: expected {_want.item()}, got {_j.item()}"
    )
    _want = 10 * cvbook.style.content_cost(_fc["relu1_1"], _fg["relu1_1"]) + 40 * cvbook.style.layer_style_cost(
        _fs["relu2_1"], _fg["relu2_1"]
    )
    _j = total_cost(_fc, _fs, _fg, "relu1_1", {"relu2_1": 1.0})
    assert torch.allclose(_j, _want, rtol=1e-5), (
        f"the default alpha = 10 and beta = 40: expected {_want.item()}, got {_j.item()}"
    )
    ### END HIDDEN TESTS
finally:
    content_cost, layer_style_cost = yours

# %% nbgrader={"grade": true, "grade_id": "ex4_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of total_cost: the errors it raises (1 point). Your function runs with the book's costs in place of yours.
yours = globals().get("content_cost"), globals().get("layer_style_cost")
content_cost, layer_style_cost = cvbook.style.content_cost, cvbook.style.layer_style_cost
try:
    f = {"l1": torch.zeros(1, 2, 2, 2), "l2": torch.zeros(1, 2, 2, 2)}
    assert total_cost(f, f, f, "l1", {"l2": 1.0}).item() == 0.0, "valid features must not raise"
    with expect_error(ValueError, "the content layer 'l3' that is not in the features"):
        total_cost(f, f, f, "l3", {"l1": 1.0})
    with expect_error(ValueError, "the style layer 'l9' that is not in the features"):
        total_cost(f, f, f, "l1", {"l9": 1.0})
    with expect_error(ValueError, "empty style_weights (at least one style layer is needed)"):
        total_cost(f, f, f, "l1", {})
    print("Visible tests passed.")
    ### BEGIN HIDDEN TESTS
    with expect_error(ValueError, "a style layer missing from feats_s only"):
        total_cost(f, {"l1": f["l1"]}, f, "l1", {"l2": 1.0})
    with expect_error(ValueError, "the content layer missing from feats_g only"):
        total_cost(f, f, {"l2": f["l2"]}, "l1", {"l2": 1.0})
    ### END HIDDEN TESTS
finally:
    content_cost, layer_style_cost = yours

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: one gradient step on the pixels (4 points)
#
# In style transfer the network is frozen and the *image* is the parameter. One step of
# gradient descent on an image $G$ with learning rate $\eta$:
#
# $$G \leftarrow \operatorname{clip}_{[0, 1]}\left(G - \eta\, \frac{\partial J}{\partial G}\right).$$
#
# `pixel_step(image, cost_fn, lr)`
# : `image`: a float tensor `(1, 3, H, W)` in [0, 1] (it does not require gradients);
#   `cost_fn`: a function image → 0-d tensor $J$; `lr`: a float $> 0$. Compute $J$ at
#   `image` and its gradient with respect to the pixels (autograd: make a copy that
#   requires gradients), take one step, clip to [0, 1], and return the tuple
#   `(new_image, cost)`: the new image (a tensor of the same shape that does **not**
#   require gradients) and the cost *before* the step as a Python `float`. Do not modify
#   `image` in place. Raise `ValueError` if `lr` is not an `int` or `float` $> 0$ (a `bool`,
#   a string or `None` is not a number here). Images are compared with a relative
#   tolerance of 1e-5.
#
# Worked example: with $J(G) = \sum (G - 0.5)^2$ the gradient is $2(G - 0.5)$, so a step of
# $\eta = 0.25$ moves every pixel halfway to 0.5:
#
# ```python
# >>> new, cost = pixel_step(torch.ones(1, 3, 2, 2), lambda g: ((g - 0.5) ** 2).sum(), 0.25)
# >>> new[0, 0], cost
# (tensor([[0.7500, 0.7500],
#          [0.7500, 0.7500]]), 3.0)
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pixel_step(image, cost_fn, lr):
    """One gradient-descent step on the pixels: returns (new image, cost before the step)."""
    ### BEGIN SOLUTION
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ValueError(f"lr must be a number > 0, got {lr!r}")
    g = image.detach().clone().requires_grad_(True)
    cost = cost_fn(g)
    (grad,) = torch.autograd.grad(cost, g)
    with torch.no_grad():
        new = (g - lr * grad).clamp(0, 1)
    return new.detach(), float(cost)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_pixel_step_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of pixel_step: the step (3 points).
image = torch.ones(1, 3, 2, 2)
new, cost = pixel_step(image, lambda g: ((g - 0.5) ** 2).sum(), 0.25)  # the worked example
assert isinstance(cost, float), f"expected the cost as a Python float, got {type(cost).__name__}"
assert cost == 3.0, f"the cost before the step is 12 * 0.5^2 = 3, got {cost}"
assert isinstance(new, torch.Tensor) and new.shape == (1, 3, 2, 2), f"expected a (1, 3, 2, 2) tensor, got {new!r}"
if torch.allclose(new, torch.full_like(new, 1.25)):
    raise AssertionError("you stepped along the gradient: gradient *descent* subtracts lr * dJ/dG")
assert torch.allclose(new, torch.full_like(new, 0.75)), (
    f"expected every pixel at 1 - 0.25 * 2 * 0.5 = 0.75, got {new.flatten().tolist()}"
)
assert not new.requires_grad, "return the new image detached (it must not require gradients)"
assert torch.equal(image, torch.ones(1, 3, 2, 2)), "do not modify the input image in place"
new, _ = pixel_step(torch.full((1, 3, 2, 2), 0.9), lambda g: -g.sum(), 1.0)
assert new.max().item() == 1.0, "a step from 0.9 up by 1.0: clip the new image to [0, 1], expected max 1.0"
new, _ = pixel_step(torch.full((1, 3, 2, 2), 0.1), lambda g: g.sum(), 1.0)
assert new.min().item() == 0.0, "a step from 0.1 down by 1.0: clip the new image to [0, 1], expected min 0.0"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_gen = torch.Generator().manual_seed(12)
_target = torch.rand(1, 3, 5, 4, generator=_gen, dtype=torch.float64)
_img = torch.rand(1, 3, 5, 4, generator=_gen, dtype=torch.float64)
_w = torch.randn(2, 3, 3, 3, generator=_gen, dtype=torch.float64)


def _cost(g):
    return ((torch.nn.functional.conv2d(g, _w) - torch.nn.functional.conv2d(_target, _w)) ** 2).sum() / 2


_g = _img.clone().requires_grad_(True)
_c = _cost(_g)
_c.backward()
_want = (_img - 0.01 * _g.grad).clamp(0, 1)
_new, _got_cost = pixel_step(_img, _cost, 0.01)
assert torch.allclose(_new, _want, rtol=1e-5), "one step on a convolutional cost differs from clip(G - lr * dJ/dG)"
assert abs(_got_cost - _c.item()) < 1e-6 * abs(_c.item()), (
    f"the cost before the step: expected {_c.item()}, got {_got_cost}"
)
assert _cost(_new) < _c, "a small step must lower the cost"
# repeated steps keep lowering it
_x, _costs = _img, []
for _ in range(5):
    _x, _k = pixel_step(_x, _cost, 0.01)
    _costs.append(_k)
assert all(_b < _a for _a, _b in zip(_costs, _costs[1:])), (
    f"five steps of lr 0.01: the costs did not decrease: {_costs}"
)
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex5_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of pixel_step: the errors it raises (1 point).
assert pixel_step(torch.ones(1, 3, 2, 2), lambda g: g.sum(), 1)[1] == 12.0, (
    "an int lr = 1 is a valid number and must not raise"
)
for bad in (0.0, -0.1, True, "0.1", None):
    with expect_error(
        ValueError, f"lr = {bad!r} (lr must be an int or float > 0; a bool, a string or None is not one)"
    ):
        pixel_step(torch.ones(1, 3, 2, 2), lambda g: g.sum(), bad)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _bad in (-5, False, [0.1]):
    with expect_error(ValueError, f"lr = {_bad!r}"):
        pixel_step(torch.ones(1, 3, 2, 2), lambda g: g.sum(), _bad)
### END HIDDEN TESTS

# %% [markdown]
# These five functions are the whole of neural style transfer's mathematics: the chapter's
# `style.style_transfer` repeats Exercise 5 a few hundred times with the cost of Exercise 4,
# computed on VGG-19's activations. Chapter 13 leaves images behind for signals and volumes:
# convolutions in one and three dimensions.
