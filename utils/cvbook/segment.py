"""Semantic segmentation: transposed convolution, U-Net, losses and scores.

* :func:`conv_matrix` - a 2-D convolution (cross-correlation, one channel) written
  as a matrix that multiplies the flattened input; its transpose is the
  transposed convolution;
* :func:`conv_transpose_output_size` and :func:`conv_transpose2d_scatter` - the
  size and the from-scratch computation of ``torch.nn.functional.conv_transpose2d``;
* :class:`DoubleConv`, :class:`UpBlock` and :class:`UNet` - the U-Net of
  Ronneberger et al. (2015) with "same" padding, configurable depth and width,
  and a ``skips=False`` switch for the ablation;
* :func:`dice_loss`, :func:`ce_dice_loss` - the soft Dice loss and its sum with
  cross-entropy;
* :func:`confusion_matrix`, :func:`scores_from_confusion`, :func:`segmentation_scores`
  - pixel accuracy, per-class IoU and mean IoU; :func:`boundary_mask` - the pixels
  next to a label change, where segmentations go wrong;
* :func:`predict_masks` - the arg-max label map of a model over a batch of images.

Masks are int64 tensors (N, H, W) of class indices (0 = background in the book's
shapes data). Taught in Chapter 10.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "conv_matrix",
    "conv_transpose_output_size",
    "conv_transpose2d_scatter",
    "DoubleConv",
    "UpBlock",
    "UNet",
    "dice_loss",
    "ce_dice_loss",
    "confusion_matrix",
    "SegmentationScores",
    "scores_from_confusion",
    "segmentation_scores",
    "boundary_mask",
    "threshold_mask",
    "predict_masks",
]


def _int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _size_pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair (H, W), got {value!r}")
    return _int(f"{name}[0]", value[0], 1), _int(f"{name}[1]", value[1], 1)


# --------------------------------------------------------------------------- convolution as a matrix


def conv_matrix(
    kernel: torch.Tensor, input_size: int | tuple[int, int], stride: int = 1, padding: int = 0
) -> torch.Tensor:
    """The matrix ``C`` of a one-channel convolution (cross-correlation, as in PyTorch).

    kernel: (f_h, f_w); input_size: ``n`` or ``(H, W)``. With zero padding ``padding``
    and stride ``stride`` the output is (H_out, W_out), ``H_out = floor((H + 2p - f_h) / s) + 1``.
    Returns ``C`` of shape (H_out W_out, H W), in the kernel's dtype, such that
    ``C @ x.flatten() == conv2d(x, kernel, stride, padding).flatten()`` for every
    (H, W) input ``x`` (rows and columns in row-major order). Row ``r`` holds the
    kernel's weights at the columns of the input pixels that output ``r`` sees; the
    padding's zeros contribute nothing, so they have no column.
    ``C.T`` maps an (H_out, W_out) map back to (H, W): that is the transposed
    convolution (:func:`conv_transpose2d_scatter`). Taught in Chapter 10.
    """
    kernel = torch.as_tensor(kernel)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must have shape (f_h, f_w), got {tuple(kernel.shape)}")
    h, w = _size_pair("input_size", input_size)
    _int("stride", stride, 1)
    _int("padding", padding, 0)
    fh, fw = kernel.shape
    if h + 2 * padding < fh or w + 2 * padding < fw:
        raise ValueError(f"a {fh} x {fw} kernel does not fit an input of {h} x {w} padded by {padding}")
    h_out, w_out = (h + 2 * padding - fh) // stride + 1, (w + 2 * padding - fw) // stride + 1
    matrix = torch.zeros(h_out * w_out, h * w, dtype=kernel.dtype)
    # input coordinates of every (output pixel, kernel tap) pair
    i = torch.arange(h_out).view(-1, 1, 1, 1)
    j = torch.arange(w_out).view(1, -1, 1, 1)
    u = torch.arange(fh).view(1, 1, -1, 1)
    v = torch.arange(fw).view(1, 1, 1, -1)
    rows = (i * stride - padding + u).expand(h_out, w_out, fh, fw)
    cols = (j * stride - padding + v).expand(h_out, w_out, fh, fw)
    out_index = (i * w_out + j).expand(h_out, w_out, fh, fw)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    weights = kernel.expand(h_out, w_out, fh, fw)
    matrix[out_index[inside], (rows * w + cols)[inside]] = weights[inside]
    return matrix


def conv_transpose_output_size(
    n: int, f: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    """Output size of a transposed convolution along one axis (as ``nn.ConvTranspose2d``).

    ``(n - 1) s - 2p + d (f - 1) + output_padding + 1``: each of the ``n`` inputs
    pastes a (dilated) kernel spanning ``d (f - 1) + 1`` pixels, ``s`` pixels after the
    previous one; ``p`` pixels are then cut from each side and ``output_padding``
    adds pixels at the end (bottom/right). It inverts :func:`cvbook.conv.conv_output_size`:
    a convolution with the same ``f, s, p, d`` maps this size back to ``n``.
    ``output_padding`` must be smaller than ``stride`` or ``dilation`` (PyTorch's rule:
    it only picks among the input sizes a strided convolution maps to ``n``).
    Raises ``ValueError`` for a non-positive result. Taught in Chapter 10.
    """
    _int("n", n, 1)
    _int("f", f, 1)
    _int("stride", stride, 1)
    _int("padding", padding, 0)
    _int("output_padding", output_padding, 0)
    _int("dilation", dilation, 1)
    if output_padding >= max(stride, dilation):
        raise ValueError(
            f"output_padding must be smaller than stride or dilation, got output_padding="
            f"{output_padding} with stride={stride}, dilation={dilation}"
        )
    size = (n - 1) * stride - 2 * padding + dilation * (f - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"padding={padding} removes the whole output (size {size}) for n={n}, f={f}, stride={stride}")
    return size


def conv_transpose2d_scatter(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
) -> torch.Tensor:
    """Transposed convolution from scratch: every input value pastes a scaled kernel.

    x: (N, C_in, H, W); weight: (C_in, C_out, f_h, f_w) (PyTorch's layout for
    transposed convolutions); bias: (C_out,) or None. Input pixel (i, j) adds
    ``x[n, c, i, j] * weight[c, k]`` to the output window whose top-left corner is
    ``(i s, j s)``; overlapping windows add up. The ``padding`` outer pixels are then
    cut from each side and ``output_padding`` extra rows/columns kept at the
    bottom/right. Returns (N, C_out, H_out, W_out), sizes from
    :func:`conv_transpose_output_size`; equal to ``F.conv_transpose2d``.
    Taught in Chapter 10.
    """
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C_in, H, W), got {tuple(x.shape)}")
    if weight.ndim != 4 or weight.shape[0] != x.shape[1]:
        raise ValueError(f"weight must have shape (C_in={x.shape[1]}, C_out, f_h, f_w), got {tuple(weight.shape)}")
    if bias is not None and tuple(bias.shape) != (weight.shape[1],):
        raise ValueError(f"bias must have shape ({weight.shape[1]},), got {tuple(bias.shape)}")
    n_batch, _, h, w = x.shape
    _, c_out, fh, fw = weight.shape
    h_out = conv_transpose_output_size(h, fh, stride, padding, output_padding)
    w_out = conv_transpose_output_size(w, fw, stride, padding, output_padding)
    # the full canvas before cropping: (h - 1) s + f, plus room for output_padding
    full_h = max((h - 1) * stride + fh, h_out + padding)
    full_w = max((w - 1) * stride + fw, w_out + padding)
    canvas = torch.zeros(n_batch, c_out, full_h, full_w, dtype=torch.result_type(x, weight), device=x.device)
    for i in range(h):
        for j in range(w):
            # (N, C_in) x (C_in, C_out, fh, fw) -> (N, C_out, fh, fw)
            patch = torch.einsum("nc,ckuv->nkuv", x[:, :, i, j], weight)
            canvas[:, :, i * stride : i * stride + fh, j * stride : j * stride + fw] += patch
    out = canvas[:, :, padding : padding + h_out, padding : padding + w_out]
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out.contiguous()


# --------------------------------------------------------------------------- U-Net


class DoubleConv(nn.Sequential):
    """Two 3x3 "same" convolutions, each followed by batch norm and ReLU.

    (N, in_channels, H, W) -> (N, out_channels, H, W). Children ``0``-``5``: Conv2d
    (no bias: batch norm has one), BatchNorm2d, ReLU, Conv2d, BatchNorm2d, ReLU.
    Taught in Chapter 10.
    """

    def __init__(self, in_channels: int, out_channels: int):
        _int("in_channels", in_channels, 1)
        _int("out_channels", out_channels, 1)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class UpBlock(nn.Module):
    """One step of U-Net's expanding path.

    ``up``: a 2x2 transposed convolution with stride 2, (N, in_channels, h, w) ->
    (N, out_channels, 2h, 2w); then, with ``skip=True``, the contracting path's
    feature map ``skip`` (N, out_channels, 2h, 2w) is concatenated in front of it
    along the channels (``torch.cat([skip, up], dim=1)``, 2 out_channels channels);
    ``conv``: a :class:`DoubleConv` to ``out_channels``. With ``skip=False`` the
    concatenation is left out (and ``forward`` ignores its ``skip`` argument).
    Returns (N, out_channels, 2h, 2w). Taught in Chapter 10.
    """

    def __init__(self, in_channels: int, out_channels: int, skip: bool = True):
        super().__init__()
        _int("in_channels", in_channels, 1)
        _int("out_channels", out_channels, 1)
        self.skip = bool(skip)
        self.up = nn.ConvTranspose2d(in_channels, out_channels, kernel_size=2, stride=2)
        self.conv = DoubleConv(2 * out_channels if self.skip else out_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = self.up(x)
        if self.skip:
            if skip is None:
                raise ValueError("this UpBlock was built with skip=True: pass the skip feature map")
            if skip.shape[0] != x.shape[0] or skip.shape[2:] != x.shape[2:] or skip.shape[1] != x.shape[1]:
                raise ValueError(
                    f"skip must have shape {tuple(x.shape)} (the upsampled map's), got {tuple(skip.shape)}"
                )
            x = torch.cat([skip, x], dim=1)
        return self.conv(x)


class UNet(nn.Module):
    """U-Net: a contracting path, a bottleneck and an expanding path with skip connections.

    in_channels: image channels; num_classes: output channels (one score per class
    and pixel); depth: number of 2x2 max-poolings (and of up-blocks); width:
    channels of the first level, doubled at every level down (the paper: depth 4,
    width 64); skips: ``False`` removes the skip concatenations (the ablation).

    * contracting path: ``inc`` (:class:`DoubleConv` to ``width``), then ``depth``
      times max-pool 2x2 and a DoubleConv doubling the channels (``downs``); the last
      of them, at ``width 2^depth`` channels and 1/2^depth of the size, is the bottleneck;
    * expanding path: ``depth`` :class:`UpBlock`\\ s (``ups``), each doubling the size,
      halving the channels and concatenating the contracting path's map of the same size;
    * ``head``: a 1x1 convolution to ``num_classes``.

    Input (N, in_channels, H, W) with H and W divisible by 2^depth (``ValueError``
    otherwise); output (N, num_classes, H, W) logits. Convolutions are padded
    ("same"), so the output has the input's size; the paper's unpadded version
    shrinks 572 -> 388 and crops the skips. Taught in Chapter 10.
    """

    def __init__(self, in_channels: int = 3, num_classes: int = 4, depth: int = 4, width: int = 64, skips: bool = True):
        super().__init__()
        _int("in_channels", in_channels, 1)
        _int("num_classes", num_classes, 1)
        _int("depth", depth, 1)
        _int("width", width, 1)
        self.in_channels, self.num_classes, self.depth, self.width = in_channels, num_classes, depth, width
        self.skips = bool(skips)
        widths = [width * 2**k for k in range(depth + 1)]
        self.inc = DoubleConv(in_channels, widths[0])
        self.pool = nn.MaxPool2d(2)
        self.downs = nn.ModuleList(DoubleConv(widths[k], widths[k + 1]) for k in range(depth))
        self.ups = nn.ModuleList(UpBlock(widths[k + 1], widths[k], skip=self.skips) for k in reversed(range(depth)))
        self.head = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must have shape (N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        factor = 2**self.depth
        if x.shape[2] % factor or x.shape[3] % factor:
            raise ValueError(
                f"a U-Net of depth {self.depth} needs H and W divisible by 2^{self.depth} = "
                f"{factor}, got {x.shape[2]} x {x.shape[3]}"
            )
        x = self.inc(x)
        features = [x]
        for down in self.downs:
            x = down(self.pool(x))
            features.append(x)
        features.pop()  # the bottleneck itself is not a skip
        for up in self.ups:
            x = up(x, features.pop() if self.skips else None)
        return self.head(x)


# --------------------------------------------------------------------------- losses


def _check_logits_targets(logits: torch.Tensor, targets: torch.Tensor) -> None:
    if not isinstance(targets, torch.Tensor) or targets.is_floating_point() or targets.dtype == torch.bool:
        raise ValueError(
            f"targets must be an int64 tensor of class indices, got "
            f"{targets.dtype if isinstance(targets, torch.Tensor) else type(targets).__name__}"
        )
    if logits.ndim != 4:
        raise ValueError(f"logits must have shape (N, K, H, W), got {tuple(logits.shape)}")
    if targets.ndim != 3 or targets.shape[0] != logits.shape[0] or targets.shape[1:] != logits.shape[2:]:
        raise ValueError(
            f"targets must have shape (N, H, W) = {(logits.shape[0], *logits.shape[2:])}, got {tuple(targets.shape)}"
        )


def _check_index_range(name: str, indices: torch.Tensor, k: int) -> None:
    if indices.numel() and (int(indices.min()) < 0 or int(indices.max()) >= k):
        raise ValueError(
            f"{name} must be class indices in [0, {k}), got values in [{int(indices.min())}, {int(indices.max())}]"
        )


def dice_loss(logits: torch.Tensor, targets: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """Soft Dice loss, averaged over the classes.

    logits: (N, K, H, W) scores; targets: (N, H, W) int64 class indices in [0, K).
    With ``p`` the softmax probabilities and ``t`` the one-hot targets, summed over
    all pixels of the batch, class ``k`` has
    ``dice_k = (2 sum p_k t_k + eps) / (sum p_k + sum t_k + eps)``; the loss is
    ``1 - mean_k dice_k`` (a scalar in [0, 1]). Every class weighs the same however
    few pixels it has, which is why it helps rare classes. Taught in Chapter 10.
    """
    _check_logits_targets(logits, targets)
    k = logits.shape[1]
    _check_index_range("targets", targets, k)
    probs = logits.float().softmax(dim=1)
    one_hot = F.one_hot(targets, k).permute(0, 3, 1, 2).to(probs.dtype)
    dims = (0, 2, 3)
    inter = (probs * one_hot).sum(dims)
    total = probs.sum(dims) + one_hot.sum(dims)
    dice = (2 * inter + eps) / (total + eps)
    return 1 - dice.mean()


def median_frequency_weights(masks: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Class weights for the cross-entropy by median frequency balancing (SegNet, Badrinarayanan et al.).

    masks: int64 class indices in [0, num_classes), any shape (a whole training set of masks).
    ``w_k = median_j f_j / f_k`` with ``f_k`` the fraction of pixels of class ``k`` (for an even
    number of classes the lower of the two middle values, as ``torch.median``): a class as
    frequent as the median class weighs 1, a rarer one more, the background (most pixels) far
    less. Returns a float32 tensor of shape (num_classes,). Every class must occur (a weight
    for a class with no pixel would be infinite). Taught in Chapter 10.
    """
    if not isinstance(masks, torch.Tensor) or masks.is_floating_point() or masks.dtype == torch.bool:
        raise ValueError(
            f"masks must be an integer tensor of class indices, got "
            f"{masks.dtype if isinstance(masks, torch.Tensor) else type(masks).__name__}"
        )
    k = _int("num_classes", num_classes, 1)
    if masks.numel() == 0:
        raise ValueError("masks is empty: give at least one pixel")
    _check_index_range("masks", masks, k)
    counts = torch.bincount(masks.flatten(), minlength=k).double()
    if (counts == 0).any():
        missing = [i for i in range(k) if counts[i] == 0]
        raise ValueError(f"classes {missing} have no pixel in masks: their weight would be infinite")
    freq = counts / counts.sum()
    return (freq.median() / freq).float()


def ce_dice_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    dice_weight: float = 1.0,
    class_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy plus ``dice_weight`` times :func:`dice_loss`; shapes as there. Taught in Chapter 10.

    ``class_weights`` (K,), e.g. from :func:`median_frequency_weights`, weigh the cross-entropy
    per class (``F.cross_entropy(..., weight=)``: a weighted mean over the pixels).
    """
    _check_logits_targets(logits, targets)
    if class_weights is not None:
        if not isinstance(class_weights, torch.Tensor) or class_weights.shape != (logits.shape[1],):
            got = (
                tuple(class_weights.shape) if isinstance(class_weights, torch.Tensor) else type(class_weights).__name__
            )
            raise ValueError(
                f"class_weights must be a tensor of shape ({logits.shape[1]},), one weight per class, got {got}"
            )
        class_weights = class_weights.to(device=logits.device, dtype=logits.dtype)
    return F.cross_entropy(logits, targets, weight=class_weights) + dice_weight * dice_loss(logits, targets)


# --------------------------------------------------------------------------- scores


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Pixel confusion matrix: entry (i, j) counts the pixels of true class i predicted as j.

    pred, target: int tensors of the same shape (e.g. (N, H, W)) with values in
    [0, num_classes). Returns (num_classes, num_classes) int64 (rows: truth, columns:
    prediction, as ``sklearn.metrics.confusion_matrix``). Taught in Chapter 10.
    """
    _int("num_classes", num_classes, 1)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    if pred.is_floating_point() or target.is_floating_point():
        raise ValueError("pred and target must hold integer class indices (take argmax of the logits first)")
    pred, target = pred.reshape(-1).long(), target.reshape(-1).long()
    for name, t in (("pred", pred), ("target", target)):
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= num_classes):
            raise ValueError(f"{name} values must be in [0, {num_classes}), got [{int(t.min())}, {int(t.max())}]")
    counts = torch.bincount(target * num_classes + pred, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes).cpu()


@dataclass
class SegmentationScores:
    """Pixel accuracy, per-class IoU (K,) (NaN for a class absent from truth and prediction) and mean IoU."""

    pixel_accuracy: float
    iou: torch.Tensor
    mean_iou: float
    confusion: torch.Tensor


def scores_from_confusion(confusion: torch.Tensor) -> SegmentationScores:
    """Scores from a (K, K) confusion matrix (rows truth, columns prediction).

    pixel accuracy = trace / total; ``IoU_k = C_kk / (sum_j C_kj + sum_i C_ik - C_kk)``
    (intersection over union of the true and predicted pixels of class k); mean IoU
    = the mean of the IoUs of the classes that occur in truth or prediction. Sum the
    confusion matrices of several batches to score a whole data set.
    Taught in Chapter 10.
    """
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must have shape (K, K), got {tuple(confusion.shape)}")
    cm = confusion.double()
    total = cm.sum()
    if total == 0:
        raise ValueError("the confusion matrix is empty (no pixels)")
    tp = cm.diag()
    union = cm.sum(0) + cm.sum(1) - tp
    iou = torch.where(union > 0, tp / union.clamp(min=1), torch.full_like(tp, float("nan")))
    return SegmentationScores(float(tp.sum() / total), iou, float(iou.nanmean()), confusion)


def segmentation_scores(pred: torch.Tensor, target: torch.Tensor, num_classes: int) -> SegmentationScores:
    """Pixel accuracy, per-class IoU and mean IoU of predicted masks; see :func:`scores_from_confusion`.

    pred, target: int masks of the same shape, e.g. (N, H, W). Taught in Chapter 10.
    """
    return scores_from_confusion(confusion_matrix(pred, target, num_classes))


def boundary_mask(masks: torch.Tensor, width: int = 1) -> torch.Tensor:
    """Pixels within ``width`` pixels (chessboard distance) of a label change.

    masks: (N, H, W) or (H, W) int labels. Returns a bool tensor of the same shape,
    True where the (2 width + 1)^2 window around the pixel holds more than one label
    (the image border is not a boundary). Taught in Chapter 10.
    """
    _int("width", width, 1)
    if masks.ndim not in (2, 3):
        raise ValueError(f"masks must have shape (N, H, W) or (H, W), got {tuple(masks.shape)}")
    m = masks.reshape(-1, 1, *masks.shape[-2:]).float()
    m = F.pad(m, (width,) * 4, mode="replicate")
    k = 2 * width + 1
    high = F.max_pool2d(m, k, stride=1)
    low = -F.max_pool2d(-m, k, stride=1)
    return (high != low).reshape(masks.shape)


def threshold_mask(image, *, sigma: float = 2.0, background_size: int = 51, min_size: int = 100):
    """A two-class label map of bright objects on a darker, unevenly lit background, by a rule.

    image: a (H, W) grayscale array (e.g. scikit-image's ``coins``). The rule: smooth with a
    Gaussian of standard deviation ``sigma``; subtract the background, estimated by a grey
    opening with a ``background_size`` square (a minimum filter then a maximum filter, which
    erases every object smaller than the square); threshold at Otsu's level; fill holes; drop
    regions of fewer than ``min_size`` pixels. Returns a (H, W) int64 NumPy array, 1 for
    object and 0 for background. No learning: a baseline that shows what a segmentation
    target looks like on a real photo. Taught in Chapter 10 (used in Chapter 1's tour).
    """
    import numpy as np
    from scipy import ndimage
    from skimage import filters, morphology

    image = np.asarray(image)
    if image.ndim != 2:
        raise ValueError(f"image must be a (H, W) grayscale array, got shape {image.shape}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    _int("background_size", background_size, 3)
    _int("min_size", min_size, 0)
    smooth = filters.gaussian(image.astype(float), sigma=sigma, preserve_range=True)
    flat = smooth - ndimage.grey_opening(smooth, size=(background_size, background_size))
    mask = ndimage.binary_fill_holes(flat > filters.threshold_otsu(flat))
    return morphology.remove_small_objects(mask, max_size=min_size).astype(np.int64)


@torch.no_grad()
def predict_masks(model: nn.Module, images: torch.Tensor, batch_size: int = 64) -> torch.Tensor:
    """Arg-max label maps of ``model`` (in eval mode) for images (N, C, H, W) -> (N, H, W) int64.

    Runs on the device of the model's parameters. Taught in Chapter 10.
    """
    if images.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W), got {tuple(images.shape)}")
    _int("batch_size", batch_size, 1)
    model.eval()
    dev = next(model.parameters()).device
    out = [model(images[k : k + batch_size].to(dev)).argmax(dim=1).cpu() for k in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, *images.shape[2:], dtype=torch.int64)
