"""Generated media and tiny random models for the verbalization tests (nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import torch

from hf_behavior.verbalize.colors import PALETTE

FPS = 10
SIZE = (64, 48)  # width, height


def painted_frames(segments: list[tuple[str, str, int]], size=SIZE) -> list[np.ndarray]:
    """Frames for (background colour, centre-square colour, frame count) segments; a moving edge in each
    frame keeps the picture from being perfectly static."""
    width, height = size
    frames = []
    for background, foreground, count in segments:
        for number in range(count):
            frame = np.empty((height, width, 3), np.uint8)
            frame[:] = PALETTE[background]
            frame[height // 4 : 3 * height // 4, width // 4 : 3 * width // 4] = PALETTE[foreground]
            frame[0, number % width] = (128, 128, 128)
            frames.append(frame)
    return frames


def tone_track(seconds: float, speech: list[tuple[float, float]], rate: int = 44_100) -> np.ndarray:
    """Silence with 440 Hz tones ("speech") over the given (start, end) spans."""
    track = np.zeros(int(seconds * rate), np.float32)
    for start, end in speech:
        span = slice(int(start * rate), int(end * rate))
        time = np.arange(span.stop - span.start) / rate
        track[span] = 0.5 * np.sin(2 * np.pi * 440 * time)
    return track


def write_video(path: Path, frames: list[np.ndarray], fps: int = FPS, audio: np.ndarray | None = None,
                audio_rate: int = 44_100, pix_fmt: str = "yuv420p", keyframe_interval: int | None = None,
                open_gop: bool = False) -> Path:
    """H.264 mp4 (plus AAC audio when given) with PyAV; x264 places key frames unless ``keyframe_interval``
    fixes them to every that many frames; ``open_gop``: B-frames shown before a key frame are decoded after it."""
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.height, video.width = frames[0].shape[:2]
        video.pix_fmt = pix_fmt
        video.options = {"crf": "10", "g": "1000"}
        if keyframe_interval:
            video.options = {"crf": "10", "g": str(keyframe_interval), "sc_threshold": "0"}
        if open_gop:
            video.options = {**video.options, "x264-params": "open-gop=1:bframes=3"}
        sound = container.add_stream("aac", rate=audio_rate) if audio is not None else None
        for frame in frames:
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        container.mux(video.encode())
        if sound is not None:
            for start in range(0, len(audio), 1024):
                chunk = av.AudioFrame.from_ndarray(audio[None, start : start + 1024], format="fltp", layout="mono")
                chunk.sample_rate = audio_rate
                container.mux(sound.encode(chunk))
            container.mux(sound.encode())
    return path


def build_tiny_llava(folder: Path) -> Path:
    """Random LlavaForConditionalGeneration (tiny CLIP vision + tiny Llama) with a word-level tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import (CLIPImageProcessor, CLIPVisionConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor, PreTrainedTokenizerFast)

    words = ["<unk>", "<s>", "</s>", "<pad>", "<image>", "USER:", "ASSISTANT:", "{", "}", '"caption":',
             '"keywords":', "a", "red", "blue", "square", ",", "the", "on", "green", "background"]
    backend = Tokenizer(models.WordLevel({word: i for i, word in enumerate(words)}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>",
                                        eos_token="</s>", pad_token="<pad>",
                                        extra_special_tokens={"image_token": "<image>"})
    chat_template = (
        "{% for m in messages %}{% if m['role'] == 'user' %}USER: {% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<image> {% else %}{{ c['text'] }} {% endif %}{% endfor %}{% endif %}"
        "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
    )
    processor = LlavaProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer, patch_size=8, vision_feature_select_strategy="default",
        num_additional_image_tokens=1, chat_template=chat_template,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                       num_attention_heads=2, image_size=32, patch_size=8),
        text_config=LlamaConfig(vocab_size=len(words), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=128,
                                bos_token_id=1, eos_token_id=2, pad_token_id=3),
        image_token_index=4, image_seq_length=16, vision_feature_layer=-1,
    )
    torch.manual_seed(0)
    LlavaForConditionalGeneration(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_tiny_whisper(folder: Path) -> Path:
    """Random WhisperForConditionalGeneration with a byte-level tokenizer carrying Whisper's special and
    timestamp tokens, and the generation config the timestamp decoding needs."""
    from tokenizers import AddedToken
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                              WhisperForConditionalGeneration, WhisperProcessor, WhisperTokenizer)

    tokenizer = WhisperTokenizer(vocab={ch: i for i, ch in enumerate(sorted(ByteLevel.alphabet()))}, merges=[],
                                 pad_token="<|endoftext|>")
    specials = ["<|startoftranscript|>", "<|en|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>",
                "<|startofprev|>", "<|nocaptions|>", "<|notimestamps|>"]
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    tokenizer.add_tokens([AddedToken(f"<|{i * 0.02:.2f}|>", special=False, normalized=False) for i in range(1501)])
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in ["<|endoftext|>", *specials]}
    config = WhisperConfig(
        vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, num_mel_bins=80,
        max_source_positions=1500, max_target_positions=64, pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
        decoder_start_token_id=ids["<|startoftranscript|>"], begin_suppress_tokens=None, suppress_tokens=None,
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=ids["<|endoftext|>"],
        pad_token_id=ids["<|endoftext|>"], no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=True,
        lang_to_id={"<|en|>": ids["<|en|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        max_initial_timestamp_index=50, max_length=24,
    )
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer).save_pretrained(folder)
    return folder
