"""torchrun target of tests/test_distributed.py: what Appendix A1 teaches, run by every rank.

Usage: torchrun ... tests/ddp/worker.py OUT_DIR [full|light]

Each rank writes OUT_DIR/rank<R>.json; rank 0 also writes OUT_DIR/one_step.pt (the
parameters after one DDP step, which the test compares with one process and batch 2B).
``light`` (the two-"node" run) skips the digits training. Everything runs on the CPU
with the gloo backend.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

import _light_cvbook  # noqa: F401  (before cvbook: skips cvbook/__init__'s imports)
import torch
import torch.distributed as dist
from torch import nn

from cvbook import data, device, train

B = 8  # per-rank batch of the one-step comparison
DIGITS_EPOCHS = 8
DIGITS_BATCH = 32  # per process
DIGITS_LR = 0.05  # for one process; scaled by the world size (linear scaling rule)


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))


def one_step_dataset(world_size: int) -> data.TensorImageDataset:
    g = torch.Generator().manual_seed(1)
    n = B * world_size
    return data.TensorImageDataset(torch.randn(n, 1, 4, 4, generator=g), torch.randint(0, 3, (n,), generator=g))


def digits_run(world_size: int) -> tuple[nn.Module, train.History]:
    """The short digits training; one process runs it with world_size=1."""
    device.seed_everything(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    train_loader = data.make_loader(data.load_digits("train"), DIGITS_BATCH, shuffle=True, seed=0)
    val_loader = data.make_loader(data.load_digits("test"), 100)
    optimizer = torch.optim.SGD(model.parameters(), lr=DIGITS_LR * world_size, momentum=0.9)
    history = train.fit(
        model, train_loader, val_loader, epochs=DIGITS_EPOCHS, device="cpu", optimizer=optimizer, progress=False
    )
    return model, history


def resume_run(epochs: int, checkpoint=None) -> nn.Module:
    model = tiny_model()
    g = torch.Generator().manual_seed(2)
    ds = data.TensorImageDataset(torch.randn(96, 1, 4, 4, generator=g), torch.randint(0, 3, (96,), generator=g))
    train.fit(
        model,
        data.make_loader(ds, 8, shuffle=True, seed=3),
        epochs=epochs,
        device="cpu",
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-2),
        progress=False,
        checkpoint=checkpoint,
    )
    return model


def flat(model: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def same_on_every_rank(t: torch.Tensor) -> bool:
    gathered = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, t)
    return all(torch.equal(gathered[0], other) for other in gathered)


def main(out: Path, scenario: str) -> None:
    ctx = train.distributed_context()
    assert ctx is not None, "worker.py must be started by torchrun"
    result: dict = {
        "rank": ctx.rank,
        "world_size": ctx.world_size,
        "local_rank": ctx.local_rank,
        "group_rank": int(os.environ.get("GROUP_RANK", -1)),
        "local_world_size": int(os.environ.get("LOCAL_WORLD_SIZE", -1)),
    }

    # 1. One step with per-rank batch B (the test compares it with one process and batch 2B);
    #    the progress bar must appear on rank 0 only.
    model = tiny_model()
    loader = data.make_loader(one_step_dataset(ctx.world_size), B, shuffle=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = train.fit(
            model, loader, optimizer=torch.optim.SGD(model.parameters(), lr=0.5), epochs=1, device="cpu", progress=True
        )
    result["backend"] = dist.get_backend()
    result["one_step_loss"] = history.last("train_loss")
    result["printed_progress"] = "fit" in printed.getvalue()
    result["one_step_same_on_every_rank"] = same_on_every_rank(flat(model))
    if ctx.is_main:
        torch.save(model.state_dict(), out / "one_step.pt")

    # 2. A short training on the digits, to compare with one process.
    if scenario == "full":
        model, history = digits_run(ctx.world_size)
        result["digits_history"] = history.as_dict()
        result["digits_same_on_every_rank"] = same_on_every_rank(flat(model))

    # 3. Checkpoint under DDP: 2 epochs, then resume to 4 == 4 epochs in one go.
    ckpt = out / "ddp_checkpoint.pt"
    straight = resume_run(4)
    resume_run(2, ckpt)
    state = train.load_checkpoint(ckpt)  # on disk on every rank once fit returns
    result["checkpoint_epoch_after_2"] = state["epoch"]
    result["checkpoint_world_size"] = state["world_size"]
    resumed = resume_run(4, ckpt)
    result["checkpoint_epoch_after_4"] = train.load_checkpoint(ckpt)["epoch"]
    result["resumed_equals_straight"] = all(
        torch.equal(a, b) for a, b in zip(straight.state_dict().values(), resumed.state_dict().values())
    )

    # 4. SyncBatchNorm has no CPU kernel: fit must refuse it clearly.
    try:
        bn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
        train.fit(bn, loader, epochs=1, device="cpu", progress=False, sync_batchnorm=True)
        result["sync_batchnorm_cpu_error"] = None
    except ValueError as err:
        result["sync_batchnorm_cpu_error"] = str(err)

    (out / f"rank{ctx.rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "full")
