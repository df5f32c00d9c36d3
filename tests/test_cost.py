import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cvbook import cost, models


def test_lecture_inception_numbers():
    assert cost.conv_mult_adds(28, 28, 32, 5, 192) == 120_422_400
    assert cost.conv_mult_adds(28, 28, 16, 1, 192) == 2_408_448
    assert cost.conv_mult_adds(28, 28, 32, 5, 16) == 10_035_200


@pytest.mark.parametrize(
    "make,shape",
    [
        (lambda: nn.Conv2d(3, 8, 3, padding=1), (3, 16, 16)),
        (lambda: nn.Conv2d(16, 16, 3, groups=16), (16, 10, 10)),
        (lambda: nn.Conv2d(8, 12, 3, stride=2, groups=4, dilation=2), (8, 17, 17)),
        (lambda: models.InceptionModule(192, 64, 96, 128, 16, 32, 32), (192, 28, 28)),
        (lambda: models.LeNet5(), (1, 32, 32)),
    ],
)
def test_count_matches_torch_flop_counter(make, shape):
    """torch's FlopCounterMode reports 2 x multiply-adds on a forward pass (convolutions, matmuls)."""
    model = make().eval()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, *shape))
    assert cost.count_mult_adds(model, shape) * 2 == counter.get_total_flops()


def test_by_layer_and_meta():
    with torch.device("meta"):
        vgg = models.VGG(16)
    layers = cost.count_mult_adds(vgg, (3, 224, 224), device="meta", by_layer=True)
    assert layers["features.0"] == 224 * 224 * 64 * 3 * 3 * 3
    assert sum(layers.values()) == cost.count_mult_adds(vgg, (3, 224, 224), device="meta")


def test_bad_arguments():
    with pytest.raises(ValueError, match="f must be"):
        cost.conv_mult_adds(4, 4, 8, 0, 3)
    with pytest.raises(ValueError, match="groups"):
        cost.conv_mult_adds(4, 4, 8, 3, 3, groups=2)


def test_mobilenet_cost_formulas_reproduce_the_lectures():
    assert cost.standard_conv_cost(3, 3, 5, 4) == cost.Cost(2160, 135)
    assert cost.depthwise_cost(3, 3, 4).mult_adds == 432 and cost.pointwise_cost(3, 5, 4).mult_adds == 240
    assert cost.depthwise_cost(3, 4, 128).mult_adds == 589_824
    assert (cost.depthwise_cost(3, 4, 128) + cost.pointwise_cost(4, 10, 128)).mult_adds == 1_245_184
    rows = [
        cost.standard_conv_cost(3, 512, 512, 14),
        cost.separable_cost(3, 512, 512, 14),
        cost.separable_cost(3, 512, 512, 14, alpha=0.75),
        cost.separable_cost(3, 512, 512, 14, 0.75, 0.714),
    ]
    assert [round(r.mult_adds / 1e6, 1) for r in rows] == [462.4, 52.3, 29.6, 15.1]
    assert [round(r.params / 1e6, 2) for r in rows] == [2.36, 0.27, 0.15, 0.15]
    assert cost.separable_ratio(5, 3) == pytest.approx(672 / 2160, abs=0.02)
    with pytest.raises(ValueError, match="alpha"):
        cost.separable_cost(3, 8, 8, 4, alpha=1.5)


def test_separable_formulas_agree_with_built_layers():
    for d_k, m, n, d_f in [(3, 8, 16, 10), (5, 6, 4, 7), (3, 32, 64, 14)]:
        dw = nn.Conv2d(m, m, d_k, padding=d_k // 2, groups=m, bias=False)
        pw = nn.Conv2d(m, n, 1, bias=False)
        std = nn.Conv2d(m, n, d_k, padding=d_k // 2, bias=False)
        assert (
            cost.count_mult_adds(nn.Sequential(dw, pw), (m, d_f, d_f)) == cost.separable_cost(d_k, m, n, d_f).mult_adds
        )
        assert models.count_parameters(nn.Sequential(dw, pw)) == cost.separable_cost(d_k, m, n, d_f).params
        assert cost.count_mult_adds(std, (m, d_f, d_f)) == cost.standard_conv_cost(d_k, m, n, d_f).mult_adds
