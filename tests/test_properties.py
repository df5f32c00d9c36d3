"""Property-based checks of cvbook against the libraries it imitates (Hypothesis).

Every public function the book writes from scratch and that has a reference is run on
generated inputs - shapes, strides, paddings, dilations, groups; boxes that are
degenerate, duplicated, touching, with tied scores; labels and scores with ties, a single
class, empty inputs; models that reuse a module - and compared with the reference:
``F.conv1d`` / ``F.conv2d`` / ``F.conv_transpose2d`` / pooling, ``torchvision.ops``,
scikit-learn's metrics, pycocotools, ``FlopCounterMode``, ``torch.cdist`` and
``nn.TripletMarginLoss``. Where the book deliberately differs (the lecture's NMS rule
IoU >= t against torchvision's IoU > t), the test states the difference and checks
exactly it.

The number of examples comes from the Hypothesis profile (tests/conftest.py): ``ci``
by default (derandomized, a minute of one core for the whole file), ``deep`` with
``make test-deep``.
"""

from __future__ import annotations

import contextlib
import io
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import (  # noqa: E402
    assume,
    given,
    note,
    strategies as st,  # noqa: E402
)

from cvbook import boxes, conv, cost, faces, metrics, models, segment, signals, style  # noqa: E402

torchvision = pytest.importorskip("torchvision")
sklearn_metrics = pytest.importorskip("sklearn.metrics")


def tensor(draw, shape, low=-3.0, high=3.0, dtype=torch.float64):
    """A tensor of ``shape`` from a drawn seed (cheap to generate and to shrink)."""
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(shape, generator=g, dtype=torch.float64) * (high - low) + low).to(dtype)


# --------------------------------------------------------------------------- convolution (Chapters 2, 10, 13)


@st.composite
def conv2d_case(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    fh, fw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.integers(0, 3))
    h = draw(st.integers(max(1, dilation * (fh - 1) + 1 - 2 * padding), 9))
    w = draw(st.integers(max(1, dilation * (fw - 1) + 1 - 2 * padding), 9))
    x = tensor(draw, (n, c_in, h, w))
    weight = tensor(draw, (c_out, c_in, fh, fw))
    bias = tensor(draw, (c_out,)) if draw(st.booleans()) else None
    return x, weight, bias, stride, padding, dilation


@given(conv2d_case())
def test_conv2d_naive_and_im2col_equal_F_conv2d(case):
    x, weight, bias, stride, padding, dilation = case
    want = F.conv2d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)
    for fn in (conv.conv2d_naive, conv.conv2d_im2col):
        got = fn(x, weight, bias, stride=stride, padding=padding, dilation=dilation)
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    for axis, f in ((2, weight.shape[2]), (3, weight.shape[3])):
        assert conv.conv_output_size(x.shape[axis], f, padding, stride, dilation) == want.shape[axis]


@given(st.integers(1, 30), st.integers(1, 7), st.integers(0, 4), st.integers(1, 4), st.integers(1, 3))
def test_conv_output_size_is_the_size_pytorch_produces_or_raises(n, f, p, s, d):
    x = torch.zeros(1, 1, n)
    try:
        want = F.conv1d(x, torch.zeros(1, 1, f), stride=s, padding=p, dilation=d).shape[2]
    except RuntimeError:
        with pytest.raises(ValueError, match="does not fit"):
            conv.conv_output_size(n, f, p, s, d)
        return
    assert conv.conv_output_size(n, f, p, s, d) == want
    assert signals.conv_output_shape(n, f, p, s, d) == (want,)


@given(
    st.integers(1, 8).flatmap(lambda f: st.tuples(st.just(f), st.integers(0, f // 2))),
    st.integers(1, 4),
    st.sampled_from(["max", "avg"]),
    st.data(),
)
def test_pool2d_equals_torch_pooling(fp, s, mode, data):
    f, p = fp
    h = data.draw(st.integers(max(1, f - 2 * p), 10))
    w = data.draw(st.integers(max(1, f - 2 * p), 10))
    x = tensor(data.draw, (2, 2, h, w))
    want = (F.max_pool2d if mode == "max" else F.avg_pool2d)(x, f, s, p)
    torch.testing.assert_close(conv.pool2d(x, f, s, mode, p), want, rtol=1e-12, atol=1e-12)


@given(st.integers(1, 5), st.integers(1, 5))
def test_pool2d_refuses_padding_over_half_the_window_like_pytorch(f, extra):
    p = f // 2 + extra
    x = torch.zeros(1, 1, 12, 12)
    with pytest.raises(RuntimeError):
        F.max_pool2d(x, f, 1, p)
    with pytest.raises(ValueError, match="at most half"):
        conv.pool2d(x, f, 1, "max", p)


@st.composite
def conv1d_case(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    f, stride, dilation, padding = (
        draw(st.integers(1, 5)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 3)),
    )
    length = draw(st.integers(max(1, dilation * (f - 1) + 1 - 2 * padding), 16))
    bias = tensor(draw, (c_out,)) if draw(st.booleans()) else None
    return tensor(draw, (n, c_in, length)), tensor(draw, (c_out, c_in, f)), bias, stride, padding, dilation


@given(conv1d_case())
def test_conv1d_naive_and_unfold_equal_F_conv1d(case):
    x, weight, bias, stride, padding, dilation = case
    want = F.conv1d(x, weight, bias, stride=stride, padding=padding, dilation=dilation)
    for fn in (signals.conv1d_naive, signals.conv1d_unfold):
        torch.testing.assert_close(fn(x, weight, bias, stride, padding, dilation), want, rtol=1e-10, atol=1e-10)


@st.composite
def conv_transpose_case(draw):
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    fh, fw, stride = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    output_padding = draw(st.integers(0, stride - 1))
    padding = draw(st.integers(0, 3))
    assume((h - 1) * stride - 2 * padding + fh + output_padding >= 1)
    assume((w - 1) * stride - 2 * padding + fw + output_padding >= 1)
    bias = tensor(draw, (c_out,)) if draw(st.booleans()) else None
    return (tensor(draw, (n, c_in, h, w)), tensor(draw, (c_in, c_out, fh, fw)), bias, stride, padding, output_padding)


@given(conv_transpose_case())
def test_conv_transpose2d_scatter_equals_F_conv_transpose2d(case):
    x, weight, bias, stride, padding, output_padding = case
    want = F.conv_transpose2d(x, weight, bias, stride=stride, padding=padding, output_padding=output_padding)
    got = segment.conv_transpose2d_scatter(x, weight, bias, stride, padding, output_padding)
    torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
    assert (
        segment.conv_transpose_output_size(x.shape[2], weight.shape[2], stride, padding, output_padding)
        == want.shape[2]
    )


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.data())
def test_conv_matrix_times_input_is_the_convolution_and_its_transpose_the_transposed_one(fh, fw, s, p, data):
    h = data.draw(st.integers(max(1, fh - 2 * p), 7))
    w = data.draw(st.integers(max(1, fw - 2 * p), 7))
    kernel, x = tensor(data.draw, (fh, fw)), tensor(data.draw, (h, w))
    c = segment.conv_matrix(kernel, (h, w), stride=s, padding=p)
    y = F.conv2d(x[None, None], kernel[None, None], stride=s, padding=p)[0, 0]
    torch.testing.assert_close(c @ x.flatten(), y.flatten(), rtol=1e-10, atol=1e-10)
    # C^T is the transposed convolution with the same kernel, back to (H, W) when the sizes allow
    out_pad = h - ((y.shape[0] - 1) * s - 2 * p + fh)
    out_pad_w = w - ((y.shape[1] - 1) * s - 2 * p + fw)
    if 0 <= out_pad < s and 0 <= out_pad_w < s and out_pad == out_pad_w:
        back = F.conv_transpose2d(y[None, None], kernel[None, None], stride=s, padding=p, output_padding=out_pad)[0, 0]
        torch.testing.assert_close(c.T @ y.flatten(), back.flatten(), rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- cost (Chapters 5, 6, 13)


class _Reused(nn.Module):
    """A model that calls some of its layers several times (weight sharing, reused blocks)."""

    def __init__(self, dims, c, f, groups, uses, linear_uses):
        super().__init__()
        conv_cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[dims]
        self.conv = conv_cls(c, c, f, padding=f // 2, groups=groups)
        self.uses, self.linear_uses = uses, linear_uses
        self.head = None

    def forward(self, x):
        for _ in range(self.uses):
            x = self.conv(x)
        x = x.flatten(1)
        if self.head is None:
            self.head = nn.Linear(x.shape[1], x.shape[1])
        for _ in range(self.linear_uses):
            x = self.head(x)
        return x


@given(
    st.integers(1, 3),
    st.sampled_from([1, 2, 4]),
    st.sampled_from([1, 3]),
    st.integers(1, 3),
    st.integers(0, 2),
    st.integers(2, 5),
    st.data(),
)
def test_count_mult_adds_equals_half_of_FlopCounterMode_with_reused_modules(
    dims, groups, f, uses, linear_uses, size, data
):
    from torch.utils.flop_counter import FlopCounterMode

    c = groups * data.draw(st.integers(1, 2))
    model = _Reused(dims, c, f, groups, uses, linear_uses)
    shape = (c,) + (size,) * dims
    model(torch.zeros(1, *shape))  # build the head
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model.eval()(torch.zeros(1, *shape))
    note(f"flops {counter.get_total_flops()}")
    assert cost.count_mult_adds(model, shape) == counter.get_total_flops() // 2
    by_layer = cost.count_mult_adds(model, shape, by_layer=True)
    assert sum(by_layer.values()) == counter.get_total_flops() // 2
    # the reused convolution costs `uses` times one call of it
    with FlopCounterMode(display=False) as once, torch.no_grad():
        model.conv(torch.zeros(1, *shape))
    assert by_layer["conv"] == uses * (once.get_total_flops() // 2)


@given(
    st.integers(1, 6),
    st.integers(1, 6),
    st.sampled_from([1, 3, 5]),
    st.sampled_from([1, 2, 4]),
    st.integers(1, 3),
    st.data(),
)
def test_conv_mult_adds_matches_FlopCounterMode_of_a_conv2d(h, w, f, groups, k, data):
    from torch.utils.flop_counter import FlopCounterMode

    c_in, c_out = groups * data.draw(st.integers(1, 3)), groups * k
    layer = nn.Conv2d(c_in, c_out, f, padding=f // 2, groups=groups, bias=False)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = layer(torch.zeros(1, c_in, h, w))
    assert cost.conv_mult_adds(out.shape[2], out.shape[3], c_out, f, c_in, groups) == counter.get_total_flops() // 2


@given(st.integers(1, 3), st.integers(1, 3))
def test_summary_counts_each_parameter_once_with_reused_modules(uses, linear_uses):
    model = _Reused(2, 2, 3, 1, uses, linear_uses)
    model(torch.zeros(1, 2, 4, 4))
    table = models.summary(model, (2, 4, 4))
    used = models.count_parameters(model.conv) + (models.count_parameters(model.head) if linear_uses else 0)
    assert table.total_parameters == used
    assert len([r for r in table.rows if r.kind == "Conv2d"]) == uses


# --------------------------------------------------------------------------- boxes and NMS (Chapter 9)


@st.composite
def box_set(draw, min_n=0, max_n=8, grid=8):
    """Corner boxes on a coarse integer grid: degenerate, duplicated and touching boxes are common."""
    n = draw(st.integers(min_n, max_n))
    rows = []
    for _ in range(n):
        x1, y1 = draw(st.integers(0, grid)), draw(st.integers(0, grid))
        w, h = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        rows.append([x1, y1, x1 + w, y1 + h])
    if n and draw(st.booleans()):
        rows.append(list(rows[0]))  # an exact duplicate
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 4)


def scores_for(draw, n, ties=True):
    if ties:
        return torch.tensor([draw(st.sampled_from([0.1, 0.5, 0.5, 0.9, 0.3])) for _ in range(n)], dtype=torch.float32)
    return (
        torch.tensor(
            draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n, unique=True)), dtype=torch.float32
        ).reshape(n)
        / 1000
    )


@given(box_set(), st.sampled_from(boxes.BOX_FORMATS), st.sampled_from(boxes.BOX_FORMATS))
def test_box_convert_equals_torchvision(b, in_fmt, out_fmt):
    torch.testing.assert_close(boxes.box_convert(b, in_fmt, out_fmt), torchvision.ops.box_convert(b, in_fmt, out_fmt))


@given(box_set(), box_set())
def test_box_iou_equals_torchvision_including_empty_and_degenerate_boxes(b1, b2):
    got, want = boxes.box_iou(b1, b2), torchvision.ops.box_iou(b1, b2)
    assert got.shape == want.shape
    torch.testing.assert_close(got, want, equal_nan=True)
    torch.testing.assert_close(boxes.box_area(b1), torchvision.ops.box_area(b1))


def greedy_nms(b, s, t, suppress):
    """Reference greedy NMS: sort by score (stable), keep the best, drop the rest where suppress(IoU, t)."""
    iou = torchvision.ops.box_iou(b, b).double()
    order = sorted(range(len(s)), key=lambda i: -float(s[i]))
    keep = []
    while order:
        best = order.pop(0)
        keep.append(best)
        order = [i for i in order if not suppress(float(iou[best, i]), t)]
    return keep


@given(st.data(), st.sampled_from([0.0, 0.25, 0.5, 0.7, 1.0]))
def test_nms_is_the_lecture_rule_and_differs_from_torchvision_exactly_at_iou_equal_threshold(data, t):
    b = data.draw(box_set(min_n=1))
    s = scores_for(data.draw, len(b), ties=data.draw(st.booleans()))
    got = boxes.nms(b, s, t).tolist()
    # the lecture's rule: drop IoU >= t (a NaN IoU of two empty boxes drops nothing)
    assert got == greedy_nms(b, s, t, lambda iou, thr: iou >= thr)
    # torchvision drops IoU > t; where no IoU equals t exactly the two agree (same stable order)
    tv = torchvision.ops.nms(b, s, t).tolist()
    assert tv == greedy_nms(b, s, t, lambda iou, thr: iou > thr)
    iou = torchvision.ops.box_iou(b, b).double()
    off_diagonal = ~torch.eye(len(b), dtype=torch.bool)
    if not bool((iou[off_diagonal] == t).any()):
        assert got == tv


@given(st.data())
def test_batched_nms_keeps_the_same_boxes_as_torchvision(data):
    b = data.draw(box_set(min_n=1))
    s = scores_for(data.draw, len(b), ties=False)
    labels = torch.tensor([data.draw(st.integers(0, 2)) for _ in range(len(b))])
    t = data.draw(st.sampled_from([0.3, 0.6]))
    iou = torchvision.ops.box_iou(b, b).double()
    assume(not bool((iou == t).any()))
    assert sorted(boxes.batched_nms(b, s, labels, t).tolist()) == sorted(
        torchvision.ops.batched_nms(b, s, labels, t).tolist()
    )


def pycocotools_map(preds, targets, num_classes):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images = [{"id": i + 1, "width": 32, "height": 32} for i in range(len(targets))]
    anns = [
        {
            "id": k + 1,
            "image_id": i + 1,
            "category_id": int(lab) + 1,
            "iscrowd": 0,
            "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
            "area": (b[2] - b[0]) * (b[3] - b[1]),
        }
        for k, (i, b, lab) in enumerate(
            (i, b, lab) for i, t in enumerate(targets) for b, lab in zip(t["boxes"].tolist(), t["labels"].tolist())
        )
    ]
    dets = [
        {
            "image_id": i + 1,
            "category_id": int(lab) + 1,
            "score": float(sc),
            "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]],
        }
        for i, p in enumerate(preds)
        for b, sc, lab in zip(p["boxes"].tolist(), p["scores"].tolist(), p["labels"].tolist())
    ]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = COCO()
        gt.dataset = {"images": images, "annotations": anns, "categories": [{"id": c + 1} for c in range(num_classes)]}
        gt.createIndex()
        if not dets:
            return None
        ev = COCOeval(gt, gt.loadRes(dets), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


@st.composite
def detection_set(draw, num_classes=2):
    preds, targets = [], []
    for _ in range(draw(st.integers(1, 3))):
        gt = draw(box_set(max_n=4))
        gl = torch.tensor([draw(st.integers(0, num_classes - 1)) for _ in range(len(gt))], dtype=torch.int64)
        pb = draw(box_set(max_n=5))
        if len(gt) and draw(st.booleans()):
            pb = torch.cat([pb, gt[:2]])  # some exact hits
        pl = torch.tensor([draw(st.integers(0, num_classes - 1)) for _ in range(len(pb))], dtype=torch.int64)
        preds.append({"boxes": pb, "scores": scores_for(draw, len(pb)), "labels": pl})
        targets.append({"boxes": gt, "labels": gl})
    return preds, targets


@given(detection_set())
def test_evaluate_detections_equals_pycocotools_with_degenerate_boxes_and_ties(case):
    preds, targets = case
    assume(sum(len(t["labels"]) for t in targets) > 0)
    stats = pycocotools_map(preds, targets, 2)
    result = boxes.evaluate_detections(preds, targets, 2)
    if stats is None:  # no detection at all: every AP is 0
        assert result.coco_map == 0.0
        return
    assert result.coco_map == pytest.approx(stats[0], abs=1e-12)
    assert result.map_50 == pytest.approx(stats[1], abs=1e-12)


def test_zero_area_detection_never_matches_a_zero_area_ground_truth():
    """The bug the property test found: IoU 0/0 = NaN passed the matching test (AP 1.0, pycocotools 0.0)."""
    preds = [{"boxes": torch.tensor([[1.0, 1, 1, 1]]), "scores": torch.tensor([0.9]), "labels": torch.tensor([0])}]
    targets = [{"boxes": torch.tensor([[2.0, 2, 2, 2]]), "labels": torch.tensor([0])}]
    assert boxes.evaluate_detections(preds, targets, 1).coco_map == pycocotools_map(preds, targets, 1)[0] == 0.0


@given(st.lists(st.booleans(), min_size=0, max_size=12), st.integers(0, 4))
def test_detection_ap_step_equals_sklearn_average_precision_score(is_tp, missed):
    num_gt = sum(is_tp) + missed
    assume(num_gt > 0)
    ap = boxes.average_precision(is_tp, num_gt, "step")
    if not any(is_tp):
        assert ap == 0.0
        return
    # scikit-learn on the ranked list (strictly decreasing scores), scaled by the recall it can reach
    scores = np.arange(len(is_tp), 0, -1, dtype=float)
    want = sklearn_metrics.average_precision_score(is_tp, scores) * sum(is_tp) / num_gt
    assert ap == pytest.approx(want, abs=1e-12)


# --------------------------------------------------------------------------- classification metrics (Chapter 8)


@st.composite
def label_pair(draw):
    k = draw(st.integers(1, 4))
    n = draw(st.integers(1, 20))
    y_true = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    y_pred = np.array(draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    return y_true, y_pred, k


@given(label_pair())
def test_confusion_matrix_and_accuracy_equal_sklearn(case):
    y_true, y_pred, k = case
    cm = metrics.confusion_matrix(y_true, y_pred, k)
    np.testing.assert_array_equal(cm, sklearn_metrics.confusion_matrix(y_true, y_pred, labels=range(k)))
    np.testing.assert_array_equal(
        segment.confusion_matrix(torch.as_tensor(y_pred), torch.as_tensor(y_true), k).numpy(), cm
    )
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(sklearn_metrics.accuracy_score(y_true, y_pred))


@given(label_pair(), st.sampled_from(["macro", "micro", "weighted", None]), st.sampled_from([0.0, 1.0, float("nan")]))
def test_precision_recall_f1_equal_sklearn_for_every_average_and_zero_division(case, average, zero_division):
    y_true, y_pred, k = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sklearn_metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=list(range(k)), average=average, zero_division=zero_division
        )[:3]
    got = metrics.precision_recall_f1(y_true, y_pred, average=average, num_classes=k, zero_division=zero_division)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g, dtype=float), np.asarray(w, dtype=float), rtol=1e-12, atol=1e-12)


def test_weighted_average_with_nan_zero_division_and_zero_support_is_sklearns_0():
    """The bug the property test found: NaN where scikit-learn gives 0.0."""
    got = metrics.precision_recall_f1(
        [0, 0, 2], [1, 1, 1], average="weighted", num_classes=3, zero_division=float("nan")
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sklearn_metrics.precision_recall_fscore_support(
            [0, 0, 2], [1, 1, 1], labels=[0, 1, 2], average="weighted", zero_division=np.nan
        )[:3]
    assert got == pytest.approx(tuple(want)) and got[0] == 0.0


@given(label_pair())
def test_classification_report_dict_equals_sklearn(case):
    y_true, y_pred, k = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sklearn_metrics.classification_report(
            y_true, y_pred, labels=list(range(k)), output_dict=True, zero_division=0.0
        )
    got = metrics.classification_report(y_true, y_pred, num_classes=k, output_dict=True)
    for key in ("macro avg", "weighted avg", *[str(i) for i in range(k)]):
        for field in ("precision", "recall", "f1-score", "support"):
            assert got[key][field] == pytest.approx(want[key][field], abs=1e-12), (key, field)


@st.composite
def ranking(draw, both_classes=True):
    n = draw(st.integers(2 if both_classes else 1, 16))
    scores = np.array(
        draw(
            st.lists(
                st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0])
                if draw(st.booleans())
                else st.floats(-5, 5, allow_nan=False),
                min_size=n,
                max_size=n,
            )
        )
    )
    labels = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if both_classes:
        labels[0], labels[-1] = 0, 1
    return scores, labels


@given(ranking(), st.booleans())
def test_roc_curve_and_auc_equal_sklearn_with_tied_scores(case, drop):
    scores, labels = case
    fpr, tpr, thr = metrics.roc_curve(scores, labels, drop_intermediate=drop)
    w_fpr, w_tpr, w_thr = sklearn_metrics.roc_curve(labels, scores, drop_intermediate=drop)
    np.testing.assert_allclose(fpr, w_fpr)
    np.testing.assert_allclose(tpr, w_tpr)
    np.testing.assert_allclose(thr[1:], w_thr[1:])
    assert metrics.roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)
    assert metrics.auc(fpr, tpr) == pytest.approx(sklearn_metrics.auc(fpr, tpr), abs=1e-12)


@given(ranking())
def test_precision_recall_curve_and_ap_equal_sklearn_with_tied_scores(case):
    scores, labels = case
    p, r, t = metrics.precision_recall_curve(scores, labels)
    w_p, w_r, w_t = sklearn_metrics.precision_recall_curve(labels, scores)
    # scikit-learn: lowest threshold first, plus a final (recall 0, precision 1) point
    np.testing.assert_allclose(p, w_p[:-1][::-1])
    np.testing.assert_allclose(r, w_r[:-1][::-1])
    np.testing.assert_allclose(t, w_t[::-1])
    assert metrics.average_precision(scores, labels) == pytest.approx(
        sklearn_metrics.average_precision_score(labels, scores), abs=1e-12
    )


@given(st.integers(1, 4), st.integers(1, 15), st.data())
def test_average_precision_per_class_equals_sklearn_one_vs_rest(k, n, data):
    probs = tensor(data.draw, (n, k), 0.0, 1.0).numpy()
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    got = metrics.average_precision_per_class(probs, y)
    for c in range(k):
        if (y == c).any():
            assert got[c] == pytest.approx(sklearn_metrics.average_precision_score(y == c, probs[:, c]), abs=1e-12)
        else:
            assert math.isnan(got[c])


# --------------------------------------------------------------------------- segmentation scores (Chapter 10)


@given(st.integers(1, 4), st.data())
def test_segmentation_iou_equals_sklearn_jaccard(k, data):
    n = data.draw(st.integers(1, 30))
    pred = torch.tensor(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    target = torch.tensor(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    scores = segment.segmentation_scores(pred, target, k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sklearn_metrics.jaccard_score(
            target.numpy(), pred.numpy(), labels=list(range(k)), average=None, zero_division=0
        )
    # a class in neither truth nor prediction: scikit-learn's 0/0 is zero_division, the book's IoU is NaN
    absent = ~(np.isin(np.arange(k), target.numpy()) | np.isin(np.arange(k), pred.numpy()))
    want = np.where(absent, np.nan, want)
    np.testing.assert_allclose(scores.iou.numpy(), want, equal_nan=True)
    assert scores.pixel_accuracy == pytest.approx(sklearn_metrics.accuracy_score(target, pred))
    present = ~np.isnan(want)
    assert scores.mean_iou == pytest.approx(want[present].mean())


# --------------------------------------------------------------------------- faces (Chapter 11)


@given(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5), st.data())
def test_pairwise_distances_equal_cdist(n, m, d, data):
    x, y = tensor(data.draw, (n, d)), tensor(data.draw, (m, d))
    if data.draw(st.booleans()):
        y = torch.cat([y, x[:1]])  # a duplicate: distance exactly 0
    torch.testing.assert_close(faces.pairwise_distances(x, y), torch.cdist(x, y), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(
        faces.pairwise_distances(x, y, squared=True), torch.cdist(x, y) ** 2, rtol=1e-6, atol=1e-6
    )
    self_d = faces.pairwise_distances(x)
    assert bool((self_d.diagonal() == 0).all())


@given(st.integers(1, 4), st.integers(1, 4), st.sampled_from([float("nan"), float("inf")]), st.data())
def test_non_finite_embedding_is_never_at_distance_zero(n, d, bad, data):
    x = tensor(data.draw, (n, d))
    x[0, data.draw(st.integers(0, d - 1))] = bad
    dist = faces.pairwise_distances(x, x.clone())
    assert bool(torch.isnan(dist[0]).all()) and bool(torch.isnan(dist[:, 0]).all())
    with pytest.raises(ValueError, match="finite"):
        faces.recognise(x, torch.zeros(2, d), torch.tensor([3, 4]), 1.0)


@given(st.integers(1, 8), st.integers(1, 6), st.floats(0.0, 2.0), st.data())
def test_triplet_loss_unsquared_equals_TripletMarginLoss(n, d, margin, data):
    """PyTorch refuses margin 0; the book allows it (the lecture's loss without a margin)."""
    a, p, q = (tensor(data.draw, (n, d)) for _ in range(3))
    got = faces.triplet_loss(a, p, q, margin, squared=False)
    if margin > 0:
        want = nn.TripletMarginLoss(margin=margin, p=2, eps=0.0)(a, p, q)
    else:
        want = (torch.linalg.vector_norm(a - p, dim=1) - torch.linalg.vector_norm(a - q, dim=1)).clamp(min=0).mean()
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    # the lecture's squared form, against its formula
    d_ap, d_an = ((a - p) ** 2).sum(1), ((a - q) ** 2).sum(1)
    torch.testing.assert_close(
        faces.triplet_loss(a, p, q, margin, reduction="sum"), (d_ap - d_an + margin).clamp(min=0).sum()
    )


@given(st.integers(1, 8), st.integers(1, 6), st.floats(0.1, 2.0), st.data())
def test_contrastive_loss_equals_its_formula(n, d, margin, data):
    f1, f2 = tensor(data.draw, (n, d)), tensor(data.draw, (n, d))
    y = torch.tensor(data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    dist = torch.linalg.vector_norm(f1 - f2, dim=1)
    want = y * dist**2 + (1 - y) * (margin - dist).clamp(min=0) ** 2
    torch.testing.assert_close(
        faces.contrastive_loss(f1, f2, y, margin, reduction="none"), want.double(), rtol=1e-6, atol=1e-6
    )


@given(st.data())
def test_batch_hard_triplets_pick_the_farthest_positive_and_closest_negative(data):
    ids = torch.tensor(data.draw(st.lists(st.integers(0, 3), min_size=2, max_size=10)))
    emb = tensor(data.draw, (len(ids), 3))
    a, p, q = faces.batch_hard_triplets(emb, ids)
    d = torch.cdist(emb, emb)
    for i, j, k in zip(a.tolist(), p.tolist(), q.tolist()):
        assert ids[i] == ids[j] and i != j and ids[i] != ids[k]
        same = (ids == ids[i]) & (torch.arange(len(ids)) != i)
        assert d[i, j] == pytest.approx(float(d[i][same].max()), abs=1e-9)
        assert d[i, k] == pytest.approx(float(d[i][ids != ids[i]].min()), abs=1e-9)


@given(st.lists(st.floats(0, 5, allow_nan=False), min_size=1, max_size=20), st.data())
def test_best_threshold_accuracy_is_the_best_over_all_cuts(dists, data):
    same = torch.tensor(data.draw(st.lists(st.booleans(), min_size=len(dists), max_size=len(dists))))
    d = torch.tensor(dists, dtype=torch.float64)
    tau, acc = faces.best_threshold(d, same)
    assert acc == pytest.approx(float(((d <= tau) == same).double().mean()))
    best = max(float(((d <= t) == same).double().mean()) for t in [-1.0, *dists])
    assert acc == pytest.approx(best)


# --------------------------------------------------------------------------- style (Chapter 12)


@given(st.integers(1, 2), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5), st.data())
def test_gram_matrix_and_style_cost_equal_their_einsum_formulas(n, c, h, w, data):
    a, g = tensor(data.draw, (n, c, h, w)), tensor(data.draw, (n, c, h, w))
    gram = torch.einsum("nkij,nlij->nkl", a, a)
    torch.testing.assert_close(style.gram_matrix(a), gram)
    want = ((gram - torch.einsum("nkij,nlij->nkl", g, g)) ** 2).sum() / (2 * h * w * c) ** 2
    torch.testing.assert_close(style.layer_style_cost(a, g), want)
    torch.testing.assert_close(style.content_cost(a, g), ((a - g) ** 2).sum() / 2)
