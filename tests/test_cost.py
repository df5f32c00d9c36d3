import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cvbook import cost, models


def test_lecture_inception_numbers():
    assert cost.conv_mult_adds(28, 28, 32, 5, 192) == 120_422_400
    assert cost.conv_mult_adds(28, 28, 16, 1, 192) == 2_408_448
    assert cost.conv_mult_adds(28, 28, 32, 5, 16) == 10_035_200


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Conv2d(3, 8, 3, padding=1), (3, 16, 16)),
    (lambda: nn.Conv2d(16, 16, 3, groups=16), (16, 10, 10)),
    (lambda: nn.Conv2d(8, 12, 3, stride=2, groups=4, dilation=2), (8, 17, 17)),
    (lambda: models.InceptionModule(192, 64, 96, 128, 16, 32, 32), (192, 28, 28)),
    (lambda: models.LeNet5(), (1, 32, 32)),
])
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
