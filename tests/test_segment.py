import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import confusion_matrix as sk_confusion_matrix, jaccard_score
from torch import nn

from cvbook import conv, data, segment

KERNEL = torch.tensor([[1, 4, 1], [1, 4, 3], [3, 3, 1]], dtype=torch.float32)
INPUT = torch.tensor([[4, 5, 8, 7], [1, 8, 8, 8], [3, 6, 6, 4], [6, 5, 7, 8]], dtype=torch.float32)


def test_lecture_convolution_matrix():
    c = segment.conv_matrix(KERNEL, 4)
    assert c.shape == (4, 16)
    assert c.int().tolist() == [
        [1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0, 0],
        [0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1, 0],
        [0, 0, 0, 0, 0, 1, 4, 1, 0, 1, 4, 3, 0, 3, 3, 1],
    ]
    assert (c @ INPUT.flatten()).view(2, 2).tolist() == [[122, 148], [126, 134]]


@pytest.mark.parametrize(
    "h,w,fh,fw,s,p",
    [
        (4, 4, 3, 3, 1, 0),
        (5, 5, 3, 3, 2, 1),
        (6, 7, 3, 2, 2, 0),
        (7, 5, 1, 1, 3, 0),
        (5, 6, 4, 3, 1, 2),
        (8, 8, 3, 3, 3, 1),
        (3, 3, 3, 3, 1, 1),
        (9, 4, 5, 2, 2, 2),
    ],
)
def test_conv_matrix_matches_conv2d_and_its_transpose_conv_transpose2d(h, w, fh, fw, s, p):
    g = torch.Generator().manual_seed(h * 100 + w * 10 + s)
    kernel = torch.randn(fh, fw, generator=g, dtype=torch.float64)
    x = torch.randn(h, w, generator=g, dtype=torch.float64)
    c = segment.conv_matrix(kernel, (h, w), stride=s, padding=p)
    expected = F.conv2d(x[None, None], kernel[None, None], stride=s, padding=p)[0, 0]
    assert c.shape == (expected.numel(), h * w)
    assert torch.allclose((c @ x.flatten()).view(expected.shape), expected)
    y = torch.randn(expected.shape, generator=g, dtype=torch.float64)
    out_pad_h, out_pad_w = (h + 2 * p - fh) % s, (w + 2 * p - fw) % s
    transposed = F.conv_transpose2d(
        y[None, None], kernel[None, None], stride=s, padding=p, output_padding=(out_pad_h, out_pad_w)
    )[0, 0]
    assert transposed.shape == (h, w)
    assert torch.allclose((c.T @ y.flatten()).view(h, w), transposed)


def test_conv_matrix_errors():
    with pytest.raises(ValueError, match="kernel"):
        segment.conv_matrix(torch.ones(1, 3, 3), 4)
    with pytest.raises(ValueError, match="does not fit"):
        segment.conv_matrix(torch.ones(5, 5), 3)
    with pytest.raises(ValueError, match="stride"):
        segment.conv_matrix(torch.ones(3, 3), 4, stride=0)
    with pytest.raises(ValueError, match="input_size"):
        segment.conv_matrix(torch.ones(3, 3), (4, 4, 4))


def test_conv_transpose_output_size_matches_pytorch_everywhere():
    checked = 0
    for n, f, s, p, op, d in itertools.product(range(1, 7), (1, 2, 3, 4), (1, 2, 3), (0, 1, 2), (0, 1, 2), (1, 2)):
        layer = nn.ConvTranspose2d(1, 1, f, stride=s, padding=p, output_padding=op, dilation=d)
        try:
            expected = layer(torch.zeros(1, 1, n, n)).shape[-1]
        except RuntimeError:
            expected = None
        if expected is None or expected < 1:
            with pytest.raises(ValueError):
                segment.conv_transpose_output_size(n, f, s, p, op, d)
        else:
            assert segment.conv_transpose_output_size(n, f, s, p, op, d) == expected, (n, f, s, p, op, d)
            checked += 1
    assert checked > 800


@pytest.mark.parametrize(
    "n,f,s,p,d", [(4, 3, 1, 0, 1), (7, 3, 2, 1, 1), (8, 2, 2, 0, 1), (9, 5, 3, 2, 1), (10, 3, 1, 2, 2)]
)
def test_transpose_inverts_conv_output_size(n, f, s, p, d):
    m = conv.conv_output_size(n, f, p, s, d)
    op = (n + 2 * p - d * (f - 1) - 1) % s
    assert segment.conv_transpose_output_size(m, f, s, p, op, d) == n


@pytest.mark.parametrize(
    "cin,cout,h,w,f,s,p,op",
    [
        (1, 1, 2, 2, 3, 1, 0, 0),
        (1, 1, 2, 2, 3, 2, 1, 0),
        (2, 3, 3, 4, 3, 2, 1, 1),
        (3, 2, 4, 4, 2, 2, 0, 0),
        (2, 2, 3, 3, 4, 3, 1, 2),
        (1, 4, 5, 2, 1, 2, 0, 1),
    ],
)
def test_scatter_matches_conv_transpose2d(cin, cout, h, w, f, s, p, op):
    g = torch.Generator().manual_seed(cin * 7 + cout + h + f)
    x = torch.randn(2, cin, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(cin, cout, f, f, generator=g, dtype=torch.float64)
    bias = torch.randn(cout, generator=g, dtype=torch.float64)
    expected = F.conv_transpose2d(x, weight, bias, stride=s, padding=p, output_padding=op)
    mine = segment.conv_transpose2d_scatter(x, weight, bias, stride=s, padding=p, output_padding=op)
    assert mine.shape == expected.shape
    assert torch.allclose(mine, expected)


@pytest.mark.parametrize("depth,width,size", [(1, 4, 6), (2, 4, 20), (3, 8, 48), (4, 2, 32)])
def test_unet_shapes(depth, width, size):
    for skips in (True, False):
        net = segment.UNet(3, 5, depth=depth, width=width, skips=skips).eval()
        out = net(torch.randn(2, 3, size, size + 2**depth))
        assert out.shape == (2, 5, size, size + 2**depth)


def test_unet_structure_and_skip_ablation():
    net = segment.UNet(3, 4, depth=3, width=8)
    no_skip = segment.UNet(3, 4, depth=3, width=8, skips=False)
    assert [m.up.out_channels for m in net.ups] == [32, 16, 8]
    assert [m.conv[0].in_channels for m in net.ups] == [64, 32, 16]
    assert [m.conv[0].in_channels for m in no_skip.ups] == [32, 16, 8]
    assert net.downs[-1][3].out_channels == 64
    # the paper's configuration: 23 convolution layers (18 3x3, 4 up-convolutions, one 1x1)
    paper = segment.UNet(1, 2, depth=4, width=64)
    convs = [m for m in paper.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert len(convs) == 23


def test_unet_errors():
    net = segment.UNet(3, 4, depth=3, width=4)
    with pytest.raises(ValueError, match="divisible by 2\\^3 = 8"):
        net(torch.zeros(1, 3, 44, 48))
    with pytest.raises(ValueError, match="x must have shape"):
        net(torch.zeros(1, 1, 48, 48))
    with pytest.raises(ValueError, match="depth"):
        segment.UNet(depth=0)
    block = segment.UpBlock(8, 4)
    with pytest.raises(ValueError, match="skip"):
        block(torch.zeros(1, 8, 3, 3))
    with pytest.raises(ValueError, match="skip must have shape"):
        block(torch.zeros(1, 8, 3, 3), torch.zeros(1, 4, 5, 5))


def test_up_block_concatenates_skip_first():
    block = segment.UpBlock(6, 3).eval()
    x, skip = torch.randn(2, 6, 4, 4), torch.randn(2, 3, 8, 8)
    expected = block.conv(torch.cat([skip, block.up(x)], dim=1))
    assert torch.allclose(block(x, skip), expected)


def test_dice_loss():
    targets = torch.tensor([[[0, 1], [2, 1]]])
    perfect = F.one_hot(targets, 3).permute(0, 3, 1, 2).float() * 100
    assert segment.dice_loss(perfect, targets, eps=0.0).item() == pytest.approx(0.0, abs=1e-6)
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 5, 6, generator=g)
    t = torch.randint(0, 4, (3, 5, 6), generator=g)
    p = logits.softmax(1)
    expected = 0.0
    for k in range(4):
        inter = (p[:, k] * (t == k)).sum()
        expected += (2 * inter + 1) / (p[:, k].sum() + (t == k).sum() + 1)
    assert segment.dice_loss(logits, t).item() == pytest.approx(1 - expected.item() / 4, rel=1e-5)
    ce_dice = segment.ce_dice_loss(logits, t, dice_weight=0.5)
    assert ce_dice.item() == pytest.approx(
        F.cross_entropy(logits, t).item() + 0.5 * (1 - expected.item() / 4), rel=1e-5
    )
    with pytest.raises(ValueError, match="targets"):
        segment.dice_loss(logits, t[0])
    with pytest.raises(ValueError, match="class indices"):
        segment.dice_loss(logits, t + 4)


def test_median_frequency_weights_and_weighted_ce_dice():
    # 10 pixels: class 0 x 6, class 1 x 3, class 2 x 1 -> f = (0.6, 0.3, 0.1), median 0.3
    masks = torch.tensor([[0, 0, 0, 0, 0, 0, 1, 1, 1, 2]])
    w = segment.median_frequency_weights(masks, 3)
    assert w.dtype == torch.float32 and w.tolist() == pytest.approx([0.5, 1.0, 3.0])
    g = torch.Generator().manual_seed(2)
    logits = torch.randn(2, 3, 4, 5, generator=g)
    t = torch.randint(0, 3, (2, 4, 5), generator=g)
    # a weighted mean over the pixels: sum_i w[t_i] * ce_i / sum_i w[t_i], as PyTorch defines it
    ce = F.cross_entropy(logits, t, reduction="none")
    by_hand = (w[t] * ce).sum() / w[t].sum()
    got = segment.ce_dice_loss(logits, t, dice_weight=0.0, class_weights=w)
    assert got.item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert segment.ce_dice_loss(logits, t, class_weights=torch.ones(3)).item() == pytest.approx(
        segment.ce_dice_loss(logits, t).item(), rel=1e-6
    )
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        segment.ce_dice_loss(logits, t, class_weights=torch.ones(4))
    with pytest.raises(ValueError, match="no pixel"):
        segment.median_frequency_weights(torch.tensor([0, 0, 2]), 3)
    with pytest.raises(ValueError, match="class indices"):
        segment.median_frequency_weights(torch.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="integer tensor"):
        segment.median_frequency_weights(torch.tensor([0.0, 1.0]), 2)
    with pytest.raises(ValueError, match="num_classes"):
        segment.median_frequency_weights(torch.tensor([0, 1]), 0)


def test_scores_match_sklearn():
    g = torch.Generator().manual_seed(1)
    for _ in range(5):
        k = 4
        target = torch.randint(0, k, (3, 16, 16), generator=g)
        pred = torch.where(
            torch.rand(target.shape, generator=g) < 0.7, target, torch.randint(0, k, target.shape, generator=g)
        )
        scores = segment.segmentation_scores(pred, target, k)
        cm = sk_confusion_matrix(target.flatten().numpy(), pred.flatten().numpy(), labels=list(range(k)))
        assert np.array_equal(scores.confusion.numpy(), cm)
        iou = jaccard_score(target.flatten().numpy(), pred.flatten().numpy(), labels=list(range(k)), average=None)
        assert np.allclose(scores.iou.numpy(), iou)
        assert scores.mean_iou == pytest.approx(float(iou.mean()))
        assert scores.pixel_accuracy == pytest.approx(float((pred == target).float().mean()))


def test_absent_class_is_nan_and_left_out_of_the_mean():
    target = torch.tensor([[0, 0, 1, 1]])
    pred = torch.tensor([[0, 1, 1, 1]])
    s = segment.segmentation_scores(pred, target, 3)
    assert s.iou[0].item() == pytest.approx(0.5)
    assert s.iou[1].item() == pytest.approx(2 / 3)
    assert math.isnan(s.iou[2].item())
    assert s.mean_iou == pytest.approx((0.5 + 2 / 3) / 2)
    assert s.pixel_accuracy == pytest.approx(0.75)
    # a class predicted but absent from the truth has IoU 0
    s = segment.segmentation_scores(torch.tensor([2, 0]), torch.tensor([0, 0]), 3)
    assert s.iou[2].item() == 0.0 and s.iou[0].item() == 0.5


def test_score_errors():
    with pytest.raises(ValueError, match="same shape"):
        segment.confusion_matrix(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="integer"):
        segment.confusion_matrix(torch.zeros(4), torch.zeros(4, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="pred values"):
        segment.confusion_matrix(torch.tensor([0, 5]), torch.tensor([0, 1]), 2)
    with pytest.raises(ValueError, match="empty"):
        segment.scores_from_confusion(torch.zeros(3, 3, dtype=torch.long))


def test_boundary_mask():
    mask = torch.zeros(6, 6, dtype=torch.long)
    mask[2:4, 2:4] = 1
    b = segment.boundary_mask(mask)
    assert b.sum().item() == 16 and b[2:4, 2:4].all() and not b[0].any()
    assert segment.boundary_mask(mask, width=2).sum().item() == 36
    assert not segment.boundary_mask(torch.zeros(2, 5, 5, dtype=torch.long)).any()


def test_predict_masks():
    net = segment.UNet(3, 4, depth=1, width=2)
    masks = segment.predict_masks(net, torch.rand(5, 3, 8, 8), batch_size=2)
    assert masks.shape == (5, 8, 8) and masks.dtype == torch.int64
    assert not net.training


def test_threshold_mask_finds_the_coins():
    """The rule of Chapter 10 on scikit-image's coins: 24 separate coins, about a third of the pixels."""
    from scipy import ndimage

    coins = data.sample_image("coins")
    mask = segment.threshold_mask(coins)
    assert mask.shape == coins.shape and mask.dtype == np.int64 and set(np.unique(mask)) == {0, 1}
    assert ndimage.label(mask)[1] == 24
    assert 0.25 < mask.mean() < 0.40
    # a bright square on a dark, sloping background is found whole, and nothing else
    ramp = np.add.outer(np.linspace(0, 60, 80), np.zeros(80))
    ramp[30:50, 30:50] += 120
    found = segment.threshold_mask(ramp, sigma=1, background_size=31, min_size=10)
    assert found[35:45, 35:45].all() and found[:20].sum() == 0 and found[60:].sum() == 0
