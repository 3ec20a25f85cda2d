"""Issue 32: every shipped recipe starts as shipped; bad setups fail before the model loads; no sample is lost
silently; `--resume_from_checkpoint true` resumes. The recipe runs in this process (TrlParser + main, as
`python recipes/sft_blift.py --config ...` does) on the tiny model and a real tiny BLIFT build.

Where a check must come before the model loads, the model folder's weights are corrupt: loading it would raise a
safetensors error, so getting the setup error instead shows the check came first.
"""

import importlib.util
import json
import re
import shutil
import traceback
import warnings
from pathlib import Path

import httpx2
import pytest
import yaml
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import _http
from datasets import concatenate_datasets
from transformers import AutoModelForCausalLM, AutoProcessor
from trl import ModelConfig, SFTConfig, TrlParser

from hf_behavior.data.mixture import load_llava_json
from hf_behavior.training.collator import BehaviorLlavaCollator
from hf_behavior.training.trainer import BehaviorSFTTrainer
from hf_behavior.training.worker_stacks import WorkersStalled
from hub_fixtures import fake_hub

from .held_lock import LockingCollator, lock_held_by_a_thread

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes" / "behavior_llava"
TINY_CPU = RECIPES / "tiny_cpu.yaml"
SHIPPED = sorted(path for path in RECIPES.rglob("*.yaml") if path != TINY_CPU)
WORKERS_AS_SHIPPED = RECIPES / "behavior_llava.yaml"
WORKER_KEYS = ("dataloader_num_workers", "dataloader_multiprocessing_context", "dataloader_persistent_workers",
               "dataloader_prefetch_factor", "dataloader_pin_memory")

_spec = importlib.util.spec_from_file_location("sft_blift", REPO / "recipes" / "sft_blift.py")
sft_blift = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sft_blift)

# Metrics the held-out rows of each recipe's BLIFT config ask for (issue 32.9: the ablations ask for fewer)
BEHAVIOUR_METRICS = {"blift": {"eval_comment_perplexity", "eval_likes_r2"}, "blift_likes": {"eval_likes_r2"},
                     "blift_comments": {"eval_comment_perplexity"}, "blift_titles": set(), "blift_no_behavior": set()}  # fmt: skip
OURS = (str(REPO / "src"), str(REPO / "recipes"))


def parse(config: Path, *flags: str):
    parser = TrlParser((sft_blift.BehaviorScriptArguments, SFTConfig, ModelConfig))
    return parser.parse_args_and_config(["--config", str(config), *flags])


def run(config: Path, *flags: str) -> None:
    sft_blift.main(*parse(config, *flags))


def library_package(filename: str) -> str | None:
    return filename.split("site-packages/", 1)[1].split("/", 1)[0] if "site-packages/" in filename else None


def deprecations_we_cause(function, *args) -> list[str]:
    """Deprecation/Future warnings whose deprecated API our own code called (the frame that called into the warning
    library is ours); a library calling another one's deprecated API (TRL 1.16 and transformers' old names) is not."""
    found = []

    def record(message, category, filename, lineno, file=None, line=None):
        if not issubclass(category, DeprecationWarning | FutureWarning):
            return
        stack = traceback.extract_stack()[:-1]
        warned = max(i for i, frame in enumerate(stack) if frame.filename == filename) if any(
            frame.filename == filename for frame in stack) else len(stack) - 1  # fmt: skip
        package = library_package(filename)
        caller = next((frame for frame in reversed(stack[:warned])
                       if package is None or library_package(frame.filename) != package), None)  # fmt: skip
        if caller is not None and caller.filename.startswith(OURS):
            found.append(f"{caller.filename}:{caller.lineno} -> {filename}:{lineno}: {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = record
        function(*args)
    return found


def log_history(output_dir: Path) -> list[dict]:
    return json.loads((output_dir / "trainer_state.json").read_text())["log_history"]


@pytest.fixture
def in_workdir(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    return workdir


@pytest.fixture(scope="module")
def corrupt_model(workdir):
    """tiny_data/model with garbage weights: loading it fails, so a setup error shows the check came first."""
    folder = workdir / "corrupt_model"
    if not folder.exists():
        shutil.copytree(workdir / "tiny_data" / "model", folder)
        (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    return "corrupt_model"


@pytest.mark.slow
@pytest.mark.parametrize("config", SHIPPED, ids=lambda path: path.relative_to(RECIPES).as_posix())
def test_shipped_recipe_starts_and_trains(config, in_workdir):
    """Only the model/data paths, use_cpu, dtype and max_steps changed; and where the recipe evaluates, eval_samples
    (the tiny build has 6 rows) and eval_max_new_tokens (a random model never stops: 384 tokens would be all cost).
    The paper's recipe starts its DataLoader workers as shipped; the others, whose worker settings are the same, run
    without them."""
    shipped = yaml.safe_load(config.read_text())
    flags = ["--model_name_or_path", "tiny_data/model", "--dataset_name", "tiny_data/blift",
             "--instruct_data", "tiny_data/llava/instruct.json", "--instruct_media_root", "tiny_data/llava",
             "--use_cpu", "true", "--dtype", "float32", "--max_steps", "1"]  # fmt: skip
    if shipped["eval_samples"]:
        flags += ["--eval_samples", "2", "--eval_max_new_tokens", "8"]
    if config != WORKERS_AS_SHIPPED:  # the same worker settings (test below): started ~20 s a recipe on 2 cores
        flags += ["--dataloader_num_workers", "0", "--dataloader_persistent_workers", "false"]
    with warnings.catch_warnings(record=True) as parsing:  # the YAML's own keys: none deprecated
        warnings.simplefilter("always")
        parse(config, *flags)
    assert not [str(w.message) for w in parsing if issubclass(w.category, DeprecationWarning | FutureWarning)]
    assert not deprecations_we_cause(run, config, *flags)

    output = in_workdir / shipped["output_dir"]
    history = log_history(output)
    assert max(entry["step"] for entry in history) == 1
    batch = shipped["per_device_train_batch_size"] * shipped.get("gradient_accumulation_steps", 1)
    assert 0 < history[-1]["samples_seen"] <= batch and history[-1]["samples_dropped"] == 0  # at most the mixture's 26
    if shipped["report_to"] == "tensorboard":
        assert list(output.glob("runs/*/events.out.tfevents.*"))
    evaluated = {key for entry in history for key in entry if key in BEHAVIOUR_METRICS["blift"]}
    expected = BEHAVIOUR_METRICS.get(shipped["dataset_config"], set()) if shipped["eval_samples"] else set()
    assert evaluated == expected
    assert (output / "README.md").is_file()
    AutoModelForCausalLM.from_pretrained(output)  # the saved model loads (LoRA merged into it)


def test_shipped_recipes_start_their_workers_as_the_papers_recipe():
    """Every shipped recipe's DataLoader workers are set as the paper's (which the test above runs with its workers as
    shipped), so the others can run there without workers: 4 worker processes cost ~20 s a recipe on 2 cores."""
    paper = yaml.safe_load(WORKERS_AS_SHIPPED.read_text())
    assert paper["dataloader_num_workers"] > 0
    for config in SHIPPED:
        shipped = yaml.safe_load(config.read_text())
        if shipped.get("dataloader_num_workers", 0) == 0:  # lora.yaml: no workers
            continue
        assert {key: shipped.get(key) for key in WORKER_KEYS} == {key: paper.get(key) for key in WORKER_KEYS}, config


def bad_setups(tmp: str) -> list:
    """(flags, error type, message): each fails before the model loads."""
    return [
        (["--dataset_name", "nope/blift/folder"], FileNotFoundError, "dataset nope/blift/folder"),
        (["--dataset_name", "nope/blift"], FileNotFoundError, "dataset nope/blift"),  # a Hub id while offline
        (["--dataset_config", "blift_nope"], ValueError, "has no config 'blift_nope'"),
        (["--instruct_data", "tiny_data/llava/nope.json"], FileNotFoundError, "instruct file tiny_data/llava/nope.json"),
        (["--instruct_media_root", "tiny_data/nope"], FileNotFoundError, "instruct_media_root tiny_data/nope"),
        (["--instruct_media_root", "tiny_data/blift"], FileNotFoundError, "none of the first 4 media files exists"),
        (["--mixture_ratio", "abc"], ValueError, "ratio 'abc'"),
        (["--mixture_ratio", "1:0"], ValueError, "ratio '1:0'"),
        (["--eval_samples", "6"], ValueError, "eval_samples=6 would hold out all 6 rows"),
        (["--output_dir", "tiny_data/llava/instruct.json/out"], OSError, "instruct.json"),
        (["--resume_from_checkpoint", "true", "--output_dir", tmp], FileNotFoundError, r"no checkpoint-\* folder"),
        (["--report_to", "clearml"], RuntimeError, "report_to=\\[.clearml.\\]"),  # not installed (wandb comes with lmms-eval)
        (["--max_dropped_fraction", "2"], ValueError, "max_dropped_fraction must be within"),
        (["--dataloader_timeout", "-1"], ValueError, "dataloader_timeout must be 0"),
    ]


@pytest.mark.parametrize("case", range(len(bad_setups(""))))
def test_bad_setup_fails_before_the_model_loads(case, in_workdir, corrupt_model, tmp_path):
    flags, error, message = bad_setups(str(tmp_path))[case]
    with pytest.raises(error, match=message):
        run(TINY_CPU, "--model_name_or_path", corrupt_model, "--output_dir", str(tmp_path / "out"), *flags)


def test_missing_model_path_says_not_found(in_workdir, tmp_path):
    with pytest.raises(FileNotFoundError, match="model checkpoints/llama-vid-13b-hf"):
        run(TINY_CPU, "--model_name_or_path", "checkpoints/llama-vid-13b-hf", "--output_dir", str(tmp_path))


def test_tiny_recipe_without_its_inputs_says_which_command_writes_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="model tiny_data/model.*`hf-behavior tiny-data tiny_data` writes"):
        run(TINY_CPU)


def test_push_to_hub_creates_the_repo_before_the_model_loads(in_workdir, corrupt_model, tmp_path):
    flags = ["--model_name_or_path", corrupt_model, "--output_dir", str(tmp_path), "--push_to_hub", "true",
             "--hub_model_id", "me/behavior-llava-tiny", "--hub_token", "hf_test"]  # fmt: skip
    with fake_hub("me/behavior-llava-tiny") as hub, pytest.raises(Exception, match="safetensors|header"):
        run(TINY_CPU, *flags)  # the repo is created, then the (corrupt) model fails to load
    assert hub.requests == [("POST", "/api/repos/create")]

    refused = httpx2.MockTransport(lambda request: httpx2.Response(401, json={"error": "Invalid credentials"}))
    _http.set_client_factory(lambda: httpx2.Client(transport=refused))
    try:
        with pytest.raises(HfHubHTTPError, match="401"):
            run(TINY_CPU, *flags)
    finally:
        _http.set_client_factory(_http.default_client_factory)


def test_resume_true_continues_from_the_last_checkpoint(in_workdir, tmp_path):
    flags = ["--output_dir", str(tmp_path), "--save_steps", "2", "--eval_strategy", "no", "--eval_samples", "0"]
    run(TINY_CPU, *flags, "--max_steps", "4")
    first = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "checkpoint-2").iterdir()}
    run(TINY_CPU, *flags, "--max_steps", "6", "--resume_from_checkpoint", "true")
    losses = {entry["step"] for entry in log_history(tmp_path) if "loss" in entry}
    assert losses == {1, 2, 3, 4, 5, 6}
    assert {path.name: path.stat().st_mtime_ns for path in (tmp_path / "checkpoint-2").iterdir()} == first  # not redone
    assert (tmp_path / "checkpoint-6").is_dir()


def test_all_dropped_batch_is_skipped_and_counts_leave_the_workers(in_workdir, tmp_path):
    """Batch size 1, one corrupt mp4, 2 DataLoader workers: the step is skipped, the drop counted and kept."""
    flags = ["--output_dir", str(tmp_path), "--per_device_train_batch_size", "1", "--num_train_epochs", "1",
             "--instruct_data", "tiny_data/llava/instruct.json", "tiny_data/llava/broken.json",
             "--dataloader_num_workers", "2", "--eval_strategy", "no", "--eval_samples", "0", "--save_strategy", "no",
             "--logging_steps", "5"]  # fmt: skip
    run(TINY_CPU, *flags)
    history = log_history(tmp_path)
    final = history[-1]
    rows = 2 * 7  # one epoch: 7 instruct rows (1 broken) + as many behaviour rows
    assert final["samples_seen"] == rows and final["steps_skipped"] == 1
    assert final["samples_dropped"] == final["samples_dropped/ValueError"] == 1
    assert max(entry["step"] for entry in history) == rows
    assert "| samples_dropped | 1 |" in (tmp_path / "README.md").read_text()


def test_evaluation_counts_its_dropped_samples(in_workdir, tmp_path):
    """Held-out rows whose media cannot be read: the evaluation's metrics (and the log) say how many were left out."""
    rows = concatenate_datasets([load_llava_json(f"tiny_data/llava/{name}.json", "tiny_data/llava")
                                 for name in ("instruct", "broken")])  # fmt: skip
    held_out = rows.select([2, 5, 6])  # two readable videos, then the corrupt one
    processor = AutoProcessor.from_pretrained("tiny_data/model")
    args = SFTConfig(output_dir=str(tmp_path), per_device_eval_batch_size=2, use_cpu=True, report_to=[],
                     remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True},
                     dataloader_num_workers=1)  # fmt: skip
    trainer = BehaviorSFTTrainer(model=AutoModelForCausalLM.from_pretrained("tiny_data/model"), args=args,
                                 train_dataset=held_out, eval_dataset=held_out, processing_class=processor,
                                 data_collator=BehaviorLlavaCollator(processor))  # fmt: skip
    metrics = trainer.evaluate()
    assert (metrics["eval_samples_seen"], metrics["eval_samples_dropped"]) == (3, 1)
    assert metrics["eval_loss"] > 0  # from the two readable rows
    assert trainer.state.log_history[-1]["eval_samples_dropped"] == 1


def test_run_stops_when_too_many_samples_are_dropped(in_workdir, tmp_path):
    """Media that exist but cannot be read (a wrong root would be caught before loading): a bounded fraction."""
    record = json.loads((in_workdir / "tiny_data" / "llava" / "broken.json").read_text())[0]
    broken = tmp_path / "all_broken.json"
    broken.write_text(json.dumps([{**record, "id": f"broken{index}"} for index in range(7)]))
    flags = ["--output_dir", str(tmp_path / "out"), "--instruct_data", str(broken), "--eval_strategy", "no",
             "--eval_samples", "0", "--save_strategy", "no", "--logging_steps", "1", "--max_dropped_fraction", "0.2",
             "--min_samples_before_drop_check", "4", "--dataloader_num_workers", "2"]  # fmt: skip
    with pytest.raises(RuntimeError, match="samples seen were dropped .*more than max_dropped_fraction=0.2"):
        run(TINY_CPU, *flags)


@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_workers_that_deliver_nothing_stop_the_run_with_their_stacks(start, in_workdir, tmp_path, monkeypatch):
    """Issue 32.8 on CPU: a lock that a thread of the training process holds when the workers start. Forked workers
    inherit it held and wait forever: the run stops after dataloader_timeout, naming where each worker waits. The
    shipped start method (forkserver) gives workers a clean process: the same run trains."""
    monkeypatch.setattr(sft_blift, "BehaviorLlavaCollator", LockingCollator)
    flags = ["--output_dir", str(tmp_path), "--max_steps", "1", "--eval_strategy", "no", "--eval_samples", "0",
             "--save_strategy", "no", "--dataloader_num_workers", "1", "--dataloader_multiprocessing_context", start,
             "--dataloader_timeout", "4" if start == "fork" else "300"]  # fmt: skip
    with lock_held_by_a_thread():
        if start == "fork":
            with pytest.raises(WorkersStalled) as stalled:
                run(TINY_CPU, *flags)
        else:
            run(TINY_CPU, *flags)
    if start == "fork":
        message = str(stalled.value)
        assert message.startswith("DataLoader workers delivered no batch in 4 s (dataloader_timeout). Workers forked")
        worker = re.search(r"^training worker 0 \(pid (\d+)\): sleeping.*$", message, re.MULTILINE)
        assert worker, message
        assert re.search(r'File ".*held_lock\.py", line \d+ in __call__', message), message  # where it waits
        assert re.search(r"^  Thread-\d+ \(hold\): .*held_lock\.py:\d+ in hold$", message, re.MULTILINE), message  # who holds it
    else:
        assert max(entry["step"] for entry in log_history(tmp_path)) == 1
