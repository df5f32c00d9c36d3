import math
import warnings

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from cvbook import metrics


def _random_predictions(seed, n, k, skew=False):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(k) * 0.3) if skew else np.ones(k) / k
    y_true = rng.choice(k, size=n, p=p)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k, size=n))
    return y_true, y_pred


def _random_ranking(seed, n, ties=False, prevalence=0.3):
    rng = np.random.default_rng(seed)
    labels = (rng.random(n) < prevalence).astype(int)
    labels[0], labels[1] = 1, 0  # both classes present
    scores = rng.normal(size=n) + labels
    if ties:
        scores = np.round(scores, 1)  # many equal scores
    return scores, labels


def _voc_ap(scores, labels, num_positives, use_07_metric):
    """The PASCAL VOC devkit's AP (py-faster-rcnn's voc_eval.voc_ap), for untied scores."""
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(labels[order])
    fp = np.cumsum(1 - labels[order])
    rec = tp / num_positives
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    if use_07_metric:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap += p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = max(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])


# --------------------------------------------------------------------------- hard predictions


@pytest.mark.parametrize(
    "seed,n,k,skew", [(0, 50, 2, False), (1, 200, 3, False), (2, 300, 10, True), (3, 7, 4, False), (4, 1000, 5, True)]
)
def test_confusion_matrix_and_scores_match_sklearn(seed, n, k, skew):
    y_true, y_pred = _random_predictions(seed, n, k, skew)
    labels = list(range(k))
    cm = metrics.confusion_matrix(y_true, y_pred, num_classes=k)
    assert cm.dtype == np.int64 and cm.shape == (k, k)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred, labels=labels))
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    assert metrics.accuracy(cm) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for average in (None, "macro", "micro", "weighted"):
            for zero_division in (0.0, 1.0, np.nan):
                mine = metrics.precision_recall_f1(
                    y_true, y_pred, average=average, num_classes=k, zero_division=zero_division
                )
                theirs = skm.precision_recall_fscore_support(
                    y_true, y_pred, labels=labels, average=average, zero_division=zero_division
                )[:3]
                from_cm = metrics.precision_recall_f1(cm, average=average, zero_division=zero_division)
                for a, b, c in zip(mine, theirs, from_cm):
                    np.testing.assert_allclose(a, b, equal_nan=True)
                    np.testing.assert_allclose(c, b, equal_nan=True)
        if k == 2:
            mine = metrics.precision_recall_f1(y_true, y_pred, average="binary")
            theirs = skm.precision_recall_fscore_support(y_true, y_pred, average="binary")[:3]
            np.testing.assert_allclose(mine, theirs)
            mine0 = metrics.precision_recall_f1(y_true, y_pred, average="binary", pos_label=0)
            np.testing.assert_allclose(
                mine0, skm.precision_recall_fscore_support(y_true, y_pred, average="binary", pos_label=0)[:3]
            )
    # micro precision = recall = F1 = accuracy for single-label data
    assert metrics.precision_recall_f1(cm, average="micro") == pytest.approx((metrics.accuracy(cm),) * 3)


@pytest.mark.parametrize("seed,k", [(0, 3), (1, 10), (2, 2)])
@pytest.mark.parametrize("digits", [2, 3])
def test_classification_report_identical_to_sklearn(seed, k, digits):
    y_true, y_pred = _random_predictions(seed, 120, k, skew=True)
    names = [f"class {i}" for i in range(k)] if seed == 1 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skm.classification_report(
            y_true, y_pred, labels=list(range(k)), target_names=names, digits=digits, zero_division=0.0
        )
        theirs_dict = skm.classification_report(
            y_true, y_pred, labels=list(range(k)), target_names=names, output_dict=True, zero_division=0.0
        )
    assert metrics.classification_report(y_true, y_pred, num_classes=k, class_names=names, digits=digits) == theirs
    mine_dict = metrics.classification_report(y_true, y_pred, num_classes=k, class_names=names, output_dict=True)
    assert mine_dict.keys() == theirs_dict.keys()
    for key, value in theirs_dict.items():
        if isinstance(value, dict):
            assert mine_dict[key].keys() == value.keys()
            np.testing.assert_allclose(list(mine_dict[key].values()), list(value.values()))
        else:
            assert mine_dict[key] == pytest.approx(value)


def test_tensors_and_lists_are_accepted():
    y_true, y_pred = _random_predictions(5, 60, 4)
    cm = metrics.confusion_matrix(torch.from_numpy(y_true), torch.from_numpy(y_pred))
    np.testing.assert_array_equal(cm, metrics.confusion_matrix(list(y_true), list(y_pred)))
    np.testing.assert_array_equal(cm, metrics.confusion_matrix(y_true.astype(float), y_pred))
    assert metrics.accuracy(torch.from_numpy(cm)) == metrics.accuracy(cm)
    scores, labels = _random_ranking(0, 40)
    assert metrics.roc_auc(torch.from_numpy(scores).float(), torch.from_numpy(labels).bool()) == pytest.approx(
        skm.roc_auc_score(labels, scores.astype(np.float32))
    )


def test_edge_cases_of_hard_predictions():
    # all one class, all correct
    assert metrics.accuracy([1, 1, 1], [1, 1, 1]) == 1.0
    assert metrics.confusion_matrix([0, 0], [0, 0]).tolist() == [[2]]
    assert metrics.confusion_matrix([0, 0], [0, 0], num_classes=3).tolist() == [[2, 0, 0], [0, 0, 0], [0, 0, 0]]
    # the majority classifier: no positive predicted, precision 0/0
    y_true, y_pred = [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]
    assert metrics.accuracy(y_true, y_pred) == 0.8
    assert metrics.precision_recall_f1(y_true, y_pred, average="binary") == (0.0, 0.0, 0.0)
    assert metrics.precision_recall_f1(y_true, y_pred, average="binary", zero_division=1.0) == (1.0, 0.0, 0.0)
    # no positives at all: recall 0/0
    p, r, f = metrics.precision_recall_f1([0, 0, 0], [0, 1, 0], num_classes=2, average=None)
    assert p.tolist() == [1.0, 0.0] and r.tolist() == [2 / 3, 0.0] and f.tolist() == [0.8, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skm.precision_recall_fscore_support([0, 0, 0], [0, 1, 0], labels=[0, 1], zero_division=0.0)
    np.testing.assert_allclose([p, r, f], theirs[:3])


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: metrics.confusion_matrix([], []), "empty"),
        (lambda: metrics.confusion_matrix([0, 1], [0]), "same shape"),
        (lambda: metrics.confusion_matrix([[0, 1]], [[0, 1]]), r"shape \(N,\)"),
        (lambda: metrics.confusion_matrix([0, -1], [0, 1]), "0..K-1"),
        (lambda: metrics.confusion_matrix([0, 0.5], [0, 1]), "integer"),
        (lambda: metrics.confusion_matrix([0, 3], [0, 1], num_classes=3), "num_classes=3"),
        (lambda: metrics.confusion_matrix([0, 1], [0, 1], num_classes=0), "positive int"),
        (lambda: metrics.accuracy(np.zeros((2, 3))), r"\(K, K\)"),
        (lambda: metrics.accuracy(np.zeros((2, 2))), "all zeros"),
        (lambda: metrics.accuracy(np.array([[1, -1], [0, 1]])), "non-negative"),
        (lambda: metrics.precision_recall_f1([0, 1], [0, 1], average="mean"), "average"),
        (lambda: metrics.precision_recall_f1([0, 1, 2], [0, 1, 2], average="binary"), "two classes"),
        (lambda: metrics.precision_recall_f1([0, 1], [0, 1], zero_division=0.5), "zero_division"),
        (lambda: metrics.precision_recall_f1(np.eye(2), num_classes=2), "num_classes"),
        (lambda: metrics.classification_report([0, 1], [0, 1], class_names=["a"]), "2 names"),
    ],
)
def test_clear_errors_for_hard_predictions(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------------------- rankings


@pytest.mark.parametrize("seed,n,ties", [(0, 30, False), (1, 200, True), (2, 500, False), (3, 50, True), (4, 3, False)])
def test_roc_curve_and_auc_match_sklearn(seed, n, ties):
    scores, labels = _random_ranking(seed, n, ties)
    for drop in (False, True):
        fpr, tpr, thresholds = metrics.roc_curve(scores, labels, drop_intermediate=drop)
        sk_fpr, sk_tpr, sk_thresholds = skm.roc_curve(labels, scores, drop_intermediate=drop)
        np.testing.assert_allclose(fpr, sk_fpr)
        np.testing.assert_allclose(tpr, sk_tpr)
        np.testing.assert_array_equal(thresholds, sk_thresholds)
    assert metrics.roc_auc(scores, labels) == pytest.approx(skm.roc_auc_score(labels, scores))
    assert metrics.auc(fpr, tpr) == pytest.approx(skm.auc(sk_fpr, sk_tpr))
    # AUC = P(positive scores higher than negative), ties count one half
    pos, neg = scores[labels == 1], scores[labels == 0]
    diff = pos[:, None] - neg[None, :]
    assert metrics.roc_auc(scores, labels) == pytest.approx(((diff > 0) + 0.5 * (diff == 0)).mean())


@pytest.mark.parametrize("seed,n,ties", [(0, 30, False), (1, 200, True), (2, 500, False), (3, 50, True), (5, 8, True)])
def test_precision_recall_curve_and_ap_match_sklearn(seed, n, ties):
    scores, labels = _random_ranking(seed, n, ties)
    precision, recall, thresholds = metrics.precision_recall_curve(scores, labels)
    sk_p, sk_r, sk_t = skm.precision_recall_curve(labels, scores)
    np.testing.assert_allclose(precision, sk_p[:-1][::-1])
    np.testing.assert_allclose(recall, sk_r[:-1][::-1])
    np.testing.assert_array_equal(thresholds, sk_t[::-1])
    assert np.all(np.diff(recall) >= 0) and np.all(np.diff(thresholds) < 0)
    assert metrics.average_precision(scores, labels) == pytest.approx(skm.average_precision_score(labels, scores))


@pytest.mark.parametrize("seed,n,extra", [(0, 30, 0), (2, 500, 0), (6, 100, 7), (7, 12, 3)])
def test_interpolated_ap_matches_the_voc_devkit(seed, n, extra):
    scores, labels = _random_ranking(seed, n, ties=False)
    assert np.unique(scores).size == n
    positives = int(labels.sum()) + extra  # extra = positives never scored (missed objects)
    for interpolation, use_07 in (("all", False), ("11point", True)):
        mine = metrics.average_precision(scores, labels, interpolation=interpolation, num_positives=positives)
        assert mine == pytest.approx(_voc_ap(scores, labels, positives, use_07))
    none = metrics.average_precision(scores, labels, num_positives=positives)
    assert none <= metrics.average_precision(scores, labels, interpolation="all", num_positives=positives) + 1e-12
    if extra:  # missed positives scale the uninterpolated AP down
        assert none == pytest.approx(skm.average_precision_score(labels, scores) * labels.sum() / positives)


def test_lecture_formula_on_a_ranked_list():
    # ranked best first: hit, hit, miss, hit, miss
    labels = [1, 1, 0, 1, 0]
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    precision, recall, _ = metrics.precision_recall_curve(scores, labels)
    np.testing.assert_allclose(precision, [1, 1, 2 / 3, 3 / 4, 3 / 5])
    np.testing.assert_allclose(recall, [1 / 3, 2 / 3, 2 / 3, 1, 1])
    assert metrics.average_precision(scores, labels) == pytest.approx((1 + 1 + 0.75) / 3)
    assert metrics.average_precision(scores, labels, interpolation="all") == pytest.approx((1 + 1 + 0.75) / 3)
    # 11 points: recall >= 0 .. 0.6 -> 1 (7 levels), 0.7 .. 1.0 -> 0.75 (4 levels)
    assert metrics.average_precision(scores, labels, interpolation="11point") == pytest.approx((7 + 4 * 0.75) / 11)


def test_edge_cases_of_rankings():
    # perfect and reversed rankings
    assert metrics.roc_auc([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    assert metrics.roc_auc([0.1, 0.2, 0.9], [1, 1, 0]) == 0.0
    assert metrics.roc_auc([0.5, 0.5, 0.5, 0.5], [1, 0, 1, 0]) == 0.5  # all tied
    assert metrics.average_precision([0.9, 0.8, 0.1], [1, 1, 0]) == 1.0
    # all positives: precision 1 everywhere
    assert metrics.average_precision([0.3, 0.2, 0.1], [1, 1, 1]) == 1.0
    # one tied group: a single point (recall 1, precision = prevalence)
    p, r, t = metrics.precision_recall_curve([0.5] * 4, [1, 0, 0, 0])
    assert p.tolist() == [0.25] and r.tolist() == [1.0] and t.tolist() == [0.5]
    # no detections but objects to find: AP 0
    assert metrics.average_precision([], [], num_positives=3) == 0.0
    assert metrics.average_precision([0.9], [0], num_positives=2) == 0.0
    for interpolation in ("none", "all", "11point"):
        assert metrics.average_precision([0.9, 0.1], [1, 0], num_positives=2, interpolation=interpolation) == (
            pytest.approx(0.5 if interpolation != "11point" else 6 / 11)
        )
    # auc in either direction
    assert metrics.auc([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)
    assert metrics.auc([1, 0.5, 0], [1, 1, 0]) == pytest.approx(0.75)
    assert metrics.auc([0, 1], [1, 1]) == pytest.approx(skm.auc([0, 1], [1, 1]))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: metrics.roc_curve([], []), "empty"),
        (lambda: metrics.average_precision([], []), "empty"),
        (lambda: metrics.precision_recall_curve([], []), "empty"),
        (lambda: metrics.roc_curve([0.1, 0.2], [0, 0]), "no positives"),
        (lambda: metrics.roc_curve([0.1, 0.2], [1, 1]), "no negatives"),
        (lambda: metrics.roc_auc([0.1, 0.2], [1, 1]), "no negatives"),
        (lambda: metrics.average_precision([0.1, 0.2], [0, 0]), "no positives"),
        (lambda: metrics.precision_recall_curve([0.1, 0.2], [0, 0]), "no positives"),
        (lambda: metrics.roc_curve([0.1, 0.2], [0, 2]), "0 .negative. or 1"),
        (lambda: metrics.roc_curve([0.1, np.nan], [0, 1]), "finite"),
        (lambda: metrics.roc_curve([0.1, 0.2, 0.3], [0, 1]), "same shape"),
        (lambda: metrics.roc_curve(np.zeros((2, 2)), [0, 1]), r"shape \(N,\)"),
        (lambda: metrics.average_precision([0.1, 0.2], [0, 1], interpolation="voc"), "interpolation"),
        (lambda: metrics.average_precision([0.1, 0.2], [1, 1], num_positives=1), "smaller"),
        (lambda: metrics.average_precision([0.1, 0.2], [1, 1], num_positives=2.0), "int"),
        (lambda: metrics.auc([0, 1, 0.5], [0, 1, 1]), "sorted"),
        (lambda: metrics.auc([0], [0]), "at least 2"),
        (lambda: metrics.auc([0, 1], [0, 1, 2]), "same shape"),
    ],
)
def test_clear_errors_for_rankings(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_per_class_ap_matches_sklearn_one_vs_rest():
    rng = np.random.default_rng(0)
    n, k = 300, 5
    y_true = rng.integers(0, k, size=n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y_true] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mine = metrics.average_precision_per_class(probs, y_true)
    onehot = np.eye(k)[y_true]
    np.testing.assert_allclose(mine, skm.average_precision_score(onehot, probs, average=None))
    assert np.mean(mine) == pytest.approx(skm.average_precision_score(onehot, probs, average="macro"))
    per_class_auc = [metrics.roc_auc(probs[:, c], y_true == c) for c in range(k)]
    assert np.mean(per_class_auc) == pytest.approx(skm.roc_auc_score(y_true, probs, multi_class="ovr"))
    # a class never present gets nan
    missing = metrics.average_precision_per_class(np.c_[probs, np.zeros(n)], y_true)
    assert math.isnan(missing[-1]) and np.allclose(missing[:-1], mine)
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        metrics.average_precision_per_class(probs[:10], y_true)


def test_show_confusion_matrix_draws():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = metrics.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    for normalize in (None, "true", "pred"):
        ax = metrics.show_confusion_matrix(cm, class_names=["a", "b", "c"], normalize=normalize, title="t")
        assert len(ax.texts) == 4 and ax.get_xlabel() == "predicted class"
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="normalize"):
        metrics.show_confusion_matrix(cm, normalize="all")
