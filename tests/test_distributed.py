"""Distributed data-parallel training and checkpoint/resume, run for real (Appendix A1).

Everything runs on the CPU with the gloo backend:

* ``torchrun --nproc-per-node=2`` (one "node", two processes) runs tests/ddp/worker.py once;
  the tests below check what it wrote: one DDP step with per-rank batch B equals one
  process with batch 2B, metrics and weights agree on every rank, rank 0 alone prints,
  a 2-process training lands in the single-process accuracy band, a DDP checkpoint
  resumes exactly, SyncBatchNorm is refused on the CPU;
* two ``torchrun --nnodes=2`` launchers meet through the c10d rendezvous on 127.0.0.1,
  as two machines would;
* a single-process training is killed with SIGKILL after its epoch-2 checkpoint, resumed,
  and must end with exactly the weights of an uninterrupted run.

Each launch picks a free port, has its own rendezvous id, and is killed (its whole
process group) if it outlives its timeout.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import torch

import cvbook
from cvbook import data, train

ROOT = Path(__file__).resolve().parents[1]
DDP = ROOT / "tests" / "ddp"
sys.path.insert(0, str(DDP))  # the helper scripts import their neighbour _light_cvbook
LAUNCH_TIMEOUT_S = 180  # per launch; the whole file takes well under that on an idle machine


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"cvbook_test_{name}", DDP / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


worker = _load("worker")
resume_script = _load("resume_run")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "RANK",
            "WORLD_SIZE",
            "LOCAL_RANK",
            "MASTER_ADDR",
            "MASTER_PORT",
            "PYTEST_XDIST_WORKER",
            "PYTEST_CURRENT_TEST",
        }
    }
    env.update(
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        CVBOOK_PROGRESS="0",
        CVBOOK_DEVICE="cpu",
        CVBOOK_ONLINE="0",
        PYTHONWARNINGS="ignore",
    )
    # the children import the very cvbook these tests imported
    package_root = str(Path(cvbook.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([package_root, *filter(None, [env.get("PYTHONPATH")])])
    return env


def torchrun(nnodes: int, nproc: int, port: int, rdzv_id: str, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nnodes={nnodes}",
        f"--nproc-per-node={nproc}",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{port}",
        f"--rdzv-id={rdzv_id}",
        "--max-restarts=0",
        *args,
    ]


def run_all(commands: list[list[str]], timeout: float) -> list[tuple[int, str]]:
    """Start the commands together, wait for all; kill every process group past ``timeout``."""
    procs = [
        subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=child_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        for cmd in commands
    ]
    deadline = time.monotonic() + timeout
    results = []
    try:
        for proc in procs:
            out, _ = proc.communicate(timeout=max(deadline - time.monotonic(), 1))
            results.append((proc.returncode, out))
    except subprocess.TimeoutExpired:
        for proc in procs:
            with __import__("contextlib").suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        outputs = [p.communicate()[0] for p in procs]
        pytest.fail(f"launch timed out after {timeout:.0f} s; output tail:\n" + outputs[0][-3000:])
    for rc, out in results:
        assert rc == 0, f"launch failed (exit {rc}); output tail:\n{out[-4000:]}"
    return results


def read_ranks(out: Path, world_size: int) -> list[dict]:
    return [json.loads((out / f"rank{r}.json").read_text()) for r in range(world_size)]


@pytest.fixture
def one_thread():
    """The in-process references run with one thread, like the children."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def single_node(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp_single_node")
    run_all(
        [torchrun(1, 2, free_port(), f"cvbook-{uuid.uuid4().hex[:8]}", str(DDP / "worker.py"), str(out), "full")],
        LAUNCH_TIMEOUT_S,
    )
    return out, read_ranks(out, 2)


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddp_two_nodes")
    port, rdzv = free_port(), f"cvbook-{uuid.uuid4().hex[:8]}"
    launcher = torchrun(2, 1, port, rdzv, str(DDP / "worker.py"), str(out), "light")
    run_all([launcher, launcher], LAUNCH_TIMEOUT_S)
    return out, read_ranks(out, 2)


def one_process_double_batch_step() -> dict[str, torch.Tensor]:
    model = worker.tiny_model()
    ds = worker.one_step_dataset(2)
    loader = data.make_loader(ds, 2 * worker.B, shuffle=False)
    history = train.fit(
        model, loader, optimizer=torch.optim.SGD(model.parameters(), lr=0.5), epochs=1, device="cpu", progress=False
    )
    assert len(history) == 1 and len(loader) == 1
    return model.state_dict()


@pytest.mark.parametrize("layout", ["single_node", "two_nodes"])
def test_ddp_step_with_batch_b_per_rank_equals_one_process_with_batch_2b(layout, request, one_thread):
    out, ranks = request.getfixturevalue(layout)
    ddp = torch.load(out / "one_step.pt", weights_only=True)
    single = one_process_double_batch_step()
    initial = worker.tiny_model().state_dict()
    for name, value in single.items():
        assert not torch.equal(value, initial[name]), f"{name} did not move: the comparison is vacuous"
        delta = (ddp[name] - value).abs().max().item()
        assert delta < 1e-6, f"{layout}: {name} differs by {delta:.2e} from one process with batch 2B"
    assert all(r["one_step_same_on_every_rank"] for r in ranks)
    # the loss is the mean over every rank's samples, so it is the same number everywhere
    assert ranks[0]["one_step_loss"] == pytest.approx(ranks[1]["one_step_loss"], abs=0)


def test_ddp_on_one_node_uses_gloo_two_ranks_and_prints_on_rank_0_only(single_node):
    _, ranks = single_node
    assert [r["rank"] for r in ranks] == [0, 1]
    assert [r["local_rank"] for r in ranks] == [0, 1]
    assert all(r["world_size"] == 2 and r["local_world_size"] == 2 and r["backend"] == "gloo" for r in ranks)
    assert [r["printed_progress"] for r in ranks] == [True, False]


def test_two_launchers_form_one_job_of_two_nodes(two_nodes):
    _, ranks = two_nodes
    assert sorted(r["rank"] for r in ranks) == [0, 1]
    assert sorted(r["group_rank"] for r in ranks) == [0, 1], "each launcher must be its own node"
    assert all(r["local_rank"] == 0 and r["local_world_size"] == 1 and r["world_size"] == 2 for r in ranks)
    assert all(r["resumed_equals_straight"] for r in ranks)


def test_two_process_training_lands_in_the_single_process_band(single_node, one_thread):
    _, ranks = single_node
    h0, h1 = ranks[0]["digits_history"], ranks[1]["digits_history"]
    assert h0 == {**h1, "time_s": h0["time_s"]}, "metrics must be averaged over all ranks"
    assert all(r["digits_same_on_every_rank"] for r in ranks)
    assert len(h0["epoch"]) == worker.DIGITS_EPOCHS
    _, single = worker.digits_run(1)
    acc_ddp, acc_one = h0["val_acc"][-1], single.last("val_acc")
    assert acc_one >= 0.9, f"single-process reference reached only {acc_one:.3f}"
    assert acc_ddp >= 0.9, f"2 processes reached only {acc_ddp:.3f} (one process: {acc_one:.3f})"
    assert abs(acc_ddp - acc_one) <= 0.04, (acc_ddp, acc_one)
    assert h0["lr"][0] == pytest.approx(2 * worker.DIGITS_LR)


def test_ddp_checkpoint_is_written_by_rank_0_read_by_all_and_resumes_exactly(single_node):
    out, ranks = single_node
    for r in ranks:
        assert r["checkpoint_epoch_after_2"] == 2 and r["checkpoint_world_size"] == 2
        assert r["checkpoint_epoch_after_4"] == 4
        assert r["resumed_equals_straight"], f"rank {r['rank']}: resumed weights differ"
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name], "a temporary file was left behind"


def test_sync_batchnorm_is_refused_on_the_cpu(single_node):
    _, ranks = single_node
    for r in ranks:
        assert r["sync_batchnorm_cpu_error"] and "SyncBatchNorm" in r["sync_batchnorm_cpu_error"]


def test_sigkill_after_epoch_2_then_resume_gives_the_uninterrupted_weights(tmp_path, one_thread):
    epochs = 6
    ckpt, weights = tmp_path / "run.pt", tmp_path / "weights.pt"
    cmd = [sys.executable, str(DDP / "resume_run.py"), str(ckpt), str(epochs), str(weights)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + LAUNCH_TIMEOUT_S
    try:
        while not (ckpt.exists() and train.load_checkpoint(ckpt)["epoch"] >= 2):
            if proc.poll() is not None:
                pytest.fail("the training ended before its epoch-2 checkpoint:\n" + proc.stdout.read().decode()[-3000:])
            assert time.monotonic() < deadline, "no epoch-2 checkpoint in time"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert not weights.exists(), "the training finished before it was killed"
    killed_at = train.load_checkpoint(ckpt)["epoch"]  # the file survived the kill intact
    assert 2 <= killed_at < epochs, f"killed after epoch {killed_at}: nothing left to resume"
    # resume here, in this process: fit finds the checkpoint and continues from it
    resumed = resume_script.run(epochs, ckpt).state_dict()
    state = train.load_checkpoint(ckpt)
    assert state["epoch"] == epochs
    assert [row["epoch"] for row in state["history"]] == list(range(1, epochs + 1))
    straight = resume_script.run(epochs).state_dict()
    for name, value in straight.items():
        assert torch.equal(resumed[name], value), f"{name}: resumed run differs from the uninterrupted one"
