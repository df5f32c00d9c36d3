import time

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cvbook import style


def _vgg19_features() -> nn.Sequential:
    """torchvision's VGG-19 ``features`` without its 120M-parameter classifier (fast to build)."""
    from torchvision.models import vgg

    return vgg.make_layers(vgg.cfgs["E"])


def _rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --------------------------------------------------------------------------- Gram matrix and costs


@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (2, 3, 4, 5), (1, 8, 7, 3)])
def test_gram_matrix_matches_einsum_and_matmul(shape):
    a = _rand(*shape, seed=sum(shape))
    gram = style.gram_matrix(a)
    n, c, h, w = shape
    assert gram.shape == (n, c, c)
    assert torch.allclose(gram, torch.einsum("nkij,nlij->nkl", a, a))
    flat = a.reshape(n, c, h * w)
    assert torch.allclose(gram, torch.bmm(flat, flat.transpose(1, 2)))
    assert torch.allclose(gram, gram.transpose(1, 2))  # symmetric
    assert (torch.linalg.eigvalsh(gram) > -1e-9).all()  # positive semi-definite


def test_gram_matrix_hand_example():
    a = torch.tensor([[[[1.0, 2.0]], [[0.0, 3.0]]]])  # C=2, H=1, W=2
    assert style.gram_matrix(a).tolist() == [[[5.0, 6.0], [6.0, 9.0]]]


def test_content_cost_hand_example_and_variants():
    a_c = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    a_g = torch.tensor([[[[1.0, 0.0], [3.0, 5.0]]]])  # squared differences 0, 4, 0, 1 -> 5
    assert float(style.content_cost(a_c, a_g)) == 2.5  # 1/2 * 5
    assert float(style.content_cost(a_c, a_g, norm="half")) == 2.5
    assert float(style.content_cost(a_c, a_g, norm="size")) == pytest.approx(5 / (4 * 2 * 2 * 1))
    a, b = _rand(2, 3, 4, 5, seed=1), _rand(2, 3, 4, 5, seed=2)
    assert torch.allclose(style.content_cost(a, b), 0.5 * F.mse_loss(a, b, reduction="sum"))
    assert torch.allclose(style.content_cost(a, b, norm="size"), F.mse_loss(a, b, reduction="sum") / (4 * 60))
    assert float(style.content_cost(a, a)) == 0.0


def test_layer_style_cost_hand_example():
    a_s = torch.tensor([[[[1.0, 2.0]]]])  # Gram 5
    a_g = torch.tensor([[[[0.0, 1.0]]]])  # Gram 1
    # (5 - 1)^2 / (2 * 1 * 2 * 1)^2 = 16 / 16
    assert float(style.layer_style_cost(a_s, a_g)) == 1.0
    a, b = _rand(1, 3, 4, 5, seed=3), _rand(1, 3, 4, 5, seed=4)
    expected = ((torch.einsum("nkij,nlij->nkl", a, a) - torch.einsum("nkij,nlij->nkl", b, b)) ** 2).sum() / (
        2 * 60
    ) ** 2
    assert torch.allclose(style.layer_style_cost(a, b), expected)
    # Gatys et al.'s 1 / (4 N_l^2 M_l^2) is the same constant
    assert torch.allclose(
        style.layer_style_cost(a, b), ((style.gram_matrix(a) - style.gram_matrix(b)) ** 2).sum() / (4 * 3**2 * 20**2)
    )


def test_style_cost_is_weighted_sum_and_total_cost():
    fs = {"a": _rand(1, 2, 3, 3, seed=5), "b": _rand(1, 4, 2, 2, seed=6)}
    fg = {"a": _rand(1, 2, 3, 3, seed=7), "b": _rand(1, 4, 2, 2, seed=8), "c": _rand(1, 1, 1, 1)}
    got = style.style_cost(fs, fg, {"a": 0.3, "b": 0.7})
    want = 0.3 * style.layer_style_cost(fs["a"], fg["a"]) + 0.7 * style.layer_style_cost(fs["b"], fg["b"])
    assert torch.allclose(got, want)
    assert torch.allclose(style.style_cost(fs, fg, {"b": 1.0}), style.layer_style_cost(fs["b"], fg["b"]))
    assert float(style.total_cost(torch.tensor(2.0), torch.tensor(3.0))) == 10 * 2 + 40 * 3
    assert float(style.total_cost(torch.tensor(2.0), torch.tensor(3.0), alpha=1, beta=0.5)) == 3.5


def test_costs_have_finite_correct_gradients():
    a_c, a_s = _rand(1, 2, 3, 3, seed=9), _rand(1, 2, 3, 3, seed=10)
    a_g = _rand(1, 2, 3, 3, seed=11).requires_grad_(True)
    for fn in (
        lambda g: style.content_cost(a_c, g),
        lambda g: style.content_cost(a_c, g, norm="size"),
        lambda g: style.layer_style_cost(a_s, g),
        lambda g: style.gram_matrix(g),
    ):
        assert torch.autograd.gradcheck(fn, (a_g,))
    j = style.total_cost(style.content_cost(a_c, a_g), style.style_cost({"x": a_s}, {"x": a_g}, {"x": 1.0}))
    (grad,) = torch.autograd.grad(j, a_g)
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0
    # the content cost's gradient is (a_g - a_c) with the 1/2 normalisation
    (grad_c,) = torch.autograd.grad(style.content_cost(a_c, a_g), a_g)
    assert torch.allclose(grad_c, a_g.detach() - a_c)


def test_balanced_style_weights():
    fs = {"a": _rand(1, 2, 3, 3, seed=12) * 100, "b": _rand(1, 4, 2, 2, seed=13)}
    w = style.balanced_style_weights(fs)
    for name, a in fs.items():
        assert w[name] * float(style.layer_style_cost(a, torch.zeros_like(a))) == pytest.approx(0.5)
    assert list(style.balanced_style_weights(fs, ["b"])) == ["b"]
    with pytest.raises(ValueError, match="all zero"):
        style.balanced_style_weights({"a": torch.zeros(1, 2, 2, 2)})


def test_cost_errors():
    a = torch.zeros(1, 2, 3, 3)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        style.gram_matrix(torch.zeros(2, 3, 3))
    with pytest.raises(ValueError, match="same shape"):
        style.content_cost(a, torch.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="norm"):
        style.content_cost(a, a, norm="mean")
    with pytest.raises(ValueError, match="same shape"):
        style.layer_style_cost(a, torch.zeros(1, 3, 3, 3))
    with pytest.raises(ValueError, match="weighted layers"):
        style.style_cost({"x": a}, {"x": a}, {"y": 1.0})
    with pytest.raises(ValueError, match="non-empty"):
        style.style_cost({"x": a}, {"x": a}, {})
    with pytest.raises(ValueError, match="alpha"):
        style.total_cost(torch.tensor(1.0), torch.tensor(1.0), alpha=-1)


# --------------------------------------------------------------------------- VGG features


def test_vgg19_layer_names_follow_torchvision():
    features = _vgg19_features()
    assert len(style.VGG19_LAYERS) == len(features) == 37
    for name, module in zip(style.VGG19_LAYERS, features):
        kind = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}[name[:4]]
        assert isinstance(module, kind), name
    assert style.VGG19_LAYERS.index("relu4_2") == 22


def test_vgg_features_match_torchvision_and_are_truncated():
    torch.manual_seed(0)
    ext = style.VGGFeatures(["relu1_1", "relu2_1", "conv3_1"])
    assert len(ext.body) == style.VGG19_LAYERS.index("conv3_1") + 1
    assert not any(p.requires_grad for p in ext.parameters())
    reference = _vgg19_features()[:11].eval()
    reference.load_state_dict(ext.body.state_dict())
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    out = ext(x)
    assert list(out) == ["relu1_1", "relu2_1", "conv3_1"]
    assert out["relu1_1"].shape == (2, 64, 32, 32) and out["relu2_1"].shape == (2, 128, 16, 16)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        assert torch.allclose(out["conv3_1"], reference((x - mean) / std), atol=1e-5)
        assert torch.allclose(out["relu1_1"], reference[:2]((x - mean) / std), atol=1e-5)
    ext.train()
    assert not ext.training


def test_vgg_features_avg_pool_and_errors(monkeypatch):
    ext = style.VGGFeatures("relu2_1", pool="avg")
    assert any(isinstance(m, nn.AvgPool2d) for m in ext.body)
    assert not any(isinstance(m, nn.MaxPool2d) for m in ext.body)
    with pytest.raises(ValueError, match="unknown VGG-19 layers"):
        style.VGGFeatures(["relu9_9"])
    with pytest.raises(ValueError, match="pool"):
        style.VGGFeatures(["relu1_1"], pool="min")
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        ext(torch.zeros(1, 1, 8, 8))
    monkeypatch.setenv("CVBOOK_ONLINE", "0")
    start = time.perf_counter()
    assert not style.pretrained_available()
    with pytest.raises(RuntimeError, match="CVBOOK_ONLINE"):
        style.VGGFeatures(["relu1_1"], pretrained=True)
    assert time.perf_counter() - start < 5  # fails fast, no network


def test_vgg_features_load_pretrained_weights_when_available(monkeypatch):
    torch.manual_seed(5)
    full = nn.Module()
    full.features = _vgg19_features()  # stands in for the ImageNet weights
    monkeypatch.setattr(style, "pretrained_available", lambda online=None: True)
    monkeypatch.setattr(
        torchvision.models.VGG19_Weights, "get_state_dict", lambda self, progress=True: full.state_dict()
    )
    ext = style.VGGFeatures(["relu2_1"], pretrained=True)
    assert ext.pretrained and len(ext.body) == 7
    for key, value in ext.body.state_dict().items():
        assert torch.equal(value, full.features.state_dict()[key])


def test_vgg_features_random_init_like_torchvision():
    torch.manual_seed(6)
    weight = style.VGGFeatures(["conv3_1"]).body[10].weight  # 256 x 128 x 3 x 3, fan_out = 256 * 9
    assert abs(float(weight.std()) - (2 / (256 * 9)) ** 0.5) < 2e-3
    assert abs(float(weight.mean())) < 1e-3


# --------------------------------------------------------------------------- style transfer


class _TinyExtractor(nn.Module):
    def __init__(self):
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1, stride=2)
        with torch.no_grad():
            for conv_layer in (self.c1, self.c2):
                conv_layer.weight.copy_(torch.randn(conv_layer.weight.shape, generator=g) * 0.3)
                conv_layer.bias.zero_()
        self.requires_grad_(False)

    def forward(self, x):
        a1 = F.relu(self.c1(x))
        return {"l1": a1, "l2": F.relu(self.c2(a1))}


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_style_transfer_lowers_the_style_cost(optimizer):
    g = torch.Generator().manual_seed(0)
    content = torch.rand(1, 3, 16, 16, generator=g)
    stripes = torch.zeros(1, 3, 16, 16)
    stripes[:, 0, :, ::2] = 1.0
    ext = _TinyExtractor()
    res = style.style_transfer(
        content,
        stripes,
        ext,
        content_layer="l2",
        style_weights={"l1": 1.0, "l2": 1.0},
        alpha=1.0,
        beta=1e3,
        steps=30,
        lr=0.05,
        optimizer=optimizer,
        snapshot_at=[0, 10, 30],
        generator=torch.Generator().manual_seed(1),
    )
    h = res.history
    assert h["step"] == list(range(31))
    assert len(h["content"]) == len(h["style"]) == len(h["total"]) == 31
    assert h["style"][-1] < h["style"][0] / 5
    assert sorted(res.snapshots) == [0, 10, 30]
    assert torch.equal(res.snapshots[30], res.image)
    assert res.image.shape == content.shape and 0 <= res.image.min() and res.image.max() <= 1
    assert res.seconds_per_step > 0
    # the recorded total is alpha * J_content + beta * J_style
    assert h["total"][5] == pytest.approx(h["content"][5] + 1e3 * h["style"][5], rel=1e-5)


def test_style_transfer_inits_and_errors():
    ext = _TinyExtractor()
    c = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    res = style.style_transfer(
        c,
        c,
        ext,
        content_layer="l1",
        style_weights={"l1": 1.0},
        steps=1,
        init="noise",
        snapshot_at=[0],
        generator=torch.Generator().manual_seed(0),
    )
    assert not torch.allclose(res.snapshots[0], c)
    res = style.style_transfer(
        c, c, ext, content_layer="l1", style_weights={"l1": 1.0}, steps=1, init=c, snapshot_at=[0]
    )
    assert torch.equal(res.snapshots[0], c)
    assert res.history["content"][0] == 0.0 and res.history["style"][0] == 0.0
    kw = dict(content_layer="l1", style_weights={"l1": 1.0})
    with pytest.raises(ValueError, match="same shape"):
        style.style_transfer(c, torch.rand(1, 3, 4, 4), ext, **kw)
    with pytest.raises(ValueError, match=r"\(1, 3, H, W\)"):
        style.style_transfer(c[0], c, ext, **kw)
    with pytest.raises(ValueError, match="steps"):
        style.style_transfer(c, c, ext, steps=0, **kw)
    with pytest.raises(ValueError, match="optimizer"):
        style.style_transfer(c, c, ext, optimizer="sgd", **kw)
    with pytest.raises(ValueError, match="init"):
        style.style_transfer(c, c, ext, init="zeros", **kw)
    with pytest.raises(ValueError, match="gives no"):
        style.style_transfer(c, c, ext, content_layer="l3", style_weights={"l1": 1.0})
    with pytest.raises(ValueError, match="weighted layers"):
        style.style_transfer(c, c, ext, content_layer="l1", style_weights={"l9": 1.0})


# --------------------------------------------------------------------------- Zeiler-Fergus patches


def test_top_activating_patches_crop_the_receptive_field():
    g = torch.Generator().manual_seed(3)
    images = torch.rand(5, 3, 12, 12, generator=g)
    # conv 3x3 pad 1, then max pool 2x2: r = 4, jump 2, offset -1
    layers = [(3, 1, 1), (2, 2, 0)]
    acts = torch.rand(5, 4, 6, 6, generator=g)
    acts[3, 2, 4, 1] = 10.0  # the strongest response of unit 2, image 3, row 4, col 1
    acts[1, 2, 0, 0] = 9.0  # second strongest, at the corner: the crop runs off the image
    patches, values, where = style.top_activating_patches(acts, images, layers, k=3, units=[2, 0])
    assert patches.shape == (2, 3, 3, 4, 4) and values.shape == (2, 3) and where.shape == (2, 3, 3)
    assert values[0, :2].tolist() == [10.0, 9.0]
    assert where[0, 0].tolist() == [3, 4, 1] and where[0, 1].tolist() == [1, 0, 0]
    # row 4 -> input rows 4*2 - 1 = 7 .. 10; col 1 -> input cols 1 .. 4
    assert torch.equal(patches[0, 0], images[3, :, 7:11, 1:5])
    assert torch.equal(patches[0, 1, :, 1:, 1:], images[1, :, 0:3, 0:3])
    assert (patches[0, 1, :, 0, :] == 0).all() and (patches[0, 1, :, :, 0] == 0).all()
    # one crop per image, images ordered by their maxima
    assert len(set(where[1, :, 0].tolist())) == 3
    best = acts[:, 0].amax(dim=(1, 2))
    assert torch.equal(values[1], best.topk(3).values)


def test_top_activating_patches_find_a_planted_pattern():
    # a 3x3 "detector" of a bright cross: the patches it likes best hold the cross
    images = torch.rand(6, 3, 10, 10, generator=torch.Generator().manual_seed(4)) * 0.2
    cross = torch.tensor([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=torch.float32)
    images[2, :, 5:8, 1:4] += cross
    weight = (cross - cross.mean()).expand(1, 3, 3, 3).contiguous()
    acts = F.conv2d(images, weight, padding=1)
    patches, _, where = style.top_activating_patches(acts, images, [(3, 1, 1)], k=1)
    assert where[0, 0].tolist() == [2, 6, 2]
    assert torch.equal(patches[0, 0], images[2, :, 5:8, 1:4])


def test_top_activating_patches_errors():
    acts, images = torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 8, 8)
    with pytest.raises(ValueError, match="same number"):
        style.top_activating_patches(acts, torch.zeros(3, 3, 8, 8), [(3, 1, 1)])
    with pytest.raises(ValueError, match="k must be"):
        style.top_activating_patches(acts, images, [(3, 1, 1)], k=3)
    with pytest.raises(ValueError, match="units"):
        style.top_activating_patches(acts, images, [(3, 1, 1)], k=1, units=[3])
    with pytest.raises(ValueError, match=r"\(f, s, p\)"):
        style.top_activating_patches(acts, images, [(3, 1)], k=1)
    with pytest.raises(ValueError, match="at least one"):
        style.top_activating_patches(acts, images, [], k=1)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        style.top_activating_patches(acts[0], images, [(3, 1, 1)], k=1)
