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
# # Chapter 9 exercises: object detection
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch09/ch09_exercises.ipynb)
#
# Five exercises on Chapter 9, *Object detection and YOLO*: intersection over union for
# all pairs of two sets of boxes, conversion between box formats, non-max suppression
# exactly as the lecture states it (discard $p_c \le 0.6$, keep the best, drop IoU $\ge 0.5$),
# the YOLO training target with anchor boxes (the lecture's $3 \times 3 \times 2 \times 8$ tensor),
# and average precision from a ranked list of detections. 17 points in all.
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
#   `ch09_exercises.ipynb` to the course's LMS. (*File > Save a copy in Drive* keeps
#   your work in Colab between sessions; the upload to the LMS is what counts.)
# - **Locally** (Jupyter or VS Code): save the notebook (*Ctrl+S*) and upload the file
#   `ch09_exercises.ipynb` to the course's LMS.

# %% nbgrader={"grade": false, "grade_id": "imports", "locked": true, "schema_version": 3, "solution": false, "task": false}
import math

import numpy as np
import torch

from cvbook.checks import expect_error, refusing


def close(got, want, atol=1e-6):
    """Used by the tests: same shape and values within rtol 1e-5 and atol (fit for float32 and float64)."""
    got, want = torch.as_tensor(got), torch.as_tensor(want)
    return got.shape == want.shape and torch.allclose(got.double(), want.double(), rtol=1e-5, atol=atol)


# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: intersection over union (3 points)
#
# `iou(boxes1, boxes2)`
# : `boxes1` is a float tensor of shape (N, 4) and `boxes2` one of shape (M, 4), each row a box
#   in corner format (x1, y1, x2, y2) with x1 < x2 and y1 < y2 (every box has a positive width
#   and height; N or M may be 0). Return the (N, M) float tensor whose entry [i, j] is the IoU of
#   `boxes1[i]` and `boxes2[j]`:
#   $$\text{IoU} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|},$$
#   where the area of a box is $(x_2 - x_1)(y_2 - y_1)$ and boxes that only touch or do not
#   overlap have intersection 0. Raise `ValueError` if either input is not of shape (K, 4).
#   Do not call `torchvision.ops.box_iou` or `cvbook.boxes.box_iou`. (Hint: broadcasting
#   `boxes1[:, None]` against `boxes2[None, :]` gives all pairs at once; loops are allowed.)
#   Values are compared with a tolerance of 1e-6, so float32 or float64 arithmetic both pass.
#
# Worked example (a 4 × 3 box and a 4 × 4 box overlapping in a 3 × 2 rectangle:
# 6 / (12 + 16 − 6) = 0.2727):
#
# ```python
# >>> iou(torch.tensor([[1.0, 1.0, 5.0, 4.0]]), torch.tensor([[2.0, 2.0, 6.0, 6.0], [1.0, 1.0, 5.0, 4.0]]))
# tensor([[0.2727, 1.0000]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex1_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def iou(boxes1, boxes2):
    """Pairwise IoU of (N, 4) and (M, 4) corner boxes -> (N, M)."""
    ### BEGIN SOLUTION
    for name, b in (("boxes1", boxes1), ("boxes2", boxes2)):
        if b.dim() != 2 or b.shape[1] != 4:
            raise ValueError(f"{name} must have shape (K, 4), got {tuple(b.shape)}")
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex1_iou_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of iou: the values (2 points).
BOX_IOU = ("torchvision.ops.box_iou", "torchvision.ops.boxes.box_iou", "cvbook.boxes.box_iou")

with refusing(*BOX_IOU):
    out = iou(torch.tensor([[1.0, 1.0, 5.0, 4.0]]), torch.tensor([[2.0, 2.0, 6.0, 6.0], [1.0, 1.0, 5.0, 4.0]]))
assert isinstance(out, torch.Tensor) and out.shape == (1, 2), (
    f"the worked example: expected a tensor of shape (1, 2), got {getattr(out, 'shape', out)}"
)
assert out.is_floating_point(), f"the worked example: expected a float tensor, got dtype {out.dtype}"
assert close(out, [[6 / 22, 1.0]]), (
    f"the worked example: expected [[0.2727, 1.0]] (6 / (12 + 16 - 6), then a box with itself), got {out.tolist()}"
)
with refusing(*BOX_IOU):
    out = iou(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[2.0, 0.0, 4.0, 2.0], [5.0, 5.0, 6.0, 6.0]]))
assert close(out, [[0.0, 0.0]]), (
    f"a box touching [0, 0, 2, 2] at x = 2 and a disjoint one: both have intersection 0, so IoU 0; got {out.tolist()}"
    " (clamp negative overlap widths and heights to 0)"
)
with refusing(*BOX_IOU):
    out = iou(
        torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 3.0]]),
        torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]]),
    )
assert out.shape == (3, 2), f"3 boxes against 2: expected shape (3, 2) (row i = boxes1[i]), got {tuple(out.shape)}"
assert close(out, [[1.0, 1 / 3], [0.25, 0.25], [1 / 7, 1 / 3]]), (
    f"3 boxes against 2: expected [[1, 1/3], [1/4, 1/4], [1/7, 1/3]], got {out.tolist()}"
)
with refusing(*BOX_IOU):
    out = iou(torch.zeros(0, 4), torch.tensor([[0.0, 0.0, 1.0, 1.0]]))
assert tuple(out.shape) == (0, 1), (
    f"no boxes in boxes1 (N = 0) against 1 box: expected an empty tensor of shape (0, 1), got {tuple(out.shape)}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _tv

_g = torch.Generator().manual_seed(7)
for _n, _m in [(13, 29), (1, 50), (40, 1), (0, 3), (4, 0)]:
    _xy1, _xy2 = torch.rand(_n, 2, generator=_g) * 60, torch.rand(_m, 2, generator=_g) * 60
    _b1 = torch.cat([_xy1, _xy1 + torch.rand(_n, 2, generator=_g) * 30 + 0.5], 1)
    _b2 = torch.cat([_xy2, _xy2 + torch.rand(_m, 2, generator=_g) * 30 + 0.5], 1)
    _want = _tv.ops.box_iou(_b1, _b2)
    with refusing(*BOX_IOU):
        _got = iou(_b1, _b2)
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"{_n} x {_m} random boxes: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    assert close(_got, _want), (
        f"{_n} x {_m} random boxes: largest difference from the true IoU {float((_got.double() - _want.double()).abs().max()):.2e}"
    )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex1_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of iou: the errors it raises (1 point).
out = iou(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), torch.zeros(0, 4))
assert tuple(out.shape) == (1, 0), "valid inputs must not raise: boxes (1, 4) against (0, 4) give a (1, 0) tensor"
with expect_error(ValueError, "boxes1 of shape (3, 5): boxes must have shape (K, 4)"):
    iou(torch.zeros(3, 5), torch.zeros(2, 4))
with expect_error(ValueError, "boxes2 of shape (4,), one box without its batch axis: boxes must have shape (K, 4)"):
    iou(torch.zeros(2, 4), torch.zeros(4))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _s1, _s2 in [((2, 4), (3, 3)), ((1, 2, 4), (2, 4)), ((4,), (4,))]:
    with expect_error(ValueError, f"boxes of shapes {_s1} and {_s2}"):
        iou(torch.zeros(_s1), torch.zeros(_s2))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: box formats (3 points)
#
# `convert_boxes(boxes, in_fmt, out_fmt)`
# : `boxes` is a float tensor of shape (N, 4) (N may be 0); `in_fmt` and `out_fmt` are each
#   one of `"xyxy"` (corners $x_1, y_1, x_2, y_2$), `"xywh"` (top-left corner, width, height, as
#   in COCO files) and `"cxcywh"` (centre, width, height, as YOLO's $b_x, b_y$ with $b_w, b_h$).
#   Return a new (N, 4) tensor in `out_fmt` (a copy when the formats are equal). Raise
#   `ValueError` for an unknown format name, in `in_fmt` or in `out_fmt`. Do not call
#   `torchvision.ops.box_convert` or `cvbook.boxes.box_convert`. Values are compared with a
#   relative tolerance of 1e-5.
#
# Worked example:
#
# ```python
# >>> convert_boxes(torch.tensor([[10.0, 20.0, 50.0, 40.0]]), "xyxy", "cxcywh")
# tensor([[30., 30., 40., 20.]])
# >>> convert_boxes(torch.tensor([[30.0, 30.0, 40.0, 20.0]]), "cxcywh", "xywh")
# tensor([[10., 20., 40., 20.]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex2_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def convert_boxes(boxes, in_fmt, out_fmt):
    """Convert (N, 4) boxes between "xyxy", "xywh" and "cxcywh"."""
    ### BEGIN SOLUTION
    formats = ("xyxy", "xywh", "cxcywh")
    if in_fmt not in formats or out_fmt not in formats:
        raise ValueError(f"formats must be among {formats}, got {in_fmt!r} and {out_fmt!r}")
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif in_fmt == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    else:
        x1, y1, x2, y2 = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if out_fmt == "xyxy":
        out = (x1, y1, x2, y2)
    elif out_fmt == "xywh":
        out = (x1, y1, x2 - x1, y2 - y1)
    else:
        out = ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1)
    return torch.stack(out, dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex2_convert_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of convert_boxes: the conversions (2 points).
BOX_CONVERT = ("torchvision.ops.box_convert", "cvbook.boxes.box_convert")
box = torch.tensor([[10.0, 20.0, 50.0, 40.0]])
for fmt_in, fmt_out, source, want in [
    ("xyxy", "cxcywh", box, [[30, 30, 40, 20]]),
    ("cxcywh", "xywh", torch.tensor([[30.0, 30.0, 40.0, 20.0]]), [[10, 20, 40, 20]]),
    ("xyxy", "xywh", box, [[10, 20, 40, 20]]),
    ("xywh", "xyxy", torch.tensor([[10.0, 20.0, 40.0, 20.0]]), [[10, 20, 50, 40]]),
    ("cxcywh", "xyxy", torch.tensor([[30.0, 30.0, 40.0, 20.0]]), [[10, 20, 50, 40]]),
    ("xywh", "cxcywh", torch.tensor([[10.0, 20.0, 40.0, 20.0]]), [[30, 30, 40, 20]]),
    ("xyxy", "xyxy", box, [[10, 20, 50, 40]]),
]:
    with refusing(*BOX_CONVERT):
        out = convert_boxes(source.clone(), fmt_in, fmt_out)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (1, 4), (
        f"{fmt_in} -> {fmt_out} of {source.tolist()}: expected a tensor of shape (1, 4), got {getattr(out, 'shape', out)}"
    )
    assert close(out, want, atol=1e-4), (
        f"{fmt_in} -> {fmt_out} of {source.tolist()}: expected {want}, got {out.tolist()}"
    )
with refusing(*BOX_CONVERT):
    out = convert_boxes(torch.zeros(0, 4), "xyxy", "cxcywh")
assert tuple(out.shape) == (0, 4), (
    f"no boxes in (shape (0, 4)), no boxes out: expected shape (0, 4), got {tuple(out.shape)}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _tv

_g = torch.Generator().manual_seed(3)
_xy = torch.rand(25, 2, generator=_g, dtype=torch.float64) * 100
_b = torch.cat([_xy, _xy + torch.rand(25, 2, generator=_g, dtype=torch.float64) * 40 + 1], 1)
for _in in ("xyxy", "xywh", "cxcywh"):
    _src = _tv.ops.box_convert(_b, "xyxy", _in)
    for _out in ("xyxy", "xywh", "cxcywh"):
        _want = _tv.ops.box_convert(_src, _in, _out)
        with refusing(*BOX_CONVERT):
            _got = convert_boxes(_src.clone(), _in, _out)
        assert tuple(_got.shape) == (25, 4), (
            f"{_in} -> {_out} of 25 random boxes: expected shape (25, 4), got {tuple(_got.shape)}"
        )
        assert close(_got, _want), (
            f"{_in} -> {_out} of 25 random boxes: for box {_src[0].tolist()} expected {_want[0].tolist()}, got {_got[0].tolist()}"
        )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex2_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of convert_boxes: unknown formats (1 point).
for fmt_in in ("xyxy", "xywh", "cxcywh"):
    for fmt_out in ("xyxy", "xywh", "cxcywh"):
        out = convert_boxes(torch.tensor([[10.0, 20.0, 50.0, 40.0]]), fmt_in, fmt_out)
        assert tuple(out.shape) == (1, 4), (
            f"the known formats {fmt_in!r} -> {fmt_out!r} must not raise; expected shape (1, 4), got {tuple(out.shape)}"
        )
with expect_error(ValueError, "the unknown output format 'yolo'"):
    convert_boxes(torch.tensor([[10.0, 20.0, 50.0, 40.0]]), "xyxy", "yolo")
with expect_error(ValueError, "the unknown input format 'xy'"):
    convert_boxes(torch.tensor([[10.0, 20.0, 50.0, 40.0]]), "xy", "xyxy")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
for _in, _out in [("XYXY", "xywh"), ("cxcywh", ""), ("xywh", None)]:
    with expect_error(ValueError, f"the formats {_in!r} -> {_out!r}"):
        convert_boxes(torch.zeros(2, 4), _in, _out)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: non-max suppression, the lecture's way (4 points)
#
# `nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6)`
# : `boxes` (N, 4) corner boxes with positive width and height, `scores` (N,) their $p_c$
#   (N may be 0). Implement the lecture's algorithm:
#
#   1. discard every box with score **≤** `score_threshold`;
#   2. while boxes remain: take the one with the largest score and output it; discard every
#      remaining box whose IoU with it is **≥** `iou_threshold`.
#
#   Return the indices (into the input) of the kept boxes as an int64 tensor of shape (K,),
#   in the order they were output (decreasing score); **ties**: among equal scores the lower
#   index is taken first. No box left: an empty int64 tensor. Do not call `torchvision.ops.nms`
#   or `cvbook.boxes.nms`. Use your `iou` from Exercise 1 for the overlaps: the tests of this
#   exercise put the book's `cvbook.boxes.box_iou` in its place while they run, so a mistake in
#   Exercise 1 costs points only there.
#
# Worked example (box 2 is dropped by the score threshold, box 1 by its IoU 0.76 with box 0,
# box 3 by its IoU 0.69 with box 4):
#
# ```python
# >>> boxes = torch.tensor([[10., 10, 40, 30], [12, 11, 42, 32], [8, 9, 37, 28], [60, 12, 80, 40], [62, 14, 83, 42]])
# >>> nms(boxes, torch.tensor([0.9, 0.8, 0.6, 0.7, 0.85]))
# tensor([0, 4])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex3_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6):
    """Indices of the boxes kept by the lecture's non-max suppression, by decreasing score."""
    ### BEGIN SOLUTION
    candidates = torch.nonzero(scores > score_threshold).flatten()
    order = candidates[torch.sort(scores[candidates], descending=True, stable=True).indices]
    keep = []
    while order.numel() > 0:
        best = order[0]
        keep.append(int(best))
        overlap = iou(boxes[best][None], boxes[order[1:]])[0]
        order = order[1:][~(overlap >= iou_threshold)]
    return torch.tensor(keep, dtype=torch.int64)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex3_nms_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of nms: the algorithm (3 points). Your nms runs with the book's IoU in place of your `iou`.
from cvbook.boxes import box_iou as book_iou

NMS = (
    "torchvision.ops.nms",
    "torchvision.ops.boxes.nms",
    "torchvision.ops.batched_nms",
    "cvbook.boxes.nms",
    "cvbook.boxes.batched_nms",
)
your_iou, iou = globals().get("iou"), book_iou
try:
    example = torch.tensor([[10.0, 10, 40, 30], [12, 11, 42, 32], [8, 9, 37, 28], [60, 12, 80, 40], [62, 14, 83, 42]])
    with refusing(*NMS):
        out = nms(example, torch.tensor([0.9, 0.8, 0.6, 0.7, 0.85]))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64, (
        f"the worked example: expected an int64 tensor, got {out!r}"
    )
    assert out.tolist() == [0, 4], f"the worked example: expected [0, 4], got {out.tolist()}"
    with refusing(*NMS):
        out = nms(example, torch.tensor([0.9, 0.8, 0.6, 0.7, 0.85]), score_threshold=0.0)
    assert out.tolist() == [0, 4], (
        f"the worked example with score_threshold=0: box 2 is now suppressed by box 0 (IoU 0.73); expected [0, 4], got {out.tolist()}"
    )
    with refusing(*NMS):
        out = nms(example, torch.tensor([0.7, 0.8, 0.65, 0.9, 0.61]))
    assert out.tolist() == [3, 1], (
        f"scores [0.7, 0.8, 0.65, 0.9, 0.61]: box 3 first, then box 1 (it suppresses 0 and 2); expected [3, 1] in decreasing score, got {out.tolist()}"
    )
    pair = torch.tensor([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])  # IoU exactly 0.5
    with refusing(*NMS):
        out = nms(pair, torch.tensor([0.9, 0.8]))
    assert out.tolist() == [0], (
        f"two boxes with IoU exactly 0.5: the lecture drops IoU >= threshold, so expected [0], got {out.tolist()}"
    )
    with refusing(*NMS):
        out = nms(example, torch.tensor([0.5, 0.4, 0.3, 0.2, 0.1]))
    assert out.numel() == 0, f"every score <= 0.6 is discarded: expected no box, got {out.tolist()}"
    apart = torch.tensor([[0.0, 0.0, 1.0, 1.0], [10.0, 10.0, 11.0, 11.0]])
    with refusing(*NMS):
        out = nms(apart, torch.tensor([0.5, 0.51]), score_threshold=0.5)  # 0.5 is exact in float32 and float64
    assert out.tolist() == [1], (
        f"two separate boxes with scores [0.5, 0.51] and score_threshold=0.5: a score equal to the threshold is discarded (<=), so expected [1], got {out.tolist()}"
    )
    print("Visible tests passed.")
    ### BEGIN HIDDEN TESTS
    import torchvision as _tv

    _g = torch.Generator().manual_seed(11)
    for _n, _thr in [(300, 0.5), (500, 0.5), (400, 0.3), (200, 0.7)]:
        # integer corners: IoUs are exact fractions, so float32 and float64 answers agree at the threshold
        _xy = torch.randint(0, 100, (_n, 2), generator=_g).float()
        _b = torch.cat([_xy, _xy + torch.randint(1, 31, (_n, 2), generator=_g).float()], 1)
        # distinct scores, none equal to the 0.6 threshold (ties are tested separately)
        _s = (torch.randperm(_n, generator=_g).float() + 0.5) / _n
        _passed = torch.nonzero(_s > 0.6).flatten()
        _want = _passed[_tv.ops.nms(_b[_passed], _s[_passed], float(np.nextafter(_thr, 0)))]
        with refusing(*NMS):
            _got = torch.as_tensor(nms(_b, _s, iou_threshold=_thr))
        assert torch.equal(_got, _want), (
            f"{_n} random boxes with distinct scores, iou_threshold {_thr}: expected {len(_want)} "
            f"boxes starting {_want[:6].tolist()}, got {len(_got)} starting {_got[:6].tolist()}"
        )
    ### END HIDDEN TESTS
finally:
    iou = your_iou

# %% nbgrader={"grade": true, "grade_id": "ex3_ties_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of nms: ties and no boxes (1 point). Your nms runs with the book's IoU in place of your `iou`.
from cvbook.boxes import box_iou as book_iou

NMS = (
    "torchvision.ops.nms",
    "torchvision.ops.boxes.nms",
    "torchvision.ops.batched_nms",
    "cvbook.boxes.nms",
    "cvbook.boxes.batched_nms",
)
your_iou, iou = globals().get("iou"), book_iou
try:
    far = torch.tensor([[0.0, 0.0, 1.0, 1.0], [10.0, 10.0, 11.0, 11.0], [20.0, 20.0, 21.0, 21.0]])
    with refusing(*NMS):
        out = nms(far, torch.tensor([0.7, 0.9, 0.9]))
    assert out.tolist() == [1, 2, 0], (
        f"three separate boxes, scores [0.7, 0.9, 0.9]: ties put the lower index first, expected [1, 2, 0], got {out.tolist()}"
    )
    with refusing(*NMS):
        out = nms(torch.tensor([[0.0, 0.0, 4.0, 4.0]] * 3), torch.tensor([0.8, 0.9, 0.9]))
    assert out.tolist() == [1], (
        f"three identical boxes, scores [0.8, 0.9, 0.9]: the lower index of the tied best (1) is kept and suppresses the rest; expected [1], got {out.tolist()}"
    )
    with refusing(*NMS):
        out = nms(torch.zeros(0, 4), torch.zeros(0))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.int64 and out.shape == (0,), (
        f"no boxes in: expected an empty int64 tensor of shape (0,), got {out!r}"
    )
    print("Visible tests passed.")
    ### BEGIN HIDDEN TESTS
    import torchvision as _tv

    _g = torch.Generator().manual_seed(12)
    for _n, _thr in [(300, 0.5), (400, 0.3)]:
        _xy = torch.rand(_n, 2, generator=_g) * 100
        _b = torch.cat([_xy, _xy + torch.rand(_n, 2, generator=_g) * 30 + 1], 1)
        _s = 0.61 + 0.05 * torch.randint(0, 8, (_n,), generator=_g)  # many tied scores, all above 0.6
        _passed = torch.nonzero(_s > 0.6).flatten()
        _order = _passed[torch.sort(_s[_passed], descending=True, stable=True).indices]
        _want = _order[_tv.ops.nms(_b[_order], torch.linspace(1, 0, len(_order)), float(np.nextafter(_thr, 0)))]
        with refusing(*NMS):
            _got = torch.as_tensor(nms(_b, _s, iou_threshold=_thr))
        assert torch.equal(_got, _want), (
            f"{_n} random boxes with tied scores, iou_threshold {_thr}: expected {len(_want)} "
            f"boxes starting {_want[:6].tolist()}, got {len(_got)} starting {_got[:6].tolist()}"
        )
    with refusing(*NMS):
        _got = nms(far, torch.tensor([0.25, 0.5, 0.375]), score_threshold=0.5)
    assert _got.dtype == torch.int64 and _got.shape == (0,), (
        f"all scores <= score_threshold 0.5: expected an empty int64 tensor, got {_got!r}"
    )
    ### END HIDDEN TESTS
finally:
    iou = your_iou

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: the YOLO target with anchor boxes (4 points)
#
# `yolo_target(boxes, labels, grid_size, anchors, num_classes, image_size)`
# : `boxes` (K, 4) corner boxes in pixels of a square `image_size` × `image_size` image, with
#   positive width and height, `labels` (K,) int class indices, `anchors` (B, 2) anchor shapes
#   as (height, width) in **cell units**. Return the **float32** target `y` of shape
#   (S, S, B, 5 + C) with S = `grid_size`, C = `num_classes`, indexed `y[row, column, anchor]`.
#   For each object:
#
#   - its cell is the one that holds its midpoint: column = ⌊x_c / cell⌋, row = ⌊y_c / cell⌋
#     (cell = image_size / S); a midpoint on the image's right or bottom edge (x_c or y_c equal
#     to `image_size`) belongs to the last cell: **clamp** column and row to S − 1;
#   - its anchor is the one whose shape has the highest IoU with the object's (height, width),
#     both centred on the same point: IoU = min(h, h_a)·min(w, w_a) / (h·w + h_a·w_a − min(h, h_a)·min(w, w_a));
#   - the slot gets $[p_c, b_x, b_y, b_h, b_w, c_1, \dots, c_C]$ = [1, x_c / cell − column,
#     y_c / cell − row, h / cell, w / cell, one-hot class].
#
#   Every other value is 0 (no objects: all zeros). **If a slot is already taken, the later
#   object is dropped** (the first one in input order keeps it). Do not call
#   `cvbook.boxes.encode_yolo_targets`. Values are compared with a tolerance of 1e-5.
#
# Worked example (the lecture's pedestrian and car in the centre cell of a 3 × 3 grid; the
# pedestrian is 60 px high and 16 px wide, 1.875 × 0.5 cells, so it goes to the tall anchor):
#
# ```python
# >>> y = yolo_target(torch.tensor([[40., 20, 56, 80], [20, 40, 76, 60]]), torch.tensor([0, 1]),
# ...                 3, torch.tensor([[2.0, 0.8], [0.8, 2.0]]), 3, 96)
# >>> y.shape, y.dtype
# (torch.Size([3, 3, 2, 8]), torch.float32)
# >>> y[1, 1]
# tensor([[1.0000, 0.5000, 0.5625, 1.8750, 0.5000, 1.0000, 0.0000, 0.0000],
#         [1.0000, 0.5000, 0.5625, 0.6250, 1.7500, 0.0000, 1.0000, 0.0000]])
# ```


# %% nbgrader={"grade": false, "grade_id": "ex4_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def yolo_target(boxes, labels, grid_size, anchors, num_classes, image_size):
    """YOLO target (S, S, B, 5 + C) for one image."""
    ### BEGIN SOLUTION
    s, num_anchors = grid_size, anchors.shape[0]
    cell = image_size / s
    y = torch.zeros(s, s, num_anchors, 5 + num_classes)
    for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
        xc, yc, h, w = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell, (y2 - y1) / cell, (x2 - x1) / cell
        col, row = min(int(math.floor(xc)), s - 1), min(int(math.floor(yc)), s - 1)
        inter = torch.minimum(anchors[:, 0], torch.tensor(h)) * torch.minimum(anchors[:, 1], torch.tensor(w))
        anchor = int((inter / (h * w + anchors[:, 0] * anchors[:, 1] - inter)).argmax())
        if y[row, col, anchor, 0] == 1:
            continue
        y[row, col, anchor, :5] = torch.tensor([1.0, xc - col, yc - row, h, w])
        y[row, col, anchor, 5 + label] = 1.0
    return y
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_yolo_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Tests of yolo_target: the target (3 points).
anchors = torch.tensor([[2.0, 0.8], [0.8, 2.0]])
with refusing("cvbook.boxes.encode_yolo_targets"):
    y = yolo_target(torch.tensor([[40.0, 20, 56, 80], [20, 40, 76, 60]]), torch.tensor([0, 1]), 3, anchors, 3, 96)
assert isinstance(y, torch.Tensor) and tuple(y.shape) == (3, 3, 2, 8), (
    f"the worked example: expected a tensor of shape (S, S, B, 5 + C) = (3, 3, 2, 8), got {getattr(y, 'shape', y)}"
)
assert y.dtype == torch.float32, f"the worked example: the target must be float32 (as the text says), got {y.dtype}"
want = torch.tensor([[1.0, 0.5, 0.5625, 1.875, 0.5, 1, 0, 0], [1.0, 0.5, 0.5625, 0.625, 1.75, 0, 1, 0]])
assert torch.allclose(y[1, 1], want, atol=1e-5), (
    f"the centre cell y[1, 1] of the worked example: expected\n{want}\ngot\n{y[1, 1]}"
)
assert float(y[..., 0].sum()) == 2, f"two objects: expected p_c = 1 in exactly two slots, got {float(y[..., 0].sum())}"
with refusing("cvbook.boxes.encode_yolo_targets"):
    y = yolo_target(torch.tensor([[2.0, 70, 30, 86]]), torch.tensor([1]), 3, anchors, 3, 96)  # a car in cell (2, 0)
assert torch.allclose(y[2, 0, 1], torch.tensor([1.0, 0.5, 0.4375, 0.5, 0.875, 0, 1, 0]), atol=1e-5), (
    f"a car [2, 70, 30, 86] (midpoint (16, 78), row 2, column 0, wide anchor 1): expected y[2, 0, 1] = [1, 0.5, 0.4375, 0.5, 0.875, 0, 1, 0], got {y[2, 0, 1].tolist()}"
)
assert float(y[2, 0, 0].abs().sum()) == 0, (
    f"the car's cell: the tall (pedestrian) slot y[2, 0, 0] must stay all 0, got {y[2, 0, 0].tolist()}"
)
with refusing("cvbook.boxes.encode_yolo_targets"):
    y = yolo_target(torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), 4, anchors, 2, 64)
assert tuple(y.shape) == (4, 4, 2, 7) and float(y.abs().sum()) == 0, (
    "an image without objects: expected all zeros of shape (4, 4, 2, 7)"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook import boxes as _boxes

_g = torch.Generator().manual_seed(5)
for _trial, (_s, _nb, _c, _size) in enumerate([(7, 3, 4, 112), (5, 1, 2, 80), (8, 2, 3, 64), (4, 2, 5, 64)]):
    _xy = torch.rand(12, 2, generator=_g) * (_size - 25)
    _b = torch.cat([_xy, _xy + torch.rand(12, 2, generator=_g) * 22 + 2], 1).round()
    _lab = torch.randint(0, _c, (12,), generator=_g)
    _anc = torch.rand(_nb, 2, generator=_g) * 2.5 + 0.3
    _cells = [
        (int((y1 + y2) / 2 // (_size / _s)), int((x1 + x2) / 2 // (_size / _s))) for x1, y1, x2, y2 in _b.tolist()
    ]
    _first = [k for k in range(12) if _cells[k] not in _cells[:k]][:6]  # one object per cell: no slot is shared
    _b, _lab = _b[_first], _lab[_first]
    _want = _boxes.encode_yolo_targets(_b, _lab, _s, _anc, _c, _size)
    with refusing("cvbook.boxes.encode_yolo_targets"):
        _got = yolo_target(_b, _lab, _s, _anc, _c, _size)
    assert tuple(_got.shape) == tuple(_want.shape), (
        f"random scene {_trial}: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    )
    _bad = ((_got.double() - _want.double()).abs() > 1e-5).nonzero()
    if len(_bad):
        _r, _col, _a, _v = _bad[0].tolist()
        raise AssertionError(
            f"random scene {_trial} (S={_s}, B={_nb}, C={_c}, image {_size}, boxes {_b.tolist()}, labels {_lab.tolist()}, "
            f"anchors {_anc.tolist()}): y[{_r}, {_col}, {_a}] expected {_want[_r, _col, _a].tolist()}, got {_got[_r, _col, _a].tolist()}"
        )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex4_rules_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of yolo_target: the edge and the shared slot (1 point).
one = torch.tensor([[1.0, 1.0]])
with refusing("cvbook.boxes.encode_yolo_targets"):
    y = yolo_target(torch.tensor([[48.0, 48.0, 64.0, 64.0]]), torch.tensor([0]), 4, one, 1, 64)
assert float(y[3, 3, 0, 0]) == 1, (
    "a box [48, 48, 64, 64] in a 64-pixel image, 4 x 4 grid: its midpoint (56, 56) is in the last cell, expected y[3, 3, 0, 0] = 1"
)
with refusing("cvbook.boxes.encode_yolo_targets"):
    y = yolo_target(torch.tensor([[60.0, 56.0, 68.0, 72.0]]), torch.tensor([0]), 4, one, 1, 64)
assert float(y[3, 3, 0, 0]) == 1, (
    "a box [60, 56, 68, 72] (sticking out of the image) whose midpoint (64, 64) is on the image's corner: clamp to the last cell, expected y[3, 3, 0, 0] = 1"
)
with refusing("cvbook.boxes.encode_yolo_targets"):
    y = yolo_target(torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 12.0, 12.0]]), torch.tensor([0, 1]), 2, one, 2, 64)
assert y[0, 0, 0].tolist() == [1.0, 0.15625, 0.15625, 0.3125, 0.3125, 1.0, 0.0], (
    f"two objects for the same cell and anchor: the first one (class 0) keeps the slot, expected y[0, 0, 0] = [1, 0.15625, 0.15625, 0.3125, 0.3125, 1, 0], got {y[0, 0, 0].tolist()}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
_y = yolo_target(
    torch.tensor([[0.0, 40.0, 20.0, 80.0], [30.0, 50.0, 40.0, 80.0], [8.0, 60.0, 12.0, 64.0], [4.0, 44.0, 16.0, 76.0]]),
    torch.tensor([2, 0, 1, 0]),
    4,
    torch.tensor([[1.0, 1.0], [2.0, 1.0]]),
    3,
    80,
)
assert _y[3, 0, 1].tolist()[5:] == [0.0, 0.0, 1.0], (
    f"objects 0 and 3 both want cell (3, 0) with the tall anchor: the first (class 2) keeps it, expected classes [0, 0, 1], got {_y[3, 0, 1].tolist()[5:]}"
)
assert float(_y[..., 0].sum()) == 3, (
    f"four objects, one dropped for a shared slot: expected three p_c = 1, got {float(_y[..., 0].sum())}"
)
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: average precision from a ranked list (3 points)
#
# `average_precision(is_tp, num_gt)`
# : `is_tp` is a list, a 1-D tensor or a 1-D NumPy array of booleans: the detections of one
#   class sorted by decreasing score, True for a true positive. `num_gt` is the number of
#   ground-truth objects. After the top $i$ detections, precision $P_i = TP_i / i$ and recall
#   $r_i = TP_i / \text{num\_gt}$. Return, as a Python `float`, the lecture's
#   $$AP = \sum_i (r_{i} - r_{i-1})\, P_{i}, \qquad r_0 = 0,$$
#   without interpolation (use $P_i$ itself, not the best precision at a higher recall).
#   Edge cases: `float("nan")` when `num_gt` is 0 (whatever the list), otherwise 0.0 for an
#   empty list. Values are compared with a tolerance of 1e-9.
#
# Worked example (TP, FP, TP, TP, FP with 4 objects: 0.25·1 + 0.25·2/3 + 0.25·3/4):
#
# ```python
# >>> average_precision([True, False, True, True, False], 4)
# 0.6041666666666666
# ```


# %% nbgrader={"grade": false, "grade_id": "ex5_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def average_precision(is_tp, num_gt):
    """AP = sum_i (r_i - r_{i-1}) P_i over a ranked list of detections."""
    ### BEGIN SOLUTION
    if num_gt == 0:
        return float("nan")
    tp = np.cumsum(np.asarray(is_tp, dtype=bool))
    if tp.size == 0:
        return 0.0
    precision = tp / np.arange(1, tp.size + 1)
    recall = tp / num_gt
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex5_ap_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Tests of average_precision: the value (2 points).
AP = ("sklearn.metrics.average_precision_score", "cvbook.boxes.average_precision")
with refusing(*AP):
    out = average_precision([True, False, True, True, False], 4)
assert isinstance(out, float), f"the worked example: expected a Python float, got {type(out).__name__}"
if abs(out - (0.25 + 0.25 * 3 / 4 + 0.25 * 3 / 4)) < 1e-9:
    raise AssertionError(
        "the worked example: got 0.625, the interpolated AP; use P_i itself (2/3 at the third detection)"
    )
assert abs(out - (0.25 + 0.25 * 2 / 3 + 0.25 * 3 / 4)) < 1e-9, (
    f"the worked example: expected 0.25*1 + 0.25*2/3 + 0.25*3/4 = 0.6042, got {out}"
)
with refusing(*AP):
    assert average_precision([True, True], 2) == 1.0, "two detections, both right, all objects found: expected AP 1.0"
    out = average_precision([False, True], 1)
    assert abs(out - 0.5) < 1e-9, (
        f"[False, True] with 1 object: one FP ranked above the only TP, expected 1 * 1/2 = 0.5, got {out}"
    )
    out = average_precision(torch.tensor([True, False, True]), 4)
    assert abs(out - (0.25 + 0.25 * 2 / 3)) < 1e-9, (
        f"a tensor [True, False, True] with 4 objects (2 never found): expected 0.25 + 0.25 * 2/3 = 0.4167, got {out}"
    )
    out = average_precision(np.array([False, False]), 2)
    assert out == 0.0, f"a NumPy array [False, False], no true positive: expected AP 0.0, got {out}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import average_precision_score as _aps

_rng = np.random.default_rng(4)
for _trial in range(5):
    _y = _rng.random(50) < 0.4
    _y[0] = True
    _sc = _rng.random(50) + 0.4 * _y
    _order = np.argsort(-_sc, kind="mergesort")
    for _as in (list, torch.tensor, np.asarray):
        with refusing(*AP):
            _got = average_precision(_as(list(_y[_order])), int(_y.sum()))
        assert abs(_got - _aps(_y, _sc)) < 1e-9, (
            f"random ranked list {_trial} given as {_as.__name__}: expected {_aps(_y, _sc):.6f}, got {_got:.6f}"
        )
### END HIDDEN TESTS

# %% nbgrader={"grade": true, "grade_id": "ex5_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Tests of average_precision: the edge cases (1 point).
out = average_precision([], 3)
assert out == 0.0 and isinstance(out, float), f"no detections, 3 objects: expected AP 0.0, got {out!r}"
out = average_precision([False], 0)
assert isinstance(out, float) and math.isnan(out), (
    f"[False] with num_gt 0: no ground truth, AP is undefined, expected nan, got {out!r}"
)
out = average_precision([], 0)
assert isinstance(out, float) and math.isnan(out), (
    f"an empty list with num_gt 0: num_gt 0 gives nan whatever the list, got {out!r}"
)
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
assert math.isnan(average_precision(np.array([True, False]), 0)), "num_gt 0 with a NumPy array: expected nan"
assert average_precision(torch.zeros(0, dtype=torch.bool), 5) == 0.0, "an empty tensor of detections: expected 0.0"
### END HIDDEN TESTS

# %% [markdown]
# These five functions are a detector's whole post-processing and evaluation: the package's
# `cvbook.boxes` has them in vectorised form (`box_iou`, `box_convert`, `nms`,
# `encode_yolo_targets`, `average_precision`), and `evaluate_detections` builds COCO's mAP from
# them. Chapter 10 goes from boxes to pixels: semantic segmentation with U-Net.
