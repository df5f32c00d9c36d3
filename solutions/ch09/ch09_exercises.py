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
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "cvbook @ git+https://github.com/cnn-cv-book/cnn-cv-book@v0.1.0"], check=True)

# %% [markdown] nbgrader={"grade": false, "grade_id": "intro", "locked": true, "schema_version": 3, "solution": false, "task": false}
# # Chapter 9 exercises: object detection
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch09/ch09_exercises.ipynb)
#
# Five exercises on Chapter 9, *Object detection and YOLO*: intersection over union for
# all pairs of two sets of boxes, conversion between box formats, non-max suppression
# exactly as the lecture states it (discard $p_c \le 0.6$, keep the best, drop IoU $\ge 0.5$),
# the YOLO training target with anchor boxes (the lecture's $3 \times 3 \times 2 \times 8$ tensor),
# and average precision from a ranked list of detections. 12 points in all.
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

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex1_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 1: intersection over union (2 points)
#
# `iou(boxes1, boxes2)`
# : `boxes1` is a float tensor of shape (N, 4) and `boxes2` one of shape (M, 4), each row a box
#   in corner format (x1, y1, x2, y2) with x1 ≤ x2 and y1 ≤ y2. Return the (N, M) tensor whose
#   entry [i, j] is the IoU of `boxes1[i]` and `boxes2[j]`:
#   $$\text{IoU} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|},$$
#   where the area of a box is $(x_2 - x_1)(y_2 - y_1)$ and boxes that only touch have
#   intersection 0. Compute all pairs at once with broadcasting (no Python loop over boxes).
#   Raise `ValueError` if either input is not of shape (K, 4).
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
# Tests of iou (2 points).
out = iou(torch.tensor([[1.0, 1.0, 5.0, 4.0]]), torch.tensor([[2.0, 2.0, 6.0, 6.0], [1.0, 1.0, 5.0, 4.0]]))
assert isinstance(out, torch.Tensor) and out.shape == (1, 2), f"expected a tensor of shape (1, 2), got {getattr(out, 'shape', out)}"
assert torch.allclose(out, torch.tensor([[6 / 22, 1.0]])), f"the worked example: expected [[0.2727, 1.0]], got {out}"
out = iou(torch.tensor([[0.0, 0.0, 2.0, 2.0]]), torch.tensor([[2.0, 0.0, 4.0, 2.0], [5.0, 5.0, 6.0, 6.0]]))
assert torch.equal(out, torch.zeros(1, 2)), f"touching and disjoint boxes have IoU 0, got {out}"
out = iou(torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 3.0, 3.0]]),
          torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 0.0, 3.0, 2.0]]))
assert out.shape == (3, 2), f"3 boxes against 2: expected shape (3, 2), got {tuple(out.shape)}"
assert torch.allclose(out, torch.tensor([[1.0, 1 / 3], [0.25, 0.25], [1 / 7, 1 / 3]])), f"got {out}"
with expect_error(ValueError, "boxes of shape (3, 5)"):
    iou(torch.zeros(3, 5), torch.zeros(2, 4))
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _tv

_g = torch.Generator().manual_seed(7)
for _n, _m in [(13, 29), (1, 50), (40, 1), (0, 3)]:
    _xy1, _xy2 = torch.rand(_n, 2, generator=_g) * 60, torch.rand(_m, 2, generator=_g) * 60
    _b1 = torch.cat([_xy1, _xy1 + torch.rand(_n, 2, generator=_g) * 30 + 0.5], 1)
    _b2 = torch.cat([_xy2, _xy2 + torch.rand(_m, 2, generator=_g) * 30 + 0.5], 1)
    _want = _tv.ops.box_iou(_b1, _b2)
    with refusing("torchvision.ops.box_iou", "torchvision.ops.boxes.box_iou", "cvbook.boxes.box_iou"):
        _got = iou(_b1, _b2)
    assert _got.shape == _want.shape, f"{_n} x {_m} boxes: expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    assert torch.allclose(_got, _want, atol=1e-6), f"{_n} x {_m} random boxes: wrong IoU values"
with expect_error(ValueError, "boxes2 of shape (4,)"):
    iou(torch.zeros(2, 4), torch.zeros(4))
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex2_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 2: box formats (2 points)
#
# `convert_boxes(boxes, in_fmt, out_fmt)`
# : `boxes` is a float tensor of shape (N, 4); `in_fmt` and `out_fmt` are each one of
#   `"xyxy"` (corners $x_1, y_1, x_2, y_2$), `"xywh"` (top-left corner, width, height, as in COCO
#   files) and `"cxcywh"` (centre, width, height, as YOLO's $b_x, b_y$ with $b_w, b_h$). Return
#   a new (N, 4) tensor in `out_fmt` (a copy when the formats are equal). Raise `ValueError` for
#   an unknown format name.
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
# Tests of convert_boxes (2 points).
box = torch.tensor([[10.0, 20.0, 50.0, 40.0]])
out = convert_boxes(box, "xyxy", "cxcywh")
assert out.shape == (1, 4), f"expected shape (1, 4), got {tuple(out.shape)}"
assert out.tolist() == [[30.0, 30.0, 40.0, 20.0]], f"xyxy -> cxcywh: expected [[30, 30, 40, 20]], got {out.tolist()}"
out = convert_boxes(torch.tensor([[30.0, 30.0, 40.0, 20.0]]), "cxcywh", "xywh")
assert out.tolist() == [[10.0, 20.0, 40.0, 20.0]], f"cxcywh -> xywh: expected [[10, 20, 40, 20]], got {out.tolist()}"
assert convert_boxes(box, "xyxy", "xywh").tolist() == [[10.0, 20.0, 40.0, 20.0]], "xyxy -> xywh is wrong"
assert convert_boxes(box, "xyxy", "xyxy").tolist() == box.tolist(), "equal formats must return the same boxes"
with expect_error(ValueError, "the unknown format 'yolo'"):
    convert_boxes(box, "xyxy", "yolo")
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _tv

_g = torch.Generator().manual_seed(3)
_xy = torch.rand(25, 2, generator=_g, dtype=torch.float64) * 100
_b = torch.cat([_xy, _xy + torch.rand(25, 2, generator=_g, dtype=torch.float64) * 40 + 1], 1)
for _in in ("xyxy", "xywh", "cxcywh"):
    _src = _tv.ops.box_convert(_b, "xyxy", _in)
    for _out in ("xyxy", "xywh", "cxcywh"):
        with refusing("torchvision.ops.box_convert", "cvbook.boxes.box_convert"):
            _got = convert_boxes(_src.clone(), _in, _out)
        assert _got.shape == (25, 4), f"{_in} -> {_out}: expected shape (25, 4), got {tuple(_got.shape)}"
        assert torch.allclose(_got, _tv.ops.box_convert(_src, _in, _out), atol=1e-9), f"{_in} -> {_out} is wrong"
assert convert_boxes(torch.zeros(0, 4), "xyxy", "cxcywh").shape == (0, 4), "no boxes in, no boxes out"
with expect_error(ValueError, "the unknown input format 'xy'"):
    convert_boxes(_b, "xy", "xyxy")
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex3_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 3: non-max suppression, the lecture's way (3 points)
#
# `nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6)`
# : `boxes` (N, 4) corner boxes, `scores` (N,) their $p_c$. Implement the lecture's algorithm:
#
#   1. discard every box with score **≤** `score_threshold`;
#   2. while boxes remain: take the one with the largest score and output it; discard every
#      remaining box whose IoU with it is **≥** `iou_threshold`.
#
#   Return the indices (into the input) of the kept boxes as an int64 tensor, in the order they
#   were output (decreasing score); among equal scores take the lower index first. You may use
#   your `iou` from Exercise 1.
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
# Tests of nms (3 points).
example = torch.tensor([[10.0, 10, 40, 30], [12, 11, 42, 32], [8, 9, 37, 28], [60, 12, 80, 40], [62, 14, 83, 42]])
out = nms(example, torch.tensor([0.9, 0.8, 0.6, 0.7, 0.85]))
assert isinstance(out, torch.Tensor) and out.dtype == torch.int64, f"expected an int64 tensor, got {out!r}"
assert out.tolist() == [0, 4], f"the worked example: expected [0, 4], got {out.tolist()}"
out = nms(example, torch.tensor([0.9, 0.8, 0.6, 0.7, 0.85]), score_threshold=0.0)
assert out.tolist() == [0, 4], f"with no score threshold box 2 is suppressed by box 0 (IoU 0.73): got {out.tolist()}"
pair = torch.tensor([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])  # IoU exactly 0.5
out = nms(pair, torch.tensor([0.9, 0.8]))
assert out.tolist() == [0], f"IoU = 0.5 must be dropped (the lecture's >=), got {out.tolist()}"
out = nms(example, torch.tensor([0.5, 0.4, 0.3, 0.2, 0.1]))
assert out.numel() == 0, f"every score <= 0.6: expected no box, got {out.tolist()}"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
import torchvision as _tv

_g = torch.Generator().manual_seed(11)
for _n, _grid, _thr in [(300, None, 0.5), (500, 2.0, 0.5), (400, 1.0, 0.3), (200, None, 0.7)]:
    _xy = torch.rand(_n, 2, generator=_g) * 100
    _b = torch.cat([_xy, _xy + torch.rand(_n, 2, generator=_g) * 30 + 1], 1)
    if _grid is not None:
        _b = (_b / _grid).round() * _grid
    _s = (torch.rand(_n, generator=_g) * 10).round() / 10  # tied scores
    _passed = torch.nonzero(_s > 0.6).flatten()
    _want = _passed[_tv.ops.nms(_b[_passed], _s[_passed], float(np.nextafter(_thr, 0)))]
    with refusing("torchvision.ops.nms", "torchvision.ops.boxes.nms", "torchvision.ops.batched_nms",
                  "cvbook.boxes.nms", "cvbook.boxes.batched_nms"):
        _got = nms(_b, _s, iou_threshold=_thr)
    assert torch.equal(torch.as_tensor(_got), _want), f"{_n} random boxes, IoU threshold {_thr}: wrong kept indices"
_got = nms(torch.tensor([[0.0, 0.0, 4.0, 4.0]] * 3), torch.tensor([0.8, 0.9, 0.9]))
assert _got.tolist() == [1], f"three identical boxes, tied best scores: expected [1], got {_got.tolist()}"
assert nms(torch.zeros(0, 4), torch.zeros(0)).numel() == 0, "no boxes in, no boxes out"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex4_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 4: the YOLO target with anchor boxes (3 points)
#
# `yolo_target(boxes, labels, grid_size, anchors, num_classes, image_size)`
# : `boxes` (K, 4) corner boxes in pixels of a square `image_size` × `image_size` image,
#   `labels` (K,) int class indices, `anchors` (B, 2) anchor shapes as (height, width) in
#   **cell units**. Return the float32 target `y` of shape (S, S, B, 5 + C) with S =
#   `grid_size`, C = `num_classes`, indexed `y[row, column, anchor]`. For each object:
#
#   - its cell is the one that holds its midpoint: column = ⌊x_c / cell⌋, row = ⌊y_c / cell⌋
#     (cell = image_size / S; clamp to S − 1);
#   - its anchor is the one whose shape has the highest IoU with the object's (height, width),
#     both centred on the same point: IoU = min(h, h_a)·min(w, w_a) / (h·w + h_a·w_a − min(h, h_a)·min(w, w_a));
#   - the slot gets $[p_c, b_x, b_y, b_h, b_w, c_1, \dots, c_C]$ = [1, x_c / cell − column,
#     y_c / cell − row, h / cell, w / cell, one-hot class].
#
#   Every other value is 0. If a slot is already taken, the later object is dropped.
#
# Worked example (the lecture's pedestrian and car in the centre cell of a 3 × 3 grid; the
# pedestrian is 60 px high and 16 px wide, 1.875 × 0.5 cells, so it goes to the tall anchor):
#
# ```python
# >>> y = yolo_target(torch.tensor([[40., 20, 56, 80], [20, 40, 76, 60]]), torch.tensor([0, 1]),
# ...                 3, torch.tensor([[2.0, 0.8], [0.8, 2.0]]), 3, 96)
# >>> y.shape
# torch.Size([3, 3, 2, 8])
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
# Tests of yolo_target (3 points).
anchors = torch.tensor([[2.0, 0.8], [0.8, 2.0]])
y = yolo_target(torch.tensor([[40.0, 20, 56, 80], [20, 40, 76, 60]]), torch.tensor([0, 1]), 3, anchors, 3, 96)
assert tuple(y.shape) == (3, 3, 2, 8), f"expected shape (3, 3, 2, 8), got {tuple(y.shape)}"
want = torch.tensor([[1.0, 0.5, 0.5625, 1.875, 0.5, 1, 0, 0], [1.0, 0.5, 0.5625, 0.625, 1.75, 0, 1, 0]])
assert torch.allclose(y[1, 1], want), f"the centre cell of the worked example: expected\n{want}\ngot\n{y[1, 1]}"
assert float(y[..., 0].sum()) == 2, f"two objects: expected p_c = 1 in exactly two slots, got {float(y[..., 0].sum())}"
y = yolo_target(torch.tensor([[2.0, 70, 30, 86]]), torch.tensor([1]), 3, anchors, 3, 96)  # a car in cell (2, 0)
assert torch.allclose(y[2, 0, 1], torch.tensor([1.0, 0.5, 0.4375, 0.5, 0.875, 0, 1, 0])), f"got {y[2, 0, 1]}"
assert float(y[2, 0, 0].abs().sum()) == 0, "the car's cell: the tall (pedestrian) slot must stay all 0"
y = yolo_target(torch.zeros(0, 4), torch.zeros(0, dtype=torch.int64), 4, anchors, 2, 64)
assert tuple(y.shape) == (4, 4, 2, 7) and float(y.abs().sum()) == 0, "an image without objects: all zeros"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from cvbook import boxes as _boxes

_g = torch.Generator().manual_seed(5)
for _trial, (_s, _nb, _c, _size) in enumerate([(7, 3, 4, 112), (5, 1, 2, 80), (8, 2, 3, 64), (4, 2, 5, 64)]):
    _xy = torch.rand(6, 2, generator=_g) * (_size - 25)
    _b = torch.cat([_xy, _xy + torch.rand(6, 2, generator=_g) * 22 + 2], 1).round()
    _lab = torch.randint(0, _c, (6,), generator=_g)
    _anc = torch.rand(_nb, 2, generator=_g) * 2.5 + 0.3
    _want = _boxes.encode_yolo_targets(_b, _lab, _s, _anc, _c, _size)
    with refusing("cvbook.boxes.encode_yolo_targets"):
        _got = yolo_target(_b, _lab, _s, _anc, _c, _size)
    assert tuple(_got.shape) == tuple(_want.shape), f"expected shape {tuple(_want.shape)}, got {tuple(_got.shape)}"
    assert torch.allclose(_got.float(), _want, atol=1e-5), f"random scene {_trial}: wrong target"
_y = yolo_target(torch.tensor([[60.0, 60.0, 64.0, 64.0]]), torch.tensor([0]), 4, torch.tensor([[0.25, 0.25]]), 1, 64)
assert float(_y[3, 3, 0, 0]) == 1, "a box in the bottom-right corner belongs to the last cell"
_y = yolo_target(torch.tensor([[0.0, 0.0, 10.0, 10.0], [2.0, 2.0, 12.0, 12.0]]), torch.tensor([0, 1]), 2,
                 torch.tensor([[1.0, 1.0]]), 2, 64)
assert _y[0, 0, 0].tolist()[5:] == [1.0, 0.0], "two objects for one slot: the first one keeps it"
### END HIDDEN TESTS

# %% [markdown] nbgrader={"grade": false, "grade_id": "ex5_text", "locked": true, "schema_version": 3, "solution": false, "task": false}
# ## Exercise 5: average precision from a ranked list (2 points)
#
# `average_precision(is_tp, num_gt)`
# : `is_tp` is a list (or 1-D tensor/array) of booleans: the detections of one class sorted by
#   decreasing score, True for a true positive. `num_gt` is the number of ground-truth objects.
#   After the top $i$ detections, precision $P_i = TP_i / i$ and recall $r_i = TP_i / \text{num\_gt}$.
#   Return, as a Python `float`, the lecture's
#   $$AP = \sum_i (r_{i} - r_{i-1})\, P_{i}, \qquad r_0 = 0,$$
#   without interpolation. Return 0.0 for an empty list, and `float("nan")` when `num_gt` is 0.
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
# Tests of average_precision (2 points).
out = average_precision([True, False, True, True, False], 4)
assert isinstance(out, float), f"expected a float, got {type(out).__name__}"
assert abs(out - (0.25 + 0.25 * 2 / 3 + 0.25 * 3 / 4)) < 1e-12, f"the worked example: expected 0.6042, got {out}"
assert average_precision([True, True], 2) == 1.0, "two detections, both right, all objects found: AP 1"
assert abs(average_precision([False, True], 1) - 0.5) < 1e-12, "one FP ranked above the only TP: AP 0.5"
assert average_precision([], 3) == 0.0, "no detections: AP 0"
assert math.isnan(average_precision([False], 0)), "no ground truth: AP is undefined (nan)"
print("Visible tests passed.")
### BEGIN HIDDEN TESTS
from sklearn.metrics import average_precision_score as _aps

_rng = np.random.default_rng(4)
for _trial in range(5):
    _y = _rng.random(50) < 0.4
    _y[0] = True
    _sc = _rng.random(50) + 0.4 * _y
    _order = np.argsort(-_sc, kind="mergesort")
    with refusing("sklearn.metrics.average_precision_score", "cvbook.boxes.average_precision"):
        _got = average_precision(list(_y[_order]), int(_y.sum()))
    assert abs(_got - _aps(_y, _sc)) < 1e-9, f"random ranked list {_trial}: expected {_aps(_y, _sc):.4f}, got {_got:.4f}"
# missed objects: recall never reaches 1
assert abs(average_precision(torch.tensor([True, False, True]), 4) - (0.25 + 0.25 * 2 / 3)) < 1e-12
assert average_precision(np.array([False, False]), 2) == 0.0, "no true positive: AP 0"
### END HIDDEN TESTS

# %% [markdown]
# These five functions are a detector's whole post-processing and evaluation: the package's
# `cvbook.boxes` has them in vectorised form (`box_iou`, `box_convert`, `nms`,
# `encode_yolo_targets`, `average_precision`), and `evaluate_detections` builds COCO's mAP from
# them. Chapter 10 goes from boxes to pixels: semantic segmentation with U-Net.
