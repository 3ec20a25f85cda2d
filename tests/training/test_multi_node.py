"""Issue 32.7: accelerate's own multi-node launch (2 machines x 1 process, both on localhost, gloo on CPU) trains
the tiny recipe to the same losses as 2 processes on one machine."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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
