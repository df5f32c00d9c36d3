"""Bounding boxes, non-max suppression, YOLO targets and detection metrics.

* :func:`box_convert`, :func:`to_relative`, :func:`to_absolute`, :func:`box_area` -
  box formats: corners ``xyxy`` = (x1, y1, x2, y2), ``xywh`` = (x1, y1, w, h) and
  ``cxcywh`` = (centre x, centre y, w, h), in pixels or relative to the image size;
* :func:`box_iou` - pairwise intersection over union (as ``torchvision.ops.box_iou``);
* :func:`nms` and :func:`batched_nms` - non-max suppression as the lecture states it:
  discard scores ``<= score_threshold``, keep the best box, drop every remaining box with
  IoU ``>= iou_threshold`` with it, repeat; per class in :func:`batched_nms`;
* :func:`encode_yolo_targets` and :func:`decode_yolo` - the YOLO target tensor
  (S, S, B, 5 + C) with ``[p_c, b_x, b_y, b_h, b_w, c_1 .. c_C]`` per anchor, and back;
* :func:`match_detections`, :func:`average_precision`, :func:`precision_recall` and
  :func:`evaluate_detections` - AP per class, mAP at one IoU threshold and COCO-style
  mAP@[.5:.05:.95], computed exactly as ``pycocotools`` does.

Boxes are float tensors; the corner format ``xyxy`` is the default everywhere. A box
(x1, y1, x2, y2) covers x1 <= x < x2 and y1 <= y < y2, so its width is x2 - x1 (no "+1").
Taught in Chapter 9.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "BOX_FORMATS",
    "COCO_IOU_THRESHOLDS",
    "box_convert",
    "to_relative",
    "to_absolute",
    "box_area",
    "box_iou",
    "nms",
    "batched_nms",
    "encode_yolo_targets",
    "decode_yolo",
    "match_detections",
    "precision_recall",
    "average_precision",
    "DetectionEvaluation",
    "evaluate_detections",
]

#: The box formats :func:`box_convert` knows (torchvision's names).
BOX_FORMATS = ("xyxy", "xywh", "cxcywh")

#: COCO's IoU thresholds 0.50, 0.55, ..., 0.95 (computed as pycocotools does, so that
#: a threshold compares bit-for-bit the same).
COCO_IOU_THRESHOLDS: tuple[float, ...] = tuple(float(t) for t in np.linspace(0.5, 0.95, 10))


# --------------------------------------------------------------------------- checks


def _check_boxes(name: str, boxes) -> Tensor:
    if not isinstance(boxes, Tensor):
        raise ValueError(f"{name} must be a tensor of shape (N, 4), got {type(boxes).__name__}")
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got {tuple(boxes.shape)}")
    if not boxes.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {boxes.dtype}")
    return boxes


def _check_scores(name: str, scores, n: int) -> Tensor:
    if not isinstance(scores, Tensor) or scores.dim() != 1 or scores.shape[0] != n:
        shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"{name} must have shape ({n},) to match the boxes, got {shape}")
    if scores.is_floating_point() and scores.numel() and not bool(torch.isfinite(scores).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return scores


def _check_finite_boxes(name: str, boxes: Tensor) -> Tensor:
    if boxes.numel() and not bool(torch.isfinite(boxes).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return boxes


def _check_threshold(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def _image_hw(image_size) -> tuple[float, float]:
    """``image_size`` as an int (square) or (height, width); returns (H, W) as floats."""
    if isinstance(image_size, (int, float)) and not isinstance(image_size, bool):
        h = w = image_size
    elif isinstance(image_size, (tuple, list)) and len(image_size) == 2:
        h, w = image_size
    else:
        raise ValueError(f"image_size must be an int or (height, width), got {image_size!r}")
    if not (h > 0 and w > 0):
        raise ValueError(f"image_size must be positive, got {image_size!r}")
    return float(h), float(w)


# --------------------------------------------------------------------------- formats


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert (N, 4) boxes between ``"xyxy"``, ``"xywh"`` and ``"cxcywh"``.

    ``xyxy``: corners (x1, y1, x2, y2); ``xywh``: top-left corner, width, height;
    ``cxcywh``: centre, width, height. Returns a new (N, 4) tensor (any leading shape
    (..., 4) works too). Same as ``torchvision.ops.box_convert``. Taught in Chapter 9.
    """
    for name, fmt in (("in_fmt", in_fmt), ("out_fmt", out_fmt)):
        if fmt not in BOX_FORMATS:
            raise ValueError(f"{name} must be one of {BOX_FORMATS}, got {fmt!r}")
    if not isinstance(boxes, Tensor) or boxes.shape[-1:] != (4,):
        shape = tuple(boxes.shape) if isinstance(boxes, Tensor) else type(boxes).__name__
        raise ValueError(f"boxes must have shape (N, 4), got {shape}")
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
    if in_fmt == out_fmt:
        return boxes.clone()
    return torch.stack(out, dim=-1)


def to_relative(boxes: Tensor, image_size) -> Tensor:
    """Pixel boxes (..., 4) in any format -> coordinates relative to the image, in [0, 1].

    x-like values (columns 0 and 2) are divided by the width, y-like values (1 and 3)
    by the height; ``image_size`` is an int (square) or (height, width). Taught in Chapter 9.
    """
    h, w = _image_hw(image_size)
    if not isinstance(boxes, Tensor) or boxes.shape[-1:] != (4,):
        raise ValueError(f"boxes must have shape (N, 4), got {getattr(boxes, 'shape', boxes)}")
    return boxes / boxes.new_tensor([w, h, w, h])


def to_absolute(boxes: Tensor, image_size) -> Tensor:
    """Relative boxes (..., 4) in [0, 1] -> pixels; the inverse of :func:`to_relative`. Taught in Chapter 9."""
    h, w = _image_hw(image_size)
    if not isinstance(boxes, Tensor) or boxes.shape[-1:] != (4,):
        raise ValueError(f"boxes must have shape (N, 4), got {getattr(boxes, 'shape', boxes)}")
    return boxes * boxes.new_tensor([w, h, w, h])


def box_area(boxes: Tensor) -> Tensor:
    """Areas (N,) of (N, 4) corner boxes: (x2 - x1) * (y2 - y1). Taught in Chapter 9."""
    _check_boxes("boxes", boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


# --------------------------------------------------------------------------- IoU and NMS


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Pairwise intersection over union.

    boxes1: (N, 4) and boxes2: (M, 4), corners (x1, y1, x2, y2). Returns (N, M):
    ``IoU[i, j] = area(b1_i ∩ b2_j) / (area(b1_i) + area(b2_j) - area(b1_i ∩ b2_j))``.
    Same as ``torchvision.ops.box_iou``. Taught in Chapter 9.
    """
    _check_boxes("boxes1", boxes1)
    _check_boxes("boxes2", boxes2)
    area1, area2 = box_area(boxes1), box_area(boxes2)
    top_left = torch.max(boxes1[:, None, :2], boxes2[None, :, :2])  # (N, M, 2)
    bottom_right = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:])  # (N, M, 2)
    wh = (bottom_right - top_left).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float = 0.5, score_threshold: float | None = None) -> Tensor:
    """Non-max suppression, the lecture's algorithm.

    1. Discard every box with score ``<= score_threshold`` (none if it is None).
    2. While boxes remain: keep the one with the largest score, discard every remaining
       box whose IoU with it is ``>= iou_threshold``.

    boxes: (N, 4) corners, scores: (N,). Returns the int64 indices (K,) of the kept boxes
    into the input, by decreasing score (equal scores: lower index first). Equal to
    ``torchvision.ops.nms`` (which drops IoU ``>`` the threshold) whenever no IoU equals
    the threshold exactly. Non-finite boxes or scores raise ``ValueError``. Taught in Chapter 9.
    """
    _check_finite_boxes("boxes", _check_boxes("boxes", boxes))
    _check_scores("scores", scores, boxes.shape[0])
    iou_threshold = _check_threshold("iou_threshold", iou_threshold)
    candidates = torch.arange(boxes.shape[0])
    if score_threshold is not None:
        candidates = candidates[scores > float(score_threshold)]
    order = candidates[torch.sort(scores[candidates], descending=True, stable=True).indices]
    keep = []
    remaining = order
    while remaining.numel() > 0:
        best = remaining[0]
        keep.append(best)
        # IoU compared in float64, as torchvision does: a float32 IoU of 0.7f is below 0.7
        iou = box_iou(boxes[best][None], boxes[remaining[1:]])[0].double()
        # "not >=" rather than "<": a NaN IoU (two empty boxes) suppresses nothing, as in torchvision
        remaining = remaining[1:][~(iou >= iou_threshold)]
    return torch.stack(keep).to(torch.int64) if keep else torch.zeros(0, dtype=torch.int64)


def batched_nms(
    boxes: Tensor, scores: Tensor, labels: Tensor, iou_threshold: float = 0.5, score_threshold: float | None = None
) -> Tensor:
    """Non-max suppression run separately for each class (boxes of different classes never
    suppress each other).

    boxes: (N, 4) corners, scores: (N,), labels: (N,) int class indices. Returns the int64
    indices (K,) of the kept boxes by decreasing score (equal scores: lower index first).
    The same boxes as ``torchvision.ops.batched_nms``. Taught in Chapter 9.
    """
    _check_finite_boxes("boxes", _check_boxes("boxes", boxes))
    _check_scores("scores", scores, boxes.shape[0])
    _check_scores("labels", labels, boxes.shape[0])
    if labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(f"labels must hold integer class indices, got {labels.dtype}")
    keep = []
    for label in torch.unique(labels):
        members = torch.nonzero(labels == label).flatten()
        keep.append(members[nms(boxes[members], scores[members], iou_threshold, score_threshold)])
    if not keep:
        return torch.zeros(0, dtype=torch.int64)
    kept = torch.sort(torch.cat(keep)).values
    return kept[torch.sort(scores[kept], descending=True, stable=True).indices]


# --------------------------------------------------------------------------- YOLO targets


def _check_anchors(anchors) -> Tensor:
    anchors = torch.as_tensor(anchors, dtype=torch.float32)
    if anchors.dim() != 2 or anchors.shape[1] != 2 or anchors.shape[0] < 1 or not (anchors > 0).all():
        raise ValueError(f"anchors must be (B, 2) positive (height, width) pairs, got {tuple(anchors.shape)}")
    return anchors


def _shape_iou(hw1: Tensor, hw2: Tensor) -> Tensor:
    """IoU of (N, 2) and (M, 2) (height, width) shapes placed on the same centre -> (N, M)."""
    inter = torch.min(hw1[:, None, 0], hw2[None, :, 0]) * torch.min(hw1[:, None, 1], hw2[None, :, 1])
    union = (hw1[:, 0] * hw1[:, 1])[:, None] + (hw2[:, 0] * hw2[:, 1])[None, :] - inter
    return inter / union


def encode_yolo_targets(boxes: Tensor, labels: Tensor, grid_size: int, anchors, num_classes: int, image_size) -> Tensor:
    """The YOLO training target of one image.

    boxes: (K, 4) corners in pixels; labels: (K,) int class indices in [0, num_classes);
    grid_size S; anchors: (B, 2) anchor shapes (height, width) in cell units (the units of
    b_h, b_w); image_size: int or (H, W). Returns y of shape (S, S, B, 5 + C), float32,
    indexed ``y[row, col, anchor]``, each slot ``[p_c, b_x, b_y, b_h, b_w, c_1, ..., c_C]``:

    * an object goes to the cell (row, col) that holds its midpoint, and there to the
      anchor whose shape has the highest IoU with the object's shape (both centred);
    * b_x, b_y: the midpoint relative to the cell's top-left corner, in cell units [0, 1);
      b_h, b_w: the box's height and width in cell units (may exceed 1);
    * p_c = 1 and a one-hot class for assigned slots; every value 0 in the other slots.

    Two objects wanting the same cell and anchor cannot both be represented: the first
    one (in input order) keeps the slot. Non-finite boxes raise ``ValueError``. Taught in Chapter 9.
    """
    _check_finite_boxes("boxes", _check_boxes("boxes", boxes))
    if not isinstance(grid_size, int) or isinstance(grid_size, bool) or grid_size < 1:
        raise ValueError(f"grid_size must be an int >= 1, got {grid_size!r}")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    labels = torch.as_tensor(labels)
    if labels.shape != (boxes.shape[0],):
        raise ValueError(f"labels must have shape ({boxes.shape[0]},), got {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got {labels.tolist()}")
    anchors = _check_anchors(anchors)
    h_img, w_img = _image_hw(image_size)
    s = grid_size
    cell_h, cell_w = h_img / s, w_img / s
    y = torch.zeros(s, s, anchors.shape[0], 5 + num_classes)
    if boxes.shape[0] == 0:
        return y
    cxcywh = box_convert(boxes.double(), "xyxy", "cxcywh")
    gx, gy = cxcywh[:, 0] / cell_w, cxcywh[:, 1] / cell_h  # midpoint in cell units
    bw, bh = cxcywh[:, 2] / cell_w, cxcywh[:, 3] / cell_h  # size in cell units
    if (bw <= 0).any() or (bh <= 0).any():
        raise ValueError("boxes must have x2 > x1 and y2 > y1")
    col = gx.floor().long().clamp(0, s - 1)
    row = gy.floor().long().clamp(0, s - 1)
    best = _shape_iou(torch.stack([bh, bw], 1).float(), anchors).argmax(1)
    for k in range(boxes.shape[0]):
        slot = y[row[k], col[k], best[k]]
        if slot[0] == 1:
            continue
        slot[0] = 1
        slot[1] = float(gx[k] - col[k])
        slot[2] = float(gy[k] - row[k])
        slot[3] = float(bh[k])
        slot[4] = float(bw[k])
        slot[5 + int(labels[k])] = 1
    return y


def decode_yolo(y: Tensor, image_size, score_threshold: float = 0.0) -> dict[str, Tensor]:
    """Boxes from one YOLO output or target in the lecture's layout.

    y: (S, S, B, 5 + C) with ``[p_c, b_x, b_y, b_h, b_w, c_1, ..., c_C]`` per slot (already
    activated: p_c and the class values are probabilities, b_* in cell units, see
    :func:`encode_yolo_targets`). Every slot with score ``p_c * max_k c_k > score_threshold``
    becomes a detection. Returns ``{"boxes": (K, 4) corners in pixels, "scores": (K,),
    "labels": (K,) int64}`` in slot order (no NMS: apply :func:`batched_nms` next).
    Taught in Chapter 9.
    """
    if not isinstance(y, Tensor) or y.dim() != 4 or y.shape[0] != y.shape[1] or y.shape[3] < 6:
        shape = tuple(y.shape) if isinstance(y, Tensor) else type(y).__name__
        raise ValueError(f"y must have shape (S, S, B, 5 + C) with C >= 1, got {shape}")
    h_img, w_img = _image_hw(image_size)
    s = y.shape[0]
    cell_h, cell_w = h_img / s, w_img / s
    class_prob, label = y[..., 5:].max(-1)
    score = y[..., 0] * class_prob  # (S, S, B)
    rows = torch.arange(s, dtype=y.dtype)[:, None, None]
    cols = torch.arange(s, dtype=y.dtype)[None, :, None]
    cx = (cols + y[..., 1]) * cell_w
    cy = (rows + y[..., 2]) * cell_h
    h = y[..., 3] * cell_h
    w = y[..., 4] * cell_w
    boxes = torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)
    keep = score > float(score_threshold)
    return {"boxes": boxes[keep].reshape(-1, 4), "scores": score[keep], "labels": label[keep].long()}


# --------------------------------------------------------------------------- evaluation


def _finite(name: str, t: Tensor) -> None:
    if t.numel() and t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite (no NaN or inf)")


def _entry_boxes(name: str, value) -> Tensor:
    """(K, 4) float boxes of one image; an empty tensor of any shape means no boxes. No reshaping."""
    if not isinstance(value, Tensor):
        raise ValueError(f"{name} must be a float tensor of shape (K, 4), got {type(value).__name__}")
    if value.numel() == 0:
        return value.reshape(0, 4).double()
    if value.dim() != 2 or value.shape[1] != 4:
        raise ValueError(f"{name} must have shape (K, 4), got {tuple(value.shape)}")
    if not value.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got {value.dtype}")
    _finite(name, value)
    return value.double()


def _entry_vector(name: str, value, n: int, integer: bool) -> Tensor:
    value = torch.as_tensor(value)
    if value.numel() == 0 and n == 0:
        return value.reshape(0)
    if value.dim() != 1 or value.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match the boxes, got {tuple(value.shape)}")
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise ValueError(f"{name} must hold integer class indices, got {value.dtype}")
    if not integer:
        if not value.is_floating_point():
            raise ValueError(f"{name} must be a float tensor, got {value.dtype}")
        _finite(name, value)
    return value


def _check_detection_lists(predictions, targets, num_classes: int | None = None):
    """Validated copies: predictions as (boxes (K, 4) float64, scores (K,), labels (K,)) per image,
    targets as (boxes (G, 4) float64, labels (G,)). Labels must be in [0, num_classes) when given."""
    if len(predictions) != len(targets):
        raise ValueError(
            f"predictions and targets must have one entry per image, got {len(predictions)} and {len(targets)}"
        )
    preds, gts = [], []
    for i, (p, t) in enumerate(zip(predictions, targets)):
        for key in ("boxes", "scores", "labels"):
            if key not in p:
                raise ValueError(f"predictions[{i}] must have the key {key!r}")
        for key in ("boxes", "labels"):
            if key not in t:
                raise ValueError(f"targets[{i}] must have the key {key!r}")
        boxes = _entry_boxes(f"predictions[{i}]['boxes']", p["boxes"])
        scores = _entry_vector(f"predictions[{i}]['scores']", p["scores"], boxes.shape[0], integer=False)
        labels = _entry_vector(f"predictions[{i}]['labels']", p["labels"], boxes.shape[0], integer=True)
        gt_boxes = _entry_boxes(f"targets[{i}]['boxes']", t["boxes"])
        gt_labels = _entry_vector(f"targets[{i}]['labels']", t["labels"], gt_boxes.shape[0], integer=True)
        if num_classes is not None:
            for name, lab in ((f"predictions[{i}]['labels']", labels), (f"targets[{i}]['labels']", gt_labels)):
                if lab.numel() and (int(lab.min()) < 0 or int(lab.max()) >= num_classes):
                    raise ValueError(
                        f"{name} must be class indices in [0, {num_classes}), got "
                        f"values in [{int(lab.min())}, {int(lab.max())}]"
                    )
        preds.append((boxes, scores.double(), labels.long()))
        gts.append((gt_boxes, gt_labels.long()))
    return preds, gts


def _match_image(iou: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Greedy COCO matching of one image and class. iou: (D, G), detections sorted by score.

    Returns (T, D) bool: is detection d a true positive at threshold t. Each detection
    takes the unmatched ground truth with the highest IoU >= t (ties: the later one).
    """
    d_count, g_count = iou.shape
    iou = np.nan_to_num(iou, nan=0.0)  # two empty boxes: 0/0 overlap is no overlap (pycocotools: 0)
    tp = np.zeros((len(thresholds), d_count), dtype=bool)
    for ti, t in enumerate(thresholds):
        taken = np.zeros(g_count, dtype=bool)
        for d in range(d_count):
            best_iou, best = min(t, 1 - 1e-10), -1
            for g in range(g_count):
                if taken[g] or not iou[d, g] >= best_iou:
                    continue
                best_iou, best = iou[d, g], g
            if best >= 0:
                taken[best] = True
                tp[ti, d] = True
    return tp


def match_detections(
    predictions: Sequence[Mapping[str, Tensor]],
    targets: Sequence[Mapping[str, Tensor]],
    class_id: int,
    iou_thresholds=(0.5,),
    max_detections: int = 100,
):
    """Mark each detection of one class as true or false positive, over a whole data set.

    predictions: one ``{"boxes": (K, 4), "scores": (K,), "labels": (K,)}`` per image;
    targets: one ``{"boxes": (G, 4), "labels": (G,)}`` per image. In each image the
    class's ``max_detections`` best detections, by decreasing score, are matched greedily:
    a detection is a true positive when an unmatched ground-truth box of its class has
    IoU >= the threshold with it (it takes the one with the highest IoU); every ground
    truth is matched at most once, so duplicates are false positives.

    Returns ``(scores (D,), is_tp (T, D) bool, num_gt)`` with the detections ranked by
    decreasing score over all images (as pycocotools ranks them).

    Edge cases: boxes must be (K, 4) float tensors (an empty tensor means no boxes; nothing
    is reshaped), scores and labels (K,) with the same K, every value finite, else
    ``ValueError``. A zero-area detection never matches (its IoU with a zero-area ground
    truth is 0/0, counted as 0, as pycocotools does). Taught in Chapter 9.
    """
    if isinstance(class_id, bool) or not isinstance(class_id, (int, np.integer)) or class_id < 0:
        raise ValueError(f"class_id must be an int >= 0, got {class_id!r}")
    if isinstance(max_detections, bool) or not isinstance(max_detections, (int, np.integer)) or max_detections < 1:
        raise ValueError(f"max_detections must be an int >= 1, got {max_detections!r}")
    preds, gts = _check_detection_lists(predictions, targets)
    thresholds = [float(t) for t in np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64))]
    if not thresholds:
        raise ValueError("iou_thresholds must hold at least one threshold")
    for t in thresholds:
        _check_threshold("iou_thresholds", t)
    all_scores, all_tp, num_gt = [], [], 0
    for (p_boxes, p_scores, p_labels), (t_boxes, t_labels) in zip(preds, gts):
        gt = t_boxes[t_labels == class_id]
        num_gt += gt.shape[0]
        mine = p_labels == class_id
        scores = p_scores[mine].numpy()
        boxes = p_boxes[mine]
        order = np.argsort(-scores, kind="mergesort")[:max_detections]
        scores, boxes = scores[order], boxes[torch.from_numpy(order)]
        iou = box_iou(boxes, gt).numpy() if len(order) and gt.shape[0] else np.zeros((len(order), gt.shape[0]))
        all_scores.append(scores)
        all_tp.append(_match_image(iou, thresholds))
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    tp = np.concatenate(all_tp, axis=1) if all_tp else np.zeros((len(thresholds), 0), dtype=bool)
    order = np.argsort(-scores, kind="mergesort")
    return scores[order], tp[:, order], num_gt


def precision_recall(is_tp, num_gt: int) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall after each detection of a ranked list.

    is_tp: (D,) bool, detections by decreasing score; num_gt: the number of ground-truth
    objects. Returns (precision (D,), recall (D,)): after the top i detections,
    ``precision = TP / i`` and ``recall = TP / num_gt``. Taught in Chapter 9.
    """
    is_tp = np.asarray(is_tp, dtype=bool)
    if is_tp.ndim != 1:
        raise ValueError(f"is_tp must have shape (D,), got {is_tp.shape}")
    if not isinstance(num_gt, (int, np.integer)) or num_gt < 0:
        raise ValueError(f"num_gt must be an int >= 0, got {num_gt!r}")
    if is_tp.sum() > num_gt:
        raise ValueError(f"more true positives ({int(is_tp.sum())}) than ground-truth objects ({num_gt})")
    tp = np.cumsum(is_tp)
    fp = np.cumsum(~is_tp)
    precision = tp / np.maximum(tp + fp, 1)
    recall = tp / num_gt if num_gt else np.zeros_like(precision, dtype=np.float64)
    return precision.astype(np.float64), recall.astype(np.float64)


def average_precision(is_tp, num_gt: int, method: str = "step") -> float:
    """Average precision of a ranked list of detections.

    is_tp: (D,) bool, detections by decreasing score; num_gt: ground-truth objects.

    * ``"step"``: the lecture's sum ``AP = Σ_i (r_{i+1} - r_i) P_{i+1}`` over the ranked list
      (recall starts at 0), no interpolation (scikit-learn's ``average_precision_score``);
    * ``"interpolated"``: the same sum with each precision replaced by the best precision at
      any higher recall (the area under the monotone envelope, PASCAL VOC 2010+);
    * ``"coco"``: the envelope sampled at the 101 recalls 0, 0.01, ..., 1 and averaged
      (pycocotools).

    Returns nan when num_gt is 0 (AP is undefined without ground truth) and 0.0 when there
    are no detections. Taught in Chapter 9.
    """
    if method not in ("step", "interpolated", "coco"):
        raise ValueError(f"method must be 'step', 'interpolated' or 'coco', got {method!r}")
    precision, recall = precision_recall(is_tp, num_gt)
    if num_gt == 0:
        return float("nan")
    if precision.size == 0:
        return 0.0
    if method == "step":
        return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
    # precision envelope: best precision at this or any higher recall
    tp = np.cumsum(np.asarray(is_tp, dtype=bool).reshape(-1))
    precision = tp / (np.arange(1, tp.size + 1) + np.spacing(1)) if method == "coco" else precision
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    if method == "interpolated":
        return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * envelope))
    recall_points = np.linspace(0.0, 1.00, 101)
    where = np.searchsorted(recall, recall_points, side="left")
    sampled = np.where(where < envelope.size, envelope[np.minimum(where, envelope.size - 1)], 0.0)
    return float(np.mean(sampled))


@dataclass
class DetectionEvaluation:
    """What :func:`evaluate_detections` returns.

    iou_thresholds: (T,); ap: (T, C) AP per threshold and class (nan for a class with no
    ground truth); map: (T,) mean over the classes that have ground truth;
    num_gt: (C,) ground-truth objects per class. Taught in Chapter 9.
    """

    iou_thresholds: np.ndarray
    ap: np.ndarray
    map: np.ndarray
    num_gt: np.ndarray

    def map_at(self, iou_threshold: float) -> float:
        """mAP at one of the evaluated IoU thresholds (e.g. 0.5)."""
        where = np.flatnonzero(np.isclose(self.iou_thresholds, iou_threshold))
        if where.size == 0:
            raise ValueError(f"iou_threshold {iou_threshold} was not evaluated; have {self.iou_thresholds.tolist()}")
        return float(self.map[where[0]])

    @property
    def map_50(self) -> float:
        """mAP@0.5 (PASCAL VOC's threshold)."""
        return self.map_at(0.5)

    @property
    def coco_map(self) -> float:
        """Mean of ``map`` over the thresholds: COCO's mAP@[.5:.05:.95] with the default thresholds."""
        return float(np.nanmean(self.map)) if np.isfinite(self.map).any() else float("nan")


def evaluate_detections(
    predictions: Sequence[Mapping[str, Tensor]],
    targets: Sequence[Mapping[str, Tensor]],
    num_classes: int,
    iou_thresholds=COCO_IOU_THRESHOLDS,
    method: str = "coco",
    max_detections: int = 100,
) -> DetectionEvaluation:
    """AP per class and mAP at each IoU threshold, over a data set.

    predictions: one ``{"boxes": (K, 4), "scores": (K,), "labels": (K,)}`` per image (corners
    in pixels); targets: one ``{"boxes": (G, 4), "labels": (G,)}`` per image. Classes are
    ``0 .. num_classes - 1``. With the defaults (COCO's ten thresholds, 101-point AP, at most
    100 detections per image and class) ``coco_map`` equals pycocotools' ``stats[0]`` and
    ``map_50`` its ``stats[1]``. A class with no ground truth gets AP nan and is left out of
    the means.

    Edge cases: every box must be a (K, 4) float tensor (an empty tensor means none; nothing
    is reshaped), scores and labels must match it, all values finite, and every label, of a
    prediction or a ground truth, must be in [0, num_classes): anything else raises
    ``ValueError`` (a label outside the classes would silently drop objects). A zero-area
    detection matches nothing (IoU 0/0 counts as 0, as in pycocotools). Taught in Chapter 9.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be an int >= 1, got {num_classes!r}")
    if method not in ("step", "interpolated", "coco"):
        raise ValueError(f"method must be 'step', 'interpolated' or 'coco', got {method!r}")
    _check_detection_lists(predictions, targets, num_classes)
    thresholds = np.atleast_1d(np.asarray(iou_thresholds, dtype=np.float64))
    ap = np.full((thresholds.size, num_classes), np.nan)
    num_gt = np.zeros(num_classes, dtype=np.int64)
    for c in range(num_classes):
        _, tp, num_gt[c] = match_detections(predictions, targets, c, thresholds, max_detections)
        for ti in range(thresholds.size):
            ap[ti, c] = average_precision(tp[ti], int(num_gt[c]), method)
    with np.errstate(invalid="ignore"):
        has_gt = num_gt > 0
        m = ap[:, has_gt].mean(axis=1) if has_gt.any() else np.full(thresholds.size, np.nan)
    return DetectionEvaluation(thresholds, ap, m, num_gt)
