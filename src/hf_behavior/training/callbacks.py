"""The paper's training signals, computed at every evaluation on held-out BLIFT rows (paper section 2.2: comment
perplexity 6.22 -> 3.05 and likes/views R² -5.1 -> 0.45 over Behavior-LLaVA training).

The rows are split across processes, scored with the evaluation harness's own functions (the same numbers
`hf-behavior eval` reports), gathered, and logged through the trainer like `eval_loss`. Each metric is computed on
the rows whose reference answer carries its question (comments for perplexity, a like percentage for R²): the
ablation configs ask for likes only, titles or no behaviour, and a metric no row asks for is skipped, with a log line.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings

from accelerate.utils import gather_object
from transformers import TrainerCallback
from trl.models.utils import unwrap_model_for_generation

from ..evaluation.parsing import comment_spans, parse_like_percent
from ..evaluation.runner import predict_or_isolate, task_metrics
from ..evaluation.tasks import TaskConfig

logger = logging.getLogger(__name__)

COMMENT_PERPLEXITY = TaskConfig(name="comment_perplexity", kind="perplexity", messages_column="messages")
LIKES_R2 = TaskConfig(name="likes_r2", kind="likes_r2", messages_column="messages", target_column="like_percent")


class BehaviorMetricsCallback(TrainerCallback):
    """On each evaluation, log `eval_comment_perplexity` and `eval_likes_r2` (+ how many answers parsed).

    `dataset` holds BLIFT rows with the Listing-1 `messages` (reference answer in the last assistant turn) and
    `like_percent`; likes R² generates `max_new_tokens` per row, so keep the held-out split small.
    """

    def __init__(self, trainer, dataset, batch_size: int = 4, max_new_tokens: int = 384):
        self.trainer = trainer
        self.dataset = dataset
        self.batch_size = batch_size
        tasks = [COMMENT_PERPLEXITY, dataclasses.replace(LIKES_R2, max_new_tokens=max_new_tokens)]
        self.rows = {task.name: rows_asking(task, dataset) for task in tasks}
        self.tasks = [task for task in tasks if self.rows[task.name]]
        for task in tasks:
            if not self.rows[task.name]:
                logger.warning("eval_%s is skipped: none of the %d held-out rows asks for it", task.name, len(dataset))

    def on_evaluate(self, args, state, control, **kwargs):
        if not self.tasks:
            return
        accelerator = self.trainer.accelerator
        processor = self.trainer.processing_class
        predictions = {task.name: [] for task in self.tasks}
        with warnings.catch_warnings():
            # TRL 1.16 still calls transformers' deprecated gradient_checkpointing_* names here; ours are the new ones
            warnings.filterwarnings("ignore", r"`(is_)?gradient_checkpointing\w*` is deprecated", FutureWarning)
            checkpointing = args.activation_checkpointing_kwargs
            with unwrap_model_for_generation(
                self.trainer.model_wrapped, accelerator, gradient_checkpointing_kwargs=checkpointing
            ) as model:
                model.eval()
                for task in self.tasks:  # a broken held-out row is counted in n_failed, not a stop
                    with accelerator.split_between_processes(self.rows[task.name]) as indices:
                        for start in range(0, len(indices), self.batch_size):
                            batch = indices[start : start + self.batch_size]
                            predictions[task.name] += predict_or_isolate(model, processor, task, self.dataset, batch)
        metrics = {}
        for task in self.tasks:
            result = task_metrics(task, gather_object(predictions[task.name]))
            metrics.update(_logged(task, result))
        if accelerator.is_main_process:
            self.trainer.log(metrics)


def rows_asking(task: TaskConfig, dataset) -> list[int]:
    """Indices of the rows whose reference answer holds what `task` scores: comments, or a like percentage."""
    carries = comment_spans if task.kind == "perplexity" else parse_like_percent
    rows = []
    for index, record in enumerate(dataset):
        try:
            answer = task.reference_answer(record)
        except (KeyError, ValueError):  # no assistant turn: predict_or_isolate would count it failed; nothing to ask
            continue
        if carries(answer):
            rows.append(index)
    return rows


def _logged(task: TaskConfig, result: dict) -> dict[str, float]:
    """Flat numeric metrics, `eval_`-prefixed; R² is NaN until some answer parses, so the counts go with it."""
    if task.kind == "perplexity":
        keys = {"perplexity": "eval_comment_perplexity", "n_tokens": "eval_comment_tokens"}
    else:
        keys = {"likes_r2": "eval_likes_r2", "n_parsed": "eval_likes_parsed", "n": "eval_likes_rows"}
    logged = {name: float(result[key]) for key, name in keys.items()}
    logged[f"eval_{task.name}_failed"] = float(result["n_failed"])
    return logged
