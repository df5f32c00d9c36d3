"""Architecture diagrams drawn from the models (cvbook.plot) and the ResNet stage table (cvbook.models).

The diagrams are checked for what they draw (one box per layer, the right labels and
shapes, Okabe-Ito colours) and for legibility: no two labels overlap and none leaves the
figure. Taught in Chapters 4 and 5.
"""

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from torch import nn  # noqa: E402

from cvbook import cost, models, plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _text_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for ax in fig.axes for t in ax.texts]
    texts += [t for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text()]


def assert_legible(fig):
    """No two labels overlap (1 px of slack) and every label lies inside the figure."""
    boxes = _text_boxes(fig)
    width, height = fig.canvas.get_width_height()
    for text, box in boxes:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1, (
            f"label {text!r} leaves the figure: {box} in {width}x{height}"
        )
    for (ta, a), (tb, b) in itertools.combinations(boxes, 2):
        a_, b_ = a.expanded(1, 1), b.expanded(1, 1)
        overlap = min(a_.x1, b_.x1) - max(a_.x0, b_.x0) > 1 and min(a_.y1, b_.y1) - max(a_.y0, b_.y0) > 1
        assert not overlap, f"labels overlap: {ta!r} and {tb!r}"


def _box_colours(fig) -> set[str]:
    return {to_hex(p.get_edgecolor()).upper() for ax in fig.axes for p in ax.patches if isinstance(p, FancyBboxPatch)}


# --------------------------------------------------------------------------- sequential networks


def test_lenet_layers_traced_from_the_model():
    layers = plot.architecture_layers(models.LeNet5(10, 1, "classic"), (1, 32, 32))
    got = [(ly["kind"], ly["label"], ly["extras"], ly["shape"]) for ly in layers]
    assert got == [
        ("input", "input", [], (1, 32, 32)),
        ("conv", "conv 5×5, 6", ["tanh"], (6, 28, 28)),
        ("pool", "avg pool 2×2", [], (6, 14, 14)),
        ("conv", "conv 5×5, 16", ["tanh"], (16, 10, 10)),
        ("pool", "avg pool 2×2", [], (16, 5, 5)),
        ("flatten", "flatten", [], (400,)),
        ("fc", "FC", ["tanh"], (120,)),
        ("fc", "FC", ["tanh"], (84,)),
        ("fc", "FC", [], (10,)),
    ]
    assert [ly["name"] for ly in layers][1:3] == ["0", "2"]  # the names of the modules in the model


def test_vgg_and_alexnet_layers_on_the_meta_device():
    with torch.device("meta"):
        vgg, alexnet = models.VGG(16), models.AlexNet(widths="paper")
    layers = plot.architecture_layers(vgg, (3, 224, 224))
    kinds = [ly["kind"] for ly in layers]
    # ReLUs are folded in, dropout and the identity-sized adaptive pool are left out
    assert (kinds.count("conv"), kinds.count("pool"), kinds.count("fc"), len(layers)) == (13, 5, 3, 22)
    assert all(ly["extras"] == ["ReLU"] for ly in layers if ly["kind"] == "conv")
    assert layers[-4]["shape"] == (512, 7, 7) and layers[-3]["shape"] == (4096,)
    # the same VGG on a 32 x 32 image: the adaptive pool now changes the shape and is drawn
    small = plot.architecture_layers(vgg, (3, 32, 32))
    assert [ly["label"] for ly in small if ly["kind"] == "pool"][-1] == "adaptive pool to 7×7"
    alex = plot.architecture_layers(alexnet, (3, 227, 227))
    assert alex[1]["label"] == "conv 11×11, 96, s4" and alex[1]["shape"] == (96, 55, 55)
    assert alex[2]["label"] == "max pool 3×3, s2" and alex[2]["shape"] == (96, 27, 27)
    assert [ly["shape"] for ly in alex if ly["kind"] == "fc"] == [(4096,), (4096,), (1000,)]
    assert len(alex) == 12  # the dropout before the first FC layer is not drawn, nor the 6x6 -> 6x6 pool


@pytest.mark.parametrize(
    "build,shape,per_row",
    [
        (lambda: models.LeNet5(10, 1, "classic"), (1, 32, 32), None),
        (lambda: models.AlexNet(widths="paper"), (3, 227, 227), 6),
        (lambda: models.VGG(16), (3, 224, 224), 8),
        (lambda: models.VGG(19), (3, 224, 224), 9),
    ],
    ids=["lenet", "alexnet", "vgg16", "vgg19"],
)
def test_plot_architecture_draws_one_box_per_layer_legibly(build, shape, per_row):
    with torch.device("meta"):
        model = build()
    layers = plot.architecture_layers(model, shape)
    fig = plot.plot_architecture(model, shape, per_row=per_row, title="a network")
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(layers)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any(t.endswith("×".join(map(str, (*shape[1:], shape[0])))) for t in labels), "the input's shape is shown"
    assert _box_colours(fig) <= {c.upper() for c in plot.OKABE_ITO.values()} | {"#333333"}
    assert_legible(fig)
    # a box's height follows the size of the map: the input is the tallest box
    heights = [b.get_height() for b in boxes]
    assert heights[0] == max(heights)


def test_plot_architecture_rejects_bad_input():
    with pytest.raises(ValueError, match="model"):
        plot.plot_architecture("lenet", (1, 32, 32))
    with pytest.raises(ValueError, match="input_shape"):
        plot.plot_architecture(models.LeNet5(), (0, 32, 32))
    with pytest.raises(ValueError, match="input_shape"):
        plot.architecture_layers(models.LeNet5(), 32)
    with pytest.raises(ValueError, match="per_row"):
        plot.plot_architecture(models.LeNet5(), (1, 32, 32), per_row=0)


# --------------------------------------------------------------------------- blocks


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_plot_block_residual_blocks_from_their_children():
    with torch.device("meta"):
        identity = models.BasicBlock(64, 64)
        option_a = models.BasicBlock(64, 128, stride=2, shortcut="pad")
        option_b = models.BasicBlock(64, 128, stride=2)
        bottleneck = models.Bottleneck(256, 64)
    fig = plot.plot_block(identity, (64, 56, 56), title="identity")
    texts = _texts(fig)
    assert "identity" in texts and "+" in texts and "ReLU\noutput 56×56×64" in texts
    assert "conv 3×3, 64\nBN, ReLU\n56×56×64" in texts and "conv 3×3, 64\nBN\n56×56×64" in texts
    assert_legible(fig)
    fig = plot.plot_blocks([option_a, option_b], [(64, 56, 56)] * 2, titles=["A", "B"])
    texts = _texts(fig)
    assert "subsample s2,\npad 64 zero channels\n28×28×128" in texts
    assert "$W_s$: conv 1×1, 128, s2\nBN\n28×28×128" in texts
    assert "conv 3×3, 128, s2\nBN, ReLU\n28×28×128" in texts
    assert_legible(fig)
    fig = plot.plot_block(bottleneck, (256, 56, 56))
    texts = _texts(fig)
    for expected in (
        "conv 1×1, 64\nBN, ReLU\n56×56×64",
        "conv 3×3, 64\nBN, ReLU\n56×56×64",
        "conv 1×1, 256\nBN\n56×56×256",
    ):
        assert expected in texts
    assert_legible(fig)


def test_plot_block_plain_block_has_no_shortcut():
    fig = plot.plot_block(models.BasicBlock(8, 8, residual=False), (8, 6, 6))
    assert "+" not in _texts(fig) and "identity" not in _texts(fig)
    assert_legible(fig)


def test_plot_block_inception_module():
    module = models.InceptionModule(192, c1=64, c3_reduce=96, c3=128, c5_reduce=16, c5=32, pool_proj=32)
    fig = plot.plot_block(module, (192, 28, 28), title="Inception 3a")
    texts = _texts(fig)
    assert "concatenate the channels: 64 + 128 + 32 + 32 = 256\noutput 28×28×256" in texts
    assert "max pool 3×3, s1\n28×28×192" in texts and "conv 5×5, 32\nBN, ReLU\n28×28×32" in texts
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 1 + 7 + 1  # input, seven operations, the concatenation
    assert_legible(fig)


def test_plot_block_rejects_bad_input():
    with pytest.raises(ValueError, match="block must be"):
        plot.plot_block(nn.Linear(2, 2), (2, 1, 1))
    with pytest.raises(ValueError, match="input_shape"):
        plot.plot_block(models.BasicBlock(4, 4), (4, 8))
    with pytest.raises(ValueError, match="model"):
        plot.plot_block("block", (4, 8, 8))
    with pytest.raises(ValueError, match="blocks"):
        plot.plot_blocks(models.BasicBlock(4, 4), [(4, 8, 8)])
    with pytest.raises(ValueError, match="input_shapes"):
        plot.plot_blocks([models.BasicBlock(4, 4)] * 2, [(4, 8, 8)])
    with pytest.raises(ValueError, match="titles"):
        plot.plot_blocks([models.BasicBlock(4, 4)], [(4, 8, 8)], titles=["a", "b"])


# --------------------------------------------------------------------------- ResNet stage table


@pytest.mark.parametrize(
    "layers,block,builder,params,mult_adds",
    [
        ((2, 2, 2, 2), models.BasicBlock, torchvision.models.resnet18, 11_689_512, 1_814_073_344),
        ((3, 4, 6, 3), models.Bottleneck, torchvision.models.resnet50, 25_557_032, 4_089_184_256),
    ],
    ids=["resnet18", "resnet50"],
)
def test_resnet_stages_match_torchvision(layers, block, builder, params, mult_adds):
    with torch.device("meta"):
        ours, theirs = models.ResNet(layers, block), builder(weights=None)
    rows = models.resnet_stages(ours)
    assert [r.name for r in rows] == ["conv1", "pool", "conv2_x", "conv3_x", "conv4_x", "conv5_x", "pool + fc"]
    assert [r.blocks for r in rows] == [0, 0, *layers, 0]
    c = 64 * block.expansion
    assert [r.output_shape for r in rows] == [
        (64, 112, 112),
        (64, 56, 56),
        (c, 56, 56),
        (2 * c, 28, 28),
        (4 * c, 14, 14),
        (8 * c, 7, 7),
        (1000,),
    ]
    stages = [theirs.layer1, theirs.layer2, theirs.layer3, theirs.layer4]
    assert [r.parameters for r in rows[2:6]] == [models.count_parameters(s) for s in stages]
    assert sum(r.parameters for r in rows) == models.count_parameters(ours) == params
    assert sum(r.mult_adds for r in rows) == cost.count_mult_adds(ours, (3, 224, 224), device="meta") == mult_adds
    assert ours.training  # the mode is restored


def test_resnet_stages_small_input_and_bad_input():
    model = models.ResNet((1, 1, 1, 1), num_classes=3)
    rows = models.resnet_stages(model, (3, 64, 64))
    assert rows[-1].output_shape == (3,) and rows[5].output_shape == (512, 2, 2)
    with pytest.raises(ValueError, match="model"):
        models.resnet_stages(models.CifarResNet(8))
    with pytest.raises(ValueError, match="input_shape"):
        models.resnet_stages(model, (3, 64))
