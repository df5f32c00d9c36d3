"""A small YOLO-style detector: model, loss and inference.

* :class:`TinyYOLO` - a few conv layers that turn an (N, 3, H, W) image into raw
  outputs (N, S, S, B, 5 + C) on an S x S grid with B anchors per cell;
* :func:`activate` - raw outputs -> the lecture's layout ``[p_c, b_x, b_y, b_h, b_w,
  c_1 .. c_C]`` (sigmoid, sigmoid offsets in the cell, anchor x exp(size), softmax);
* :func:`encode_batch` - :func:`cvbook.boxes.encode_yolo_targets` for a batch of targets;
* :class:`YOLOLoss` - the training loss: binary cross-entropy on p_c (every slot),
  and for the slots that hold an object, offsets, log-sizes and class cross-entropy;
* :func:`detect` - activate, decode, keep scores > a threshold and run per-class NMS.

Taught in Chapter 9.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import boxes as B
from .device import device_of

__all__ = ["TinyYOLO", "activate", "encode_batch", "YOLOLoss", "detect"]


def _conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class TinyYOLO(nn.Module):
    """A YOLO-style detector for small images.

    ``widths`` gives the channels of the stages; each stage but the last is followed by a
    2x2 max-pool, so an (N, 3, H, W) input gives an S = H / 2**(len(widths) - 1) grid. A 1x1
    convolution predicts B * (5 + C) numbers per cell; ``forward`` returns them as
    (N, S, S, B, 5 + C), raw (apply :func:`activate`). Taught in Chapter 9.
    """

    def __init__(self, num_anchors: int = 2, num_classes: int = 3, widths: Sequence[int] = (16, 32, 48, 64)):
        super().__init__()
        if num_anchors < 1 or num_classes < 1 or len(widths) < 1:
            raise ValueError("need num_anchors >= 1, num_classes >= 1 and at least one width")
        self.num_anchors, self.num_classes = num_anchors, num_classes
        layers: list[nn.Module] = []
        c_in = 3
        for i, width in enumerate(widths):
            layers.append(_conv(c_in, width))
            if i < len(widths) - 1:
                layers.append(nn.MaxPool2d(2))
            c_in = width
        layers.append(_conv(c_in, c_in))
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(c_in, num_anchors * (5 + num_classes), 1)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"x must have shape (N, 3, H, W), got {tuple(x.shape)}")
        out = self.head(self.features(x))  # (N, B * (5 + C), S, S)
        n, _, s_h, s_w = out.shape
        out = out.view(n, self.num_anchors, 5 + self.num_classes, s_h, s_w)
        return out.permute(0, 3, 4, 1, 2).contiguous()  # (N, S, S, B, 5 + C)


def _anchors(anchors, like: Tensor) -> Tensor:
    a = torch.as_tensor(anchors, dtype=like.dtype, device=like.device)
    if a.dim() != 2 or a.shape[1] != 2 or a.shape[0] != like.shape[-2]:
        raise ValueError(f"anchors must have shape ({like.shape[-2]}, 2), got {tuple(a.shape)}")
    return a


def activate(raw: Tensor, anchors) -> Tensor:
    """Raw outputs (..., S, S, B, 5 + C) -> the lecture's layout, same shape.

    p_c = sigmoid(t_o); b_x, b_y = sigmoid(t_x), sigmoid(t_y) (offsets inside the cell);
    b_h, b_w = anchor_h * exp(t_h), anchor_w * exp(t_w) (cell units); class probabilities
    = softmax. anchors: (B, 2) (height, width) in cell units. Taught in Chapter 9.
    """
    a = _anchors(anchors, raw)
    p = torch.sigmoid(raw[..., 0:1])
    xy = torch.sigmoid(raw[..., 1:3])
    hw = a * torch.exp(raw[..., 3:5].clamp(max=8.0))
    cls = torch.softmax(raw[..., 5:], dim=-1)
    return torch.cat([p, xy, hw, cls], dim=-1)


def encode_batch(targets: Sequence[dict], grid_size: int, anchors, num_classes: int, image_size) -> Tensor:
    """Stack :func:`cvbook.boxes.encode_yolo_targets` over a list of ``{"boxes", "labels"}``
    targets -> (N, S, S, B, 5 + C). Taught in Chapter 9."""
    return torch.stack(
        [B.encode_yolo_targets(t["boxes"], t["labels"], grid_size, anchors, num_classes, image_size) for t in targets]
    )


class YOLOLoss(nn.Module):
    """YOLO training loss for raw outputs and encoded targets, both (N, S, S, B, 5 + C).

    ``BCE(p_c)`` over every slot (slots without an object weighted ``no_object``), plus,
    over the slots that hold an object, ``coord`` x [BCE of the offsets b_x, b_y +
    squared error of the log-sizes log(b_h / anchor_h), log(b_w / anchor_w)] and the class
    cross-entropy; sums are divided by the batch size. Taught in Chapter 9.
    """

    def __init__(self, anchors, coord: float = 5.0, no_object: float = 0.5):
        super().__init__()
        for name, value in (("coord", coord), ("no_object", no_object)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a weight >= 0, got {value!r}")
        self.register_buffer("anchors", B._check_anchors(anchors))
        self.coord, self.no_object = coord, no_object

    def forward(self, raw: Tensor, target: Tensor) -> Tensor:
        if raw.shape != target.shape:
            raise ValueError(
                f"raw outputs and targets must have the same shape, got {tuple(raw.shape)} and {tuple(target.shape)}"
            )
        n = raw.shape[0]
        obj = target[..., 0]
        weight = torch.where(obj > 0, torch.ones_like(obj), torch.full_like(obj, self.no_object))
        loss_obj = F.binary_cross_entropy_with_logits(raw[..., 0], obj, weight=weight, reduction="sum")
        mask = obj > 0
        if mask.any():
            r, t = raw[mask], target[mask]  # (K, 5 + C)
            a = _anchors(self.anchors, raw).expand(*raw.shape[:-1], 2)[mask]
            loss_xy = F.binary_cross_entropy_with_logits(r[:, 1:3], t[:, 1:3], reduction="sum")
            loss_hw = F.mse_loss(r[:, 3:5], torch.log(t[:, 3:5] / a), reduction="sum")
            loss_cls = F.cross_entropy(r[:, 5:], t[:, 5:].argmax(-1), reduction="sum")
            loss_box = self.coord * (loss_xy + loss_hw) + loss_cls
        else:
            loss_box = raw.sum() * 0.0
        return (loss_obj + loss_box) / n


@torch.no_grad()
def detect(
    model: nn.Module,
    images: Tensor,
    anchors,
    score_threshold: float = 0.05,
    iou_threshold: float = 0.5,
    nms: bool = True,
) -> list[dict[str, Tensor]]:
    """Detections for a batch of images (N, 3, H, W): one ``{"boxes", "scores", "labels"}``
    per image, boxes as pixel corners, scores ``p_c * max_k c_k`` above ``score_threshold``,
    after per-class non-max suppression at ``iou_threshold`` (unless ``nms=False``).
    Taught in Chapter 9."""
    if not isinstance(images, Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images must have shape (N, C, H, W), got {shape}")
    was_training = model.training
    model.eval()
    y = activate(model(images.to(device_of(model))), anchors)  # the model may sit on a GPU
    model.train(was_training)
    h, w = images.shape[-2:]
    results = []
    for yi in y:
        d = B.decode_yolo(yi.float().cpu(), (h, w), score_threshold)
        if nms:
            keep = B.batched_nms(d["boxes"], d["scores"], d["labels"], iou_threshold)
            d = {k: v[keep] for k, v in d.items()}
        results.append(d)
    return results
