"""Batch chat samples with images/videos for BehaviorLlava; only assistant tokens carry loss.

TRL has no video column, so this collator renders each sample's `messages` through the processor's chat template
(which loads the media), and turns the template's `{% generation %}` mask into labels. A sample whose media cannot
be loaded is dropped from the batch with a warning and counted, never a crash deep into a run. Sequences longer
than `max_length` are cut at the end; a sample whose visual tokens would be cut is dropped and counted instead
(half a video's tokens cannot be matched with its frames).

Each batch carries its own counts under `collated_samples` (`{"seen": n, <drop reason>: n, ...}`): the collator
runs in the DataLoader's worker processes, whose counters the main process never sees, so the counts travel with
the batch (BehaviorSFTTrainer sums them over processes and logs them). A batch whose every sample was dropped has
zero rows, and the trainer skips its step.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field

import torch

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
COUNTS_KEY = "collated_samples"
MEDIA_ERRORS = (OSError, ValueError, RuntimeError)
SEQUENCE_KEYS = ("input_ids", "attention_mask", "assistant_masks")


@dataclass
class BehaviorLlavaCollator:
    processor: object
    max_length: int | None = None
    messages_key: str = "messages"
    skipped: Counter = field(default_factory=Counter)

    def __call__(self, examples: list[dict]) -> dict:
        skipped_before = self.skipped.copy()
        kept = examples
        try:
            batch = self._encode(kept)
        except MEDIA_ERRORS:
            # Find the broken samples one by one, so the error names them and the rest of the batch still trains.
            kept = [example for example in examples if self._loads(example)]
            batch = self._encode(kept)
        if self.max_length is not None and batch["input_ids"].shape[1] > self.max_length:
            batch = self._cut(kept, batch)
        labels = batch["input_ids"].clone()
        labels[batch.pop("assistant_masks") == 0] = IGNORE_INDEX
        batch["labels"] = labels
        batch[COUNTS_KEY] = {"seen": len(examples), **(self.skipped - skipped_before)}
        return dict(batch)

    def _loads(self, example: dict) -> bool:
        try:
            self._encode([example])
        except MEDIA_ERRORS as error:
            self._skip(example, type(error).__name__, error)
            return False
        return True

    def _cut(self, examples: list[dict], batch):
        """Keep the first `max_length` tokens (right padding), dropping samples with visual tokens past the cut."""
        placeholders = torch.tensor([self.processor.image_token_id, self.processor.video_token_id])
        media_cut = torch.isin(batch["input_ids"][:, self.max_length :], placeholders).any(dim=1)
        if media_cut.any():
            for example, cut in zip(examples, media_cut.tolist()):
                if cut:
                    self._skip(example, "media past max_length", f"visual tokens beyond max_length={self.max_length}")
            batch = self._encode([example for example, cut in zip(examples, media_cut.tolist()) if not cut])
        for key in SEQUENCE_KEYS:
            batch[key] = batch[key][:, : self.max_length]
        return batch

    def _skip(self, example: dict, reason: str, detail) -> None:
        self.skipped[reason] += 1
        logger.warning("dropping sample %s from the batch: %s", example.get("id", "?"), detail)

    def _encode(self, examples: list[dict]) -> dict:
        if not examples:  # every sample dropped: a batch of zero rows
            return {key: torch.zeros((0, 0), dtype=torch.long) for key in SEQUENCE_KEYS}
        return self.processor.apply_chat_template(
            [example[self.messages_key] for example in examples],
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            return_assistant_tokens_mask=True,
            processor_kwargs={"padding": True, "padding_side": "right"},
        )
