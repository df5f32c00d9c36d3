import contextlib
import io
import math

import numpy as np
import pytest
import torch
import torchvision
from sklearn.metrics import average_precision_score

from cvbook import boxes

FORMATS = boxes.BOX_FORMATS


def random_boxes(n, generator, size=100.0, max_wh=30.0, grid=None, dtype=torch.float32):
    xy = torch.rand(n, 2, generator=generator, dtype=torch.float64) * size
    wh = torch.rand(n, 2, generator=generator, dtype=torch.float64) * max_wh + 1
    b = torch.cat([xy, xy + wh], 1)
    if grid is not None:  # snapped to a grid: exact duplicates, shared edges, IoU ties
        b = (b / grid).round() * grid
    return b.to(dtype)


def below(threshold):
    """The largest float64 below ``threshold``: torchvision drops IoU > it, i.e. IoU >= threshold."""
    return float(np.nextafter(threshold, 0.0))


# --------------------------------------------------------------------------- formats


@pytest.mark.parametrize("in_fmt", FORMATS)
@pytest.mark.parametrize("out_fmt", FORMATS)
def test_box_convert_matches_torchvision(in_fmt, out_fmt):
    g = torch.Generator().manual_seed(0)
    b = torchvision.ops.box_convert(random_boxes(50, g, dtype=torch.float64), "xyxy", in_fmt)
    mine = boxes.box_convert(b, in_fmt, out_fmt)
    assert torch.allclose(mine, torchvision.ops.box_convert(b, in_fmt, out_fmt), atol=1e-12)
    assert torch.allclose(boxes.box_convert(mine, out_fmt, in_fmt), b, atol=1e-12)


def test_box_convert_worked_example_and_errors():
    b = torch.tensor([[10.0, 20.0, 50.0, 40.0]])
    assert boxes.box_convert(b, "xyxy", "cxcywh").tolist() == [[30.0, 30.0, 40.0, 20.0]]
    assert boxes.box_convert(b, "xyxy", "xywh").tolist() == [[10.0, 20.0, 40.0, 20.0]]
    assert boxes.box_convert(torch.zeros(0, 4), "xyxy", "cxcywh").shape == (0, 4)
    with pytest.raises(ValueError, match="in_fmt"):
        boxes.box_convert(b, "xy", "xyxy")
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        boxes.box_convert(torch.zeros(3, 5), "xyxy", "xywh")


def test_relative_absolute_round_trip():
    b = torch.tensor([[16.0, 8.0, 48.0, 24.0]])
    rel = boxes.to_relative(b, (32, 64))  # height 32, width 64
    assert rel.tolist() == [[0.25, 0.25, 0.75, 0.75]]
    assert torch.equal(boxes.to_absolute(rel, (32, 64)), b)
    assert boxes.to_relative(b, 64).tolist() == [[0.25, 0.125, 0.75, 0.375]]
    with pytest.raises(ValueError, match="image_size"):
        boxes.to_relative(b, (0, 10))


# --------------------------------------------------------------------------- IoU


@pytest.mark.parametrize("seed", range(5))
def test_box_iou_matches_torchvision(seed):
    g = torch.Generator().manual_seed(seed)
    b1, b2 = random_boxes(40, g), random_boxes(60, g, grid=5.0)
    assert torch.equal(boxes.box_iou(b1, b2), torchvision.ops.box_iou(b1, b2))


def test_box_iou_edge_cases():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    assert boxes.box_iou(a, a).item() == 1.0
    assert boxes.box_iou(a, torch.tensor([[2.0, 0.0, 4.0, 2.0]])).item() == 0.0  # touching
    assert boxes.box_iou(a, torch.tensor([[1.0, 0.0, 3.0, 2.0]])).item() == pytest.approx(1 / 3)
    assert boxes.box_iou(a, torch.zeros(0, 4)).shape == (1, 0)
    assert boxes.box_iou(torch.zeros(0, 4), a).shape == (0, 1)
    with pytest.raises(ValueError, match=r"boxes2 must have shape \(N, 4\), got \(4,\)"):
        boxes.box_iou(a, torch.zeros(4))
    with pytest.raises(ValueError, match="float"):
        boxes.box_iou(a.long(), a)


# --------------------------------------------------------------------------- NMS


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("iou_threshold", [0.3, 0.5, 0.7])
def test_nms_matches_torchvision_on_thousands_of_boxes(seed, iou_threshold):
    g = torch.Generator().manual_seed(seed)
    grid = [None, 1.0, 5.0][seed % 3]  # grid 5: exact duplicates and degenerate boxes
    b = random_boxes(3000, g, grid=grid)
    scores = torch.rand(3000, generator=g)
    if seed % 2:
        scores = (scores * 10).round() / 10  # many tied scores
    mine = boxes.nms(b, scores, iou_threshold)
    expected = torchvision.ops.nms(b, scores, below(iou_threshold))
    assert torch.equal(mine, expected)
    if grid is None:  # no IoU equals the threshold: the lecture's >= and torchvision's > agree
        assert torch.equal(mine, torchvision.ops.nms(b, scores, iou_threshold))


@pytest.mark.parametrize("seed", range(4))
def test_batched_nms_matches_torchvision(seed):
    g = torch.Generator().manual_seed(seed)
    n = 3000 if seed % 2 else 500  # torchvision switches algorithm above 1000 boxes
    b = random_boxes(n, g, grid=[None, 2.0][seed % 2])
    scores = (torch.rand(n, generator=g) * 20).round() / 20
    labels = torch.randint(0, 4, (n,), generator=g)
    mine = boxes.batched_nms(b, scores, labels, 0.5)
    expected = torchvision.ops.batched_nms(b, scores, labels, below(0.5))
    assert torch.equal(mine.sort().values, expected.sort().values)
    assert torch.equal(scores[mine], scores[expected])  # both by decreasing score
    # per class = nms on each class alone
    for c in range(4):
        members = torch.nonzero(labels == c).flatten()
        assert torch.equal(
            mine[labels[mine] == c].sort().values, members[boxes.nms(b[members], scores[members], 0.5)].sort().values
        )


def test_nms_lecture_rule_iou_equal_to_threshold_is_dropped():
    b = torch.tensor([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 1.0]])  # IoU exactly 0.5
    s = torch.tensor([0.9, 0.8])
    assert boxes.box_iou(b[:1], b[1:]).item() == 0.5
    assert boxes.nms(b, s, 0.5).tolist() == [0]  # the lecture: IoU >= 0.5 dropped
    assert torchvision.ops.nms(b, s, 0.5).tolist() == [0, 1]  # torchvision: only IoU > 0.5
    assert torchvision.ops.nms(b, s, below(0.5)).tolist() == [0]


def test_nms_score_threshold_discards_at_or_below():
    b = torch.tensor(
        [[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 30.0, 30.0], [40.0, 0.0, 50.0, 10.0], [1.0, 1.0, 10.0, 10.0]]
    )
    s = torch.tensor([0.9, 0.6, 0.7, 0.8])
    assert boxes.nms(b, s, 0.5, score_threshold=0.6).tolist() == [0, 2]  # 0.6 itself discarded, 3 suppressed
    assert boxes.nms(b, s, 0.5).tolist() == [0, 2, 1]
    assert boxes.nms(b, s, 0.5, score_threshold=0.95).tolist() == []
    g = torch.Generator().manual_seed(3)
    b = random_boxes(2000, g)
    s = torch.rand(2000, generator=g)
    kept = torch.nonzero(s > 0.6).flatten()
    assert torch.equal(boxes.nms(b, s, 0.5, score_threshold=0.6), kept[torchvision.ops.nms(b[kept], s[kept], 0.5)])


def test_nms_edge_cases():
    empty = boxes.nms(torch.zeros(0, 4), torch.zeros(0), 0.5)
    assert empty.dtype == torch.int64 and empty.numel() == 0
    assert boxes.batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long)).numel() == 0
    b = torch.tensor([[0.0, 0.0, 4.0, 4.0]] * 3)  # three identical boxes with the same score
    assert boxes.nms(b, torch.ones(3), 0.5).tolist() == [0]  # the first one wins the tie
    labels = torch.tensor([0, 1, 0])
    assert boxes.batched_nms(b, torch.ones(3), labels, 0.5).tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"scores must have shape \(3,\)"):
        boxes.nms(b, torch.ones(2), 0.5)
    with pytest.raises(ValueError, match="iou_threshold"):
        boxes.nms(b, torch.ones(3), 1.5)


# --------------------------------------------------------------------------- YOLO


def test_lecture_anchor_example_3x3x2x8():
    # a tall pedestrian and a wide car share the centre cell; a second car in cell (2, 0)
    anchors = [(2.0, 0.8), (0.8, 2.0)]  # (height, width) in cell units: tall, wide
    gt = torch.tensor(
        [
            [40.0, 20.0, 56.0, 80.0],  # pedestrian, centre (48, 50) -> cell (1, 1)
            [20.0, 40.0, 76.0, 60.0],  # car, centre (48, 50) -> cell (1, 1)
            [2.0, 70.0, 30.0, 86.0],
        ]
    )  # car, centre (16, 78) -> cell (2, 0)
    y = boxes.encode_yolo_targets(gt, torch.tensor([0, 1, 1]), 3, anchors, 3, 96)
    assert y.shape == (3, 3, 2, 8)
    assert y[..., 0].sum() == 3
    assert torch.allclose(y[1, 1, 0], torch.tensor([1, 0.5, 1 / 16 + 0.5, 60 / 32, 0.5, 1, 0, 0]))
    assert torch.allclose(y[1, 1, 1], torch.tensor([1, 0.5, 1 / 16 + 0.5, 0.625, 1.75, 0, 1, 0]))
    assert torch.allclose(y[2, 0, 1], torch.tensor([1, 0.5, 14 / 32, 0.5, 28 / 32, 0, 1, 0]))
    assert y[2, 0, 0].abs().sum() == 0 and y[0].abs().sum() == 0
    dec = boxes.decode_yolo(y, 96)
    order = dec["boxes"][:, 0].argsort()
    assert torch.allclose(dec["boxes"][order], gt[[2, 1, 0]], atol=1e-5)
    assert dec["labels"][order].tolist() == [1, 1, 0]
    assert dec["scores"].tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("seed", range(4))
def test_encode_decode_round_trip(seed):
    g = torch.Generator().manual_seed(seed)
    gt = random_boxes(6, g, size=80.0, max_wh=20.0)
    labels = torch.randint(0, 4, (6,), generator=g)
    anchors = torch.tensor([[1.0, 1.0], [2.0, 0.5], [0.5, 2.0]])
    y = boxes.encode_yolo_targets(gt, labels, 7, anchors, 4, (112, 112))
    assert y.shape == (7, 7, 3, 9)
    dec = boxes.decode_yolo(y, (112, 112))
    # every object that kept its slot comes back exactly
    iou = boxes.box_iou(gt, dec["boxes"])
    assert (iou.max(1).values > 0.9999).sum() == dec["boxes"].shape[0]
    assert ((0 <= y[..., 1]) & (y[..., 1] < 1)).all() and ((0 <= y[..., 2]) & (y[..., 2] < 1)).all()


def test_encode_assigns_anchor_by_iou_and_validates():
    anchors = [(1.0, 1.0), (1.0, 3.0)]
    y = boxes.encode_yolo_targets(torch.tensor([[0.0, 0.0, 30.0, 10.0]]), torch.tensor([2]), 2, anchors, 3, 20)
    assert y[0, 1, 1, 0] == 1 and y[0, 1, 0, 0] == 0  # wide box -> wide anchor; centre x 15 -> column 1
    assert (
        boxes.encode_yolo_targets(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), 4, anchors, 3, 32).abs().sum()
        == 0
    )  # an image with no objects
    with pytest.raises(ValueError, match="labels must be in"):
        boxes.encode_yolo_targets(torch.tensor([[0.0, 0.0, 3.0, 3.0]]), torch.tensor([3]), 2, anchors, 3, 20)
    with pytest.raises(ValueError, match="anchors"):
        boxes.encode_yolo_targets(torch.tensor([[0.0, 0.0, 3.0, 3.0]]), torch.tensor([0]), 2, [1.0, 2.0], 3, 20)
    with pytest.raises(ValueError, match=r"\(S, S, B, 5 \+ C\)"):
        boxes.decode_yolo(torch.zeros(3, 3, 8), 96)


# --------------------------------------------------------------------------- AP and mAP


def pycocotools_stats(preds, targets, num_classes):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = [{"id": i + 1, "width": 128, "height": 128} for i in range(len(targets))]
    anns = []
    for i, t in enumerate(targets):
        for b, lab in zip(t["boxes"].tolist(), t["labels"].tolist()):
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": i + 1,
                    "category_id": lab + 1,
                    "iscrowd": 0,
                    "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
                    "area": (b[2] - b[0]) * (b[3] - b[1]),
                }
            )
    dets = [
        {
            "image_id": i + 1,
            "category_id": int(lab) + 1,
            "score": float(s),
            "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
        }
        for i, p in enumerate(preds)
        for b, s, lab in zip(p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist())
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c + 1} for c in range(num_classes)]}
        gt.createIndex()
        evaluator = COCOeval(gt, gt.loadRes(dets), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats


def random_detection_set(seed, n_images=40, num_classes=3, jitter=1.5, empty_images=True, tie_scores=False):
    g = torch.Generator().manual_seed(seed)
    preds, targets = [], []
    for _ in range(n_images):
        k = int(torch.randint(0 if empty_images else 1, 5, (1,), generator=g))
        gt = random_boxes(k, g, size=90.0, max_wh=25.0)
        labels = torch.randint(0, num_classes, (k,), generator=g)
        targets.append({"boxes": gt, "labels": labels})
        hits = gt + torch.randn(k, 4, generator=g) * jitter
        m = int(torch.randint(0, 4, (1,), generator=g))
        pb = torch.cat([hits, random_boxes(m, g, size=90.0, max_wh=25.0), hits[:1] + 0.5])  # + a duplicate
        pl = torch.cat([labels, torch.randint(0, num_classes, (m,), generator=g), labels[:1]])
        ps = torch.rand(pb.shape[0], generator=g)
        if tie_scores:
            ps = (ps * 4).round() / 4
        ok = (pb[:, 2] > pb[:, 0]) & (pb[:, 3] > pb[:, 1])
        preds.append({"boxes": pb[ok], "scores": ps[ok], "labels": pl[ok]})
    return preds, targets


@pytest.mark.parametrize("seed", range(8))
def test_evaluate_detections_matches_pycocotools(seed):
    preds, targets = random_detection_set(seed, tie_scores=bool(seed % 2), jitter=[0.5, 1.5, 3.0, 6.0][seed % 4])
    ev = boxes.evaluate_detections(preds, targets, 3)
    stats = pycocotools_stats(preds, targets, 3)
    assert ev.coco_map == pytest.approx(stats[0], abs=1e-12)
    assert ev.map_50 == pytest.approx(stats[1], abs=1e-12)
    assert ev.map_at(0.75) == pytest.approx(stats[2], abs=1e-12)
    assert ev.ap.shape == (10, 3) and ev.map.shape == (10,)


def test_class_without_ground_truth_is_left_out_like_pycocotools():
    preds, targets = random_detection_set(11, num_classes=2)
    for p in preds[:5]:  # detections of class 2, which has no ground truth anywhere
        p["boxes"] = torch.cat([p["boxes"], torch.tensor([[1.0, 1.0, 9.0, 9.0]])])
        p["scores"] = torch.cat([p["scores"], torch.tensor([0.99])])
        p["labels"] = torch.cat([p["labels"], torch.tensor([2])])
    ev = boxes.evaluate_detections(preds, targets, 3)
    assert np.isnan(ev.ap[:, 2]).all() and ev.num_gt[2] == 0
    assert np.allclose(ev.map, ev.ap[:, :2].mean(1))
    stats = pycocotools_stats(preds, targets, 3)
    assert ev.coco_map == pytest.approx(stats[0], abs=1e-12)
    assert ev.map_50 == pytest.approx(stats[1], abs=1e-12)


def test_image_without_objects_only_adds_false_positives():
    preds, targets = random_detection_set(5, empty_images=False)
    before = boxes.evaluate_detections(preds, targets, 3)
    preds.append(
        {"boxes": torch.tensor([[5.0, 5.0, 20.0, 20.0]]), "scores": torch.tensor([1.0]), "labels": torch.tensor([0])}
    )
    targets.append({"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)})
    after = boxes.evaluate_detections(preds, targets, 3)
    assert after.ap[0, 0] < before.ap[0, 0] and np.allclose(after.ap[:, 1:], before.ap[:, 1:])
    assert after.coco_map == pytest.approx(pycocotools_stats(preds, targets, 3)[0], abs=1e-12)


def test_no_predictions_perfect_predictions_and_duplicates():
    _, targets = random_detection_set(2, empty_images=False)
    nothing = [
        {"boxes": torch.zeros(0, 4), "scores": torch.zeros(0), "labels": torch.zeros(0, dtype=torch.long)}
        for _ in targets
    ]
    ev = boxes.evaluate_detections(nothing, targets, 3)
    assert ev.coco_map == 0.0 and ev.map_50 == 0.0
    perfect = [{"boxes": t["boxes"], "scores": torch.ones(len(t["labels"])), "labels": t["labels"]} for t in targets]
    assert boxes.evaluate_detections(perfect, targets, 3).coco_map == pytest.approx(1.0)
    # each object detected twice: the second copy is a false positive, so precision halves at the end
    doubled = [
        {
            "boxes": torch.cat([t["boxes"], t["boxes"]]),
            "scores": torch.cat([torch.ones(len(t["labels"])), torch.full((len(t["labels"]),), 0.5)]),
            "labels": torch.cat([t["labels"], t["labels"]]),
        }
        for t in targets
    ]
    ev = boxes.evaluate_detections(doubled, targets, 3)
    assert ev.coco_map == pytest.approx(1.0)  # the duplicates rank below every true positive
    scores, tp, num_gt = boxes.match_detections(doubled, targets, 0, 0.5)
    assert tp.sum() == num_gt and tp.shape[1] == 2 * num_gt and not tp[0, num_gt:].any()
    empty_everything = boxes.evaluate_detections(
        nothing[:1], [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)}], 3
    )
    assert math.isnan(empty_everything.coco_map)


@pytest.mark.parametrize("seed", range(5))
def test_step_average_precision_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.random(60) < 0.4
    scores = rng.random(60) + 0.5 * y_true
    order = np.argsort(-scores, kind="mergesort")
    ap = boxes.average_precision(y_true[order], int(y_true.sum()), "step")
    assert ap == pytest.approx(average_precision_score(y_true, scores), abs=1e-12)


def test_average_precision_worked_example_and_errors():
    is_tp = [True, False, True, True, False]  # 3 of 4 objects found
    precision, recall = boxes.precision_recall(is_tp, 4)
    assert np.allclose(precision, [1, 1 / 2, 2 / 3, 3 / 4, 3 / 5]) and np.allclose(
        recall, [0.25, 0.25, 0.5, 0.75, 0.75]
    )
    assert boxes.average_precision(is_tp, 4, "step") == pytest.approx(0.25 * 1 + 0.25 * 2 / 3 + 0.25 * 3 / 4)
    assert boxes.average_precision(is_tp, 4, "interpolated") == pytest.approx(0.25 * 1 + 0.5 * 3 / 4)
    assert boxes.average_precision(is_tp, 4, "coco") == pytest.approx((26 * 1 + 50 * 0.75) / 101)
    assert boxes.average_precision([], 4) == 0.0
    assert math.isnan(boxes.average_precision([], 0))
    with pytest.raises(ValueError, match="method"):
        boxes.average_precision(is_tp, 4, "voc07")
    with pytest.raises(ValueError, match="more true positives"):
        boxes.average_precision(is_tp, 2)
    with pytest.raises(ValueError, match="one entry per image"):
        boxes.evaluate_detections([], [{"boxes": torch.zeros(0, 4), "labels": torch.zeros(0)}], 3)


# --------------------------------------------------------------------------- the small detector (cvbook.detection)


def test_tiny_yolo_shapes_loss_and_detect():
    from cvbook import detection

    torch.manual_seed(0)
    anchors = torch.tensor([[1.3, 1.3], [2.4, 2.4]])
    model = detection.TinyYOLO(2, 3, widths=(8, 8, 8, 8))
    raw = model(torch.rand(2, 3, 64, 64))
    assert raw.shape == (2, 8, 8, 2, 8)
    y = detection.activate(raw, anchors)
    assert ((y[..., 0] > 0) & (y[..., 0] < 1)).all() and torch.allclose(y[..., 5:].sum(-1), torch.ones(2, 8, 8, 2))
    targets = [
        {"boxes": torch.tensor([[10.0, 12.0, 30.0, 28.0]]), "labels": torch.tensor([2])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)},
    ]
    t = detection.encode_batch(targets, 8, anchors, 3, 64)
    loss = detection.YOLOLoss(anchors)(raw, t)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    # a raw output that reproduces the target exactly decodes to the target's box
    perfect = torch.full_like(t, -20.0)
    slot = t[..., 0] > 0
    perfect[..., 0][slot] = 20.0
    perfect[..., 1:3][slot] = torch.logit(t[..., 1:3][slot])
    perfect[..., 3:5][slot] = torch.log(t[..., 3:5][slot] / anchors.expand(2, 8, 8, 2, 2)[slot])
    perfect[..., 5:][slot] = t[..., 5:][slot] * 40.0
    d = boxes.decode_yolo(detection.activate(perfect, anchors)[0], 64, 0.5)
    assert torch.allclose(d["boxes"], targets[0]["boxes"], atol=1e-3) and d["labels"].tolist() == [2]
    dets = detection.detect(model, torch.rand(2, 3, 64, 64), anchors, score_threshold=0.0)
    assert len(dets) == 2 and set(dets[0]) == {"boxes", "scores", "labels"}
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        model(torch.rand(3, 64, 64))
