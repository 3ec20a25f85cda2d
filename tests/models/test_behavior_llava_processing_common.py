"""transformers' own common processor tests (ProcessorTesterMixin of the locked 5.23.0) run against
BehaviorLlavaProcessor, built from the tiny offline components. Each skip says why."""

import unittest
from unittest.mock import patch

from transformers_common.test_processing_common import ProcessorTesterMixin

from hf_behavior import BehaviorLlavaProcessor
from hf_behavior.tiny import build_tiny_processor

HUB_MEDIA = "loads its images/videos from the Hub (hf-internal-testing URLs); the tests run offline"


class BehaviorLlavaProcessorTest(ProcessorTesterMixin, unittest.TestCase):
    processor_class = BehaviorLlavaProcessor

    @classmethod
    def _setup_from_components(cls):
        return build_tiny_processor()

    def _without_remote_code_registration(self, test):
        """save_pretrained of a processor registered for remote code adds `auto_map` to the saved instance, which
        transformers drops again on load; the round trip is compared as for an in-library processor (the remote-code
        folder is tested in test_behavior_llava.py)."""
        with patch.object(BehaviorLlavaProcessor, "_auto_class", None):
            test()

    def test_processor_from_and_save_pretrained(self):
        self._without_remote_code_registration(super().test_processor_from_and_save_pretrained)

    def test_processor_from_and_save_pretrained_as_nested_dict(self):
        self._without_remote_code_registration(super().test_processor_from_and_save_pretrained_as_nested_dict)


for _name in ("test_apply_chat_template_image_0", "test_apply_chat_template_image_1",
              "test_apply_chat_template_video_0", "test_apply_chat_template_video_1",
              "test_apply_chat_template_video_frame_sampling", "test_processor_text_has_no_visual"):  # fmt: skip
    setattr(BehaviorLlavaProcessorTest, _name, unittest.skip(HUB_MEDIA)(lambda self: None))


class BehaviorLlavaProcessorByMediaChunksTest(BehaviorLlavaProcessorTest):
    """The same tests with the text tokenised by media chunks, as converted LLaMA-VID checkpoints do."""

    @staticmethod
    def prepare_processor_dict():
        return {"tokenize_media_chunks": True}

    @classmethod
    def _setup_from_components(cls):
        processor = build_tiny_processor()
        processor.tokenize_media_chunks = True
        return processor
