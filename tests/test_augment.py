import numpy as np
import pytest
import torch
import torchvision
from torch import nn
from torchvision import tv_tensors
from torchvision.transforms import v2

from cvbook import augment


def _photo_like(seed: int, shape=(3, 12, 10)) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(shape[1:], generator=g)
    mix = torch.rand(shape, generator=g)
    return (0.6 * base + 0.4 * mix).clamp(0, 1)  # correlated channels, like a photo


# --------------------------------------------------------------------------- colour shift


def test_colour_shift_lecture_example_and_clipping():
    x = torch.tensor([100, 10, 250], dtype=torch.uint8).view(3, 1, 1)
    assert augment.colour_shift(x, (20, -20, 20)).flatten().tolist() == [120, 0, 255]
    assert augment.colour_shift(x, (-20, 20, 20)).flatten().tolist() == [80, 30, 255]
    assert augment.colour_shift(x, (5, 0, 50)).flatten().tolist() == [105, 10, 255]


def test_colour_shift_float_matches_uint8_and_keeps_shape():
    u8 = torch.randint(0, 256, (2, 3, 5, 4), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    out8 = augment.colour_shift(u8, (20, -20, 20))
    outf = augment.colour_shift(u8.float() / 255, (20, -20, 20))
    assert out8.dtype == torch.uint8 and outf.dtype == torch.float32 and outf.shape == u8.shape
    expected = (u8.int() + torch.tensor([20, -20, 20]).view(3, 1, 1)).clamp(0, 255)
    assert torch.equal(out8.int(), expected)
    assert torch.allclose(outf * 255, expected.float(), atol=1e-3)
    assert outf.min() >= 0 and outf.max() <= 1


@pytest.mark.parametrize("bad", [torch.zeros(4, 5, 5), torch.zeros(5, 5), torch.zeros(3, 5, 5, dtype=torch.int64)])
def test_colour_shift_rejects_bad_images(bad):
    with pytest.raises(ValueError):
        augment.colour_shift(bad, (1, 2, 3))


def test_colour_shift_rejects_bad_shift():
    with pytest.raises(ValueError, match="shift"):
        augment.colour_shift(torch.zeros(3, 2, 2), (1, 2))


# --------------------------------------------------------------------------- PCA colour


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pca_basis_matches_numpy_eigh(seed):
    img = _photo_like(seed)
    lam, vecs = augment.pca_colour_basis(img)
    pixels = img.permute(1, 2, 0).reshape(-1, 3).double().numpy()
    cov = np.cov(pixels, rowvar=False)
    w, v = np.linalg.eigh(cov)
    assert np.allclose(lam.numpy(), w[::-1])
    assert (lam[:-1] >= lam[1:]).all()
    for i in range(3):  # same eigenvectors up to sign
        assert np.allclose(np.abs(vecs[:, i].numpy() @ v[:, ::-1][:, i]), 1.0)
    assert np.allclose((vecs @ torch.diag(lam) @ vecs.T).numpy(), cov)
    assert (vecs.sum(0) >= 0).all() and (vecs[:, 0] > 0).all()  # the documented sign convention


def test_pca_basis_of_a_batch_uses_all_pixels_and_uint8_is_scaled():
    batch = torch.stack([_photo_like(s) for s in range(3)])
    lam, _ = augment.pca_colour_basis(batch)
    pixels = batch.permute(0, 2, 3, 1).reshape(-1, 3).double().numpy()
    assert np.allclose(lam.numpy(), np.linalg.eigvalsh(np.cov(pixels, rowvar=False))[::-1])
    u8 = (batch * 255).round().to(torch.uint8)
    lam8, _ = augment.pca_colour_basis(u8)
    assert np.allclose(
        lam8.numpy(),
        np.linalg.eigvalsh(np.cov(u8.permute(0, 2, 3, 1).reshape(-1, 3).double().numpy() / 255, rowvar=False))[::-1],
    )


def test_pca_augment_adds_the_formula_to_every_pixel():
    img = 0.25 + 0.5 * _photo_like(3)  # no clipping
    lam, vecs = augment.pca_colour_basis(img)
    alpha = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    out = augment.pca_colour_augment(img, alpha, lam, vecs)
    delta = sum(alpha[i] * lam[i] * vecs[:, i] for i in range(3))
    assert torch.allclose((out - img).double(), delta.view(3, 1, 1).expand_as(img), atol=1e-6)
    # numpy reference, independent of the package
    pixels = img.permute(1, 2, 0).reshape(-1, 3).double().numpy()
    w, v = np.linalg.eigh(np.cov(pixels, rowvar=False))
    w, v = w[::-1], v[:, ::-1]
    signs = np.sign(np.sum(v * vecs.numpy(), axis=0))  # align eigenvector signs
    ref = pixels + (v * signs) @ (alpha.numpy() * w)
    assert np.allclose(out.permute(1, 2, 0).reshape(-1, 3).double().numpy(), ref, atol=1e-6)
    # without a basis, the image's own is used
    assert torch.allclose(augment.pca_colour_augment(img, alpha), out)


def test_pca_augment_zero_alpha_is_identity_and_uint8_stays_uint8():
    img = _photo_like(4)
    assert torch.allclose(augment.pca_colour_augment(img, [0, 0, 0]), img)
    u8 = (img * 255).round().to(torch.uint8)
    out = augment.pca_colour_augment(u8, [0, 0, 0])
    assert out.dtype == torch.uint8 and torch.equal(out, u8)
    big = augment.pca_colour_augment(u8, [1000, 0, 0])  # clipped, not wrapped around
    assert big.dtype == torch.uint8 and int(big.min()) in (0, 255) and (big.int() - u8.int()).abs().max() > 0


def test_pca_augment_errors():
    img = _photo_like(5)
    lam, vecs = augment.pca_colour_basis(img)
    with pytest.raises(ValueError, match="alpha"):
        augment.pca_colour_augment(img, [1, 2])
    with pytest.raises(ValueError, match="eigvecs"):
        augment.pca_colour_augment(img, [1, 2, 3], lam, vecs[:2])
    with pytest.raises(ValueError, match="both"):
        augment.pca_colour_augment(img, [1, 2, 3], lam, None)
    with pytest.raises(ValueError, match="3, H, W"):
        augment.pca_colour_basis(torch.zeros(1, 5, 5))


# --------------------------------------------------------------------------- transforms v2


def test_transforms_in_v2_compose_with_labels_uint8_float_and_tv_tensors():
    u8 = (255 * _photo_like(6, (3, 16, 16))).round().to(torch.uint8)
    pipeline = v2.Compose([v2.RandomHorizontalFlip(), augment.PCAColour(0.1), augment.RandomColourShift(20)])
    out, label = pipeline(u8, 7)
    assert out.dtype == torch.uint8 and out.shape == u8.shape and label == 7
    out = pipeline(u8.float() / 255)
    assert out.dtype == torch.float32 and 0 <= float(out.min()) and float(out.max()) <= 1
    image = tv_tensors.Image(u8)
    boxes = tv_tensors.BoundingBoxes(torch.tensor([[1, 2, 8, 9]]), format="XYXY", canvas_size=(16, 16))
    out_img, out_boxes = v2.Compose([augment.PCAColour(0.5), augment.RandomColourShift(30)])(image, boxes)
    assert isinstance(out_img, tv_tensors.Image) and torch.equal(out_boxes, boxes)


def test_random_colour_shift_is_seeded_and_bounded():
    u8 = torch.full((3, 4, 4), 128, dtype=torch.uint8)
    t = augment.RandomColourShift(20)
    torch.manual_seed(0)
    a = [t(u8) for _ in range(20)]
    torch.manual_seed(0)
    b = [t(u8) for _ in range(20)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    shifts = torch.stack([x[:, 0, 0].int() - 128 for x in a])
    assert shifts.abs().max() <= 20 and len(shifts.unique()) > 5
    assert all(torch.equal(x, x[:, :1, :1].expand_as(x)) for x in a)  # one shift per channel


def test_pca_colour_transform_uses_fixed_basis():
    img = 0.25 + 0.5 * _photo_like(7)
    lam, vecs = augment.pca_colour_basis(img)
    t = augment.PCAColour(0.1, lam, vecs)
    torch.manual_seed(3)
    out = t(img)
    torch.manual_seed(3)
    alpha = torch.randn(3, dtype=torch.float64) * 0.1
    assert torch.allclose(out, augment.pca_colour_augment(img, alpha, lam, vecs))


@pytest.mark.parametrize(
    "make",
    [
        lambda: augment.RandomColourShift(-1),
        lambda: augment.RandomColourShift(2.5),
        lambda: augment.PCAColour(-0.1),
        lambda: augment.PCAColour(0.1, torch.ones(3), None),
    ],
)
def test_transform_argument_errors(make):
    with pytest.raises(ValueError):
        make()


# --------------------------------------------------------------------------- transfer learning


@pytest.mark.parametrize("name,head_in", [("resnet18", 512), ("mobilenet_v2", 1280)])
def test_replace_head_freeze_and_count_on_torchvision_models(name, head_in):
    model = getattr(torchvision.models, name)(weights=None)
    total = sum(p.numel() for p in model.parameters())
    assert augment.trainable_parameters(model) == total
    head = augment.replace_head(model, 5)
    assert isinstance(head, nn.Linear) and head.in_features == head_in and head.out_features == 5
    augment.freeze(model, except_=[head])
    assert augment.trainable_parameters(model) == head_in * 5 + 5
    assert [n for n, p in model.named_parameters() if p.requires_grad][0].endswith(("fc.weight", "classifier.1.weight"))
    assert model(torch.zeros(1, 3, 64, 64)).shape == (1, 5)
    augment.unfreeze(model)
    assert augment.trainable_parameters(model) == total - (1000 - 5) * (head_in + 1)


def test_freeze_everything_and_errors():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3))
    augment.freeze(net)
    assert augment.trainable_parameters(net) == 0
    with pytest.raises(ValueError, match="no nn.Linear"):
        augment.replace_head(nn.Sequential(nn.Conv2d(1, 2, 3)), 3)
    with pytest.raises(ValueError, match="num_classes"):
        augment.replace_head(net, 0)
    with pytest.raises(ValueError):
        augment.trainable_parameters("not a module")


def test_extract_features_equals_eval_forward_and_restores_mode():
    torch.manual_seed(0)
    body = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(2))
    body.train()
    x = torch.randn(10, 1, 8, 8)
    feats = augment.extract_features(body, x, batch_size=3)
    assert body.training and feats.shape == (10, 16)
    body.eval()
    assert torch.allclose(feats, body(x).flatten(1), atol=1e-6)
    with pytest.raises(ValueError, match="N, C, H, W"):
        augment.extract_features(body, torch.zeros(1, 8, 8))


def test_few_per_class():
    targets = torch.tensor([0, 1, 2] * 10 + [3])
    idx = augment.few_per_class(targets, 4, classes=[0, 2])
    assert len(idx) == 8 and torch.equal(idx, idx.sort().values)
    assert torch.bincount(targets[idx], minlength=4).tolist() == [4, 0, 4, 0]
    assert torch.equal(idx, augment.few_per_class(targets, 4, classes=[0, 2]))
    assert not torch.equal(idx, augment.few_per_class(targets, 4, classes=[0, 2], seed=1))
    with pytest.raises(ValueError, match="class 3"):
        augment.few_per_class(targets, 2)
    with pytest.raises(ValueError, match="k must"):
        augment.few_per_class(targets, 0)


# --------------------------------------------------------------------------- benchmark tricks


def _tiny_classifier(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))


def test_ten_crop_predict_matches_hand_made_crops_and_torchvision():
    model = _tiny_classifier(0)
    x = torch.randn(5, 1, 10, 9, generator=torch.Generator().manual_seed(1))
    s = 6
    h, w = x.shape[-2:]
    top, left = round((h - s) / 2), round((w - s) / 2)  # torchvision's centre-crop rounding

    def five(img):
        return [
            img[..., :s, :s],
            img[..., :s, w - s :],
            img[..., h - s :, :s],
            img[..., h - s :, w - s :],
            img[..., top : top + s, left : left + s],
        ]

    crops = five(x) + five(x.flip(-1))  # the five crops of the image and of its mirror
    with torch.no_grad():
        expected = torch.stack([model(c).softmax(1) for c in crops]).mean(0)
        by_torchvision = torch.stack([model(c).softmax(1) for c in v2.TenCrop(s)(x)]).mean(0)
    got = augment.ten_crop_predict(model, x, s)
    assert got.shape == (5, 3) and torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(got, by_torchvision, atol=1e-6)
    assert torch.allclose(got.sum(1), torch.ones(5))
    with torch.no_grad():
        five_expected = torch.stack([model(c).softmax(1) for c in five(x)]).mean(0)
    assert torch.allclose(augment.ten_crop_predict(model, x, s, mirror=False), five_expected, atol=1e-6)
    with pytest.raises(ValueError, match="fit"):
        augment.ten_crop_predict(model, x, 11)


def test_ensemble_predict_averages_probabilities():
    models = [_tiny_classifier(s) for s in range(3)]
    x = torch.randn(4, 1, 8, 8)
    got = augment.ensemble_predict(models, x, batch_size=3)
    with torch.no_grad():
        expected = sum(m(x).softmax(1) for m in models) / 3
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(augment.ensemble_predict(models[:1], x), models[0](x).softmax(1), atol=1e-6)
    with pytest.raises(ValueError, match="at least one"):
        augment.ensemble_predict([], x)
    other = nn.Sequential(nn.Flatten(), nn.Linear(64, 5))
    with pytest.raises(ValueError, match="disagree"):
        augment.ensemble_predict([models[0], other], x)
