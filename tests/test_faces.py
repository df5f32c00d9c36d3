import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score
from torch import nn

from cvbook import faces


def test_make_faces_shapes_range_and_ids():
    f = faces.make_faces(5, 3, 32, seed=0)
    assert f.images.shape == (15, 3, 32, 32) and f.images.dtype == torch.float32
    assert 0 <= float(f.images.min()) and float(f.images.max()) <= 1
    assert f.ids.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    assert len(f) == 15 and f.source == "synthetic"
    g = faces.make_faces(2, 4, 48, seed=0, first_identity=10)
    assert g.images.shape == (8, 3, 48, 48) and g.ids.tolist() == [10] * 4 + [11] * 4


def test_make_faces_is_deterministic_and_seeded():
    a, b = faces.make_faces(3, 2, seed=7), faces.make_faces(3, 2, seed=7)
    assert torch.equal(a.images, b.images)
    assert not torch.equal(a.images, faces.make_faces(3, 2, seed=8).images)


def test_identity_look_does_not_depend_on_the_batch():
    """Identity k has the same face whatever else is generated (disjoint ranges = disjoint people)."""
    look_alone = faces._identity_params(0, 12)
    look_again = faces._identity_params(0, 12)
    for key in look_alone:
        np.testing.assert_array_equal(look_alone[key], look_again[key])
    assert not np.allclose(faces._identity_params(0, 12)["skin"], faces._identity_params(0, 13)["skin"])


def test_same_identity_images_are_closer_in_hair_and_skin_colour():
    f = faces.make_faces(20, 4, 32, seed=0, noise=0.0)
    top = f.images[:, :, 3:8, 12:20].mean((2, 3))  # hair region, mostly
    d = torch.cdist(top, top)
    same = f.ids[:, None] == f.ids[None, :]
    off = ~torch.eye(len(f), dtype=torch.bool)
    assert d[same & off].mean() < d[~same].mean()


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(n_identities=0, per_identity=2),
        dict(n_identities=2, per_identity=0),
        dict(n_identities=2, per_identity=2, size=8),
        dict(n_identities=2.0, per_identity=2),
        dict(n_identities=2, per_identity=2, noise=-1.0),
    ],
)
def test_make_faces_errors(kwargs):
    with pytest.raises(ValueError):
        faces.make_faces(**kwargs)


def test_load_lfw_offline_falls_back_quickly(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path))
    f = faces.load_lfw(32, online=False, fallback=(4, 3))
    assert "synthetic" in capsys.readouterr().out
    assert f.source == "synthetic" and f.images.shape == (12, 3, 32, 32)


def test_split_identities_is_disjoint_and_complete():
    ids = torch.arange(30).repeat_interleave(3)
    tr, va, te = faces.split_identities(ids, 5, 7, seed=1)
    sets = [set(ids[s].tolist()) for s in (tr, va, te)]
    assert [len(s) for s in sets] == [18, 5, 7]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert sorted(torch.cat([tr, va, te]).tolist()) == list(range(90))
    with pytest.raises(ValueError):
        faces.split_identities(ids, 20, 10)
    with pytest.raises(ValueError):
        faces.split_identities(ids.float(), 2, 2)


def test_identity_batches():
    ids = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3])
    batches = list(faces.identity_batches(ids, p=3, k=2, n_batches=5, seed=0))
    assert len(batches) == 5
    for b in batches:
        assert b.shape == (6,)
        people = ids[b].view(3, 2)
        assert (people[:, 0] == people[:, 1]).all() and len(set(people[:, 0].tolist())) == 3
    with pytest.raises(ValueError):
        next(faces.identity_batches(ids, p=5, k=2, n_batches=1))


def test_make_pairs():
    ids = torch.arange(10).repeat_interleave(4)
    i, j, same = faces.make_pairs(ids, 101, seed=0)
    assert i.shape == j.shape == same.shape == (101,)
    assert int(same.sum()) == 50
    assert torch.equal(ids[i] == ids[j], same)
    assert (i != j).all()


def test_pairwise_distances_match_cdist():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 5, generator=g, dtype=torch.float64), torch.randn(4, 5, generator=g, dtype=torch.float64)
    torch.testing.assert_close(faces.pairwise_distances(x, y), torch.cdist(x, y))
    torch.testing.assert_close(faces.pairwise_distances(x, y, squared=True), torch.cdist(x, y) ** 2)
    d = faces.pairwise_distances(x)
    assert d.shape == (7, 7) and torch.all(d.diagonal() == 0)
    with pytest.raises(ValueError):
        faces.pairwise_distances(x, torch.randn(3, 4))
    with pytest.raises(ValueError):
        faces.pairwise_distances(torch.randn(5))


def test_contrastive_loss_matches_the_formula_and_hadsell():
    g = torch.Generator().manual_seed(1)
    f1, f2 = torch.randn(50, 8, generator=g, dtype=torch.float64), torch.randn(50, 8, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (50,), generator=g)
    m = 4.0
    want = [
        float(yk) * float(((a - b) ** 2).sum()) + (1 - float(yk)) * max(0.0, m - float((a - b).norm())) ** 2
        for a, b, yk in zip(f1, f2, y)
    ]
    got = faces.contrastive_loss(f1, f2, y, margin=m, reduction="none")
    torch.testing.assert_close(got, torch.tensor(want, dtype=torch.float64))
    # Hadsell et al. (2006): label 0 = similar, factor 1/2
    d = (f1 - f2).norm(dim=1)
    y_h = 1 - y
    hadsell = (1 - y_h) * 0.5 * d**2 + y_h * 0.5 * torch.clamp(m - d, min=0) ** 2
    torch.testing.assert_close(faces.contrastive_loss(f1, f2, y, m), 2 * hadsell.mean())
    assert torch.isclose(
        faces.contrastive_loss(f1, f2, y, m, reduction="sum"),
        faces.contrastive_loss(f1, f2, y, m, reduction="none").sum(),
    )
    with pytest.raises(ValueError):
        faces.contrastive_loss(f1, f2, y[:3])
    with pytest.raises(ValueError):
        faces.contrastive_loss(f1, f2, y, margin=0)
    with pytest.raises(ValueError):
        faces.contrastive_loss(f1, f2, y, reduction="max")


def test_contrastive_loss_has_finite_gradient_at_zero_distance():
    f = torch.zeros(2, 3, requires_grad=True)
    faces.contrastive_loss(f, torch.zeros(2, 3), torch.tensor([1, 0])).backward()
    assert torch.isfinite(f.grad).all()


@pytest.mark.parametrize("margin", [0.05, 0.2, 1.0])
def test_triplet_loss_matches_torch(margin):
    g = torch.Generator().manual_seed(2)
    a, p, n = (torch.randn(40, 16, generator=g, dtype=torch.float64) for _ in range(3))
    ref = nn.TripletMarginLoss(margin=margin, p=2)(a, p, n)
    torch.testing.assert_close(faces.triplet_loss(a, p, n, margin, squared=False), ref, atol=1e-5, rtol=1e-5)
    sq = nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: ((x - y) ** 2).sum(1), margin=margin)
    torch.testing.assert_close(faces.triplet_loss(a, p, n, margin), sq(a, p, n))
    by_hand = torch.clamp(((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + margin, min=0).sum()
    torch.testing.assert_close(faces.triplet_loss(a, p, n, margin, reduction="sum"), by_hand)


def test_triplet_loss_errors():
    x = torch.randn(3, 4)
    with pytest.raises(ValueError):
        faces.triplet_loss(x, x, torch.randn(2, 4))
    with pytest.raises(ValueError):
        faces.triplet_loss(x, x, x, margin=-1)


def test_random_and_batch_hard_triplets():
    g = torch.Generator().manual_seed(3)
    ids = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3])  # identity 3 has no positive
    emb = torch.randn(8, 5, generator=g)
    for a, p, n in (faces.random_triplets(ids, generator=g), faces.batch_hard_triplets(emb, ids)):
        assert a.tolist() == [0, 1, 2, 3, 4, 5, 6]
        assert (ids[a] == ids[p]).all() and (a != p).all() and (ids[a] != ids[n]).all()
    a, p, n = faces.batch_hard_triplets(emb, ids)
    d = torch.cdist(emb, emb)
    for k, anchor in enumerate(a.tolist()):
        same = (ids == ids[anchor]) & (torch.arange(8) != anchor)
        assert torch.isclose(d[anchor, p[k]], d[anchor][same].max())
        assert torch.isclose(d[anchor, n[k]], d[anchor][ids != ids[anchor]].min())
    empty = faces.random_triplets(torch.tensor([0, 0, 0]))
    assert all(len(t) == 0 for t in empty)


def test_best_threshold_is_the_best_cut():
    g = torch.Generator().manual_seed(4)
    same = torch.rand(200, generator=g) < 0.5
    d = torch.where(same, torch.rand(200, generator=g), torch.rand(200, generator=g) + 0.6)
    tau, acc = faces.best_threshold(d, same)
    assert acc == pytest.approx(accuracy_score(same.numpy(), (d <= tau).numpy()))
    for t in torch.linspace(0, 2, 201):
        assert accuracy_score(same.numpy(), (d <= t).numpy()) <= acc + 1e-12
    assert faces.best_threshold(torch.tensor([0.1, 0.9]), torch.tensor([True, False])) == (pytest.approx(0.5), 1.0)
    tau, acc = faces.best_threshold(torch.tensor([0.5, 0.5]), torch.tensor([True, False]))
    assert acc == 0.5
    with pytest.raises(ValueError):
        faces.best_threshold(torch.zeros(0), torch.zeros(0, dtype=torch.bool))


def test_verify_and_recognise():
    f1 = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    f2 = torch.tensor([[0.3, 0.4], [1.0, 2.0]])
    assert faces.verify(f1, f2, 0.5).tolist() == [True, False]
    assert bool(faces.verify(f1[0], f2[0], 0.49)) is False
    db = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    q = torch.tensor([[0.5, 0.0], [9.0, 0.0], [5.0, 5.0]])
    ids, dist = faces.recognise(q, db, torch.tensor([7, 8]), tau=1.5)
    assert ids.tolist() == [7, 8, faces.NOT_RECOGNISED]
    torch.testing.assert_close(dist, torch.tensor([0.5, 1.0, 50**0.5]))
    with pytest.raises(ValueError):
        faces.recognise(q, db, torch.tensor([7]), 1.0)
    with pytest.raises(ValueError):
        faces.verify(f1, f2[:1], 1.0)
    with pytest.raises(ValueError):
        faces.verify(f1, f2, -1.0)


def test_load_lfw_uses_a_copy_on_disk(monkeypatch):
    import sklearn.datasets
    from sklearn.utils import Bunch

    def fake_fetch(*, download_if_missing, **kwargs):
        assert download_if_missing is False and kwargs["color"] is True
        rng = np.random.default_rng(0)
        return Bunch(
            images=rng.uniform(0, 255, (6, 62, 47, 3)).astype(np.float32),
            target=np.array([0, 0, 1, 1, 2, 2]),
            target_names=np.array(["a", "b", "c"]),
        )

    monkeypatch.setattr(sklearn.datasets, "fetch_lfw_people", fake_fetch)
    f = faces.load_lfw(32, online=False)
    assert f.source == "lfw" and f.images.shape == (6, 3, 32, 32) and f.names == ["a", "b", "c"]
    assert 0 <= float(f.images.min()) and float(f.images.max()) <= 1
    assert f.ids.tolist() == [0, 0, 1, 1, 2, 2]
