"""Batch chat samples with images/videos for BehaviorLlava; only assistant tokens carry loss.

TRL has no video column, so this collator renders each sample's `messages` through the processor's chat template
(which loads the media), and turns the template's `{% generation %}` mask into labels. A sample whose media cannot
be loaded is dropped from the batch with a warning and counted, never a crash deep into a run.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field

import torch

logger = logging.getLogger(__name__)

IGNORE_INDEX = -100
MEDIA_ERRORS = (OSError, ValueError, RuntimeError)


@dataclass
class BehaviorLlavaCollator:
    processor: object
    max_length: int | None = None
    messages_key: str = "messages"
    skipped: Counter = field(default_factory=Counter)

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        conversations = [example[self.messages_key] for example in examples]
        try:
            batch = self._encode(conversations)
        except MEDIA_ERRORS:
            # Find the broken samples one by one, so the error names them and the rest of the batch still trains.
            conversations = [conv for example, conv in zip(examples, conversations) if self._loads(example, conv)]
            if not conversations:
                raise ValueError(f"every sample of the batch failed to load ({dict(self.skipped)}); check the media")
            batch = self._encode(conversations)
        labels = batch["input_ids"].clone()
        labels[batch.pop("assistant_masks") == 0] = IGNORE_INDEX
        batch["labels"] = labels
        return dict(batch)

    def _loads(self, example: dict, conversation: list[dict]) -> bool:
        try:
            self._encode([conversation])
        except MEDIA_ERRORS as error:
            self.skipped[type(error).__name__] += 1
            logger.warning("dropping sample %s from the batch: %s", example.get("id", "?"), error)
            return False
        return True

    def _encode(self, conversations: list[list[dict]]):
        processor_kwargs = {"padding": True}
        if self.max_length is not None:
            processor_kwargs.update(truncation=True, max_length=self.max_length)
        return self.processor.apply_chat_template(
            conversations,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
            return_assistant_tokens_mask=True,
            processor_kwargs=processor_kwargs,
        )
