"""Issue 32.7: accelerate's own multi-node launch (2 machines x 1 process, both on localhost, gloo on CPU) trains
the tiny recipe to the same losses as 2 processes on one machine. Issue 32.3 under DDP: a process whose batch lost
every sample still takes part in the step's collectives, so the other process does not wait forever."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from process_tree import kill_tree

REPO = Path(__file__).resolve().parents[2]
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch",
          "--config_file", str(REPO / "recipes" / "accelerate_configs" / "multi_cpu.yaml"), "--num_processes", "2"]  # fmt: skip
RECIPE = [str(REPO / "recipes" / "sft_blift.py"), "--config", str(REPO / "recipes" / "behavior_llava" / "tiny_cpu.yaml"),
          "--max_steps", "3", "--eval_strategy", "no", "--eval_samples", "0", "--save_strategy", "no"]  # fmt: skip
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def losses(output: Path) -> dict[int, float]:
    history = json.loads((output / "trainer_state.json").read_text())["log_history"]
    return {entry["step"]: entry["loss"] for entry in history if "loss" in entry}


@pytest.mark.slow
def test_two_machines_train_to_the_same_losses_as_two_processes_on_one(workdir):
    one = subprocess.run([*LAUNCH, *RECIPE, "--output_dir", "one_machine"], cwd=workdir, env=ENV, capture_output=True,
                         text=True, timeout=580)  # fmt: skip
    assert one.returncode == 0, one.stdout[-3000:] + one.stderr[-3000:]

    port = free_port()
    machines = [
        subprocess.Popen([*LAUNCH, "--num_machines", "2", "--machine_rank", str(rank), "--main_process_ip", "127.0.0.1",
                          "--main_process_port", str(port), *RECIPE, "--output_dir", "two_machines"],
                         cwd=workdir, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for rank in (0, 1)
    ]  # fmt: skip
    logs = [machine.communicate(timeout=580)[0] for machine in machines]
    assert [machine.returncode for machine in machines] == [0, 0], logs[0][-3000:] + logs[1][-3000:]
    assert all("processes: 2" in log for log in logs)  # each machine's main process reports the world of 2

    expected = losses(workdir / "one_machine")
    assert sorted(expected) == [1, 2, 3]
    assert losses(workdir / "two_machines") == pytest.approx(expected, rel=1e-5)


@pytest.mark.slow
def test_a_process_whose_batch_lost_every_sample_skips_the_step_with_the_other(workdir):
    """Batch size 1 on 2 processes, one corrupt mp4: one process's step has no sample, the other's has one."""
    command = [*LAUNCH, *RECIPE, "--output_dir", "skipped_step", "--max_steps", "-1", "--num_train_epochs", "1",
               "--per_device_train_batch_size", "1", "--logging_steps", "1", "--dataloader_num_workers", "2",
               "--instruct_data", "tiny_data/llava/instruct.json", "tiny_data/llava/broken.json"]  # fmt: skip
    run = subprocess.Popen(command, cwd=workdir, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        log = run.communicate(timeout=300)[0]
    except subprocess.TimeoutExpired:
        kill_tree(run.pid)
        pytest.fail("the processes hung: " + run.communicate()[0][-3000:])
    assert run.returncode == 0, log[-3000:]
    history = json.loads((workdir / "skipped_step" / "trainer_state.json").read_text())["log_history"]
    final = history[-1]
    assert (final["samples_seen"], final["samples_dropped"], final["steps_skipped"]) == (14, 1, 1)
    assert sorted(losses(workdir / "skipped_step")) == list(range(1, 8))  # 14 rows, 2 a step
