import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cvbook import conv, signals

CASES_1D = [
    # (N, C_in, L, C_out, f, stride, padding, dilation)
    (1, 1, 14, 1, 5, 1, 0, 1),
    (2, 3, 20, 4, 3, 2, 1, 1),
    (1, 2, 17, 3, 5, 1, "same", 1),
    (2, 3, 23, 2, 3, 1, 2, 2),
    (1, 4, 9, 5, 1, 1, 0, 1),
    (1, 2, 8, 2, 3, 3, "full", 1),
    (3, 1, 30, 2, 4, 3, 0, 3),
]


@pytest.mark.parametrize("case", CASES_1D, ids=[str(c) for c in CASES_1D])
@pytest.mark.parametrize("impl", [signals.conv1d_naive, signals.conv1d_unfold])
def test_conv1d_matches_torch(case, impl):
    n, c_in, length, c_out, f, s, p, d = case
    g = torch.Generator().manual_seed(sum(map(hash, map(str, case))) % 2**31)
    x = torch.randn(n, c_in, length, generator=g, dtype=torch.float64)
    weight = torch.randn(c_out, c_in, f, generator=g, dtype=torch.float64)
    bias = torch.randn(c_out, generator=g, dtype=torch.float64)
    pad = conv._resolve_padding(p, f, d)
    expected = F.conv1d(x, weight, bias, stride=s, padding=pad, dilation=d)
    mine = impl(x, weight, bias, stride=s, padding=p, dilation=d)
    assert mine.shape == expected.shape
    assert torch.allclose(mine, expected, atol=1e-10)
    assert torch.allclose(
        impl(x, weight, stride=s, padding=p, dilation=d),
        F.conv1d(x, weight, stride=s, padding=pad, dilation=d),
        atol=1e-10,
    )


def test_lecture_1d_examples():
    step = torch.tensor([[[10.0, 10, 10, 0, 0, 0]]])
    edge = torch.tensor([[[1.0, 0, -1]]])
    assert signals.conv1d_naive(step, edge).flatten().tolist() == [0, 10, 10, 0]
    x = torch.tensor([[[1.0, 20, 15, 3, 18, 12, 4, 17]]])
    w = torch.tensor([[[1.0, 3, 10, 3, 1]]])
    assert signals.conv1d_unfold(x, w).flatten().tolist() == [238, 161, 244, 206]


def test_conv1d_errors():
    x, w = torch.zeros(1, 3, 10), torch.zeros(2, 3, 3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, C_in, L\)"):
        signals.conv1d_naive(x[0], w)
    with pytest.raises(ValueError, match=r"weight must have shape \(C_out, C_in, f\)"):
        signals.conv1d_unfold(x, w[0])
    with pytest.raises(ValueError, match="weight expects 2 input channels but x has 3"):
        signals.conv1d_naive(x, torch.zeros(2, 2, 3))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        signals.conv1d_unfold(x, w, torch.zeros(3))
    with pytest.raises(ValueError, match="does not fit"):
        signals.conv1d_unfold(torch.zeros(1, 3, 2), w)
    with pytest.raises(ValueError, match="stride"):
        signals.conv1d_naive(x, w, stride=0)


def test_output_shape_lecture_and_torch():
    assert signals.conv_output_shape(14, 5) == (10,)
    assert signals.conv_output_shape(10, 5) == (6,)
    assert signals.conv_output_shape((14, 14, 14), 5) == (10, 10, 10)
    assert signals.conv_output_shape((10, 10, 10), 5) == (6, 6, 6)
    assert signals.conv_output_shape((8, 16, 16), (3, 5, 5), p=(1, 2, 2), s=(1, 2, 2)) == (8, 8, 8)
    assert signals.conv_output_shape((9, 9), 3, p="same") == (9, 9)
    for size, f, p, s, d in [
        ((14,), 5, 0, 1, 1),
        ((7, 11), 3, 1, 2, 1),
        ((6, 9, 10), (3, 1, 3), 1, (1, 2, 3), 1),
        ((12, 12, 12), 3, 2, 1, 2),
    ]:
        layer = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[len(size)](1, 1, f, stride=s, padding=p, dilation=d)
        assert signals.conv_output_shape(size, f, p, s, d) == tuple(layer(torch.zeros(1, 1, *size)).shape[2:])


def test_output_shape_errors():
    with pytest.raises(ValueError, match="tuple of 3"):
        signals.conv_output_shape((8, 8, 8), (3, 3))
    with pytest.raises(ValueError, match="1 to 3"):
        signals.conv_output_shape((8, 8, 8, 8), 3)
    with pytest.raises(ValueError, match="does not fit"):
        signals.conv_output_shape((4, 4, 4), 5)


def test_cost_formula_matches_counters():
    for size, f, c_in, c_out, p, s, conv_cls in [
        (14, 5, 1, 16, 0, 1, nn.Conv1d),
        (10, 5, 16, 32, 0, 1, nn.Conv1d),
        ((14, 14), 5, 1, 16, 0, 1, nn.Conv2d),
        ((14, 14, 14), 5, 1, 16, 0, 1, nn.Conv3d),
        ((10, 10, 10), 5, 16, 32, 0, 1, nn.Conv3d),
        ((8, 16, 16), 3, 2, 4, 1, 2, nn.Conv3d),
    ]:
        size_t = (size,) if isinstance(size, int) else size
        c = signals.conv_cost(size, f, c_in, c_out, p, s)
        layer = conv_cls(c_in, c_out, f, padding=p, stride=s, bias=False)
        assert c.params == layer.weight.numel()
        assert c.mult_adds == signals.count_mult_adds_nd(layer, (c_in, *size_t))
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            layer(torch.zeros(1, c_in, *size_t))
        assert counter.get_total_flops() == 2 * c.mult_adds
    assert signals.conv_cost((14, 14, 14), 5, 1, 16).mult_adds == 10**3 * 16 * 125
    with pytest.raises(ValueError, match="c_out"):
        signals.conv_cost(14, 5, 1, 0)


def test_count_mult_adds_nd_agrees_with_2d_counter():
    from cvbook import cost

    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, groups=4), nn.Flatten(), nn.Linear(8 * 6 * 6, 10)
    )
    assert signals.count_mult_adds_nd(model, (3, 8, 8)) == cost.count_mult_adds(model, (3, 8, 8))
    model.train()
    signals.count_mult_adds_nd(model, (3, 8, 8))
    assert model.training


def test_make_ecg_like():
    x, y = signals.make_ecg_like(40, 256, seed=3)
    assert x.shape == (40, 1, 256) and x.dtype == torch.float32
    assert y.dtype == torch.int64 and torch.bincount(y).tolist() == [10, 10, 10, 10]
    x2, y2 = signals.make_ecg_like(40, 256, seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(x, signals.make_ecg_like(40, 256, seed=4)[0])
    assert torch.isfinite(x).all() and 0.5 < float(x.amax(dim=-1).mean()) < 2.0
    clean, labels = signals.make_ecg_like(8, 512, seed=0, noise=0.0, wander=0.0)
    # no noise, no wander: regular classes have peaks at a constant spacing
    for sig, label in zip(clean[:, 0], labels):
        peaks = [i for i in range(1, 511) if sig[i] > 0.5 and sig[i] >= sig[i - 1] and sig[i] > sig[i + 1]]
        gaps = torch.tensor(peaks[1:]).diff().float() if len(peaks) > 2 else None
        if gaps is not None and int(label) in (0, 2, 3):
            assert float(gaps.std()) / float(gaps.mean()) < 0.06
    assert signals.make_ecg_like(0)[0].shape == (0, 1, 512)
    with pytest.raises(ValueError, match="length"):
        signals.make_ecg_like(4, 8)
    with pytest.raises(ValueError, match="n must be"):
        signals.make_ecg_like(-1)
    with pytest.raises(ValueError, match="noise"):
        signals.make_ecg_like(4, noise=-0.1)


def test_make_moving_squares():
    clips, labels = signals.make_moving_squares(30, seed=1, noise=0.0)
    assert clips.shape == (30, 1, 8, 16, 16) and clips.dtype == torch.float32
    assert torch.bincount(labels).tolist() == [10, 10, 10]
    cols = torch.arange(16, dtype=torch.float32)
    for clip, label in zip(clips[:, 0], labels):
        mass = clip.sum(dim=1)  # (T, W): column profile per frame
        centre = (mass * cols).sum(-1) / mass.sum(-1)
        velocity = float(centre.diff().mean())
        assert math.isclose(velocity, [-1.0, 0.0, 1.0][int(label)], abs_tol=1e-5)
    a, b = signals.make_moving_squares(6, seed=2), signals.make_moving_squares(6, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert signals.make_moving_squares(3, frames=4, size=11, speed=2)[0].shape == (3, 1, 4, 11, 11)
    with pytest.raises(ValueError, match="size"):
        signals.make_moving_squares(3, frames=8, size=10)
    with pytest.raises(ValueError, match="frames"):
        signals.make_moving_squares(3, frames=1)
