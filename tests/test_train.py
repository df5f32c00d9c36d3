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
    history = train.fit(
        model,
        train_loader,
        val_loader,
        epochs=8,
        progress=False,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
    )
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
    history = train.fit(
        model, train_loader, val_loader, optimizer=opt, scheduler=sched, epochs=3, clip_grad_norm=1.0, progress=False
    )
    assert history["lr"] == pytest.approx([0.1, 0.05, 0.025])
    # a per-batch scheduler
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=3 * len(train_loader))
    train.fit(model, train_loader, optimizer=opt, scheduler=sched, scheduler_step="batch", epochs=3, progress=False)
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
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 3),
    )
    history = train.fit(
        model,
        loader,
        loader,
        epochs=3,
        device="cuda",
        channels_last=channels_last,
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
        progress=False,
    )
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert next(model.parameters()).device.type == "cuda"
    assert train.amp_dtype(torch.device("cuda")) in (torch.bfloat16, torch.float16)


# --------------------------------------------------------------------------- checkpoints (Appendix A1)


def dropout_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))


def checkpointed_run(epochs, path=None, *, model=None, optimizer_cls=torch.optim.Adam, scheduler=True):
    """Seeded from scratch every time, like a fresh process: shuffling, dropout, momentum, a schedule."""
    device.seed_everything(0)
    train_loader, val_loader = tiny_problem()
    model = model if model is not None else dropout_model()
    opt = optimizer_cls(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7) if scheduler else None
    history = train.fit(
        model, train_loader, val_loader, optimizer=opt, scheduler=sched, epochs=epochs, progress=False, checkpoint=path
    )
    return model, history


def test_resuming_from_a_checkpoint_gives_the_uninterrupted_run(tmp_path):
    path = tmp_path / "run.pt"
    straight, straight_history = checkpointed_run(5)
    _, first = checkpointed_run(2, path)
    assert len(first) == 2 and train.load_checkpoint(path)["epoch"] == 2
    resumed, history = checkpointed_run(5, path)
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), f"{name} differs after resuming"
    assert history["epoch"] == [1, 2, 3, 4, 5]
    for key in ("train_loss", "val_loss", "val_acc", "lr"):
        assert history[key] == straight_history[key], key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"], "temporary files were left behind"
    # the data order matters: without the loader's shuffling state the resumed run would differ
    state = train.load_checkpoint(path)
    assert state["epoch"] == 5 and state["world_size"] == 1 and state["loader_generator"] is not None
    assert state["format"] == train.CHECKPOINT_FORMAT
    # a finished run resumes to nothing: same weights, history returned as it was
    again, done = checkpointed_run(5, path)
    assert done.as_dict() == history.as_dict()
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), resumed.state_dict().values()))


def test_the_checkpoint_restores_the_shuffling_state(tmp_path):
    """Resumed with a loader seeded differently, the run must still follow the saved data order."""
    path = tmp_path / "run.pt"
    straight, _ = checkpointed_run(3)
    checkpointed_run(1, path)
    device.seed_everything(0)
    _, val_loader = tiny_problem()
    model = dropout_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
    ds = tiny_problem()[0].dataset
    other_seed = data.make_loader(ds, 32, shuffle=True, seed=123)
    train.fit(model, other_seed, val_loader, optimizer=opt, scheduler=sched, epochs=3, progress=False, checkpoint=path)
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), model.state_dict().values()))


def test_a_corrupt_checkpoint_is_an_error_not_a_fresh_start(tmp_path):
    path = tmp_path / "run.pt"
    checkpointed_run(1, path)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # a truncated file, as a kill mid-write without rename would leave
    with pytest.raises(train.CheckpointError, match=r"run\.pt.*cannot be read.*corrupt"):
        checkpointed_run(2, path)
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="corrupt"):
        checkpointed_run(2, path)
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(train.CheckpointError, match="not a checkpoint of cvbook.train.fit"):
        checkpointed_run(2, path)
    with pytest.raises(FileNotFoundError):
        train.load_checkpoint(tmp_path / "missing.pt")


def test_a_mismatched_checkpoint_names_what_does_not_match(tmp_path):
    path = tmp_path / "run.pt"
    checkpointed_run(2, path)
    wider = nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 2))
    with pytest.raises(
        train.CheckpointError, match=r"'1.weight' has shape \(16, 16\) in the checkpoint but \(32, 16\)"
    ):
        checkpointed_run(3, path, model=wider)
    deeper = nn.Sequential(
        nn.Flatten(), nn.Linear(16, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2), nn.Identity(), nn.Linear(2, 2)
    )
    with pytest.raises(train.CheckpointError, match=r"the model has 2 entries the checkpoint lacks"):
        checkpointed_run(3, path, model=deeper)
    with pytest.raises(train.CheckpointError, match="optimizer: checkpoint has Adam, this run has SGD"):
        checkpointed_run(3, path, optimizer_cls=torch.optim.SGD)
    with pytest.raises(train.CheckpointError, match="scheduler: checkpoint has StepLR, this run has None"):
        checkpointed_run(3, path, scheduler=False)
    with pytest.raises(train.CheckpointError, match="already holds 2 epochs, more than epochs=1"):
        checkpointed_run(1, path)
    assert train.load_checkpoint(path)["epoch"] == 2, "a refused resume must leave the checkpoint alone"


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    checkpointed_run(1, path)
    before = path.read_bytes()
    real_save = torch.save

    def dies_halfway(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", dies_halfway)
    with pytest.raises(OSError, match="disk full"):
        checkpointed_run(2, path)
    monkeypatch.setattr(torch, "save", real_save)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]
    assert train.load_checkpoint(path)["epoch"] == 1


def test_checkpoint_argument_is_checked():
    train_loader, _ = tiny_problem()
    with pytest.raises(ValueError, match="checkpoint must be a file path"):
        train.fit(tiny_model(), train_loader, checkpoint=3, progress=False)


# --------------------------------------------------------------------------- torchrun environment


def test_no_torchrun_environment_means_one_process(monkeypatch):
    for name in train.TORCHRUN_ENV:
        monkeypatch.delenv(name, raising=False)
    assert train.distributed_context() is None
    monkeypatch.setenv("RANK", "0")  # only part of the environment: still one process
    assert train.distributed_context() is None


def test_torchrun_environment_is_read_and_checked(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    ctx = train.distributed_context()
    assert ctx == train.DistributedContext(rank=1, world_size=2, local_rank=1) and not ctx.is_main
    monkeypatch.setenv("RANK", "2")
    with pytest.raises(ValueError, match=r"RANK must be in \[0, \$WORLD_SIZE\)"):
        train.distributed_context()
    monkeypatch.setenv("RANK", "one")
    with pytest.raises(ValueError, match=r"\$RANK must be an integer"):
        train.distributed_context()


def test_sharding_splits_the_data_like_distributed_sampler():
    ds = data.TensorImageDataset(torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10))
    loader = data.make_loader(ds, 3, shuffle=True, seed=5)
    seen_train, seen_val = [], []
    for rank in (0, 1):
        ctx = train.DistributedContext(rank=rank, world_size=2, local_rank=rank)
        sharded, sampler = train._shard_loader(loader, ctx, "train_loader", train=True)
        assert isinstance(sampler, torch.utils.data.DistributedSampler) and sampler.shuffle
        assert sharded.batch_size == 3  # batch_size is per process
        train._start_epoch(sampler, sharded, epoch=1)
        seen_train.append([int(t) for _, y in sharded for t in y])
        val, _ = train._shard_loader(data.make_loader(ds, 4), ctx, "val_loader", train=False)
        seen_val.append([int(t) for _, y in val for t in y])
    assert sorted(seen_train[0] + seen_train[1]) == list(range(10))  # 10 = 2 x 5: no padding needed
    assert seen_val == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]  # evaluation: an exact split
    ctx = train.DistributedContext(rank=0, world_size=2, local_rank=0)
    with pytest.raises(ValueError, match="train_loader must be a torch.utils.data.DataLoader"):
        train._shard_loader([(torch.zeros(1), torch.zeros(1))], ctx, "train_loader", train=True)


def test_resume_continues_the_test_time_jitter(tmp_path):
    """Under make test's gradient jitter (cvbook.measured), a resumed run still equals the straight one."""
    from cvbook import measured

    measured.install_jitter(1e-2)
    try:
        straight, _ = checkpointed_run(3)
        checkpointed_run(1, tmp_path / "run.pt")
        resumed, _ = checkpointed_run(3, tmp_path / "run.pt")
    finally:
        measured.remove_jitter()
    plain, _ = checkpointed_run(3)
    assert all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()))
    assert not all(torch.equal(a, b) for a, b in zip(straight.state_dict().values(), plain.state_dict().values()))
