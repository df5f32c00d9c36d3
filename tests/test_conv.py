import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cvbook import conv

CASES = [
    # (N, C_in, H, W, C_out, f, stride, padding, dilation)
    (1, 1, 6, 6, 1, 3, 1, 0, 1),
    (2, 3, 7, 9, 4, 3, 2, 1, 1),
    (1, 2, 10, 8, 3, 5, 1, "same", 1),
    (2, 3, 11, 11, 2, 3, 1, 2, 2),
    (1, 4, 9, 9, 5, 1, 1, 0, 1),
    (1, 2, 8, 8, 2, 3, 3, "full", 1),
    (1, 1, 12, 10, 2, 3, 2, "same", 3),
]


@pytest.mark.parametrize("case", CASES, ids=[str(c) for c in CASES])
@pytest.mark.parametrize("impl", [conv.conv2d_naive, conv.conv2d_im2col])
def test_from_scratch_conv_matches_torch(case, impl):
    n, c_in, h, w, c_out, f, s, p, d = case
    g = torch.Generator().manual_seed(hash(case) % 2**31)
    x = torch.randn(n, c_in, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(c_out, c_in, f, f, generator=g, dtype=torch.float64)
    bias = torch.randn(c_out, generator=g, dtype=torch.float64)
    pad = conv._resolve_padding(p, f, d)
    expected = F.conv2d(x, weight, bias, stride=s, padding=pad, dilation=d)
    mine = impl(x, weight, bias, stride=s, padding=p, dilation=d)
    assert mine.shape == expected.shape
    assert torch.allclose(mine, expected, atol=1e-10)
    assert torch.allclose(
        impl(x, weight, None, stride=s, padding=p, dilation=d),
        F.conv2d(x, weight, None, stride=s, padding=pad, dilation=d),
        atol=1e-10,
    )


def test_lecture_vertical_edge_example():
    image = torch.tensor(
        [
            [3, 0, 1, 2, 7, 4],
            [1, 5, 8, 9, 3, 1],
            [2, 7, 2, 5, 1, 3],
            [0, 1, 3, 1, 7, 8],
            [4, 2, 1, 6, 2, 8],
            [2, 4, 5, 2, 3, 9],
        ],
        dtype=torch.float32,
    )
    out = conv.conv2d_naive(image[None, None], conv.KERNELS["vertical_edge"][None, None])[0, 0]
    assert out.tolist() == [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]]


@pytest.mark.parametrize(
    "n,f,p,s,d,expected",
    [
        (6, 3, 0, 1, 1, 4),
        (6, 3, 1, 1, 1, 6),
        (7, 3, 0, 2, 1, 3),
        (5, 2, 0, 2, 1, 2),
        (6, 3, "valid", 1, 1, 4),
        (6, 3, "same", 1, 1, 6),
        (6, 3, "full", 1, 1, 8),
        (10, 3, 0, 1, 2, 6),
        (10, 3, "same", 1, 2, 10),
        (227, 11, 0, 4, 1, 55),
        (224, 7, 3, 2, 1, 112),
    ],
)
def test_output_size(n, f, p, s, d, expected):
    assert conv.conv_output_size(n, f, p, s, d) == expected


def test_output_size_agrees_with_torch_everywhere():
    for n in range(1, 20):
        for f in (1, 2, 3, 5):
            for s in (1, 2, 3):
                for d in (1, 2):
                    for p in (0, 1, 2):
                        span = d * (f - 1) + 1
                        if n + 2 * p < span or p > span // 2:
                            continue
                        layer = nn.Conv2d(1, 1, f, stride=s, padding=p, dilation=d)
                        got = layer(torch.zeros(1, 1, n, n)).shape[-1]
                        assert conv.conv_output_size(n, f, p, s, d) == got, (n, f, p, s, d)


def test_output_size_errors():
    with pytest.raises(ValueError, match="does not fit"):
        conv.conv_output_size(2, 5)
    with pytest.raises(ValueError, match="odd filter"):
        conv.conv_output_size(8, 4, "same")
    with pytest.raises(ValueError, match="padding must be"):
        conv.conv_output_size(8, 3, "half")
    with pytest.raises(ValueError, match="s must be"):
        conv.conv_output_size(8, 3, 0, 0)


def test_receptive_field():
    # three stacked 3x3 convs see 7x7, like one 7x7 conv
    assert conv.receptive_field([(3, 1)] * 3) == [(3, 1), (5, 1), (7, 1)]
    # conv3 - pool2 - conv3: 3, 4, 8
    assert conv.receptive_field([(3, 1), (2, 2), (3, 1)]) == [(3, 1), (4, 2), (8, 2)]
    # dilation 2 turns a 3x3 into a 5x5 field
    assert conv.receptive_field([(3, 1, 2)]) == [(5, 1)]
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, dilation=2))
    assert conv.receptive_field_of(model) == [("0", 3, 1), ("2", 4, 2), ("3", 12, 2)]
    with pytest.raises(ValueError, match="layer 0"):
        conv.receptive_field([(3,)])


@pytest.mark.parametrize("mode,torch_pool", [("max", F.max_pool2d), ("avg", F.avg_pool2d)])
@pytest.mark.parametrize("f,s,p", [(2, 2, 0), (3, 1, 1), (3, 2, 0), (3, 2, 1)])
def test_pooling_matches_torch(mode, torch_pool, f, s, p):
    x = torch.randn(2, 3, 9, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(conv.pool2d(x, f, s, mode, p), torch_pool(x, f, s, p), atol=1e-6)


def test_lecture_pooling_example():
    x = torch.tensor([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=torch.float32)
    assert conv.pool2d(x[None, None], 2)[0, 0].tolist() == [[9, 2], [6, 3]]


def test_bad_shapes_are_clear():
    x, w = torch.zeros(1, 3, 6, 6), torch.zeros(2, 3, 3, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, C_in, H, W\)"):
        conv.conv2d_im2col(x[0], w)
    with pytest.raises(ValueError, match="weight expects 2 input channels but x has 3"):
        conv.conv2d_naive(x, torch.zeros(2, 2, 3, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        conv.conv2d_im2col(x, w, torch.zeros(3))
    with pytest.raises(ValueError, match="mode"):
        conv.pool2d(x, 2, mode="median")


def test_kernels():
    assert set(conv.KERNELS) >= {
        "gaussian_blur",
        "sharpen",
        "laplacian",
        "sobel_x",
        "sobel_y",
        "scharr_x",
        "scharr_y",
        "vertical_edge",
        "horizontal_edge",
    }
    assert math.isclose(float(conv.KERNELS["gaussian_blur"].sum()), 1.0, rel_tol=1e-6)
    assert float(conv.KERNELS["laplacian"].sum()) == 0.0
    assert torch.equal(conv.KERNELS["sobel_y"], conv.KERNELS["sobel_x"].T)
