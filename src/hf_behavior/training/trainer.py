"""TRL's SFTTrainer for the collator's batches, which may lose samples to unreadable media.

The collator runs in the DataLoader's worker processes, so its drop counts travel inside each batch
(`collated_samples`). Here they are summed over processes at every logging step and logged beside the loss as
`samples_seen`, `samples_dropped` and `samples_dropped/<reason>` (so trainer_state.json keeps them); past
`max_dropped_fraction` of the samples seen the run stops, since a wrong media root would otherwise train on text
alone. A batch whose every sample was dropped skips its step: it adds nothing to the gradients and its loss is left
out of the logged mean (NaN, which Trainer's `logging_nan_inf_filter` replaces).

DataLoader workers that deliver no batch within `dataloader_timeout` seconds stop the run with their stacks
(worker_stacks) instead of leaving it waiting forever.
"""

from __future__ import annotations

import multiprocessing
import tempfile
from collections import Counter
from contextlib import contextmanager

import torch
from accelerate.utils import gather_object
from trl import SFTTrainer

from .collator import COUNTS_KEY
from .worker_stacks import TIMED_OUT, WorkersStalled, WorkerStacks, process_threads, stalled_workers_report

SEEN = "seen"


class BehaviorSFTTrainer(SFTTrainer):
    def __init__(self, *args, max_dropped_fraction: float = 0.05, min_samples_before_drop_check: int = 200,
                 dataloader_timeout: float = 600, **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.dataloader_timeout = dataloader_timeout
        self._worker_stacks = tempfile.TemporaryDirectory(prefix="hf-behavior-worker-stacks-")
        self.max_dropped_fraction = max_dropped_fraction
        self.min_samples_before_drop_check = min_samples_before_drop_check
        self._unlogged_counts = Counter()  # this process's, since the last logging step
        self._counts = None  # all processes', since the start of training (restored from the log on resume)
        self._last_batch = None
        self._eval_counts = Counter()  # this process's, during an evaluation

    def _get_dataloader(self, dataset, description, *args, **kwargs):
        dataloader = super()._get_dataloader(dataset, description, *args, **kwargs)
        torch_dataloader = getattr(dataloader, "base_dataloader", dataloader)  # accelerate's wrapper, or not
        if torch_dataloader.num_workers and self.dataloader_timeout:  # both read when an iterator starts the workers
            torch_dataloader.timeout = self.dataloader_timeout
            torch_dataloader.worker_init_fn = WorkerStacks(self._worker_stacks.name, description.lower(),
                                                           torch_dataloader.worker_init_fn)  # fmt: skip
        return dataloader

    def train(self, *args, **kwargs):
        with self._reporting_stalled_workers():
            return super().train(*args, **kwargs)

    def evaluate(self, *args, **kwargs):
        with self._reporting_stalled_workers():
            return super().evaluate(*args, **kwargs)

    @contextmanager
    def _reporting_stalled_workers(self):
        try:
            yield
        except RuntimeError as error:
            if isinstance(error, WorkersStalled) or not str(error).startswith(TIMED_OUT):
                raise
            start = self.args.dataloader_multiprocessing_context or multiprocessing.get_start_method()
            why = ("Workers forked from the training process inherit its memory as it was at the fork: a lock one of "
                   "its threads held then is never released in them, and CUDA cannot be used in them. Start them "
                   "from a clean process (dataloader_multiprocessing_context: forkserver, as the shipped recipes do) "
                   "or train without them (--dataloader_num_workers 0)" if start == "fork" else
                   f"Workers started by {start}: their stacks below show where they wait")  # fmt: skip
            threads = f"The training process's threads now:\n{process_threads()}\n\n" if start == "fork" else ""
            raise WorkersStalled(
                f"DataLoader workers delivered no batch in {self.dataloader_timeout:g} s (dataloader_timeout). {why}; "
                f"raise dataloader_timeout if batches are only slow. {threads}The workers now:\n\n"
                f"{stalled_workers_report(self._worker_stacks.name)}"
            ) from error

    def training_step(self, model, inputs, num_items_in_batch=None):
        self._unlogged_counts.update(inputs.pop(COUNTS_KEY, {}))
        if inputs["input_ids"].shape[0]:
            if self.args.world_size > 1:
                self._last_batch = inputs
            return super().training_step(model, inputs, num_items_in_batch)
        self._unlogged_counts["skipped_steps"] += 1
        if self.args.world_size > 1:
            # The other processes all-reduce gradients (and TRL's compute_loss gathers its token metrics) in this
            # step: take part with a zero loss on a batch seen before.
            if self._last_batch is None:
                raise RuntimeError("every sample of this process's first batch was dropped; see the warnings above")
            model.train()
            with self.compute_loss_context_manager():
                loss = self.compute_loss(model, self._prepare_inputs(self._last_batch), num_items_in_batch=num_items_in_batch)
            self.accelerator.backward(loss * 0.0)
        return torch.tensor(float("nan") if self.args.logging_nan_inf_filter else 0.0, device=self.args.device)

    def evaluation_loop(self, *args, metric_key_prefix: str = "eval", **kwargs):
        """Adds `<prefix>_samples_seen` and `<prefix>_samples_dropped` (all processes) to the evaluation's metrics."""
        self._eval_counts = Counter()
        output = super().evaluation_loop(*args, metric_key_prefix=metric_key_prefix, **kwargs)
        counts = Counter()
        for process_counts in gather_object([dict(self._eval_counts)]):
            counts.update(process_counts)
        seen = counts.pop(SEEN, 0)
        output.metrics.update({f"{metric_key_prefix}_samples_seen": seen,
                               f"{metric_key_prefix}_samples_dropped": sum(counts.values())})  # fmt: skip
        return output

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        self._eval_counts.update(inputs.pop(COUNTS_KEY, {}))
        if not inputs["input_ids"].shape[0]:
            return None, None, None
        return super().prediction_step(model, inputs, prediction_loss_only, ignore_keys)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs:  # a training log, which every process writes: the counts can be gathered now
            logs.update(self.sample_counts())
        super().log(logs, start_time)
        if "loss" in logs:
            self._check_dropped(logs)

    def sample_counts(self) -> dict[str, int]:
        """Samples seen and dropped so far, all processes (a collective: call it on every process)."""
        if self._counts is None:
            self._counts = self._logged_counts()
        for counts in gather_object([dict(self._unlogged_counts)]):
            self._counts.update(counts)
        self._unlogged_counts.clear()
        reasons = {key: value for key, value in self._counts.items() if key not in (SEEN, "skipped_steps")}
        logged = {"samples_seen": self._counts[SEEN], "samples_dropped": sum(reasons.values()),
                  "steps_skipped": self._counts["skipped_steps"]}  # fmt: skip
        return logged | {f"samples_dropped/{reason}": value for reason, value in sorted(reasons.items())}

    def _logged_counts(self) -> Counter:
        """The counts in the last training log entry: a resumed run goes on counting from its checkpoint."""
        for entry in reversed(self.state.log_history):
            if "samples_seen" in entry:
                counts = Counter({SEEN: entry["samples_seen"], "skipped_steps": entry.get("steps_skipped", 0)})
                prefix = "samples_dropped/"
                counts.update({key[len(prefix) :]: value for key, value in entry.items() if key.startswith(prefix)})
                return counts
        return Counter()

    def _check_dropped(self, logs: dict) -> None:
        seen, dropped = logs["samples_seen"], logs["samples_dropped"]
        if seen >= self.min_samples_before_drop_check and dropped > self.max_dropped_fraction * seen:
            reasons = {key: value for key, value in logs.items() if key.startswith("samples_dropped/")}
            raise RuntimeError(
                f"{dropped} of the {seen} samples seen were dropped ({reasons}), more than max_dropped_fraction="
                f"{self.max_dropped_fraction}: check the media paths (instruct_media_root, the dataset's media)"
            )
