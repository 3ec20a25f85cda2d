"""BehaviorLlavaProcessor: LLM tokenizer + Q-Former tokenizer + image processor + video processor + chat template.

`<image>` / `<video>` in the text expand to exactly as many placeholder tokens as the model emits for that media
(see `visual_token_count`). The Q-Former reads the instruction: the user turn holding the media, placeholders removed.
With `tokenize_media_chunks` the text between media is tokenised chunk by chunk, as LLaMA-VID (LLaVA's
`tokenizer_image_token`) does, so converted checkpoints see the input ids they were trained on.
"""


import os

from transformers import BatchEncoding, BatchFeature
from transformers.image_utils import ImageInput
from transformers.processing_utils import MultiModalData, ProcessorMixin
from transformers.tokenization_utils_base import TextInput
from transformers.video_utils import VideoInput

from .configuration_behavior_llava import visual_token_count

VICUNA_SYSTEM = (
    "A chat between a curious user and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the user's questions."
)
USER_ROLE, ASSISTANT_ROLE = "USER:", "ASSISTANT:"

# LLaMA-VID's `vicuna_v1` / `imgsp_v1`: "{system} USER: {user} ASSISTANT: {answer}</s>USER: ...".
# Content blocks are joined with "\n"; media become their placeholder. `{% generation %}` marks what the model learns.
CHAT_TEMPLATE = (
    "{%- set ns = namespace(system='" + VICUNA_SYSTEM.replace("'", "\\'") + "') -%}"
    "{%- if messages and messages[0]['role'] == 'system' -%}"
    "{%- if messages[0]['content'] is string -%}{%- set ns.system = messages[0]['content'] -%}"
    "{%- else -%}{%- set ns.system = messages[0]['content'] | selectattr('type', 'equalto', 'text') "
    "| map(attribute='text') | join('\\n') -%}{%- endif -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set loop_messages = messages -%}{%- endif -%}"
    "{{- ns.system + ' ' -}}"
    "{%- for message in loop_messages -%}"
    "{%- if message['content'] is string -%}{%- set text = message['content'] -%}"
    "{%- else -%}{%- set parts = namespace(text='') -%}"
    "{%- for block in message['content'] -%}"
    "{%- if block['type'] == 'text' -%}{%- set piece = block['text'] -%}"
    "{%- elif block['type'] == 'image' -%}{%- set piece = '<image>' -%}"
    "{%- elif block['type'] == 'video' -%}{%- set piece = '<video>' -%}"
    "{%- else -%}{%- set piece = '' -%}{%- endif -%}"
    "{%- set parts.text = parts.text + ('\\n' if not loop.first else '') + piece -%}"
    "{%- endfor -%}{%- set text = parts.text -%}{%- endif -%}"
    "{%- if message['role'] == 'user' -%}{{- 'USER: ' + text + ' ' -}}"
    "{%- elif message['role'] == 'assistant' -%}{{- 'ASSISTANT:' -}}"
    "{%- generation -%}{{- ' ' + text + eos_token -}}{%- endgeneration -%}"
    "{%- endif -%}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{- 'ASSISTANT:' -}}{%- endif -%}"
)


class BehaviorLlavaProcessor(ProcessorMixin):
    def __init__(
        self,
        image_processor=None,
        video_processor=None,
        tokenizer=None,
        qformer_tokenizer=None,
        chat_template=None,
        patch_size: int = 14,
        video_representation: str = "llama_vid",
        compress: str = "mean",
        pool_size: int = 2,
        slowfast_stride: int = 3,
        qformer_max_length: int = 256,
        image_token: str = "<image>",
        video_token: str = "<video>",
        tokenize_media_chunks: bool = False,
        **kwargs,
    ):
        self.patch_size = patch_size
        self.video_representation = video_representation
        self.compress = compress
        self.pool_size = pool_size
        self.slowfast_stride = slowfast_stride
        self.qformer_max_length = qformer_max_length
        self.image_token = image_token
        self.video_token = video_token
        self.tokenize_media_chunks = tokenize_media_chunks
        self.image_token_id = tokenizer.convert_tokens_to_ids(image_token)
        self.video_token_id = tokenizer.convert_tokens_to_ids(video_token)
        for token, token_id in ((image_token, self.image_token_id), (video_token, self.video_token_id)):
            if token_id is None or token_id == tokenizer.unk_token_id:
                raise ValueError(f"the tokenizer has no {token!r} token: add it with tokenizer.add_tokens(...).")
        qformer_tokenizer.truncation_side = "left"  # LLaMA-VID keeps the end of long instructions
        super().__init__(
            image_processor, video_processor, tokenizer, qformer_tokenizer, chat_template=chat_template or CHAT_TEMPLATE
        )

    @property
    def unused_input_names(self) -> list[str]:
        return ["video_timestamps"]

    @property
    def model_input_names(self) -> list[str]:
        """What `__call__` returns for the model: the LLM tokenizer's, the media processors' and the Q-Former's
        inputs (the Q-Former tokenizer's own names would add duplicates and token_type_ids, never returned)."""
        names = (
            self.tokenizer.model_input_names
            + self.image_processor.model_input_names
            + self.video_processor.model_input_names
            + ["qformer_input_ids", "qformer_attention_mask"]
        )
        return list(dict.fromkeys(names))

    @property
    def num_patches(self) -> int:
        crop = self.image_processor.crop_size or self.image_processor.size
        side = crop["height"] if "height" in crop else crop["shortest_edge"]
        return (side // self.patch_size) ** 2

    def num_visual_tokens(self, num_frames: int = 1, is_video: bool = False) -> int:
        return visual_token_count(num_frames, is_video, self.num_patches, self)

    def _get_num_multimodal_tokens(self, image_sizes=None, video_sizes=None, **kwargs) -> MultiModalData:
        """Placeholder tokens of images / videos of the given sizes (transformers' helper for serving engines).

        Every image takes the same count whatever its size (it is resized); a video's count depends only on its
        frames, `video_sizes` being (frames, height, width) as the model receives them (after any sampling).
        """
        counts = {}
        if image_sizes is not None:
            counts["num_image_tokens"] = [self.num_visual_tokens(1)] * len(image_sizes)
            counts["num_image_patches"] = [1] * len(image_sizes)
        if video_sizes is not None:
            counts["num_video_tokens"] = [self.num_visual_tokens(frames, is_video=True) for frames, *_ in video_sizes]
        return MultiModalData(**counts)

    def replace_image_token(self, image_inputs: dict, image_idx: int, **kwargs) -> str:
        return self.image_token * self.num_visual_tokens(1, is_video=False)

    def replace_video_token(self, video_inputs: dict, video_idx: int, **kwargs) -> str:
        frames = int(video_inputs["num_frames_per_video"][video_idx])
        return self.video_token * self.num_visual_tokens(frames, is_video=True)

    def __call__(
        self,
        images: ImageInput | None = None,
        text: TextInput | list[TextInput] | None = None,
        videos: VideoInput | None = None,
        audio: None = None,
        qformer_text: str | list[str] | None = None,
        **kwargs,
    ) -> BatchFeature:
        """Tokenize `text` with expanded placeholders, process media, and tokenize each sample's Q-Former text.

        `qformer_text` overrides the instruction read from `text` (one string per sample).
        """
        texts = [text] if isinstance(text, str) else text
        by_chunks = self.tokenize_media_chunks and text is not None
        call_kwargs = {**kwargs, "return_text_replacement_offsets": True} if by_chunks else kwargs
        output = super().__call__(images=images, text=text, videos=videos, audio=audio, **call_kwargs)
        if by_chunks:
            self._retokenize_by_media_chunks(output, texts, **kwargs)
        if text is not None:
            if qformer_text is None:
                qformer_text = [self.instruction_text(sample) for sample in texts]
            elif isinstance(qformer_text, str):
                qformer_text = [qformer_text]
            qformer = self.qformer_tokenizer(
                list(qformer_text), padding="longest", truncation=True, max_length=self.qformer_max_length
            )
            output["qformer_input_ids"] = qformer["input_ids"]
            output["qformer_attention_mask"] = qformer["attention_mask"]
            return_tensors = kwargs.get("return_tensors") or kwargs.get("text_kwargs", {}).get("return_tensors")
            output.convert_to_tensors(tensor_type=return_tensors)
        return output

    def _retokenize_by_media_chunks(self, output: BatchFeature, texts: list[str], **kwargs) -> None:
        """Replace `output`'s one-piece tokenisation of the expanded texts by LLaVA's `tokenizer_image_token`'s:
        each text chunk between media tokenised on its own (a SentencePiece tokenizer starts every chunk with its
        '\u2581'), the special tokens (BOS) only on the first chunk, each media's placeholders in between.

        The base class tokenises in one piece; the text is tokenised again here, which costs little next to the media.
        """
        merged = self._merge_kwargs(tokenizer_init_kwargs=self.tokenizer.init_kwargs, **kwargs)
        text_kwargs = merged["text_kwargs"]
        keep_replacements = text_kwargs.pop(
            "return_text_replacement_offsets", merged["return_text_replacement_offsets"]
        )
        return_mm_token_type_ids = text_kwargs.pop("return_mm_token_type_ids", merged["return_mm_token_type_ids"])
        return_tensors = text_kwargs.pop("return_tensors", None)
        padding = text_kwargs.pop("padding", False)
        padding_side = text_kwargs.pop("padding_side", None)
        pad_to_multiple_of = text_kwargs.pop("pad_to_multiple_of", None)
        truncation = text_kwargs.pop("truncation", None)
        max_length = text_kwargs.pop("max_length", None)
        add_special_tokens = text_kwargs.pop("add_special_tokens", True)
        replacements = output["text_replacement_offsets"]
        if not keep_replacements:
            del output["text_replacement_offsets"]

        rows, expanded_texts = [], []
        for text, media in zip(texts, replacements):
            expanded, cursor, edges = "", 0, [0]
            for record in media:
                expanded += text[cursor : record["span"][0]] + record["replacement"]
                cursor = record["span"][1]
                edges += list(record["new_span"])
            expanded += text[cursor:]
            edges.append(len(expanded))
            row = {}
            for index, (start, end) in enumerate(zip(edges, edges[1:])):
                if start == end and index > 0:
                    continue
                specials = add_special_tokens and index == 0
                piece = self.tokenizer(expanded[start:end], add_special_tokens=specials, **text_kwargs)
                for key, values in piece.items():
                    if key == "offset_mapping":
                        values = [(a + start, b + start) for a, b in values]
                    row.setdefault(key, []).extend(values)
            if truncation not in (None, False, "do_not_truncate"):
                limit = max_length or self.tokenizer.model_max_length
                cut = slice(-limit, None) if self.tokenizer.truncation_side == "left" else slice(None, limit)
                row = {key: values[cut] for key, values in row.items()}
            rows.append(row)
            expanded_texts.append(expanded)

        offsets = [row.pop("offset_mapping") for row in rows] if "offset_mapping" in rows[0] else None
        encoded = self.tokenizer.pad(
            rows, padding=padding, max_length=max_length, pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
        )
        if offsets is not None:
            left = (padding_side or self.tokenizer.padding_side) == "left"
            width = len(encoded["input_ids"][0]) if encoded["input_ids"] else 0
            encoded["offset_mapping"] = [
                [(0, 0)] * (width - len(row)) + row if left else row + [(0, 0)] * (width - len(row)) for row in offsets
            ]
        if return_mm_token_type_ids:
            encoded["mm_token_type_ids"] = self.create_mm_token_type_ids(encoded["input_ids"])
        encoded = BatchEncoding(dict(encoded), tensor_type=return_tensors)
        self._check_special_mm_tokens(expanded_texts, encoded, modalities=["image", "video"])
        output.update(encoded)

    def prepare_inputs_layout(self, images=None, text=None, videos=None, audio=None, **kwargs):
        """Name a missing local image file instead of letting the loader misread the path as base64."""
        for image in _flatten(images):
            if isinstance(image, str) and not image.startswith(("http://", "https://", "data:")):
                if not os.path.isfile(image):
                    raise FileNotFoundError(f"image file not found: {image}")
        return super().prepare_inputs_layout(images=images, text=text, videos=videos, audio=audio, **kwargs)

    def instruction_text(self, text: str) -> str:
        """The user turn holding the first media placeholder (or the first user turn), placeholders removed."""
        anchors = [i for i in (text.find(self.image_token), text.find(self.video_token)) if i >= 0]
        if USER_ROLE in text:
            anchor = min(anchors) if anchors else text.find(USER_ROLE) + len(USER_ROLE)
            start = text.rfind(USER_ROLE, 0, anchor)
            start = start + len(USER_ROLE) if start >= 0 else 0
            end = text.find(ASSISTANT_ROLE, anchor)
            text = text[start : end if end >= 0 else len(text)]
        return text.replace(self.image_token, "").replace(self.video_token, "").strip()

    def batch_decode(self, *args, **kwargs):
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args, **kwargs):
        return self.tokenizer.decode(*args, **kwargs)


def _flatten(items) -> list:
    if items is None:
        return []
    if isinstance(items, (list, tuple)):
        return [leaf for item in items for leaf in _flatten(item)]
    return [items]


BehaviorLlavaProcessor.register_for_auto_class("AutoProcessor")

__all__ = ["BehaviorLlavaProcessor", "CHAT_TEMPLATE", "VICUNA_SYSTEM"]
