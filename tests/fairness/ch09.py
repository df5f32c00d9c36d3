"""Fairness fixtures for the chapter 09 exercises (issue 19): plausible submissions."""

# name -> {answer grade_id: full source of that answer cell}
CORRECT = {
    "loops_and_float64": {
        "ex1_answer": '''def iou(boxes1, boxes2):
    """Pairwise IoU with Python loops, in float64."""
    if boxes1.ndim != 2 or boxes2.ndim != 2 or boxes1.shape[-1] != 4 or boxes2.shape[-1] != 4:
        raise ValueError("boxes must have shape (K, 4)")
    out = torch.zeros(len(boxes1), len(boxes2), dtype=torch.float64)
    for i, (a1, b1, c1, d1) in enumerate(boxes1.double().tolist()):
        for j, (a2, b2, c2, d2) in enumerate(boxes2.double().tolist()):
            w = max(0.0, min(c1, c2) - max(a1, a2))
            h = max(0.0, min(d1, d2) - max(b1, b2))
            inter = w * h
            out[i, j] = inter / ((c1 - a1) * (d1 - b1) + (c2 - a2) * (d2 - b2) - inter)
    return out
''',
        "ex2_answer": '''def convert_boxes(boxes, in_fmt, out_fmt):
    """Through corners, with matrices."""
    to_xyxy = {"xyxy": torch.eye(4), "xywh": torch.tensor([[1., 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1]]),
               "cxcywh": torch.tensor([[1., 0, 1, 0], [0, 1, 0, 1], [-.5, 0, .5, 0], [0, -.5, 0, .5]])}
    if in_fmt not in to_xyxy or out_fmt not in to_xyxy:
        raise ValueError(f"unknown format {in_fmt!r} or {out_fmt!r}")
    m = to_xyxy[in_fmt].to(boxes.dtype) @ torch.linalg.inv(to_xyxy[out_fmt].double()).to(boxes.dtype)
    return boxes @ m
''',
        "ex3_answer": '''def nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6):
    """A suppressed mask over the sorted boxes, with one IoU matrix."""
    order = sorted((i for i in range(len(scores)) if float(scores[i]) > score_threshold), key=lambda i: (-float(scores[i]), i))
    if not order:
        return torch.zeros(0, dtype=torch.int64)
    overlaps = iou(boxes[order], boxes[order])
    suppressed = [False] * len(order)
    keep = []
    for a in range(len(order)):
        if suppressed[a]:
            continue
        keep.append(order[a])
        for b in range(a + 1, len(order)):
            if overlaps[a, b] >= iou_threshold:
                suppressed[b] = True
    return torch.tensor(keep, dtype=torch.long)
''',
        "ex5_answer": '''def average_precision(is_tp, num_gt):
    """Plain Python."""
    if num_gt == 0:
        return float("nan")
    ap, tp = 0.0, 0
    for i, hit in enumerate(list(is_tp), start=1):
        if bool(hit):
            tp += 1
            ap += (1 / num_gt) * (tp / i)
    return ap
''',
    },
    "vectorised_target": {
        "ex1_answer": '''def iou(boxes1, boxes2):
    """Corners unbound, float32."""
    if boxes1.ndim != 2 or boxes1.shape[1] != 4:
        raise ValueError(f"boxes1 must be (N, 4), got {tuple(boxes1.shape)}")
    if boxes2.ndim != 2 or boxes2.shape[1] != 4:
        raise ValueError(f"boxes2 must be (M, 4), got {tuple(boxes2.shape)}")
    x1, y1, x2, y2 = (t[:, None] for t in boxes1.float().unbind(1))
    u1, v1, u2, v2 = (t[None, :] for t in boxes2.float().unbind(1))
    inter = (torch.minimum(x2, u2) - torch.maximum(x1, u1)).clamp(min=0) * (torch.minimum(y2, v2) - torch.maximum(y1, v1)).clamp(min=0)
    return inter / ((x2 - x1) * (y2 - y1) + (u2 - u1) * (v2 - v1) - inter)
''',
        "ex4_answer": '''def yolo_target(boxes, labels, grid_size, anchors, num_classes, image_size):
    """Everything computed at once, then written object by object."""
    s = grid_size
    cell = image_size / s
    y = torch.zeros(s, s, len(anchors), 5 + num_classes, dtype=torch.float32)
    b = boxes.double()
    xc, yc = (b[:, 0] + b[:, 2]) / 2 / cell, (b[:, 1] + b[:, 3]) / 2 / cell
    h, w = (b[:, 3] - b[:, 1]) / cell, (b[:, 2] - b[:, 0]) / cell
    col, row = xc.floor().long().clamp(max=s - 1), yc.floor().long().clamp(max=s - 1)
    a = anchors.double()
    inter = torch.minimum(h[:, None], a[None, :, 0]) * torch.minimum(w[:, None], a[None, :, 1])
    best = (inter / ((h * w)[:, None] + (a[:, 0] * a[:, 1])[None] - inter)).argmax(1)
    for k in range(len(b)):
        slot = y[row[k], col[k], best[k]]
        if slot[0] == 0:
            slot[:5] = torch.stack([torch.ones((), dtype=torch.float64), xc[k] - col[k], yc[k] - row[k], h[k], w[k]]).float()
            slot[5 + int(labels[k])] = 1
    return y
''',
        "ex5_answer": '''def average_precision(is_tp, num_gt):
    """With torch."""
    if num_gt == 0:
        return float("nan")
    hits = torch.as_tensor(np.asarray(is_tp, dtype=bool)).double()
    if hits.numel() == 0:
        return 0.0
    precision = hits.cumsum(0) / torch.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / num_gt)
''',
    },
}

# name -> dict(answers={grade_id: source}, loses=[exercise ids that must lose points], why="...")
WRONG = {
    "iou_without_clamp": dict(
        answers={
            "ex1_answer": '''def iou(boxes1, boxes2):
    """Forgets to clamp the overlap at 0."""
    if boxes1.ndim != 2 or boxes2.ndim != 2 or boxes1.shape[1] != 4 or boxes2.shape[1] != 4:
        raise ValueError("boxes must have shape (K, 4)")
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    wh = torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:]) - torch.max(boxes1[:, None, :2], boxes2[None, :, :2])
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)
'''
        },
        loses=["ex1"],
        why="disjoint boxes get a non-zero (even positive) IoU; NMS still scores full marks (book IoU)",
    ),
    "iou_no_shape_check": dict(
        answers={
            "ex1_answer": '''def iou(boxes1, boxes2):
    """Right values, no ValueError."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    wh = (torch.min(boxes1[:, None, 2:], boxes2[None, :, 2:]) - torch.max(boxes1[:, None, :2], boxes2[None, :, :2])).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter / (area1[:, None] + area2[None, :] - inter)
'''
        },
        loses=["ex1"],
        why="input validation is its own 1-point cell: the values still earn 2 points",
    ),
    "convert_centre_without_half": dict(
        answers={
            "ex2_answer": '''def convert_boxes(boxes, in_fmt, out_fmt):
    """Forgets the / 2 when going from the centre to the corners."""
    if in_fmt not in ("xyxy", "xywh", "cxcywh") or out_fmt not in ("xyxy", "xywh", "cxcywh"):
        raise ValueError("unknown format")
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xyxy":
        x1, y1, x2, y2 = a, b, c, d
    elif in_fmt == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    else:
        x1, y1, x2, y2 = a - c, b - d, a + c, b + d
    if out_fmt == "xyxy":
        return torch.stack([x1, y1, x2, y2], -1)
    if out_fmt == "xywh":
        return torch.stack([x1, y1, x2 - x1, y2 - y1], -1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], -1)
'''
        },
        loses=["ex2"],
        why="cxcywh -> xywh of the worked example is wrong",
    ),
    "nms_strict_greater": dict(
        answers={
            "ex3_answer": '''def nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6):
    """Drops IoU > threshold (torchvision's rule), not the lecture's >=."""
    order = torch.tensor([int(i) for i in torch.argsort(scores, descending=True, stable=True) if scores[i] > score_threshold], dtype=torch.int64)
    keep = []
    while order.numel():
        keep.append(int(order[0]))
        order = order[1:][iou(boxes[order[0]][None], boxes[order[1:]])[0] <= iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)
'''
        },
        loses=["ex3"],
        why="the pair with IoU exactly 0.5 keeps both boxes",
    ),
    "nms_ties_unstable": dict(
        answers={
            "ex3_answer": '''def nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6):
    """Sorts ascending, then reverses: among ties the higher index comes first."""
    order = torch.tensor([int(i) for i in torch.argsort(scores, stable=True).flip(0) if scores[i] > score_threshold], dtype=torch.int64)
    keep = []
    while order.numel():
        keep.append(int(order[0]))
        order = order[1:][iou(boxes[order[0]][None], boxes[order[1:]])[0] < iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)
'''
        },
        loses=["ex3"],
        why="the tie rule (lower index first) is broken: only the 1-point ties cell is lost",
    ),
    "nms_keeps_threshold_score": dict(
        answers={
            "ex3_answer": '''def nms(boxes, scores, iou_threshold=0.5, score_threshold=0.6):
    """Keeps a score equal to the threshold (>= instead of >)."""
    candidates = torch.nonzero(scores >= score_threshold).flatten()
    order = candidates[torch.sort(scores[candidates], descending=True, stable=True).indices]
    keep = []
    while order.numel() > 0:
        best = order[0]
        keep.append(int(best))
        overlap = iou(boxes[best][None], boxes[order[1:]])[0]
        order = order[1:][overlap < iou_threshold]
    return torch.tensor(keep, dtype=torch.int64)
'''
        },
        loses=["ex3"],
        why="a box with score exactly 0.6 must be discarded (<=)",
    ),
    "yolo_float64_no_clamp": dict(
        answers={
            "ex4_answer": '''def yolo_target(boxes, labels, grid_size, anchors, num_classes, image_size):
    """float64 target, and the cell is not clamped."""
    s = grid_size
    cell = image_size / s
    y = torch.zeros(s, s, anchors.shape[0], 5 + num_classes, dtype=torch.float64)
    for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
        xc, yc, h, w = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell, (y2 - y1) / cell, (x2 - x1) / cell
        col, row = int(xc), int(yc)
        ious = [min(h, ha) * min(w, wa) / (h * w + ha * wa - min(h, ha) * min(w, wa)) for ha, wa in anchors.tolist()]
        a = ious.index(max(ious))
        if y[row, col, a, 0] == 0:
            y[row, col, a, :5] = torch.tensor([1.0, xc - col, yc - row, h, w])
            y[row, col, a, 5 + label] = 1.0
    return y
'''
        },
        loses=["ex4"],
        why="the stated dtype is float32; a midpoint on the image edge needs the clamp",
    ),
    "yolo_last_object_wins": dict(
        answers={
            "ex4_answer": '''def yolo_target(boxes, labels, grid_size, anchors, num_classes, image_size):
    """Overwrites a taken slot (the later object wins)."""
    s = grid_size
    cell = image_size / s
    y = torch.zeros(s, s, anchors.shape[0], 5 + num_classes)
    for (x1, y1, x2, y2), label in zip(boxes.tolist(), labels.tolist()):
        xc, yc, h, w = (x1 + x2) / 2 / cell, (y1 + y2) / 2 / cell, (y2 - y1) / cell, (x2 - x1) / cell
        col, row = min(int(xc), s - 1), min(int(yc), s - 1)
        ious = [min(h, ha) * min(w, wa) / (h * w + ha * wa - min(h, ha) * min(w, wa)) for ha, wa in anchors.tolist()]
        a = ious.index(max(ious))
        y[row, col, a] = 0
        y[row, col, a, :5] = torch.tensor([1.0, xc - col, yc - row, h, w])
        y[row, col, a, 5 + label] = 1.0
    return y
'''
        },
        loses=["ex4"],
        why="the text says the first object keeps a shared slot",
    ),
    "ap_interpolated": dict(
        answers={
            "ex5_answer": '''def average_precision(is_tp, num_gt):
    """Interpolated precision (the best precision at this recall or higher)."""
    if num_gt == 0:
        return float("nan")
    tp = np.cumsum(np.asarray(is_tp, dtype=bool))
    if tp.size == 0:
        return 0.0
    precision = tp / np.arange(1, tp.size + 1)
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    recall = tp / num_gt
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
'''
        },
        loses=["ex5"],
        why="the lecture's AP is not interpolated",
    ),
    "ap_zero_without_ground_truth": dict(
        answers={
            "ex5_answer": '''def average_precision(is_tp, num_gt):
    """Returns 0.0 instead of nan when there is no ground truth."""
    tp = np.cumsum(np.asarray(is_tp, dtype=bool))
    if tp.size == 0 or num_gt == 0:
        return 0.0
    precision = tp / np.arange(1, tp.size + 1)
    recall = tp / num_gt
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * precision))
'''
        },
        loses=["ex5"],
        why="num_gt 0 must give nan (stated): only the 1-point edge-case cell is lost",
    ),
}
