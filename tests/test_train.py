import sys

import pytest
import torch
from torch import nn

from cvbook import data, device, train


def tiny_problem(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 4, 4, generator=g)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    ds = data.TensorImageDataset(x, y)
    return data.make_loader(ds, 32, shuffle=True, seed=seed), data.make_loader(ds, 64)


def tiny_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))


def test_fit_lowers_the_loss_and_records_history():
    device.seed_everything(0)
    train_loader, val_loader = tiny_problem()
    model = tiny_model()
    history = train.fit(model, train_loader, val_loader, epochs=8, progress=False,
                        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2))
    assert len(history) == 8
    assert history["epoch"] == list(range(1, 9))
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr", "time_s"):
        assert key in history and len(history[key]) == 8
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0]
    assert history.last("val_acc") > 0.9
    assert history.total_time_s == pytest.approx(sum(history["time_s"]))
    assert set(history.as_dict()) == set(history.keys)
    with pytest.raises(KeyError, match="history has no 'val_f1'"):
        history["val_f1"]


def test_fit_is_deterministic():
    results = []
    for _ in range(2):
        device.seed_everything(1)
        train_loader, _ = tiny_problem(seed=1)
        model = tiny_model()
        results.append(train.fit(model, train_loader, epochs=2, progress=False)["train_loss"])
    assert results[0] == results[1]


def test_evaluate_matches_a_manual_computation():
    device.seed_everything(0)
    _, loader = tiny_problem()
    model = tiny_model()
    result = train.evaluate(model, loader)
    x, y = loader.dataset.images, loader.dataset.targets
    with torch.no_grad():
        logits = model(x)
    assert result["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, y)), rel=1e-5)
    assert result["acc"] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    outputs, targets = train.predict(model, loader)
    assert torch.allclose(outputs, logits, atol=1e-6) and torch.equal(targets, y)


def test_scheduler_clipping_and_custom_loss():
    device.seed_everything(0)
    train_loader, val_loader = tiny_problem()
    model = tiny_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = train.fit(model, train_loader, val_loader, optimizer=opt, scheduler=sched, epochs=3,
                        clip_grad_norm=1.0, progress=False)
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    # a per-batch scheduler
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3 * len(train_loader))
    train.fit(model, train_loader, optimizer=opt, scheduler=sched, scheduler_step="batch", epochs=3,
              progress=False)
    # a regression loss gets no accuracy metric by default
    reg = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    x = torch.randn(64, 1, 4, 4)
    ds = torch.utils.data.TensorDataset(x, x.sum(dim=(1, 2, 3)).unsqueeze(1))
    h = train.fit(reg, data.make_loader(ds, 16), epochs=2, loss_fn=nn.MSELoss(), progress=False)
    assert "train_acc" not in h and "train_loss" in h


def test_bad_arguments_are_clear():
    train_loader, _ = tiny_problem()
    model = tiny_model()
    with pytest.raises(ValueError, match="epochs"):
        train.fit(model, train_loader, epochs=0)
    with pytest.raises(ValueError, match="clip_grad_norm"):
        train.fit(model, train_loader, clip_grad_norm=-1)
    with pytest.raises(ValueError, match="amp"):
        train.fit(model, train_loader, amp="maybe")
    with pytest.raises(ValueError, match="pair"):
        train.fit(model, [torch.zeros(2, 1, 4, 4)], progress=False)
    with pytest.raises(ValueError, match="no batches"):
        train.evaluate(model, [])
    with pytest.raises(ValueError, match=r"accuracy expects outputs \(N, C\)"):
        train.accuracy(torch.zeros(4), torch.zeros(4))


def test_progress_bar_goes_to_stdout_and_can_be_switched_off(monkeypatch, capfd):
    train_loader, _ = tiny_problem()
    monkeypatch.setenv(train.PROGRESS_ENV, "0")
    train.fit(tiny_model(), train_loader, epochs=1)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    monkeypatch.setenv(train.PROGRESS_ENV, "1")
    train.fit(tiny_model(), train_loader, epochs=2)
    out, err = capfd.readouterr()
    assert "fit" in out and "2/2" in out and err == ""


def test_cpu_runs_in_float32_without_amp():
    assert train.amp_dtype(torch.device("cpu")) is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("channels_last", [False, True])
def test_cuda_smoke(channels_last):
    device.seed_everything(0)
    ds = data.ShapesClassification(128, 32, seed=0)
    loader = data.make_loader(ds, 32, shuffle=True, device="cuda")
    assert loader.pin_memory
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
    history = train.fit(model, loader, loader, epochs=3, device="cuda", channels_last=channels_last,
                        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2), progress=False)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert next(model.parameters()).device.type == "cuda"
    assert train.amp_dtype(torch.device("cuda")) in (torch.bfloat16, torch.float16)
