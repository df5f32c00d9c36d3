import pytest
import torch
from torch import nn

from cvbook import models


def lecture_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )


def test_summary_of_the_lecture_network():
    net = lecture_net()
    s = models.summary(net, (3, 32, 32))
    assert [r.output_shape for r in s.rows if r.kind in ("Conv2d", "MaxPool2d", "Linear")] == [
        (8, 28, 28),
        (8, 14, 14),
        (16, 10, 10),
        (16, 5, 5),
        (120,),
        (84,),
        (10,),
    ]
    assert [r.parameters for r in s.rows if r.parameters] == [608, 3216, 48120, 10164, 850]
    assert s.row("0").activation_size == 6272 and s.row("6").activation_size == 400
    assert s.total_parameters == models.count_parameters(net) == 62958
    text = str(s)
    assert "48,120" in text and "62,958" in text and "(3, 32, 32)" in text


def test_summary_restores_mode_and_rejects_bad_shapes():
    net = nn.Sequential(nn.Linear(4, 2), nn.Dropout())
    net.train()
    models.summary(net, (4,))
    assert net.training
    with pytest.raises(ValueError, match="input_shape"):
        models.summary(net, (1, 4, 0))
    with pytest.raises(KeyError, match="no layer named"):
        models.summary(net, (4,)).row("nope")


def test_count_parameters_trainable():
    net = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    net[0].weight.requires_grad_(False)
    assert models.count_parameters(net) == 23
    assert models.count_parameters(net, trainable_only=True) == 11


def test_summary_on_meta_device():
    net = nn.Linear(3_000_000, 1000, device="meta")
    s = models.summary(net, (3_000_000,), device="meta")
    assert s.total_parameters == 3_000_001_000 and s.rows[0].output_shape == (1000,)


def test_classic_models_match_torchvision_and_hand_counts():
    import torchvision.models as tv

    assert models.count_parameters(models.LeNet5()) == 61706
    # the lectures' AlexNet: 96-256-384-384-256 filters, 227x227 input
    paper = (
        (11 * 11 * 3 + 1) * 96
        + (5 * 5 * 96 + 1) * 256
        + (3 * 3 * 256 + 1) * 384
        + (3 * 3 * 384 + 1) * 384
        + (3 * 3 * 384 + 1) * 256
        + (9216 + 1) * 4096
        + (4096 + 1) * 4096
        + (4096 + 1) * 1000
    )
    # on the meta device: the same parameter shapes, without initialising 10 x 60-140 M weights (~40 s)
    with torch.device("meta"):
        assert models.count_parameters(models.AlexNet()) == paper == 62378344
        assert models.count_parameters(models.AlexNet(widths="torchvision")) == models.count_parameters(
            tv.alexnet(weights=None)
        )
        for depth in (11, 13, 16, 19):
            for bn in (False, True):
                ours = models.VGG(depth, batch_norm=bn)
                theirs = getattr(tv, f"vgg{depth}{'_bn' if bn else ''}")(weights=None)
                assert models.count_parameters(ours) == models.count_parameters(theirs), (depth, bn)


def test_classic_model_shapes():
    s = models.summary(models.AlexNet(), (3, 227, 227))
    assert s.row("features.0").output_shape == (96, 55, 55)
    assert s.row("features.12").activation_size == 9216
    s = models.summary(models.VGG(16), (3, 224, 224))
    assert s.row("features.29").output_shape == (512, 14, 14) and s.row("avgpool").output_shape == (512, 7, 7)
    for variant in ("modern", "classic", "classic-sigmoid"):
        assert models.LeNet5(10, 1, variant)(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    small = models.VGG(11, num_classes=3, in_channels=1, width=8, hidden=32, pool_size=1)
    assert small(torch.zeros(2, 1, 32, 32)).shape == (2, 3)
    with pytest.raises(ValueError, match="variant"):
        models.LeNet5(variant="fancy")
    with pytest.raises(ValueError, match="depth"):
        models.VGG(12)
    with pytest.raises(ValueError, match="width"):
        models.VGG(11, width=3)
    with pytest.raises(ValueError, match="widths"):
        models.AlexNet(widths="huge")


def test_resnet_and_googlenet_counts_equal_torchvision():
    import torchvision.models as tv

    with torch.device("meta"):
        pairs = [
            (models.ResNet((2, 2, 2, 2), models.BasicBlock), tv.resnet18(weights=None)),
            (models.ResNet((3, 4, 6, 3), models.Bottleneck), tv.resnet50(weights=None)),
            (models.GoogLeNet(), tv.googlenet(weights=None, aux_logits=False, init_weights=True)),
        ]
    for ours, theirs in pairs:
        assert models.count_parameters(ours) == models.count_parameters(theirs)


def test_residual_block_algebra():
    torch.manual_seed(0)
    block = models.BasicBlock(8, 8)
    for p in block.body.parameters():
        torch.nn.init.zeros_(p)
    x = torch.relu(torch.randn(2, 8, 6, 6))  # a[l] >= 0, as after a ReLU
    block.eval()
    assert torch.equal(block(x), x), "zero weights make the residual block the identity"
    down = models.BasicBlock(8, 16, stride=2)
    assert down(torch.randn(2, 8, 6, 6)).shape == (2, 16, 3, 3)
    assert isinstance(down.shortcut[0], torch.nn.Conv2d)  # projection W_s
    pad = models.BasicBlock(8, 16, stride=2, shortcut="pad")
    assert models.count_parameters(pad) < models.count_parameters(down)
    with pytest.raises(ValueError, match="shortcut"):
        models.BasicBlock(8, 8, shortcut="magic")


def test_cifar_resnet_plain_and_residual_have_equal_parameters():
    for depth in (8, 20, 56):
        a = models.CifarResNet(depth, 10, 1, widths=(8, 16, 32))
        b = models.CifarResNet(depth, 10, 1, widths=(8, 16, 32), residual=False)
        assert models.count_parameters(a) == models.count_parameters(b)
        assert a(torch.zeros(2, 1, 16, 16)).shape == (2, 10)
        n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in a.modules())
        assert n_conv + 1 == depth  # depth counts convs and the final linear layer
    nobn = models.CifarResNet(8, 10, 1, widths=(8, 16, 32), batch_norm=False, init="default")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in nobn.modules())
    with pytest.raises(ValueError, match="6n"):
        models.CifarResNet(21)


def test_inception_module_output():
    m = models.InceptionModule(192, 64, 96, 128, 16, 32, 32)
    assert m(torch.zeros(1, 192, 28, 28)).shape == (1, 256, 28, 28)


def test_mobilenets():
    import torchvision.models as tv

    from cvbook import cost

    with torch.device("meta"):
        assert models.count_parameters(models.MobileNetV2()) == models.count_parameters(tv.mobilenet_v2(weights=None))
        paper = {1.0: (569, 4.2), 0.75: (325, 2.6), 0.5: (149, 1.3), 0.25: (41, 0.5)}
        for width, (mult_adds, params) in paper.items():
            net = models.MobileNetV1(width=width)
            ours = cost.count_mult_adds(net, (3, 224, 224), device="meta") / 1e6
            assert abs(ours - mult_adds) / mult_adds < 0.01
            assert round(models.count_parameters(net) / 1e6, 1) == params
    block = models.InvertedResidual(16, 16, 1, 6)
    assert block.residual and block(torch.zeros(2, 16, 8, 8)).shape == (2, 16, 8, 8)
    assert not models.InvertedResidual(16, 24, 2, 6).residual
    assert models.MobileNetV1(10, 1, width=0.25)(torch.zeros(2, 1, 32, 32)).shape == (2, 10)
    with pytest.raises(ValueError, match="width"):
        models.MobileNetV1(width=2.0)
