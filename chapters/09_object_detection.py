# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
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

# %% tags=["remove-cell"]
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

# %% [markdown]
# # Object detection and YOLO
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/chapters/09_object_detection.ipynb)
#
# A classifier says *what* is in an image. A detector says what is in it, *where*, and how
# many: it outputs a list of boxes, each with a class and a confidence. This chapter builds
# a detector step by step, the way the lectures do: first one object with its box
# (classification with localization), then points instead of boxes (landmarks), then many
# objects with a classifier slid over the image, made fast by writing it as a convolution
# {cite}`sermanet2014overfeat`, and finally YOLO {cite}`redmon2016yolo`, which predicts all
# boxes in one pass on a grid, with anchor boxes {cite}`redmon2017yolo9000` and non-max
# suppression. We train a small YOLO-style detector on the book's synthetic scenes and
# measure it the way detection papers do, with average precision (AP), mAP@0.5 (PASCAL VOC's
# IoU threshold {cite}`everingham2010pascal`, with COCO's 101-point AP) and COCO's
# mAP@[.5:.05:.95] {cite}`lin2014coco`, computed
# from scratch and checked against the reference implementation, `pycocotools`. The chapter
# ends with the region-based family R-CNN, Fast R-CNN and Faster R-CNN
# {cite}`girshick2014rcnn,girshick2015fast,ren2015faster`, the production route in
# torchvision. It follows lectures 002, 003 and 000 {cite}`safayani_deeplearning,khan2025cv`.
#
# ## Learning objectives
#
# After this chapter you can
#
# - write the target vector $y = [p_c, b_x, b_y, b_h, b_w, c_1, c_2, c_3]$ of classification
#   with localization and its loss, and train a network that outputs it;
# - explain landmark detection as regression of point coordinates;
# - convert boxes between corners, centre-size, absolute and relative coordinates, and compute
#   IoU, by hand and vectorised;
# - turn fully connected layers into convolutions and run a sliding window as one
#   convolutional pass;
# - encode YOLO targets on a grid with anchor boxes (the lecture's $3 \times 3 \times 2 \times 8$
#   tensor) and decode predictions back into boxes;
# - implement non-max suppression exactly as the lecture states it;
# - compute precision/recall curves, AP, mAP@0.5 and COCO mAP, and read how AP depends on
#   the IoU threshold;
# - describe R-CNN, Fast R-CNN and Faster R-CNN and find them in torchvision.

# %% [markdown]
# ## Setup

# %%
import contextlib
import io
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from matplotlib import patches
from torch import nn

from cvbook import boxes, data, detection, device, train
from cvbook.measured import claim

device.seed_everything(0)
print(device.device_report())
CLASSES = data.SHAPE_CLASSES
COLOURS = ["#D55E00", "#0072B2", "#009E73"]  # circle, square, triangle (Okabe-Ito: safe for colour-blind readers)
MARKERS = ["o", "s", "^"]  # and a marker per class where curves are compared


def draw_boxes(ax, bxs, labels=None, scores=None, colour=None, lw=1.5, ls="-"):
    """Draw (K, 4) pixel corner boxes on a matplotlib axis, with class and score."""
    for k, (x1, y1, x2, y2) in enumerate(bxs.tolist()):
        c = colour or (COLOURS[int(labels[k])] if labels is not None else "yellow")
        ax.add_patch(
            patches.Rectangle(
                (x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False, edgecolor=c, linewidth=lw, linestyle=ls
            )
        )
        if scores is not None:  # on a dark patch, readable over any background
            ax.text(
                x1 - 0.5,
                y1 - 1.5,
                f"{float(scores[k]):.2f}",
                color=c,
                fontsize=7,
                bbox=dict(facecolor="black", alpha=0.6, pad=0.6, linewidth=0),
            )


# %% [markdown]
# ## Classification with localization
#
# Image classification outputs a class. **Classification with localization** also outputs a
# bounding box of the (single) object. The lectures' example has three object classes
# (pedestrian, car, motorcycle) and a fourth outcome, *background*, and describes the box by
# its midpoint $(b_x, b_y)$, height $b_h$ and width $b_w$, relative to the image: the top-left
# corner is $(0, 0)$ and the bottom-right $(1, 1)$. The network's target is the vector
#
# $$y = \begin{bmatrix} p_c & b_x & b_y & b_h & b_w & c_1 & c_2 & c_3 \end{bmatrix}^\top,$$ (eq-ch09-target)
#
# where $p_c$ is 1 if there is an object and 0 for background, and $c_1, c_2, c_3$ are the
# one-hot class. When $p_c = 0$ the other seven entries are "don't care". The lecture's car
# at $b_x = 0.5$, $b_y = 0.7$, $b_h = 0.3$, $b_w = 0.4$:


# %%
# NBVAL_CHECK_OUTPUT
def localization_target(box=None, cls=None, num_classes=3):
    """The 8-vector y of the target equation; box = (b_x, b_y, b_h, b_w) or None for background."""
    y = torch.full((5 + num_classes,), float("nan"))  # nan = "don't care"
    y[0] = 0.0
    if box is not None:
        y[0] = 1.0
        y[1:5] = torch.tensor(box)
        y[5:] = F.one_hot(torch.tensor(cls), num_classes).float()
    return y


car = localization_target((0.5, 0.7, 0.3, 0.4), cls=1)  # c_2 = car
print("car:       ", [round(v, 4) + 0.0 for v in car.tolist()])
print("background:", localization_target().tolist(), " (nan = don't care)")
# the same box in pixels of a 64x64 image, as corners (x1, y1, x2, y2)
cxcywh = torch.tensor([[0.5, 0.7, 0.4, 0.3]])  # note the order: (b_x, b_y, b_w, b_h)
corners = boxes.to_absolute(boxes.box_convert(cxcywh, "cxcywh", "xyxy"), 64)
print("corners in a 64x64 image:", [round(v, 2) for v in corners[0].tolist()])

# %% [markdown]
# The loss used in the lectures is the squared error over all eight entries when there is
# an object, and over $p_c$ alone when there is not:
#
# $$\mathcal{L}(\hat y, y) = \begin{cases} \sum_{i=1}^{8} (\hat y_i - y_i)^2 & \text{if } y_1 = 1,\\
#   (\hat y_1 - y_1)^2 & \text{if } y_1 = 0. \end{cases}$$ (eq-ch09-loc-loss)
#
# In practice each part gets the loss that suits it: logistic loss (binary cross-entropy) for
# $p_c$, squared error for the four box numbers, softmax cross-entropy for the class, the last
# two only when $y_1 = 1$. Both on a prediction for the car and on one for a background image:


# %%
# NBVAL_CHECK_OUTPUT
def lecture_loss(y_hat, y):
    """The lecture's loss: squared error on all entries if y_1 = 1, on p_c only if y_1 = 0."""
    if y[0] == 1:
        return float(((y_hat - y) ** 2).sum())
    return float((y_hat[0] - y[0]) ** 2)


y_hat = torch.tensor([0.9, 0.45, 0.65, 0.35, 0.4, 0.1, 0.8, 0.1])
print(f"car:        L = {lecture_loss(y_hat, car):.4f}")
print(f"background: L = {lecture_loss(y_hat, localization_target()):.4f}  (only (0.9 - 0)^2 counts)")

# %% [markdown]
# To train such a network we need images with at most one object. We cut $32 \times 32$
# windows out of the book's synthetic scenes (`data.make_shapes`, one shape per scene):
# three windows in four contain the whole shape, the others avoid it and are background. The
# box becomes relative to the window.


# %%
def localization_set(n, seed):
    """n 32x32 windows: (images (n, 3, 32, 32), targets (n, 8) with nan for "don't care")."""
    scenes = data.make_shapes(n, 64, seed=seed, min_objects=1, max_objects=1, min_radius=5, max_radius=10)
    rng = np.random.default_rng(seed)
    images, targets = [], []
    for image, box, label in zip(scenes.images, scenes.boxes, scenes.labels):
        x1, y1, x2, y2 = box[0].tolist()
        origin = None
        if rng.random() < 0.25:  # background: a window that misses the object
            for _ in range(20):
                ox, oy = rng.integers(0, 33, size=2)
                if ox >= x2 or ox + 32 <= x1 or oy >= y2 or oy + 32 <= y1:
                    origin, target = (ox, oy), localization_target()
                    break
        if origin is None:  # a window that holds the whole object
            ox = int(rng.integers(max(0, int(x2) - 32), min(int(x1), 32) + 1))
            oy = int(rng.integers(max(0, int(y2) - 32), min(int(y1), 32) + 1))
            b_x, b_y = ((x1 + x2) / 2 - ox) / 32, ((y1 + y2) / 2 - oy) / 32
            origin = (ox, oy)
            target = localization_target((b_x, b_y, (y2 - y1) / 32, (x2 - x1) / 32), int(label[0]))
        ox, oy = (int(v) for v in origin)
        images.append(image[:, oy : oy + 32, ox : ox + 32])
        targets.append(target)
    return torch.stack(images), torch.stack(targets)


loc_train = localization_set(3000, seed=10)
loc_test = localization_set(500, seed=11)
print(
    "train:",
    tuple(loc_train[0].shape),
    "targets",
    tuple(loc_train[1].shape),
    f"background share {float((loc_train[1][:, 0] == 0).float().mean()):.2f}",
)

# %% [markdown]
# The network is a small CNN whose last layer has eight outputs; the loss is the practical
# version of {eq}`eq-ch09-loc-loss`. The box outputs pass through a sigmoid so that they lie
# in $[0, 1]$ like the targets.


# %%
def small_cnn(outputs):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 4 * 4, 128),
        nn.ReLU(),
        nn.Linear(128, outputs),
    )


def localization_loss(out, y):
    """BCE on p_c; squared error on the box and cross-entropy on the class where p_c = 1."""
    obj = y[:, 0] == 1
    loss = F.binary_cross_entropy_with_logits(out[:, 0], y[:, 0])
    if obj.any():
        loss = (
            loss
            + 5 * F.mse_loss(torch.sigmoid(out[obj, 1:5]), y[obj, 1:5])
            + F.cross_entropy(out[obj, 5:], y[obj, 5:].argmax(1))
        )
    return loss


device.seed_everything(0)
loc_model = small_cnn(8)
start = time.process_time()
loc_history = train.fit(
    loc_model,
    data.make_loader(data.TensorImageDataset(*loc_train), 64, shuffle=True),
    loss_fn=localization_loss,
    epochs=12,
    device="cpu",
    optimizer=torch.optim.Adam(loc_model.parameters(), lr=3e-3),
)
print(f"training: {time.process_time() - start:.1f} CPU-s, final loss {loc_history.last('train_loss'):.3f}")

# %% [markdown]
# On held-out windows we measure the three parts of the output: is there an object, which
# class, and how well does the predicted box overlap the true one (IoU, defined properly
# below).


# %%
def predict_localization(model, images):
    model.eval()
    with torch.no_grad():
        out = model(images)
    return torch.sigmoid(out[:, 0]), torch.sigmoid(out[:, 1:5]), out[:, 5:].argmax(1)


def to_corners(b):
    """(b_x, b_y, b_h, b_w) relative to a 32x32 window -> pixel corners."""
    return boxes.to_absolute(boxes.box_convert(b[:, [0, 1, 3, 2]], "cxcywh", "xyxy"), 32)


p_c, b, cls = predict_localization(loc_model, loc_test[0])
y = loc_test[1]
obj = y[:, 0] == 1
object_acc = float(((p_c > 0.5) == obj).float().mean())
class_acc = float((cls[obj] == y[obj, 5:].argmax(1)).float().mean())
mean_iou = float(boxes.box_iou(to_corners(b[obj]), to_corners(y[obj, 1:5])).diag().mean())
print(f"object/background accuracy {object_acc:.3f}, class accuracy {class_acc:.3f}, mean IoU {mean_iou:.3f}")
claim("ch09.localization.object_accuracy", object_acc, low=0.95)
claim("ch09.localization.class_accuracy", class_acc, low=0.9)
_ = claim("ch09.localization.mean_iou", mean_iou, low=0.6)
# %% mystnb={"figure": {"caption": "Classification with localization on held-out 32x32 windows: predicted box (solid) with its class and p_c, true box (dashed white). Background windows show no box when p_c < 0.5.", "name": "fig-ch09-localization"}, "image": {"alt": "Grid of 12 noisy 32x32 windows. Eight hold one coloured circle, square or triangle; each has a solid predicted box close to the dashed true box and a title with the right class and score 1.00. The four plain noise windows are titled bg with scores near 0 and have no box."}}
fig, axes = plt.subplots(2, 6, figsize=(9, 3.4))
for ax, i in zip(axes.flat, range(12)):
    ax.imshow(loc_test[0][i].permute(1, 2, 0))
    if obj[i]:
        draw_boxes(ax, to_corners(y[i : i + 1, 1:5]), colour="white", ls="--", lw=1)
    if p_c[i] > 0.5:
        draw_boxes(ax, to_corners(b[i : i + 1]), cls[i : i + 1], colour=None, lw=1.5)
    title = f"{CLASSES[int(cls[i])]} {float(p_c[i]):.2f}" if p_c[i] > 0.5 else f"bg {float(p_c[i]):.2f}"
    ax.set_title(title, fontsize=8)
    ax.axis("off")
fig.suptitle("Predicted boxes (solid) and true boxes (dashed)")
fig.tight_layout()

# %% [markdown]
# ## Landmark detection
#
# A box is four numbers. Nothing stops a network from regressing other coordinates: the
# corners of the eyes, the tip of the nose, the 64 points along a face's outline of the
# lecture's example, or the joints of a body (pose estimation). The output is
# $(p_c, L_{1x}, L_{1y}, \dots, L_{nx}, L_{ny})$. The one rule: **landmark $k$ must mean the
# same point in every training image** (here: left eye first, then right eye, then mouth).
#
# A small example: synthetic "faces" (a disc with two eyes and a mouth, at random
# positions, sizes and tilts), three landmarks, six numbers to regress with a squared-error
# loss.


# %%
def make_faces(n, seed, size=32):
    """n synthetic faces (n, 3, size, size) and landmarks (n, 6) = (left eye, right eye, mouth) x (x, y) in [0, 1]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    images = np.empty((n, 3, size, size), dtype=np.float32)
    points = np.empty((n, 6), dtype=np.float32)
    for i in range(n):
        r = rng.uniform(7, 12)
        cx, cy = rng.uniform(r + 1, size - r - 1, size=2)
        a = rng.uniform(-0.5, 0.5)  # tilt in radians
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
        offsets = np.array([[-0.4, -0.3], [0.4, -0.3], [0.0, 0.45]]) * r  # left eye, right eye, mouth
        pts = offsets @ rot.T + [cx, cy]
        img = np.ones((3, size, size), dtype=np.float32) * rng.uniform(0.1, 0.4, size=(3, 1, 1))
        img[:, (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = rng.uniform(0.6, 1.0, size=(3, 1))
        for (px, py), rad in zip(pts, (0.16 * r, 0.16 * r, 0.22 * r)):
            img[:, (xx - px) ** 2 + (yy - py) ** 2 <= rad * rad] = 0.05
        images[i] = np.clip(img + rng.normal(0, 0.05, img.shape), 0, 1)
        points[i] = (pts / size).reshape(-1)
    return torch.from_numpy(images), torch.from_numpy(points)


faces_train, faces_test = make_faces(2000, seed=20), make_faces(300, seed=21)
device.seed_everything(0)
landmark_model = small_cnn(6)
start = time.process_time()
train.fit(
    landmark_model,
    data.make_loader(data.TensorImageDataset(*faces_train), 64, shuffle=True),
    loss_fn=lambda out, y: F.mse_loss(torch.sigmoid(out), y),
    epochs=8,
    device="cpu",
    optimizer=torch.optim.Adam(landmark_model.parameters(), lr=2e-3),
)
landmark_model.eval()
with torch.no_grad():
    pred_points = torch.sigmoid(landmark_model(faces_test[0]))
error_px = float(((pred_points - faces_test[1]).view(-1, 3, 2) * 32).norm(dim=-1).mean())
print(f"training: {time.process_time() - start:.1f} CPU-s; mean landmark error on held-out faces: {error_px:.2f} px")
_ = claim("ch09.landmarks.error_px", error_px, high=1.5)
# %% mystnb={"figure": {"caption": "Landmark detection on held-out synthetic faces: predicted points (crosses: left eye red, right eye blue, mouth orange) against the true ones (white circles).", "name": "fig-ch09-landmarks"}, "image": {"alt": "Row of six small synthetic faces, light discs with two dark eyes and a dark mouth on noisy backgrounds. On each, a coloured cross for every predicted eye and mouth point lies inside or right next to the white circle of the true point."}}
fig, axes = plt.subplots(1, 6, figsize=(9, 1.9))
for ax, i in zip(axes, range(6)):
    ax.imshow(faces_test[0][i].permute(1, 2, 0))
    for k in range(3):
        tx, ty = (faces_test[1][i].view(3, 2)[k] * 32 - 0.5).tolist()
        px, py = (pred_points[i].view(3, 2)[k] * 32 - 0.5).tolist()
        ax.plot(tx, ty, "o", mfc="none", mec="white", ms=7, mew=1.5)
        ax.plot(px, py, "x", color=COLOURS[k], ms=7, mew=2)
    ax.axis("off")
fig.suptitle("Predicted (x) and true (o) landmarks")
fig.tight_layout()

# %% [markdown]
# ## Box formats and intersection over union
#
# Detection code meets three ways to write a box, and each can be in pixels or relative to
# the image size (lecture 003):
#
# - **corners** `xyxy` = $(x_{min}, y_{min}, x_{max}, y_{max})$: torchvision's and this book's default;
# - **centre-size** `cxcywh` = $(x_c, y_c, w, h)$: YOLO's $(b_x, b_y, b_w, b_h)$;
# - **corner-size** `xywh` = $(x_{min}, y_{min}, w, h)$: COCO's annotation files.
#
# Relative coordinates ($\in [0, 1]$) do not change when the image is resized, which is why
# the localization target above uses them. `boxes.box_convert` and
# `boxes.to_relative`/`to_absolute` do the bookkeeping; the first agrees with torchvision's:

# %%
# NBVAL_CHECK_OUTPUT
box = torch.tensor([[8.0, 16.0, 40.0, 32.0]])  # xyxy in a 64x64 image
for fmt in ("xywh", "cxcywh"):
    print(f"{fmt:7s}", boxes.box_convert(box, "xyxy", fmt).tolist())
print("relative", boxes.to_relative(box, 64).tolist())
g = torch.Generator().manual_seed(0)
xy = torch.rand(1000, 2, generator=g) * 50
rand_boxes = torch.cat([xy, xy + torch.rand(1000, 2, generator=g) * 20 + 1], 1)
print(
    "same as torchvision:",
    all(
        torch.allclose(boxes.box_convert(rand_boxes, "xyxy", f), torchvision.ops.box_convert(rand_boxes, "xyxy", f))
        for f in ("xywh", "cxcywh")
    ),
)

# %% [markdown]
# How good is a predicted box? The lectures use **intersection over union** (IoU, also called
# the Jaccard index): the area where the two boxes overlap divided by the area they cover
# together,
#
# $$\text{IoU}(A, B) = \frac{|A \cap B|}{|A \cup B|} = \frac{|A \cap B|}{|A| + |B| - |A \cap B|}.$$ (eq-ch09-iou)
#
# It is 1 for identical boxes and 0 for disjoint ones; by convention a localization is
# **"correct" if IoU ≥ 0.5**. Its complement, the **Jaccard distance**
#
# $$d_J(A, B) = 1 - \text{IoU}(A, B) = \frac{|A \cup B| - |A \cap B|}{|A \cup B|},$$ (eq-ch09-jaccard)
#
# is the fraction of the covered area where the boxes disagree. Unlike IoU it is a true metric
# (zero only for identical boxes, symmetric, and it obeys the triangle inequality), which is why
# it appears where boxes or sets are clustered or compared by distance (YOLOv2 chose its anchors
# by k-means with $1 - \text{IoU}$ as the distance {cite}`redmon2017yolo9000`); detectors and their
# benchmarks report IoU. For two axis-aligned boxes the intersection is again a box,
# from the larger of the two top-left corners to the smaller of the two bottom-right ones:


# %%
# NBVAL_CHECK_OUTPUT
def iou_two_boxes(a, b):
    """IoU of two corner boxes (x1, y1, x2, y2), plain Python."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


truth, guess = (1.0, 1.0, 5.0, 4.0), (2.0, 2.0, 6.0, 6.0)  # 4x3 and 4x4 boxes
inter = 3.0 * 2.0
print(f"intersection {inter}, union 12 + 16 - 6 = {12 + 16 - inter}, IoU = {iou_two_boxes(truth, guess):.4f}")
print("correct (IoU >= 0.5)?", iou_two_boxes(truth, guess) >= 0.5)
print(f"identical: {iou_two_boxes(truth, truth)}, disjoint: {iou_two_boxes(truth, (6.0, 6.0, 8.0, 8.0))}")

# %% [markdown]
# ```{warning}
# Lecture 003 writes the IoU as $|A \cap B| / (|A| + |B| - |A \cap B|) = |A \cap B| / (|A| + |B|)$. The
# last equality is a slip: dropping the intersection from the denominator is only right when
# the boxes do not overlap (then both sides are 0). For identical boxes $|A \cap B| / (|A| + |B|)$
# is $0.5$, not $1$; for the example above it would be $6 / 28 = 0.214$ instead of $0.2727$. Use
# {eq}`eq-ch09-iou`.
# ```
#
# The package's `boxes.box_iou` is the vectorised version: all $N \times M$ pairs at once, with
# broadcasting instead of loops. It agrees with the plain function and, bit for bit, with
# `torchvision.ops.box_iou`:

# %%
# NBVAL_CHECK_OUTPUT
a, b_ = rand_boxes[:300], rand_boxes[300:800]
iou = boxes.box_iou(a, b_)
print("shape:", tuple(iou.shape))
print(
    "loop == vectorised:",
    all(
        abs(iou_two_boxes(a[i].tolist(), b_[j].tolist()) - float(iou[i, j])) < 1e-6
        for i in range(0, 300, 7)
        for j in range(0, 500, 11)
    ),
)
print("identical to torchvision.ops.box_iou:", torch.equal(iou, torchvision.ops.box_iou(a, b_)))

# %% [markdown]
# ## Sliding windows, and the same thing as a convolution
#
# With a classifier for small windows (object or background, and which object), the
# oldest detector slides a window across the image with some stride and classifies every
# crop. It works, but it is slow: neighbouring windows overlap and share most of their
# computation, which the naive loop repeats. OverFeat {cite}`sermanet2014overfeat` removed the
# repetition by turning the classifier's fully connected layers into convolutions.
#
# The lecture's classifier takes a $14 \times 14 \times 3$ window: a $5 \times 5$ convolution with 16
# filters ($10 \times 10 \times 16$), $2 \times 2$ max-pooling ($5 \times 5 \times 16$), two fully
# connected layers of 400 units and a softmax over 4 outputs. A fully connected layer on a
# $5 \times 5 \times 16$ volume is the same as 400 filters of size $5 \times 5 \times 16$ (each filter sees
# the whole volume, giving $1 \times 1 \times 400$), and a fully connected layer on 400 numbers is a
# $1 \times 1$ convolution. We train the FC version on $14 \times 14$ crops of shapes (4 classes:
# background, circle, square, triangle).


# %%
class WindowClassifier(nn.Module):
    """The lecture's 14x14x3 classifier with fully connected layers."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(5 * 5 * 16, 400), nn.Linear(400, 400), nn.Linear(400, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2).flatten(1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def window_set(n_scenes, seed):
    """14x14 crops: one centred on each shape (label 1 + class) and one background crop per scene (label 0)."""
    scenes = data.make_shapes(n_scenes, 64, seed=seed, min_objects=1, max_objects=3, min_radius=3.5, max_radius=5)
    rng = np.random.default_rng(seed)
    crops, labels = [], []
    for image, bxs, lab in zip(scenes.images, scenes.boxes, scenes.labels):
        for (x1, y1, x2, y2), c in zip(bxs.tolist(), lab.tolist()):
            ox = int(np.clip(round((x1 + x2) / 2 - 7 + rng.integers(-1, 2)), 0, 50))
            oy = int(np.clip(round((y1 + y2) / 2 - 7 + rng.integers(-1, 2)), 0, 50))
            crops.append(image[:, oy : oy + 14, ox : ox + 14])
            labels.append(c + 1)
        for _ in range(20):
            ox, oy = (int(v) for v in rng.integers(0, 51, size=2))
            if all(ox >= x2 or ox + 14 <= x1 or oy >= y2 or oy + 14 <= y1 for x1, y1, x2, y2 in bxs.tolist()):
                crops.append(image[:, oy : oy + 14, ox : ox + 14])
                labels.append(0)
                break
    return torch.stack(crops), torch.tensor(labels)


windows = window_set(1500, seed=30)
device.seed_everything(0)
fc_net = WindowClassifier()
train.fit(fc_net, data.make_loader(data.TensorImageDataset(*windows), 64, shuffle=True), epochs=10, device="cpu")
windows_test = window_set(300, seed=31)
window_acc = train.evaluate(fc_net, data.make_loader(data.TensorImageDataset(*windows_test), 256), device="cpu")["acc"]
print(f"{len(windows[1])} training windows; held-out window accuracy {window_acc:.3f}")
_ = claim("ch09.sliding_window.accuracy", window_acc, low=0.85)

# %% [markdown]
# Now the conversion. The convolutional version copies the weights: `fc1`'s $400 \times 400$ matrix
# is reshaped into 400 filters of $16 \times 5 \times 5$ (PyTorch flattens a volume channel-first,
# the same order as a filter's weights), `fc2` and `fc3` become $1 \times 1$ convolutions. The
# shapes, layer by layer, on the lecture's three input sizes:


# %%
# NBVAL_CHECK_OUTPUT
def to_convolutional(net):
    conv_net = nn.Sequential(
        nn.Conv2d(3, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 400, 5),
        nn.ReLU(),
        nn.Conv2d(400, 400, 1),
        nn.ReLU(),
        nn.Conv2d(400, 4, 1),
    )
    with torch.no_grad():
        conv_net[0].load_state_dict(net.conv.state_dict())
        for conv, fc in ((conv_net[3], net.fc1), (conv_net[5], net.fc2), (conv_net[7], net.fc3)):
            conv.weight.copy_(fc.weight.view_as(conv.weight))
            conv.bias.copy_(fc.bias)
    return conv_net.eval()


conv_net = to_convolutional(fc_net)
for size in (14, 16, 28):
    x = torch.zeros(1, 3, size, size)
    shapes = [f"{size}x{size}x3"]
    for layer in conv_net:
        x = layer(x)
        if not isinstance(layer, nn.ReLU):
            shapes.append(f"{x.shape[2]}x{x.shape[3]}x{x.shape[1]}")
    print(" -> ".join(shapes))
fc_net.eval()
with torch.no_grad():
    same = torch.allclose(fc_net(windows_test[0]), conv_net(windows_test[0]).flatten(1), atol=1e-5)
print("FC and convolutional versions give the same outputs on 14x14 windows:", same)

# %% [markdown]
# On a $16 \times 16$ input the convolutional network outputs $2 \times 2 \times 4$: four windows' worth
# of predictions, at offsets 0 and 2 in each direction (the stride is the max-pool's 2), and on
# $28 \times 28$ an $8 \times 8 \times 4$ grid. On a whole $64 \times 64$ scene it is $26 \times 26$ windows.
# We check that every one of the 676 outputs equals the classifier run on its own crop, and
# time both:

# %%
scene = data.make_shapes(1, 64, seed=32, min_objects=3, max_objects=3, min_radius=3, max_radius=5)
image = scene.images[:1]
with torch.no_grad():
    start = time.perf_counter()
    for _ in range(3):
        naive = torch.stack(
            [
                torch.stack([fc_net(image[:, :, 2 * i : 2 * i + 14, 2 * j : 2 * j + 14])[0] for j in range(26)])
                for i in range(26)
            ]
        )  # (26, 26, 4)
    naive_ms = (time.perf_counter() - start) / 3 * 1000
    start = time.perf_counter()
    for _ in range(5):
        dense = conv_net(image)[0].permute(1, 2, 0)  # (26, 26, 4)
    conv_ms = (time.perf_counter() - start) / 5 * 1000
print(
    f"naive: 676 crops one by one {naive_ms:.1f} ms; convolutional: one pass {conv_ms:.2f} ms "
    f"({naive_ms / conv_ms:.0f}x faster)"
)
_ = claim("ch09.sliding_window.conv_speedup", naive_ms / conv_ms, low=3.0)  # a timing: a band, not digits

# %%
# NBVAL_CHECK_OUTPUT
print("outputs:", tuple(naive.shape), tuple(dense.shape))
print("same outputs:", torch.allclose(naive, dense, atol=1e-5))
print("same predicted classes:", torch.equal(naive.argmax(-1), dense.argmax(-1)))

# %% mystnb={"figure": {"caption": "The convolutional sliding window on a 64x64 scene: one pass gives the classifier's probability of 'some object' for a 26x26 grid of 14x14 windows (stride 2); each value sits at its window's centre.", "name": "fig-ch09-sliding"}, "image": {"alt": "Two panels with pixel axes 0 to 64. Left: a noisy scene with a small purple blob at the left edge, a magenta triangle and a cyan circle. Right: a map of object probability, dark (near 0) almost everywhere, with three bright yellow patches at the positions of the three shapes."}}
fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
axes[0].imshow(image[0].permute(1, 2, 0))
axes[0].set_title("scene")
prob_object = 1 - dense.softmax(-1)[..., 0]
axes[1].imshow(prob_object, extent=(6, 58, 58, 6), vmin=0, vmax=1, cmap="viridis")
axes[1].set_xlim(0, 64)
axes[1].set_ylim(64, 0)
axes[1].set_title("P(object) per 14x14 window")
for ax in axes:
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
fig.tight_layout()

# %% [markdown]
# The sliding window still has two flaws: boxes can only sit where windows are (a stride of 2
# pixels here, of 32 or more in a real network), and only in the window's shape. YOLO fixes both
# by *predicting* the box from each grid position.
#
# ## YOLO: boxes on a grid
#
# YOLO {cite}`redmon2016yolo` lays an $S \times S$ grid over the image and gives every cell the
# localization target {eq}`eq-ch09-target`. An object belongs to the **one cell that holds its
# midpoint**, and its box is written relative to that cell:
#
# - $b_x, b_y \in [0, 1)$: the midpoint's position inside the cell (cell's top-left corner = 0,
#   bottom-right = 1);
# - $b_h, b_w$: the height and width as fractions of the cell size, which **can exceed 1**: a box
#   can be larger than its cell.
#
# ```{note}
# **Sizes in cell units are the course's convention, not YOLOv1's.** The paper also writes the
# midpoint as an offset inside its cell, but predicts the width and height as fractions of the
# *whole image*, and its loss compares their square roots, so that the same error in pixels
# costs more on a small box than on a large one {cite}`redmon2016yolo`. From YOLOv2 on the
# network predicts $t_w, t_h$ and the size is relative to an anchor (prior) of width $p_w$ and
# height $p_h$: $b_w = p_w e^{t_w}$, $b_h = p_h e^{t_h}$ {cite}`redmon2017yolo9000`. Our detector
# below does the same, with its anchors in cell units.
# ```
#
# The whole target is an $S \times S \times 8$ volume, and the network that predicts it is a
# convolutional network whose output is exactly that volume: the convolutional sliding window
# again, with one prediction per cell. The lecture's example on a $3 \times 3$ grid is a car in the
# centre cell with $b_x = 0.3$, $b_y = 0.4$, $b_h = 0.5$, $b_w = 1.1$. In a $96 \times 96$ image the cells
# are $32 \times 32$ pixels, so that box has its midpoint at $(32 + 0.3 \cdot 32, 32 + 0.4 \cdot 32)$ and is
# $0.5 \cdot 32$ high and $1.1 \cdot 32$ wide. `boxes.encode_yolo_targets` (one anchor for now) gives back
# the lecture's vector:

# %%
# NBVAL_CHECK_OUTPUT
cell = 32.0
cx, cy, h, w = cell + 0.3 * cell, cell + 0.4 * cell, 0.5 * cell, 1.1 * cell
car_box = torch.tensor([[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]])
y = boxes.encode_yolo_targets(
    car_box, torch.tensor([1]), grid_size=3, anchors=[(1.0, 1.0)], num_classes=3, image_size=96
)
print("target shape:", tuple(y.shape), "= 3x3 cells x 1 anchor x 8")
print("centre cell:", [round(v, 4) + 0.0 for v in y[1, 1, 0].tolist()])
print("other cells have p_c = 0:", float(y[..., 0].sum()) == 1.0)
decoded = boxes.decode_yolo(y, 96)
LECTURE_CLASSES = ("pedestrian", "car", "motorcycle")
print(
    "decoded back:",
    [round(v, 2) for v in decoded["boxes"][0].tolist()],
    LECTURE_CLASSES[int(decoded["labels"][0])],
    "| original:",
    [round(v, 2) for v in car_box[0].tolist()],
)

# %% [markdown]
# ### Anchor boxes
#
# One prediction per cell cannot represent two objects whose midpoints fall into the same cell:
# the lecture's example is a pedestrian standing in front of a car. **Anchor boxes** give each
# cell $B$ slots, each with a prototype shape: anchor 1 tall and narrow (a pedestrian), anchor 2
# wide and flat (a car). Each object goes to the cell of its midpoint **and** to the anchor whose
# shape has the highest IoU with the object's box (both centred on the same point). With two
# anchors and three classes each cell's target has $2 \times 8 = 16$ numbers, and the whole target
# is $3 \times 3 \times 2 \times 8$. YOLOv2 {cite}`redmon2017yolo9000` chooses the anchor shapes by k-means
# on the training boxes.
#
# The lecture's examples: (1) the pedestrian and the car share the centre cell and fill both
# slots; (2) a cell with only a car has $p_c = 0$ in the pedestrian slot and
# $[1, b_x, b_y, b_h, b_w, 0, 1, 0]$ in the car slot. We place a second car in the bottom-left
# cell for (2):

# %%
# NBVAL_CHECK_OUTPUT
anchors_lecture = [(2.0, 0.8), (0.8, 2.0)]  # (height, width) in cell units: tall, wide
scene_boxes = torch.tensor(
    [
        [40.0, 20.0, 56.0, 80.0],  # pedestrian (class 0), midpoint (48, 50): centre cell
        [20.0, 40.0, 76.0, 60.0],  # car (class 1), midpoint (48, 50): centre cell
        [2.0, 70.0, 30.0, 86.0],
    ]
)  # car, midpoint (16, 78): cell (row 2, column 0)
scene_labels = torch.tensor([0, 1, 1])
y = boxes.encode_yolo_targets(scene_boxes, scene_labels, 3, anchors_lecture, 3, 96)
print("y shape:", tuple(y.shape))


def show_cell(v):
    return [round(x, 3) + 0.0 for x in v.reshape(-1).tolist()]


print("centre cell (2 objects):   ", show_cell(y[1, 1]))
print("bottom-left cell (1 car):  ", show_cell(y[2, 0]))
print("top-left cell (no object): ", show_cell(y[0, 0]))
dec = boxes.decode_yolo(y, 96)
print(
    "decoded:",
    [(LECTURE_CLASSES[int(c)], [round(v, 1) for v in bx.tolist()]) for bx, c in zip(dec["boxes"], dec["labels"])],
)

# %% [markdown]
# In the book's convention the "?" (don't care) entries are stored as 0; the loss never looks at
# them when $p_c = 0$. Two limits of this scheme remain: two objects with the same anchor shape in
# the same cell (the second is dropped: `encode_yolo_targets` keeps the first), and more objects in
# a cell than anchors. Fine grids (19×19 in the lectures) make both rare.
#
# At test time the network's raw outputs are turned into the same layout. For the slot of anchor
# $j$ (height and width $a^{(j)}_h, a^{(j)}_w$ in cell units) in the cell of row $r$ and column
# $c$, the network outputs $5 + C$ unbounded numbers $t_o, t_x, t_y, t_h, t_w, t_1, \dots, t_C$, and
# `detection.activate` computes
#
# $$p_c = \sigma(t_o), \quad b_x = \sigma(t_x), \quad b_y = \sigma(t_y), \quad
# b_h = a^{(j)}_h\, e^{t_h}, \quad b_w = a^{(j)}_w\, e^{t_w}, \quad
# c_k = \frac{e^{t_k}}{\sum_{m=1}^{C} e^{t_m}},$$ (eq-ch09-activate)
#
# with $\sigma(t) = 1 / (1 + e^{-t})$: the sigmoid keeps the centre inside its cell
# ($b_x, b_y \in (0, 1)$), the exponential keeps sizes positive and lets an anchor stretch or
# shrink. `boxes.decode_yolo` then places each slot in the image, for cells of
# $h_\text{cell} \times w_\text{cell}$ pixels:
#
# $$x_\text{centre} = (c + b_x)\, w_\text{cell}, \quad y_\text{centre} = (r + b_y)\, h_\text{cell}, \quad
# \text{height} = b_h\, h_\text{cell}, \quad \text{width} = b_w\, w_\text{cell},$$ (eq-ch09-decode)
#
# which is YOLOv2's $b_x = \sigma(t_x) + c_x$, $b_w = p_w e^{t_w}$ {cite}`redmon2017yolo9000` written
# in this chapter's layout (offsets kept inside the cell, sizes in cell units). Each of the
# $S \cdot S \cdot B$ boxes is scored by $p_c \cdot \max_k c_k$. Most are junk: that is what
# non-max suppression is for.
#
# ## Non-max suppression
#
# A trained detector fires in several neighbouring cells (and anchors) for the same object.
# Non-max suppression (NMS) keeps the best of each cluster. The lecture's algorithm, for one class:
#
# 1. discard every box with $p_c \le 0.6$;
# 2. while boxes remain: pick the one with the largest $p_c$ and output it; discard every
#    remaining box with IoU $\ge 0.5$ with it.
#
# With several classes, run it once per class. From scratch, on a hand-made example with two
# objects and six detections:


# %%
# NBVAL_CHECK_OUTPUT
def nms_from_scratch(bxs, scores, iou_threshold=0.5, score_threshold=0.6):
    """The lecture's NMS, plain Python; returns the kept indices by decreasing score."""
    remaining = [i for i in range(len(scores)) if scores[i] > score_threshold]
    remaining.sort(key=lambda i: -scores[i])
    keep = []
    while remaining:
        best = remaining.pop(0)
        keep.append(best)
        remaining = [i for i in remaining if iou_two_boxes(bxs[best], bxs[i]) < iou_threshold]
    return keep


dets = [(10, 10, 40, 30), (12, 11, 42, 32), (8, 9, 37, 28), (60, 12, 80, 40), (62, 14, 83, 42), (30, 40, 50, 60)]
det_scores = [0.9, 0.8, 0.6, 0.7, 0.85, 0.55]
print("discarded (p_c <= 0.6):", [i for i, s in enumerate(det_scores) if s <= 0.6])
print("IoU with box 0:", [round(iou_two_boxes(dets[0], d), 2) for d in dets])
print("IoU with box 4:", [round(iou_two_boxes(dets[4], d), 2) for d in dets])
kept = nms_from_scratch(dets, det_scores)
print("kept:", kept)
print(
    "package:",
    boxes.nms(torch.tensor(dets, dtype=torch.float32), torch.tensor(det_scores), 0.5, score_threshold=0.6).tolist(),
)

# %% [markdown]
# Boxes 2 and 5 are dropped by the score threshold (0.6 is not above 0.6); box 4 (0.85) is not
# suppressed by box 0 (they do not overlap), box 1 is (IoU 0.76 with box 0), and box 3 is
# suppressed by box 4 (IoU 0.69). One box per object remains. torchvision's
# `nms` has no score threshold and drops boxes with IoU **strictly greater** than its threshold,
# so it equals the lecture's rule after filtering the scores, with the threshold nudged to the
# next smaller float. On 3,000 random boxes with many tied scores (and many exact ties of IoU,
# because the corners sit on a 2-pixel grid), per class, the kept indices are identical:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(1)
xy = torch.rand(3000, 2, generator=g) * 200
many = ((torch.cat([xy, xy + torch.rand(3000, 2, generator=g) * 40 + 2], 1)) / 2).round() * 2
many_scores = (torch.rand(3000, generator=g) * 20).round() / 20  # ties
many_labels = torch.randint(0, 3, (3000,), generator=g)
below_half = float(np.nextafter(0.5, 0))  # IoU > below_half  <=>  IoU >= 0.5
mine = boxes.nms(many, many_scores, 0.5, score_threshold=0.6)
passed = torch.nonzero(many_scores > 0.6).flatten()
theirs = passed[torchvision.ops.nms(many[passed], many_scores[passed], below_half)]
print(f"nms: kept {len(mine)} of 3000, identical indices to torchvision: {torch.equal(mine, theirs)}")
mine = boxes.batched_nms(many, many_scores, many_labels, 0.5)
theirs = torchvision.ops.batched_nms(many, many_scores, many_labels, below_half)
print(f"per class: kept {len(mine)}, same indices: {torch.equal(mine.sort().values, theirs.sort().values)}")
pair = torch.tensor([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])  # IoU exactly 0.5
print(
    "IoU exactly 0.5 -> lecture keeps",
    boxes.nms(pair, torch.tensor([0.9, 0.8]), 0.5).tolist(),
    "| torchvision at 0.5 keeps",
    torchvision.ops.nms(pair, torch.tensor([0.9, 0.8]), 0.5).tolist(),
)

# %% [markdown]
# ## A YOLO-style detector on synthetic scenes
#
# Now all the pieces together. The data are $64 \times 64$ scenes with 1 to 4 shapes of varied size
# (radius 4.5 to 15 pixels, boxes about 7 to 30 pixels wide) and colour, on noisy colour gradients,
# three classes (`data.ShapesDetection`, with `data.detection_collate` for batching lists of
# targets). To make it less easy, shapes may overlap (`overlap=0.3`: a later shape can hide part
# of an earlier one, and the box then covers the visible part, as COCO's boxes do) and up to three
# thin distractor strokes in object-like colours cross each scene (`clutter=3`: not objects, so a
# box on one is a false positive). 2,000 scenes for training, 500 held out.

# %%
SHAPES = dict(min_objects=1, max_objects=4, min_radius=4.5, max_radius=15, noise=0.08, overlap=0.3, clutter=3)
det_train = data.ShapesDetection(2000, 64, seed=1, **SHAPES)
det_test = data.ShapesDetection(500, 64, seed=2, **SHAPES)
images, targets = data.detection_collate([det_test[i] for i in range(8)])
print(
    "a batch:",
    tuple(images.shape),
    "and",
    len(targets),
    "targets, the first:",
    {k: tuple(v.shape) for k, v in targets[0].items()},
)
sizes = torch.cat([t["boxes"][:, 2:] - t["boxes"][:, :2] for _, t in det_train]).flatten()
print(f"{len(sizes) // 2} training objects, box sides {int(sizes.min())} to {int(sizes.max())} px")

# %% mystnb={"figure": {"caption": "Held-out scenes of the synthetic detection data with their ground-truth boxes (red circle, blue square, orange triangle).", "name": "fig-ch09-scenes"}, "image": {"alt": "Row of six noisy scenes with coloured circles, squares and triangles of different sizes, some overlapping, plus thin coloured lines that are not objects. Every shape has a tight box drawn around it, the box colour depending on the shape's class; the lines have no boxes."}}
fig, axes = plt.subplots(1, 6, figsize=(9, 1.9))
for ax, i in zip(axes, range(6)):
    img, t = det_test[i]
    ax.imshow(img.permute(1, 2, 0))
    draw_boxes(ax, t["boxes"], t["labels"])
    ax.axis("off")
fig.suptitle("Ground truth")
fig.tight_layout()

# %% [markdown]
# The detector (`detection.TinyYOLO`) is four $3 \times 3$ convolution stages (16, 32, 48, 64
# channels) with max-pooling between them, one more convolution and a $1 \times 1$ head: the
# $64 \times 64$ input becomes an $S = 8$ grid of $8 \times 8$-pixel cells, and each cell predicts $B = 2$
# anchors $\times$ $(5 + 3)$ numbers. The two anchors are squares (our shapes are about as high as
# wide) of the 25th and 75th percentile of the training boxes' size, in cell units. Each scene's
# target is encoded once, before training:

# %%
S, NUM_CLASSES = 8, 3
side = sizes.view(-1, 2).float().prod(1).sqrt() / (64 / S)
q = torch.quantile(side, torch.tensor([0.25, 0.75]))
a_small, a_large = (round(v, 2) for v in q.tolist())
ANCHORS = torch.tensor([[a_small, a_small], [a_large, a_large]])
print("anchors (h, w) in cells:", [[round(v, 2) for v in a] for a in ANCHORS.tolist()])
Y_train = detection.encode_batch([t for _, t in det_train], S, ANCHORS, NUM_CLASSES, 64)
print("encoded targets:", tuple(Y_train.shape), f"- {int(Y_train[..., 0].sum())} objects placed")

# %% [markdown]
# The loss (`detection.YOLOLoss`) is YOLOv3-style (logistic losses for $p_c$ and the offsets,
# squared error on the log-sizes) with YOLOv1's weights $\lambda_\text{coord} = 5$ and
# $\lambda_\text{noobj} = 0.5$ {cite}`redmon2016yolo`. Write $\text{BCE}(t, y) = -y \log \sigma(t) -
# (1 - y) \log(1 - \sigma(t))$ for the binary cross-entropy of a raw output $t$ against a target
# $y \in [0, 1]$, $\hat p_c, \hat b_x, \dots$ for the encoded target of a slot, $k^*$ for its class,
# and $\mathbb{1}^\text{obj}$ for "this slot holds an object". For a batch of $N$ images, summed
# over all $N \cdot S \cdot S \cdot B$ slots:
#
# $$\begin{aligned}
# \mathcal{L} = \frac{1}{N} \sum_\text{slots} \Big[\;
# & \big(\mathbb{1}^\text{obj} + \lambda_\text{noobj} (1 - \mathbb{1}^\text{obj})\big)\, \text{BCE}(t_o, \hat p_c) \\
# + \; & \mathbb{1}^\text{obj} \lambda_\text{coord} \big( \text{BCE}(t_x, \hat b_x) + \text{BCE}(t_y, \hat b_y)
#   + (t_h - \log \tfrac{\hat b_h}{a_h})^2 + (t_w - \log \tfrac{\hat b_w}{a_w})^2 \big) \\
# + \; & \mathbb{1}^\text{obj} \big( -\log c_{k^*} \big) \;\Big].
# \end{aligned}$$ (eq-ch09-yolo-loss)
#
# Line by line, as in `YOLOLoss.forward`: `loss_obj` (every slot; the empty ones are the vast
# majority, hence their weight $\lambda_\text{noobj}$), `loss_xy` and `loss_hw` (only slots with an
# object: the error on log-sizes depends only on the ratio of the sizes, so a box twice too
# large costs exactly what a box half as large costs), and `loss_cls`, a softmax cross-entropy where YOLOv3 uses
# independent logistic classifiers {cite}`redmon2018yolov3`. Training is budgeted by epochs: 10
# epochs, one-cycle learning rate, one CPU thread (15 epochs add about 0.01 to mAP@0.5 and 0.02
# to COCO mAP, for half as much time again).

# %%
device.seed_everything(0)
yolo = detection.TinyYOLO(num_anchors=2, num_classes=NUM_CLASSES, widths=(16, 32, 48, 64))
print(f"{sum(p.numel() for p in yolo.parameters()):,} parameters")
EPOCHS = 10
loader = data.make_loader(data.TensorImageDataset(det_train.scenes.images, Y_train), 32, shuffle=True)
optimizer = torch.optim.AdamW(yolo.parameters(), lr=3e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=EPOCHS * len(loader), pct_start=0.2)
start = time.process_time()
yolo_history = train.fit(
    yolo,
    loader,
    loss_fn=detection.YOLOLoss(ANCHORS),
    optimizer=optimizer,
    scheduler=scheduler,
    scheduler_step="batch",
    epochs=EPOCHS,
    device="cpu",
)
yolo_cpu_s = time.process_time() - start
print(
    f"training: {yolo_cpu_s:.1f} CPU-s for {EPOCHS} epochs; loss {yolo_history['train_loss'][0]:.1f} -> "
    f"{yolo_history.last('train_loss'):.1f}"
)

# %% [markdown]
# ### Before and after non-max suppression
#
# Decoding the output gives $8 \cdot 8 \cdot 2 = 128$ scored boxes per image. We keep those with score
# above 0.05 (low, so that the precision/recall curves below can reach high recall), then run
# per-class NMS with the lecture's IoU threshold of 0.5:

# %%
test_images = det_test.scenes.images
test_targets = [{"boxes": b, "labels": lab} for b, lab in zip(det_test.scenes.boxes, det_test.scenes.labels)]
raw_dets = detection.detect(yolo, test_images, ANCHORS, score_threshold=0.05, nms=False)
dets = detection.detect(yolo, test_images, ANCHORS, score_threshold=0.05, iou_threshold=0.5)
n_raw, n_kept = sum(len(d["scores"]) for d in raw_dets), sum(len(d["scores"]) for d in dets)
n_true = sum(len(t["labels"]) for t in test_targets)
print(f"{n_true} objects; {n_raw} boxes with score > 0.05 before NMS, {n_kept} after")

# %% mystnb={"figure": {"caption": "NMS at work on the five held-out scenes where it removes the most boxes: every box with score > 0.05 before NMS (top, with the count) and the boxes per-class NMS keeps (bottom, with their scores), coloured by class.", "name": "fig-ch09-nms"}, "image": {"alt": "Two rows of the same five noisy scenes (numbers 85, 229, 492, 52 and 136). Top row, before NMS: 8 to 12 class-coloured boxes per scene, several near-identical boxes stacked on most shapes, four of them on the blue triangle of scene 229. Bottom row, after NMS: 3 to 6 boxes per scene, about one per shape, each with its score on a dark label, from 0.92 down to a few low-scored leftovers such as 0.12 and 0.05."}}
before = [len(d["scores"]) for d in raw_dets]
after = [len(d["scores"]) for d in dets]
busiest = sorted(range(len(dets)), key=lambda i: (after[i] - before[i], i))[:5]  # most boxes removed
fig, axes = plt.subplots(2, 5, figsize=(10, 4.6))
for col, i in enumerate(busiest):
    for row, d in enumerate((raw_dets[i], dets[i])):
        ax = axes[row, col]
        ax.imshow(test_images[i].permute(1, 2, 0))
        draw_boxes(ax, d["boxes"], d["labels"], d["scores"] if row == 1 else None, lw=1)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0, col].set_title(f"scene {i}: {before[i]} boxes", fontsize=9)
    axes[1, col].set_title(f"{after[i]} kept", fontsize=9)
axes[0, 0].set_ylabel("before NMS")
axes[1, 0].set_ylabel("after NMS")
fig.tight_layout()

# %% [markdown]
# ## Measuring a detector: precision, recall, AP and mAP
#
# A detection is a **true positive** (TP) if it has the right class and IoU ≥ 0.5 with a
# ground-truth box that no higher-scored detection has already claimed; otherwise it is a **false
# positive** (FP): a wrong place, a wrong class or a duplicate. Missed objects are **false
# negatives**. Ranking all detections of a class by score and walking down the list, after the top
# $i$ detections
#
# $$\text{precision}_i = \frac{TP_i}{i}, \qquad \text{recall}_i = \frac{TP_i}{\#\text{ground-truth objects}}.$$ (eq-ch09-pr)
#
# Raising the confidence threshold moves up the list: fewer detections, higher precision, lower
# recall. **Average precision** summarises the whole curve; lecture 003 writes it as
#
# $$AP = \sum_i (r_{i+1} - r_i)\, P_{i+1},$$ (eq-ch09-ap)
#
# the precision weighted by the recall gained at each step. **mAP** averages AP over the object
# classes (there is no AP for "background"). The lecture calls the precision-recall curve a ROC
# curve; a ROC curve plots the true-positive rate against the *false*-positive rate (Chapter 8),
# which needs true negatives, and a detector has no countable true negatives.
# A worked example first: five ranked detections of a class with four objects, TP, FP, TP, TP, FP:

# %%
# NBVAL_CHECK_OUTPUT
is_tp = [True, False, True, True, False]
precision, recall = boxes.precision_recall(is_tp, num_gt=4)
print("precision:", [round(p, 3) for p in precision.tolist()])
print("recall:   ", recall.tolist())
step = sum((r1 - r0) * p for r0, r1, p in zip([0.0, *recall[:-1]], recall, precision))
print(f"lecture sum: 0.25*1 + 0 + 0.25*0.667 + 0.25*0.75 + 0 = {step:.4f}")
for method in ("step", "interpolated", "coco"):
    print(f"  average_precision(method={method!r}): {boxes.average_precision(is_tp, 4, method):.4f}")

# %% [markdown]
# The three methods differ in how they treat the zig-zag of the curve. `"step"` is
# {eq}`eq-ch09-ap` as written (scikit-learn's `average_precision_score`). PASCAL VOC
# {cite}`everingham2010pascal` first replaces the precision at each recall $r$ by the best
# precision at any recall $r' \ge r$ (the curve's monotone envelope: here the 2/3 at recall 1/2
# becomes 3/4), then sums (`"interpolated"`). COCO {cite}`lin2014coco` samples the envelope at
# the 101 recalls $0, 0.01, \dots, 1$ and averages (`"coco"`): recall 0 to 0.25 at precision 1
# (26 points), 0.26 to 0.75 at 3/4 (50 points), nothing beyond, so $(26 + 37.5) / 101 = 0.6287$. We use COCO's
# method from here on, because it lets us compare with the reference implementation.
#
# Which IoU counts as "correct" is a choice too. PASCAL VOC uses 0.5 (**mAP@0.5**). COCO averages
# mAP over the ten thresholds $0.50, 0.55, \dots, 0.95$ (**mAP@[.5:.05:.95]**, "COCO mAP"), which
# rewards precise boxes. `boxes.evaluate_detections` computes both for the trained detector. Its
# `map_50`, the mAP@0.5 reported in this chapter, takes VOC's threshold but COCO's 101-point
# interpolated AP (pycocotools' AP at IoU 0.5), not VOC's all-point or 11-point AP: on the same
# detections the three can give different numbers.

# %%
start = time.process_time()
result = boxes.evaluate_detections(dets, test_targets, NUM_CLASSES)
print(f"evaluation: {time.process_time() - start:.1f} CPU-s")
print(f"mAP@0.5 = {result.map_50:.3f}, COCO mAP@[.5:.05:.95] = {result.coco_map:.3f}")
claim("ch09.detector.map_50", result.map_50, low=0.87)
_ = claim("ch09.detector.coco_map", result.coco_map, low=0.58)

# %% [markdown]
# ### The same numbers from pycocotools
#
# The COCO evaluation code, `pycocotools`, is the reference every detection paper reports with.
# We hand it the same detections and ground truth in COCO's JSON layout (boxes as
# $(x, y, w, h)$, classes numbered from 1) and compare:


# %%
def pycocotools_map(predictions, targets, num_classes):
    """COCO's own evaluation of the same detections: (mAP@[.5:.05:.95], mAP@0.5), or None without pycocotools."""
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError:
        return None
    images = [{"id": i + 1, "width": 64, "height": 64} for i in range(len(targets))]
    annotations = []
    for i, t in enumerate(targets):
        for (x1, y1, x2, y2), c in zip(t["boxes"].tolist(), t["labels"].tolist()):
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": c + 1,
                    "iscrowd": 0,
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "area": (x2 - x1) * (y2 - y1),
                }
            )
    results = [
        {"image_id": i + 1, "category_id": int(c) + 1, "score": float(s), "bbox": [x1, y1, x2 - x1, y2 - y1]}
        for i, p in enumerate(predictions)
        for (x1, y1, x2, y2), s, c in zip(p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist())
    ]
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        truth = COCO()
        truth.dataset = {
            "images": images,
            "annotations": annotations,
            "categories": [{"id": c + 1} for c in range(num_classes)],
        }
        truth.createIndex()
        evaluator = COCOeval(truth, truth.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[0]), float(evaluator.stats[1])


reference = pycocotools_map(dets, test_targets, NUM_CLASSES)
if reference is None:
    print("pycocotools is not installed (pip install pycocotools): skipping the cross-check")
else:
    print(f"pycocotools: COCO mAP {reference[0]:.6f}, mAP@0.5 {reference[1]:.6f}")
    print(f"cvbook:      COCO mAP {result.coco_map:.6f}, mAP@0.5 {result.map_50:.6f}")
    assert abs(reference[0] - result.coco_map) < 1e-9 and abs(reference[1] - result.map_50) < 1e-9

# %% [markdown]
# Identical to many decimals, because `evaluate_detections` follows COCO's rules exactly: in each
# image the detections of a class are matched greedily by decreasing score, each to the unmatched
# ground truth with the highest IoU above the threshold; at most 100 detections per image; classes
# without ground truth are left out of the mean. (The unit tests check the same agreement on
# random detections with duplicates, images without objects, classes without ground truth and no
# detections at all.)
#
# ### Precision/recall curves
#
# `boxes.match_detections` returns the ranked TP/FP flags behind these numbers; with
# `precision_recall` they give each class's curve at IoU 0.5, and at the strict IoU 0.9 for
# comparison:

# %% mystnb={"figure": {"caption": "Precision against recall for each class (colour and marker) on held-out scenes, ranking detections by score, at IoU thresholds 0.5 (solid) and 0.9 (dashed). AP is the area under the monotone envelope of each curve.", "name": "fig-ch09-pr"}, "image": {"alt": "Precision-recall plot with six curves, one colour and marker per class, the legend outside on the right. The three IoU 0.5 curves run along precision near 1 and drop only near recall 0.95. The IoU 0.9 curves for circle and square zigzag between 0.4 and 0.6 and end near recall 0.4; the triangle one ends near recall 0.1, its precision below 0.2."}}
fig, ax = plt.subplots(figsize=(7.8, 4))
for c in range(NUM_CLASSES):
    _, tp, n_gt = boxes.match_detections(dets, test_targets, c, (0.5, 0.9))
    for ti, (thr, ls) in enumerate(((0.5, "-"), (0.9, "--"))):
        p, r = boxes.precision_recall(tp[ti], n_gt)
        ax.plot(
            r,
            p,
            ls,
            color=COLOURS[c],
            marker=MARKERS[c],
            markevery=0.1,
            markersize=4,
            label=f"{CLASSES[c]}, IoU {thr}: AP {boxes.average_precision(tp[ti], n_gt, 'coco'):.2f}",
        )
ax.set_xlabel("recall")
ax.set_ylabel("precision")
ax.set_xlim(0, 1.02)
ax.set_ylim(0, 1.02)
ax.set_title("Precision/recall per class")
ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))  # outside: no curve hidden
fig.tight_layout()

# %% [markdown]
# At IoU 0.5 the curves stay near precision 1 until almost every object is found. At IoU 0.9
# precision is low even among the most confident detections: the score says "there is an object
# here", not "my box is precise", which is why later detectors also learn to predict the IoU.
#
# ### AP against the IoU threshold
#
# How strict should "correct" be? The table shows AP per class and mAP at COCO's ten thresholds:

# %%
print("IoU    " + "".join(f"{name:>10s}" for name in CLASSES) + "       mAP")
for thr, ap_row, m in zip(result.iou_thresholds, result.ap, result.map):
    print(f"{thr:.2f}   " + "".join(f"{v:10.3f}" for v in ap_row) + f"{m:10.3f}")
print("mean   " + "".join(f"{v:10.3f}" for v in result.ap.mean(0)) + f"{result.coco_map:10.3f}")
assert result.map[0] >= result.map[5] >= result.map[-1]  # always: a stricter IoU matches less
claim("ch09.detector.map_drop_0_5_to_0_6", result.map[0] - result.map[2], high=0.05)
claim("ch09.detector.triangle_gap_at_0_75", min(result.ap[5][:2]) - result.ap[5][2], low=0.1)
_ = claim("ch09.detector.map_at_0_95", result.map[-1], high=0.05)

# %% [markdown]
# Up to IoU 0.6 mAP hardly moves: the detector finds nearly every shape and puts a box roughly
# on it. The classes part early: triangles fall first, because a triangle's tight box depends on
# its rotation, which the network must read from a few pixels, while circles and squares have
# boxes that follow from their centre and size alone. Beyond 0.8 every class falls steeply, and
# at 0.95 AP is close to zero: for a 15-pixel box, IoU 0.95 leaves less than half a pixel of
# error per side, which a tiny detector predicting offsets and log-sizes on a grid of 8-pixel
# cells rarely achieves. mAP@0.5 says "the detector finds the objects"; COCO mAP adds "and
# outlines them precisely", and is the number that separates detectors once they all find the
# objects.
#
# ```{note}
# **Against published detectors.** On PASCAL VOC 2007 test (real photos, 20 classes, VOC 2007's
# 11-point AP), YOLOv1 reaches 63.4 mAP@0.5 at 45 frames per second, Fast YOLO 52.7, and Faster
# R-CNN with VGG-16 73.2 {cite}`redmon2016yolo,ren2015faster`. Our mAP@0.5 of about 0.92 (92 on
# the papers' percentage scale) is not comparable with these and does not make the tiny detector
# better: three kinds of plain shape on $64 \times 64$ noisy gradients do not test real textures,
# lighting and viewpoints, deformable objects, heavy occlusion, real clutter (ours is three
# strokes), objects from a few pixels to the whole image, or many classes of very unequal
# frequency. What they do test is that the pipeline, from targets to AP, is right.
# ```
#
# ```{warning}
# Lecture 003 says that with a higher IoU threshold "we will have fewer detections but with
# better localization and possibly more accuracy". The first half is right (fewer detections
# count as correct, and those are better localized), but AP can only go **down** as the threshold
# rises: every match at a strict threshold is also a match at a looser one, as the table shows.
# The same lecture describes the ROC curve as recording "precision and recall" and calls AP
# "AUC": the ROC curve plots the true positive rate against the *false* positive rate, and AP is
# the area under the *precision/recall* curve, not under the ROC curve. Detection has no true
# negatives to count, so it uses precision/recall. Finally, mAP averages AP over the object
# classes only: "background" is not a class with an AP of its own; it is what false positives
# and missed objects are measured against.
# ```
#
# ## R-CNN, Fast R-CNN and Faster R-CNN
#
# YOLO is a *one-stage* detector: one network pass predicts all boxes. The region-based family
# works in two stages: first propose regions that may contain an object, then classify each
# region and refine its box.
#
# - **R-CNN** {cite}`girshick2014rcnn`: about 2,000 region proposals from a classical
#   segmentation algorithm (selective search), each warped to a fixed size and classified *one at
#   a time* by a CNN, with a box refinement. Accurate, but a CNN pass per region.
# - **Fast R-CNN** {cite}`girshick2015fast`: one CNN pass over the whole image gives a feature
#   map; each proposal's features are cut out of it (RoI pooling) and classified together: the
#   convolutional sliding window idea applied to the proposals. The proposals are still slow.
# - **Faster R-CNN** {cite}`ren2015faster`: a small **region proposal network** (RPN) on the same
#   feature map proposes the regions, with anchor boxes, so the whole detector is one network.


# %% mystnb={"figure": {"caption": "The R-CNN family. R-CNN runs the CNN once per proposed region; Fast R-CNN runs it once per image and crops each region's features; Faster R-CNN also proposes the regions with a network (RPN) on the shared features.", "name": "fig-ch09-rcnn"}, "image": {"alt": "Flow diagram in three rows. R-CNN: image, selective search of about 2,000 regions, warp, CNN per region (2,000 passes), classes and box refinement. Fast R-CNN: image, selective search on the image, CNN once, RoI pooling per region, classes and boxes. Faster R-CNN: a region proposal network replaces selective search."}}
def pipeline(ax, y, title, stages):
    ax.text(0.0, y + 0.42, title, fontsize=10, fontweight="bold")
    x = 0.0
    for k, (label, colour) in enumerate(stages):
        width = 0.9 + 0.035 * len(label)
        ax.add_patch(
            patches.FancyBboxPatch(
                (x, y - 0.3), width, 0.6, boxstyle="round,pad=0.02", facecolor=colour, edgecolor="black"
            )
        )
        ax.text(x + width / 2, y, label, ha="center", va="center", fontsize=8)
        if k < len(stages) - 1:
            ax.annotate("", xy=(x + width + 0.35, y), xytext=(x + width + 0.02, y), arrowprops=dict(arrowstyle="->"))
        x += width + 0.4


grey, blue, green, orange = "#dddddd", "#9ecae1", "#a1d99b", "#fdae6b"
fig, ax = plt.subplots(figsize=(10, 4.2))
pipeline(
    ax,
    4.0,
    "R-CNN (2014)",
    [
        ("image", grey),
        ("selective search\n~2,000 regions", orange),
        ("warp each region", grey),
        ("CNN per region\n(2,000 passes)", blue),
        ("classes (SVM)\n+ box refinement", green),
    ],
)
pipeline(
    ax,
    2.3,
    "Fast R-CNN (2015)",
    [
        ("image", grey),
        ("selective search\non the image", orange),
        ("CNN once\n-> feature map", blue),
        ("RoI pooling\nper region", blue),
        ("FC: classes\n+ boxes", green),
    ],
)
pipeline(
    ax,
    0.6,
    "Faster R-CNN (2015)",
    [
        ("image", grey),
        ("CNN once\n-> feature map", blue),
        ("region proposal\nnetwork (anchors)", blue),
        ("RoI pooling\nper region", blue),
        ("FC: classes\n+ boxes", green),
    ],
)
ax.set_xlim(-0.1, 11.5)
ax.set_ylim(0.1, 4.6)
ax.axis("off")
ax.set_title(
    "Two-stage detectors: where the regions come from and how often the CNN runs (selective search: not learned)"
)
fig.tight_layout()

# %% [markdown]
# In practice you would not write these yourself: torchvision ships Faster R-CNN, RetinaNet,
# SSD, FCOS and Mask R-CNN under `torchvision.models.detection`, with COCO-pretrained weights. Built
# without weights (nothing is downloaded), the light Faster R-CNN with a MobileNetV3 backbone and
# a feature pyramid:

# %%
# NBVAL_CHECK_OUTPUT
frcnn = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None)
for name in ("backbone", "rpn", "roi_heads"):
    print(f"{name:10s} {sum(p.numel() for p in getattr(frcnn, name).parameters()):>12,} parameters")
print(f"{'total':10s} {sum(p.numel() for p in frcnn.parameters()):>12,} parameters (91 COCO classes)")
print("RPN anchors per location:", frcnn.rpn.anchor_generator.num_anchors_per_location())

# %% [markdown]
# With `weights="DEFAULT"` (online) the same call loads weights trained on COCO; to train it on
# your own classes, replace the box predictor
# (`torchvision.models.detection.faster_rcnn.FastRCNNPredictor`) and fine-tune with the same
# `(images, [{"boxes", "labels"}])` batches that `data.detection_collate` builds. Its outputs
# are `{"boxes", "scores", "labels"}` per image, exactly what `boxes.evaluate_detections` takes.
#
# ## Key takeaways
#
# - Classification with localization outputs $y = [p_c, b_x, b_y, b_h, b_w, c_1, c_2, c_3]$; the
#   loss looks at the box and class only when $p_c = 1$. Landmark detection regresses
#   consistently labelled points the same way.
# - Boxes come as corners, centre-size or corner-size, absolute or relative; IoU =
#   intersection / (sum of areas − intersection), "correct" if IoU ≥ 0.5 (lecture 003's
#   $|A \cap B| / (|A| + |B|)$ is a slip).
# - Fully connected layers are convolutions whose filters cover the whole input volume; the
#   convolutional sliding window computes all windows' outputs in one pass (14×14×3 → 5×5×16 →
#   1×1×400 → 1×1×4; 16×16×3 → 2×2×4; 28×28×3 → 8×8×4), with the same predictions and much faster.
# - YOLO assigns each object to the grid cell of its midpoint and the anchor of highest IoU,
#   with $b_x, b_y$ in the cell and $b_h, b_w$ in cell units (the lecture's $3 \times 3 \times 2 \times 8$
#   target; sizes in cell units are the course's convention: YOLOv1 predicts them as fractions
#   of the image, YOLOv2 and later as $b_w = p_w e^{t_w}$ relative to an anchor); non-max
#   suppression (discard $p_c \le 0.6$, keep the best, drop IoU ≥ 0.5, per class)
#   cleans up the duplicates.
# - Detection is measured with AP (area under the precision/recall curve), mAP over classes at
#   IoU 0.5 (here COCO's 101-point interpolated AP, not VOC's all-point or 11-point AP), and
#   COCO's mAP over IoU 0.5 to 0.95; our tiny detector reaches mAP@0.5 ≥ 0.87 and
#   COCO mAP ≥ 0.58 after a short CPU training (both checked as bands on every run), and our
#   evaluation equals pycocotools'. On easy synthetic scenes these numbers are not comparable
#   with published ones (YOLOv1: 63.4 mAP@0.5 on PASCAL VOC 2007).
# - R-CNN → Fast R-CNN → Faster R-CNN moved the CNN from once per region to once per image and
#   then learned the proposals too; torchvision's detection models are the production route.
#
# ## Exercises
#
# The exercise notebook asks you to compute IoU, convert box formats, implement the lecture's
# non-max suppression, encode YOLO targets with anchor boxes, and compute AP from a ranked list.
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch09/ch09_exercises.ipynb)
# or on GitHub:
# [`exercises/ch09/ch09_exercises.ipynb`](https://github.com/cnn-cv-book/cnn-cv-book/blob/main/exercises/ch09/ch09_exercises.ipynb).
