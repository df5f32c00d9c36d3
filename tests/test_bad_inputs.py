"""One bad-input policy for the whole package, checked by walking its public API.

The policy (CONTRIBUTING, "The package"): wrong shapes, wrong dtypes, non-finite values,
out-of-range labels and empty inputs either work as documented (as the reference library
does) or raise a ``ValueError`` whose message names the argument and what was expected.
Nothing is silently reshaped, no NaN counts as a match, no label is silently dropped.

``BAD`` is the table: one or more bad calls per public function or class of every module,
each with a pattern the ``ValueError``'s message must match (the argument's name, and
usually what was expected). ``test_the_table_covers_every_public_function`` fails when a
new public function has no row (or an entry in ``NOT_CHECKED`` with the reason).
``DOCUMENTED`` lists edge cases that are accepted on purpose, with the documented result.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from cvbook import (
    augment,
    boxes,
    checks,
    conv,
    cost,
    data,
    detection,
    device,
    faces,
    metrics,
    models,
    plot,
    segment,
    signals,
    style,
)

MODULES = {
    "augment": augment,
    "boxes": boxes,
    "checks": checks,
    "conv": conv,
    "cost": cost,
    "data": data,
    "detection": detection,
    "device": device,
    "faces": faces,
    "metrics": metrics,
    "models": models,
    "plot": plot,
    "segment": segment,
    "signals": signals,
    "style": style,
}

NAN = float("nan")
X4 = torch.zeros(1, 1, 5, 5)
W4 = torch.zeros(1, 1, 3, 3)
BOX = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
IMG = torch.rand(3, 8, 8)
EMB = torch.zeros(3, 4)
ANCHORS = [[1.0, 1.0]]


def _pred(boxes_, scores=None, labels=None):
    n = boxes_.reshape(-1, 4).shape[0] if boxes_.numel() else 0
    return {
        "boxes": boxes_,
        "scores": torch.ones(n) if scores is None else scores,
        "labels": torch.zeros(n, dtype=torch.int64) if labels is None else labels,
    }


def _target(boxes_=BOX, labels=None):
    return {"boxes": boxes_, "labels": torch.zeros(len(boxes_), dtype=torch.int64) if labels is None else labels}


def _enter(context_manager):
    with context_manager:
        pass


def _linear_net():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))


# (id "module.function: what is wrong", call, pattern the ValueError's message must match)
BAD = [
    # ------------------------------------------------------------------ augment (Chapter 7)
    ("augment.colour_shift: grey image", lambda: augment.colour_shift(torch.rand(1, 8, 8), [1, 2, 3]), "image"),
    ("augment.colour_shift: two shifts", lambda: augment.colour_shift(IMG, [1, 2]), "shift"),
    ("augment.RandomColourShift: negative", lambda: augment.RandomColourShift(-1), "max_shift"),
    ("augment.pca_colour_basis: (N, H, W)", lambda: augment.pca_colour_basis(torch.rand(2, 8, 8)), "images"),
    ("augment.pca_colour_augment: alpha of 2", lambda: augment.pca_colour_augment(IMG, [0.1, 0.2]), "alpha"),
    ("augment.PCAColour: negative std", lambda: augment.PCAColour(-0.1), "std"),
    ("augment.freeze: not a module", lambda: augment.freeze("net"), "module"),
    ("augment.unfreeze: not a module", lambda: augment.unfreeze(3), "module"),
    ("augment.trainable_parameters: not a module", lambda: augment.trainable_parameters([1]), "module"),
    ("augment.replace_head: 0 classes", lambda: augment.replace_head(_linear_net(), 0), "num_classes"),
    ("augment.replace_head: no Linear", lambda: augment.replace_head(nn.Conv2d(1, 1, 1), 3), "Linear"),
    ("augment.extract_features: batch 0", lambda: augment.extract_features(_linear_net(), IMG[None], 0), "batch_size"),
    ("augment.few_per_class: k = 0", lambda: augment.few_per_class(torch.tensor([0, 1]), 0), "k"),
    ("augment.few_per_class: float targets", lambda: augment.few_per_class(torch.tensor([0.5, 1.0]), 1), "targets"),
    (
        "augment.ten_crop_predict: crop too big",
        lambda: augment.ten_crop_predict(_linear_net(), IMG[None], 9),
        "size",
    ),
    ("augment.ensemble_predict: no model", lambda: augment.ensemble_predict([], IMG[None]), "models"),
    # ------------------------------------------------------------------ boxes (Chapter 9)
    ("boxes.box_convert: (N, 5)", lambda: boxes.box_convert(torch.zeros(2, 5), "xyxy", "xywh"), "boxes"),
    ("boxes.box_convert: unknown format", lambda: boxes.box_convert(BOX, "xyxy", "yolo"), "out_fmt"),
    ("boxes.to_relative: zero size", lambda: boxes.to_relative(BOX, 0), "image_size"),
    ("boxes.to_absolute: (3,)", lambda: boxes.to_absolute(torch.zeros(3), 10), "boxes"),
    ("boxes.box_area: int boxes", lambda: boxes.box_area(torch.zeros(1, 4, dtype=torch.int64)), "boxes"),
    ("boxes.box_iou: (4,)", lambda: boxes.box_iou(torch.zeros(4), BOX), "boxes1"),
    ("boxes.nms: scores shape", lambda: boxes.nms(BOX, torch.ones(2)), "scores"),
    ("boxes.nms: threshold 1.5", lambda: boxes.nms(BOX, torch.ones(1), 1.5), "iou_threshold"),
    ("boxes.nms: NaN box", lambda: boxes.nms(torch.tensor([[0.0, 0, NAN, 1]]), torch.ones(1)), "boxes.*finite"),
    ("boxes.nms: NaN score", lambda: boxes.nms(BOX, torch.tensor([NAN])), "scores.*finite"),
    ("boxes.batched_nms: labels shape", lambda: boxes.batched_nms(BOX, torch.ones(1), torch.zeros(2)), "labels"),
    (
        "boxes.batched_nms: float labels",
        lambda: boxes.batched_nms(BOX, torch.ones(1), torch.tensor([0.5])),
        "labels.*integer",
    ),
    (
        "boxes.encode_yolo_targets: label >= C",
        lambda: boxes.encode_yolo_targets(BOX, torch.tensor([3]), 2, ANCHORS, 3, 8),
        "labels",
    ),
    (
        "boxes.encode_yolo_targets: empty box",
        lambda: boxes.encode_yolo_targets(torch.tensor([[1.0, 1, 1, 3]]), torch.tensor([0]), 2, ANCHORS, 3, 8),
        "boxes",
    ),
    (
        "boxes.encode_yolo_targets: NaN box",
        lambda: boxes.encode_yolo_targets(torch.tensor([[1.0, 1, NAN, 3]]), torch.tensor([0]), 2, ANCHORS, 3, 8),
        "boxes.*finite",
    ),
    ("boxes.decode_yolo: (S, S, 8)", lambda: boxes.decode_yolo(torch.zeros(3, 3, 8), 96), "y"),
    ("boxes.decode_yolo: S x T grid", lambda: boxes.decode_yolo(torch.zeros(3, 4, 1, 6), 96), "y"),
    (
        "boxes.match_detections: boxes (4, 5) with 5 scores",
        lambda: boxes.match_detections([_pred(torch.zeros(4, 5), torch.ones(5), torch.zeros(5))], [_target()], 0),
        r"boxes'\] must have shape \(K, 4\)",
    ),
    (
        "boxes.match_detections: negative class",
        lambda: boxes.match_detections([_pred(BOX)], [_target()], -1),
        "class_id",
    ),
    ("boxes.precision_recall: negative num_gt", lambda: boxes.precision_recall([True], -1), "num_gt"),
    ("boxes.precision_recall: 2-D is_tp", lambda: boxes.precision_recall([[True, False]], 2), "is_tp"),
    ("boxes.average_precision: unknown method", lambda: boxes.average_precision([True], 1, "voc"), "method"),
    (
        "boxes.evaluate_detections: ground-truth label >= num_classes",
        lambda: boxes.evaluate_detections([_pred(BOX)], [_target(BOX, torch.tensor([3]))], 2),
        r"targets\[0\]\['labels'\].*\[0, 2\)",
    ),
    (
        "boxes.evaluate_detections: NaN score",
        lambda: boxes.evaluate_detections([_pred(BOX, torch.tensor([NAN]))], [_target()], 1),
        "scores.*finite",
    ),
    (
        "boxes.evaluate_detections: one list shorter",
        lambda: boxes.evaluate_detections([_pred(BOX)], [], 1),
        "one entry per image",
    ),
    (
        "boxes.DetectionEvaluation.map_at: threshold not evaluated",
        lambda: boxes.evaluate_detections([_pred(BOX)], [_target()], 1, iou_thresholds=[0.5]).map_at(0.75),
        "iou_threshold",
    ),
    # ------------------------------------------------------------------ checks (exercise tests)
    ("checks.expect_error: not an exception type", lambda: _enter(checks.expect_error(3, "why")), "error"),
    ("checks.refusing: no name", lambda: _enter(checks.refusing()), "names"),
    ("checks.zero_parameters: not a module", lambda: checks.zero_parameters("net"), "module"),
    (
        "checks.randomize_parameters: no generator",
        lambda: checks.randomize_parameters(nn.Linear(2, 2), None),
        "generator",
    ),
    # ------------------------------------------------------------------ conv (Chapter 2)
    ("conv.conv_output_size: filter does not fit", lambda: conv.conv_output_size(3, 5), "does not fit"),
    ("conv.conv_output_size: stride 0", lambda: conv.conv_output_size(5, 3, 0, 0), "s"),
    ("conv.same_padding: even filter", lambda: conv.same_padding(4), "odd"),
    ("conv.receptive_field: (f,)", lambda: conv.receptive_field([(3,)]), "layer 0"),
    ("conv.receptive_field_of: not a module", lambda: conv.receptive_field_of("net"), "model"),
    ("conv.conv2d_naive: 3-D x", lambda: conv.conv2d_naive(torch.zeros(1, 5, 5), W4), "x"),
    ("conv.conv2d_naive: channels", lambda: conv.conv2d_naive(torch.zeros(1, 2, 5, 5), W4), "input channels"),
    ("conv.conv2d_im2col: bias shape", lambda: conv.conv2d_im2col(X4, W4, torch.zeros(2)), "bias"),
    ("conv.conv2d_im2col: dilation 0", lambda: conv.conv2d_im2col(X4, W4, dilation=0), "dilation"),
    ("conv.pool2d: padding > f // 2", lambda: conv.pool2d(X4, 2, 1, "max", 2), "at most half"),
    ("conv.pool2d: mode", lambda: conv.pool2d(X4, 2, mode="median"), "mode"),
    # ------------------------------------------------------------------ cost (Chapters 5, 6)
    ("cost.conv_mult_adds: groups", lambda: cost.conv_mult_adds(4, 4, 6, 3, 4, groups=3), "groups"),
    ("cost.count_mult_adds: batch axis", lambda: cost.count_mult_adds(nn.Linear(2, 2), (1, 0)), "input_shape"),
    ("cost.count_mult_adds: not a model", lambda: cost.count_mult_adds(None, (2,)), "model"),
    ("cost.standard_conv_cost: 0 channels", lambda: cost.standard_conv_cost(3, 0, 4, 8), "c_in"),
    ("cost.depthwise_cost: 0 size", lambda: cost.depthwise_cost(3, 4, 0), "h_out"),
    ("cost.pointwise_cost: float", lambda: cost.pointwise_cost(2.5, 4, 8), "c_in"),
    ("cost.separable_cost: alpha 0", lambda: cost.separable_cost(3, 4, 4, 8, alpha=0), "alpha"),
    ("cost.separable_ratio: n 0", lambda: cost.separable_ratio(0, 3), "n"),
    # ------------------------------------------------------------------ data (Chapter 1)
    (
        "data.TensorImageDataset: lengths",
        lambda: data.TensorImageDataset(torch.zeros(3, 1, 2, 2), torch.zeros(2)),
        "targets",
    ),
    (
        "data.make_loader: batch 0",
        lambda: data.make_loader(data.TensorImageDataset(X4, torch.zeros(1)), 0),
        "batch_size",
    ),
    ("data.load_digits: split", lambda: data.load_digits("val"), "split"),
    ("data.load_digits: size", lambda: data.load_digits(size=0), "size"),
    ("data.load_digits: margin too wide", lambda: data.load_digits(size=28, margin=11), "margin"),
    ("plot.architecture_layers: shape", lambda: plot.architecture_layers(nn.Linear(2, 2), (0, 2)), "input_shape"),
    ("plot.plot_architecture: per_row", lambda: plot.plot_architecture(nn.Linear(2, 2), (2,), per_row=0), "per_row"),
    ("plot.plot_block: not a block", lambda: plot.plot_block(nn.Linear(2, 2), (2, 1, 1)), "block"),
    ("plot.plot_blocks: input_shapes", lambda: plot.plot_blocks([models.BasicBlock(2, 2)], []), "input_shapes"),
    ("models.resnet_stages: not a ResNet", lambda: models.resnet_stages(nn.Linear(2, 2)), "model"),
    ("segment.threshold_mask: not 2-D", lambda: segment.threshold_mask(np.zeros((4, 4, 3))), "image"),
    ("segment.threshold_mask: sigma", lambda: segment.threshold_mask(np.zeros((8, 8)), sigma=0), "sigma"),
    (
        "segment.threshold_mask: background_size",
        lambda: segment.threshold_mask(np.zeros((8, 8)), background_size=1),
        "background_size",
    ),
    ("data.load_digits: negative margin", lambda: data.load_digits(size=28, margin=-1), "margin"),
    ("data.sample_image: unknown", lambda: data.sample_image("lena"), "sample image"),
    ("data.image_to_tensor: 4-D", lambda: data.image_to_tensor(np.zeros((1, 2, 2, 3), np.uint8)), "image"),
    ("data.tensor_to_image: 4-D", lambda: data.tensor_to_image(torch.zeros(1, 3, 2, 2)), "tensor"),
    ("data.shift_images: float shift", lambda: data.shift_images(X4, 0.5), "dx"),
    ("data.RandomShift: negative", lambda: data.RandomShift(-1), "max_shift"),
    ("data.make_shapes: n -1", lambda: data.make_shapes(-1), "n"),
    ("data.ShapesScenes: via make_shapes size", lambda: data.make_shapes(1, size=4), "size"),
    ("data.ShapesClassification: n -1", lambda: data.ShapesClassification(-1, 16), "n"),
    ("data.ShapesDetection: n -1", lambda: data.ShapesDetection(-1, 16), "n"),
    ("data.ShapesSegmentation: n -1", lambda: data.ShapesSegmentation(-1, 16), "n"),
    ("data.detection_collate: empty", lambda: data.detection_collate([]), "batch"),
    ("data.load_real: unknown", lambda: data.load_real("imagenet"), "dataset"),
    ("data.load_real: split", lambda: data.load_real("mnist", "val"), "split"),
    ("data.online_enabled: a string", lambda: data.online_enabled("no"), "online"),
    ("data.network_available: no host", lambda: data.network_available("not a url"), "url"),
    ("data.cached_checkpoint: not weights", lambda: data.cached_checkpoint(42), "weights"),
    ("data.weights_available: no host", lambda: data.weights_available("vgg19.pth"), "weights"),
    (
        "data.weights_available: timeout",
        lambda: data.weights_available("https://download.pytorch.org/models/x.pth", timeout=0),
        "timeout",
    ),
    # ------------------------------------------------------------------ detection (Chapter 9)
    ("detection.TinyYOLO: 0 anchors", lambda: detection.TinyYOLO(0), "num_anchors"),
    ("detection.activate: channels", lambda: detection.activate(torch.zeros(1, 7, 2, 2), ANCHORS), "anchors|raw"),
    (
        "detection.encode_batch: label >= C",
        lambda: detection.encode_batch([_target(BOX, torch.tensor([5]))], 2, ANCHORS, 3, 8),
        "labels",
    ),
    ("detection.YOLOLoss: negative coord", lambda: detection.YOLOLoss(ANCHORS, coord=-1.0), "coord"),
    (
        "detection.detect: 3-D images",
        lambda: detection.detect(detection.TinyYOLO(1, 1, (4, 4, 4, 4)), torch.zeros(3, 32, 32), ANCHORS),
        "images",
    ),
    # ------------------------------------------------------------------ device (Chapter 1)
    ("device.pick_device: unknown", lambda: device.pick_device("tpu"), "prefer|device"),
    ("device.device_report: unknown", lambda: device.device_report("tpu"), "device"),
    ("device.seed_everything: negative", lambda: device.seed_everything(-1), "seed"),
    ("device.device_of: not a module", lambda: device.device_of(torch.zeros(2)), "module"),
    # ------------------------------------------------------------------ faces (Chapter 11)
    ("faces.make_faces: size", lambda: faces.make_faces(2, 2, size=8), "size"),
    ("faces.load_lfw: size", lambda: faces.load_lfw(0, online=False), "size"),
    ("faces.Faces: lengths", lambda: faces.Faces(torch.zeros(2, 3, 4, 4), torch.zeros(3, dtype=torch.int64)), "ids"),
    ("faces.split_identities: float ids", lambda: faces.split_identities(torch.zeros(4), 1, 1), "ids"),
    ("faces.identity_batches: p 1", lambda: next(faces.identity_batches(torch.arange(4), 1, 2, 1)), "p"),
    ("faces.make_pairs: one person", lambda: faces.make_pairs(torch.zeros(4, dtype=torch.int64), 4), "identities"),
    ("faces.pairwise_distances: D", lambda: faces.pairwise_distances(EMB, torch.zeros(2, 3)), "dimension D"),
    ("faces.contrastive_loss: y shape", lambda: faces.contrastive_loss(EMB, EMB, torch.zeros(2)), "y"),
    ("faces.triplet_loss: negative margin", lambda: faces.triplet_loss(EMB, EMB, EMB, -1.0), "margin"),
    ("faces.random_triplets: 2-D ids", lambda: faces.random_triplets(torch.zeros(2, 2, dtype=torch.int64)), "ids"),
    ("faces.batch_hard_triplets: lengths", lambda: faces.batch_hard_triplets(EMB, torch.arange(2)), "ids"),
    ("faces.best_threshold: NaN", lambda: faces.best_threshold(torch.tensor([NAN, 1.0]), torch.ones(2)), "finite"),
    ("faces.verify: NaN embedding", lambda: faces.verify(torch.full((4,), NAN), torch.zeros(4), 1.0), "f1.*finite"),
    ("faces.verify: NaN tau", lambda: faces.verify(EMB, EMB, NAN), "tau"),
    (
        "faces.recognise: NaN query",
        lambda: faces.recognise(torch.full((1, 4), NAN), EMB, torch.arange(3), 1.0),
        "queries.*finite",
    ),
    ("faces.recognise: D", lambda: faces.recognise(torch.zeros(1, 2), EMB, torch.arange(3), 1.0), "dimension D"),
    # ------------------------------------------------------------------ metrics (Chapter 8)
    ("metrics.confusion_matrix: label >= K", lambda: metrics.confusion_matrix([0, 3], [0, 1], 2), "num_classes"),
    ("metrics.confusion_matrix: negative", lambda: metrics.confusion_matrix([0, -1], [0, 1]), "y_true"),
    ("metrics.confusion_matrix: NaN label", lambda: metrics.confusion_matrix([0, NAN], [0, 1]), "y_true"),
    ("metrics.confusion_matrix: empty", lambda: metrics.confusion_matrix([], []), "empty"),
    ("metrics.accuracy: lengths", lambda: metrics.accuracy([0, 1], [0]), "same shape"),
    (
        "metrics.precision_recall_f1: average",
        lambda: metrics.precision_recall_f1([0], [0], average="sample"),
        "average",
    ),
    (
        "metrics.classification_report: names",
        lambda: metrics.classification_report([0, 1], [0, 1], class_names=["a"]),
        "class_names",
    ),
    ("metrics.roc_curve: one class", lambda: metrics.roc_curve([0.1, 0.2], [1, 1]), "negatives"),
    ("metrics.roc_curve: NaN score", lambda: metrics.roc_curve([NAN, 0.2], [0, 1]), "finite"),
    ("metrics.auc: unsorted", lambda: metrics.auc([0, 1, 0.5], [0, 1, 1]), "sorted"),
    ("metrics.roc_auc: labels 2", lambda: metrics.roc_auc([0.1, 0.2], [0, 2]), "labels"),
    ("metrics.precision_recall_curve: no positive", lambda: metrics.precision_recall_curve([0.1], [0]), "positives"),
    (
        "metrics.average_precision: interpolation",
        lambda: metrics.average_precision([0.1], [1], interpolation="voc"),
        "interpolation",
    ),
    (
        "metrics.average_precision_per_class: label >= K",
        lambda: metrics.average_precision_per_class(np.zeros((2, 2)), [0, 2]),
        "y_true",
    ),
    (
        "metrics.show_confusion_matrix: normalize",
        lambda: metrics.show_confusion_matrix(np.eye(2), normalize="all"),
        "normalize",
    ),
    # ------------------------------------------------------------------ models (Chapters 3-6)
    ("models.summary: batch axis 0", lambda: models.summary(nn.Linear(2, 2), (0, 2)), "input_shape"),
    ("models.count_parameters: not a module", lambda: models.count_parameters("net"), "module"),
    ("models.LeNet5: variant", lambda: models.LeNet5(variant="1989"), "variant"),
    ("models.AlexNet: widths", lambda: models.AlexNet(widths="huge"), "widths"),
    ("models.VGG: depth", lambda: models.VGG(depth=17), "depth"),
    ("models.BasicBlock: channels", lambda: models.BasicBlock(0, 4), "c_in"),
    ("models.Bottleneck: width", lambda: models.Bottleneck(4, 0), "width"),
    ("models.ResNet: layers", lambda: models.ResNet(layers=(2, 2)), "layers"),
    ("models.CifarResNet: depth", lambda: models.CifarResNet(depth=21), "depth"),
    ("models.InceptionModule: channels", lambda: models.InceptionModule(0, 1, 1, 1, 1, 1, 1), "c_in"),
    ("models.GoogLeNet: five", lambda: models.GoogLeNet(five=4), "five"),
    ("models.MobileNetV1: width", lambda: models.MobileNetV1(width=0.0), "width"),
    ("models.InvertedResidual: stride", lambda: models.InvertedResidual(4, 4, 3, 6), "stride"),
    ("models.MobileNetV2: num_classes", lambda: models.MobileNetV2(num_classes=0), "num_classes"),
    ("models.LayerRow/ModelSummary: see summary", lambda: models.summary(nn.Linear(2, 2), (2.5,)), "input_shape"),
    # ------------------------------------------------------------------ plot
    ("plot.plot_history: not a history", lambda: plot.plot_history(3), "history"),
    ("plot.to_display: 5-D", lambda: plot.to_display(torch.zeros(1, 1, 1, 2, 2)), "image"),
    ("plot.show_images: titles", lambda: plot.show_images(torch.zeros(2, 1, 4, 4), titles=["a"]), "titles"),
    # ------------------------------------------------------------------ segment (Chapter 10)
    ("segment.conv_matrix: 3-D kernel", lambda: segment.conv_matrix(torch.zeros(1, 3, 3), 5), "kernel"),
    (
        "segment.conv_transpose_output_size: output_padding",
        lambda: segment.conv_transpose_output_size(4, 3, 2, 0, 2),
        "output_padding",
    ),
    (
        "segment.conv_transpose2d_scatter: weight",
        lambda: segment.conv_transpose2d_scatter(X4, torch.zeros(2, 1, 3, 3)),
        "weight",
    ),
    ("segment.DoubleConv: channels", lambda: segment.DoubleConv(0, 4), "in_channels"),
    ("segment.UpBlock: channels", lambda: segment.UpBlock(0, 4), "in_channels"),
    ("segment.UNet: depth", lambda: segment.UNet(depth=0), "depth"),
    (
        "segment.dice_loss: target >= K",
        lambda: segment.dice_loss(torch.zeros(1, 2, 2, 2), torch.full((1, 2, 2), 2)),
        "targets",
    ),
    (
        "segment.dice_loss: float targets",
        lambda: segment.dice_loss(torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2)),
        "targets",
    ),
    (
        "segment.ce_dice_loss: target shape",
        lambda: segment.ce_dice_loss(torch.zeros(1, 2, 2, 2), torch.zeros(1, 3, 2, dtype=torch.int64)),
        "targets",
    ),
    ("segment.confusion_matrix: float", lambda: segment.confusion_matrix(torch.zeros(2), torch.zeros(2), 2), "integer"),
    (
        "segment.confusion_matrix: label >= K",
        lambda: segment.confusion_matrix(torch.tensor([0]), torch.tensor([2]), 2),
        "target",
    ),
    ("segment.scores_from_confusion: empty", lambda: segment.scores_from_confusion(torch.zeros(2, 2)), "empty"),
    (
        "segment.SegmentationScores: via scores_from_confusion",
        lambda: segment.scores_from_confusion(torch.zeros(2, 3)),
        "confusion",
    ),
    (
        "segment.segmentation_scores: shapes",
        lambda: segment.segmentation_scores(torch.zeros(2, dtype=torch.int64), torch.zeros(3, dtype=torch.int64), 2),
        "same shape",
    ),
    ("segment.boundary_mask: 4-D", lambda: segment.boundary_mask(torch.zeros(1, 1, 2, 2)), "masks"),
    ("segment.predict_masks: 3-D images", lambda: segment.predict_masks(nn.Conv2d(3, 2, 1), IMG), "images"),
    # ------------------------------------------------------------------ signals (Chapter 13)
    ("signals.conv_output_shape: 4 axes", lambda: signals.conv_output_shape((2, 2, 2, 2), 1), "size"),
    ("signals.conv_cost: c_in 0", lambda: signals.conv_cost(8, 3, 0, 4), "c_in"),
    ("signals.count_mult_adds_nd: shape", lambda: signals.count_mult_adds_nd(nn.Linear(2, 2), ()), "input_shape"),
    ("signals.conv1d_naive: 2-D x", lambda: signals.conv1d_naive(torch.zeros(1, 5), torch.zeros(1, 1, 3)), "x"),
    (
        "signals.conv1d_unfold: stride 0",
        lambda: signals.conv1d_unfold(torch.zeros(1, 1, 5), torch.zeros(1, 1, 3), stride=0),
        "stride",
    ),
    ("signals.make_ecg_like: n -1", lambda: signals.make_ecg_like(-1), "n"),
    ("signals.make_moving_squares: size", lambda: signals.make_moving_squares(3, size=2), "size"),
    # ------------------------------------------------------------------ style (Chapter 12)
    (
        "style.top_activating_patches: 3-D",
        lambda: style.top_activating_patches(torch.zeros(1, 2, 2), IMG[None], [(3, 1)]),
        "activations",
    ),
    ("style.gram_matrix: 3-D", lambda: style.gram_matrix(torch.zeros(2, 2, 2)), "a"),
    (
        "style.content_cost: shapes",
        lambda: style.content_cost(torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2, 3)),
        "same shape",
    ),
    ("style.layer_style_cost: 2-D", lambda: style.layer_style_cost(torch.zeros(2, 2), torch.zeros(2, 2)), "a_s"),
    ("style.style_cost: missing layer", lambda: style.style_cost({}, {}, {"relu1_1": 1.0}), "relu1_1"),
    ("style.total_cost: negative", lambda: style.total_cost(torch.tensor(1.0), torch.tensor(1.0), -1), "alpha"),
    (
        "style.balanced_style_weights: zeros",
        lambda: style.balanced_style_weights({"r": torch.zeros(1, 2, 2, 2)}),
        "all zero",
    ),
    ("style.pretrained_available: timeout", lambda: style.pretrained_available(True, timeout=-1), "timeout"),
    ("style.VGGFeatures: unknown layer", lambda: style.VGGFeatures(["relu9_9"]), "relu9_9"),
    (
        "style.style_transfer: steps",
        lambda: style.style_transfer(
            IMG[None], IMG[None], lambda x: {}, content_layer="c", style_weights={"s": 1.0}, steps=-1
        ),
        "steps",
    ),
    (
        "style.TransferResult: via style_transfer content",
        lambda: style.style_transfer(IMG, IMG[None], lambda x: {}, content_layer="c", style_weights={"s": 1.0}),
        "content",
    ),
]

#: Public names without a bad-input row, and why.
NOT_CHECKED = {
    "models.StageRow": "a result record built by resnet_stages",
    "checks.load_into_reference": "an exercise-test helper: a mismatch is a failed test (AssertionError naming `what`)",
    "cost.Cost": "Cost + something else raises TypeError (Python's operator protocol); it is a plain record",
    "boxes.DetectionEvaluation": "a result record built by evaluate_detections (map_at is in the table)",
    "data.sample_image_names": "takes no argument",
    "device.in_colab": "takes no argument",
    "faces.Faces.subset": "indexing a tensor: torch raises IndexError as for any tensor",
    "models.LayerRow": "a result record built by summary",
    "models.ModelSummary": "a result record built by summary; row(name) raises KeyError, as a lookup by name",
    "segment.SegmentationScores": "a result record built by scores_from_confusion",
    "style.TransferResult": "a result record built by style_transfer",
}


def _covered() -> set[str]:
    names = set()
    for entry_id, _, _ in BAD:
        head = entry_id.split(":", 1)[0]
        names.update(part.strip() for part in head.split("/"))
        module, _, rest = head.partition(".")
        for alias in rest.split("/"):
            names.add(f"{module}.{alias.split('.')[0].strip()}")
    return names


@pytest.mark.parametrize("entry_id,call,pattern", BAD, ids=[entry[0] for entry in BAD])
def test_bad_input_raises_a_value_error_naming_the_argument(entry_id, call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_the_table_covers_every_public_function():
    covered = _covered() | set(NOT_CHECKED)
    missing = [
        f"{name}.{attr}"
        for name, module in MODULES.items()
        for attr in module.__all__
        if callable(getattr(module, attr)) and f"{name}.{attr}" not in covered
    ]
    assert not missing, f"public functions without a bad-input row in tests/test_bad_inputs.py: {missing}"


# --------------------------------------------------------------------------- documented edge cases


def test_documented_edge_cases_work_as_the_reference_library():
    """Edge cases that are not errors: each gives the documented value (the reference's)."""
    import torchvision

    empty = torch.zeros(0, 4)
    # empty boxes: empty results, as torchvision
    assert boxes.box_iou(empty, BOX).shape == torchvision.ops.box_iou(empty, BOX).shape == (0, 1)
    assert boxes.nms(empty, torch.zeros(0)).tolist() == torchvision.ops.nms(empty, torch.zeros(0), 0.5).tolist() == []
    # two empty boxes: IoU 0/0 = NaN, as torchvision; NMS suppresses nothing with it
    both = torch.tensor([[1.0, 1, 1, 1], [1.0, 1, 1, 1]])
    assert math.isnan(float(boxes.box_iou(both, both)[0, 1]))
    assert boxes.nms(both, torch.tensor([0.9, 0.8])).tolist() == [0, 1]
    # an image without boxes: an empty tensor of any shape, never a reshape of a non-empty one
    ev = boxes.evaluate_detections([_pred(torch.zeros(0))], [_target()], 1)
    assert ev.coco_map == 0.0
    # no ground truth of a class: AP nan, left out of the mean (pycocotools)
    assert math.isnan(boxes.average_precision([False], 0))
    # metrics: a single class, and 0/0 with zero_division
    assert metrics.accuracy([0, 0], [0, 0]) == 1.0
    assert metrics.precision_recall_f1([0, 0], [1, 1], average=None, num_classes=2)[0].tolist() == [0.0, 0.0]
    # pairwise distances of a NaN embedding are NaN (torch.cdist), never 0
    d = faces.pairwise_distances(torch.tensor([[NAN, 0.0], [1.0, 1.0]]))
    assert math.isnan(float(d[0, 1])) and float(d[1, 1]) == 0.0
    # losses propagate NaN as PyTorch's losses do (training that diverged shows NaN, it does not stop)
    assert math.isnan(float(faces.triplet_loss(torch.full((1, 2), NAN), EMB[:1, :2], EMB[:1, :2])))
    # a reused module is counted at every call
    shared = nn.Linear(2, 2)
    assert cost.count_mult_adds(nn.Sequential(shared, shared), (2,)) == 8
