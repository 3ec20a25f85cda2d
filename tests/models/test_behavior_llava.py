"""BehaviorLlava model family: token accounting, context/content tokens, generation, Auto classes, bad input."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoVideoProcessor,
)

import hf_behavior
from hf_behavior import (
    BehaviorLlavaConfig,
    BehaviorLlavaForCausalLM,
    BehaviorLlavaForConditionalGeneration,
    BehaviorLlavaModel,
    BehaviorLlavaProcessor,
    BehaviorLlavaVideoProcessor,
)
from hf_behavior.synthetic_media import write_scene_video
from hf_behavior.tiny import (
    build_tiny_model_and_processor,
    build_tiny_processor,
    build_tiny_sentencepiece_tokenizer,
    tiny_config,
)

REPO_SRC = Path(hf_behavior.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny():
    model, processor = build_tiny_model_and_processor(seed=0)
    return model.eval(), processor


@pytest.fixture(scope="module")
def saved_tiny(tiny, tmp_path_factory):
    model, processor = tiny
    path = tmp_path_factory.mktemp("tiny_behavior_llava")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def frames(count: int, height: int = 40, width: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (count, height, width, 3), dtype=np.uint8)


def user(*blocks) -> list[dict]:
    return [{"role": "user", "content": list(blocks)}]


def text(value: str) -> dict:
    return {"type": "text", "text": value}


def encode(processor, conversations, **kwargs):
    return processor.apply_chat_template(
        conversations,
        add_generation_prompt=True,
        tokenize=True,
        return_dict=True,
        return_tensors="pt",
        processor_kwargs={"padding": True},
        **kwargs,
    )


# --- token accounting -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "per_frame_tokens"),
    [({}, 2), ({"compress": "grid:2"}, 5), ({"compress": "none"}, 17)],
)
def test_llama_vid_tokens_per_frame(overrides, per_frame_tokens):
    config = tiny_config(**overrides)
    assert config.num_patches == 16  # 56 px / 14 px patches
    for num_frames in (1, 3, 7):
        assert config.num_visual_tokens(num_frames, is_video=True) == per_frame_tokens * num_frames


@pytest.mark.parametrize(("num_frames", "stride"), [(1, 1), (3, 2), (7, 3), (8, 4), (5, 1)])
def test_slowfast_and_pool_follow_their_formulas(num_frames, stride):
    slowfast = tiny_config(video_representation="slowfast", pool_size=2, slowfast_stride=stride)
    pool = tiny_config(video_representation="pool", pool_size=2)
    patches, p = 16, 2
    slow = num_frames // stride
    expected = slow * (patches // p**2) + (num_frames - slow) * (patches // (4 * p**2))
    assert slowfast.num_visual_tokens(num_frames, is_video=True) == expected
    assert pool.num_visual_tokens(num_frames, is_video=True) == num_frames * (patches // p**2)


@pytest.mark.parametrize(
    "overrides",
    [{}, {"compress": "grid:2"}, {"video_representation": "slowfast", "slowfast_stride": 2}, {"video_representation": "pool"}],
)
@pytest.mark.parametrize("tokenizer", ["bpe", "sentencepiece"])
def test_mixed_batch_image_video_text_only(overrides, tokenizer):
    """An image, a 3-frame video and a text-only sample in one batch; the spliced token counts match the formulas."""
    model, processor = build_tiny_model_and_processor(seed=1, tokenizer=tokenizer, **overrides)
    config = model.config
    conversations = [
        user({"type": "image", "image": frames(1)[0]}, text("What is shown?")),
        user(text("Describe the video."), {"type": "video", "video": frames(3)}),
        user(text("Just text, no media.")),
    ]
    inputs = encode(processor, conversations)
    ids = inputs["input_ids"]
    assert (ids == config.image_token_id).sum(dim=1).tolist() == [config.num_visual_tokens(1), 0, 0]
    assert (ids == config.video_token_id).sum(dim=1).tolist() == [0, config.num_visual_tokens(3, is_video=True), 0]
    assert inputs["num_frames_per_video"].tolist() == [3]
    output = model(**inputs, labels=ids)
    assert output.video_hidden_states.shape == (config.num_visual_tokens(3, is_video=True), config.text_config.hidden_size)
    assert output.image_hidden_states.shape[0] == config.num_visual_tokens(1)
    assert torch.isfinite(output.loss)
    output.loss.backward()
    assert model.model.content_projector.linear_1.weight.grad.abs().sum() > 0


def test_video_tokens_are_frame_major_context_then_content(tiny):
    model, processor = tiny
    clip = frames(3)
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": clip})])
    with torch.no_grad():
        tokens = model(**inputs).video_hidden_states.view(3, 2, -1)  # [frame, (context, content), hidden]
        per_frame = [
            model.model.get_video_features(
                inputs["pixel_values_videos"][i : i + 1], [1], inputs["qformer_input_ids"],
                inputs["qformer_attention_mask"], torch.tensor([0]),
            ).pooler_output[0]
            for i in range(3)
        ]
    for i in range(3):
        torch.testing.assert_close(tokens[i], per_frame[i], rtol=1e-5, atol=1e-5)


def test_context_token_follows_the_instruction_content_token_does_not():
    model, processor = build_tiny_model_and_processor(seed=2)
    model.eval()
    # Random init keeps the query-key logits near zero (uniform attention); sharpen them so the test can see them.
    for projector in (model.model.context_query_projector, model.model.context_key_projector):
        torch.nn.init.normal_(projector.weight, std=1.0)
    image = frames(1)[0]
    tokens = []
    for question in ("What colour is the car?", "How many people are dancing here?"):
        inputs = encode(processor, [user({"type": "image", "image": image}, text(question))])
        with torch.no_grad():
            tokens.append(model(**inputs).image_hidden_states)
    (context_a, content_a), (context_b, content_b) = tokens
    assert (context_a - context_b).abs().max() > 1e-5  # float noise is ~1e-8
    assert torch.equal(content_a, content_b)


def test_qformer_text_is_the_user_turn_without_placeholders(tiny):
    _, processor = tiny
    rendered = processor.apply_chat_template(
        [
            {"role": "system", "content": "You are an AI visual assistant."},
            {"role": "user", "content": [text("Describe the video."), {"type": "video", "path": "x.mp4"}]},
            {"role": "assistant", "content": "A red square."},
        ]
    )
    assert rendered == (
        "You are an AI visual assistant. USER: Describe the video.\n<video> ASSISTANT: A red square.</s>"
    )
    assert processor.instruction_text(rendered) == "Describe the video."


# --- tokenisation around the media (LLaVA's tokenizer_image_token) ----------------------------------------------


def llava_tokenizer_image_token(processor, prompt: str, video_frames: int = 0) -> list[int]:
    """LLaVA's mm_utils.tokenizer_image_token (chunks around each media tokenised alone, BOS kept once), each media
    placeholder then expanded to its run of placeholder ids."""
    tokenizer = processor.tokenizer
    chunks, media = [], []
    for piece in re.split(f"({processor.image_token}|{processor.video_token})", prompt):
        if piece == processor.image_token:
            media.append([processor.image_token_id] * processor.num_visual_tokens(1))
        elif piece == processor.video_token:
            media.append([processor.video_token_id] * processor.num_visual_tokens(video_frames, is_video=True))
        else:
            chunks.append(tokenizer(piece).input_ids)
    offset = 1 if chunks[0][:1] == [tokenizer.bos_token_id] else 0
    ids = chunks[0]
    for run, chunk in zip(media, chunks[1:]):
        ids = ids + run + chunk[offset:]
    return ids


MEDIA_PROMPTS = [
    "A chat. USER: <image>\nWhat is shown? ASSISTANT: a cat.</s>USER: Describe the video.\n<video> ASSISTANT:",
    "A chat. USER: <video> what now? ASSISTANT:",
]


def test_media_chunks_tokenise_as_llava_tokenizer_image_token():
    processor = build_tiny_processor(tokenizer=build_tiny_sentencepiece_tokenizer(legacy=False))
    media = {"images": [frames(1)[0]], "videos": [frames(3), frames(2, seed=1)]}
    one_piece = processor(text=MEDIA_PROMPTS, **media, padding=True, return_tensors="pt")
    processor.tokenize_media_chunks = True
    chunked = processor(text=MEDIA_PROMPTS, **media, padding=True, padding_side="right", return_tensors="pt")

    expected = [llava_tokenizer_image_token(processor, prompt, count) for prompt, count in zip(MEDIA_PROMPTS, (3, 2))]
    lengths = chunked["attention_mask"].sum(dim=1).tolist()
    assert lengths == [len(ids) for ids in expected] and chunked["input_ids"].shape[1] == max(lengths)
    for row, ids, length in zip(chunked["input_ids"].tolist(), expected, lengths):
        assert row[:length] == ids and set(row[length:]) <= {processor.tokenizer.pad_token_id}
    # the chunk after the image ("\nWhat") starts with its own '\u2581', which the prompt tokenised in one piece lacks
    first = chunked["input_ids"][0].tolist()[: lengths[0]]
    after_image = len(first) - first[::-1].index(processor.image_token_id)
    assert processor.tokenizer.convert_ids_to_tokens(first[after_image : after_image + 2]) == ["\u2581", "<0x0A>"]
    assert one_piece["input_ids"][0].tolist() == first[:after_image] + first[after_image + 1 :]
    # media and Q-Former inputs are the base processor's
    for key in ("pixel_values", "pixel_values_videos", "qformer_input_ids"):
        assert torch.equal(one_piece[key], chunked[key])


def test_media_chunks_truncate_pad_left_and_keep_offsets():
    processor = build_tiny_processor(tokenizer=build_tiny_sentencepiece_tokenizer(legacy=False))
    processor.tokenize_media_chunks = True
    prompt = MEDIA_PROMPTS[1]
    full = llava_tokenizer_image_token(processor, prompt, 2)
    cut = processor(text=[prompt], videos=[frames(2)], truncation=True, max_length=len(full) - 3)
    assert cut["input_ids"] == [full[: len(full) - 3]]
    batch = processor(text=[prompt, "USER: hi"], padding=True, padding_side="left", return_offsets_mapping=True,
                      videos=[frames(2)])
    assert batch["input_ids"][0] == full and batch["attention_mask"][1][0] == 0
    expanded = prompt.replace(processor.video_token, processor.video_token * processor.num_visual_tokens(2, True))
    tokens = processor.tokenizer.convert_ids_to_tokens(full)
    spans = [expanded[start:end] for start, end in batch["offset_mapping"][0]]
    assert [span for span, token in zip(spans, tokens) if token == processor.video_token] == [
        processor.video_token
    ] * processor.num_visual_tokens(2, is_video=True)
    assert "".join(spans) == expanded  # every character once, in order, in the expanded text's coordinates
    padding = len(batch["input_ids"][1]) - sum(batch["attention_mask"][1])
    assert batch["offset_mapping"][1][:padding] == [(0, 0)] * padding


def test_media_chunks_option_is_saved(tmp_path):
    processor = build_tiny_processor()
    processor.tokenize_media_chunks = True
    processor.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "processor_config.json").read_text())["tokenize_media_chunks"] is True
    assert BehaviorLlavaProcessor.from_pretrained(tmp_path).tokenize_media_chunks is True
    assert build_tiny_processor().tokenize_media_chunks is False


# --- generation ---------------------------------------------------------------------------------------------------


def test_greedy_generation_cache_equals_no_cache_equals_stepwise_argmax(tiny):
    model, processor = tiny
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": frames(2)})])
    prompt_length = inputs["input_ids"].shape[1]
    calls = []
    hook = model.model.vision_tower.register_forward_hook(lambda *args: calls.append(1))
    try:
        with torch.no_grad():
            cached = model.generate(**inputs, max_new_tokens=6, do_sample=False, use_cache=True)
    finally:
        hook.remove()
    assert len(calls) == 1  # the vision path runs once, at prefill
    with torch.no_grad():
        uncached = model.generate(**inputs, max_new_tokens=6, do_sample=False, use_cache=False)
    assert cached.tolist() == uncached.tolist()

    ids = inputs["input_ids"]
    media = {key: value for key, value in inputs.items() if key not in ("input_ids", "attention_mask")}
    with torch.no_grad():
        for _ in range(6):
            logits = model(input_ids=ids, attention_mask=torch.ones_like(ids), **media).logits
            ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert ids[:, prompt_length:].tolist() == cached[:, prompt_length:].tolist()


# --- Auto classes and remote code -----------------------------------------------------------------------------


def test_auto_classes_resolve_to_our_classes_without_remote_code(saved_tiny):
    assert type(AutoConfig.from_pretrained(saved_tiny)) is BehaviorLlavaConfig
    assert type(AutoModel.from_pretrained(saved_tiny)) is BehaviorLlavaModel
    assert type(AutoModelForCausalLM.from_pretrained(saved_tiny)) is BehaviorLlavaForCausalLM
    assert type(AutoModelForImageTextToText.from_pretrained(saved_tiny)) is BehaviorLlavaForCausalLM
    assert type(AutoProcessor.from_pretrained(saved_tiny)) is BehaviorLlavaProcessor
    assert type(AutoVideoProcessor.from_pretrained(saved_tiny)) is BehaviorLlavaVideoProcessor
    assert AutoImageProcessor.from_pretrained(saved_tiny).do_pad  # LLaVA pad-to-square
    assert type(AutoModel.from_config(tiny_config())) is BehaviorLlavaModel
    assert type(AutoModelForCausalLM.from_config(tiny_config())) is BehaviorLlavaForCausalLM
    # transformers' name for a VLM with an LM head is the same class
    assert type(BehaviorLlavaForConditionalGeneration.from_pretrained(saved_tiny)) is BehaviorLlavaForCausalLM


def test_saved_folder_has_safetensors_auto_map_and_code(saved_tiny):
    files = {path.name for path in saved_tiny.iterdir()}
    assert "model.safetensors" in files and not any(name.endswith(".bin") for name in files)
    assert {"modeling_behavior_llava.py", "configuration_behavior_llava.py", "processing_behavior_llava.py",
            "video_processing_behavior_llava.py", "chat_template.jinja"} <= files
    auto_map = json.loads((saved_tiny / "config.json").read_text())["auto_map"]
    assert set(auto_map) == {"AutoConfig", "AutoModel", "AutoModelForCausalLM", "AutoModelForImageTextToText"}
    assert "{% generation %}" in (saved_tiny / "chat_template.jinja").read_text().replace("{%- generation -%}", "{% generation %}")


@pytest.mark.slow
def test_trust_remote_code_loads_without_hf_behavior(tiny, saved_tiny, tmp_path):
    """A fresh interpreter that cannot import hf_behavior loads the folder and generates the same tokens."""
    model, processor = tiny
    clip_path = write_scene_video(tmp_path / "clip.mp4")
    conversation = user(text("Describe the video."), {"type": "video", "path": str(clip_path)})
    with torch.no_grad():
        expected = model.generate(**encode(processor, [conversation]), max_new_tokens=5, do_sample=False)
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path = [p for p in sys.path if not p.startswith({str(REPO_SRC)!r})]
        sys.modules["hf_behavior"] = None  # any import of it now fails
        import torch
        from transformers import AutoModelForCausalLM, AutoProcessor
        model = AutoModelForCausalLM.from_pretrained({str(saved_tiny)!r}, trust_remote_code=True)
        processor = AutoProcessor.from_pretrained({str(saved_tiny)!r}, trust_remote_code=True)
        conversation = json.loads({json.dumps(json.dumps(conversation))})
        inputs = processor.apply_chat_template([conversation], add_generation_prompt=True, tokenize=True,
            return_dict=True, return_tensors="pt", processor_kwargs={{"padding": True}})
        with torch.no_grad():
            out = model.eval().generate(**inputs, max_new_tokens=5, do_sample=False)
        print(json.dumps({{"tokens": out.tolist(), "model": type(model).__module__, "processor": type(processor).__module__}}))
        """
    )
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "PYTHONPATH": ""}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["model"].startswith("transformers_modules") and loaded["processor"].startswith("transformers_modules")
    assert loaded["tokens"] == expected.tolist()


# --- configuration checks -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "hint"),
    [
        ({"compress": "grid:3"}, "g dividing 4"),
        ({"compress": "mosaic"}, "'mean', 'grid:g'"),
        ({"video_representation": "slowfast", "pool_size": 3}, "choose pool_size"),
        ({"video_representation": "pool", "compress": "grid:2"}, "Leave compress='mean'"),
        ({"image_token_id": 7, "video_token_id": 7}, "must differ"),
        ({"qformer_config": {"model_type": "instructblip_qformer", "encoder_hidden_size": 48}}, "encoder_hidden_size=32"),
    ],
)
def test_invalid_combinations_say_what_to_change(overrides, hint):
    with pytest.raises(ValueError, match=hint.replace("(", r"\(").replace("'", "'")):
        tiny_config(**overrides)


def test_default_config_is_llama_vid_eva_qformer_llama():
    config = BehaviorLlavaConfig()
    assert config.vision_config.model_type == "blip_2_vision_model" and config.vision_config.hidden_size == 1408
    assert config.vision_config.num_hidden_layers == 39 and config.vision_config.image_size == 224
    assert config.qformer_config.encoder_hidden_size == 1408 and config.num_query_tokens == 32
    assert config.text_config.model_type == "llama" and config.compress == "mean" and config.video_fps == 1.0


@pytest.mark.parametrize(
    ("vision", "strategy"),
    [
        ({"model_type": "clip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 2, "image_size": 56, "patch_size": 14}, "default"),
        ({"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
          "num_attention_heads": 2, "image_size": 56, "patch_size": 14}, "full"),
    ],
)
def test_other_vision_towers_work(vision, strategy):
    model, processor = build_tiny_model_and_processor(
        vision_config=vision,
        qformer_config={"model_type": "instructblip_qformer", "hidden_size": 32, "intermediate_size": 64,
                        "num_hidden_layers": 2, "num_attention_heads": 2, "encoder_hidden_size": 32,
                        "vocab_size": 200},
        vision_feature_select_strategy=strategy,
    )
    inputs = encode(processor, [user({"type": "image", "image": frames(1)[0]}, text("What is it?"))])
    assert model(**inputs).image_hidden_states.shape == (2, model.config.text_config.hidden_size)


def test_siglip_without_cls_needs_full_strategy():
    with pytest.raises(ValueError, match="vision_feature_select_strategy='full'"):
        tiny_config(vision_config={"model_type": "siglip_vision_model", "hidden_size": 32, "image_size": 56,
                                   "patch_size": 14, "num_attention_heads": 2})


# --- bad input -----------------------------------------------------------------------------------------------


def test_missing_video_path_names_the_file(tiny, tmp_path):
    _, processor = tiny
    missing = tmp_path / "nowhere" / "clip.mp4"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        encode(processor, [user(text("Describe."), {"type": "video", "path": str(missing)})])


def test_missing_image_path_names_the_file(tiny, tmp_path):
    _, processor = tiny
    missing = tmp_path / "nowhere.png"
    with pytest.raises(FileNotFoundError, match="nowhere.png"):
        encode(processor, [user({"type": "image", "path": str(missing)}, text("What?"))])


def test_zero_length_and_corrupt_videos_give_clear_errors(tiny, tmp_path):
    _, processor = tiny
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2048))
    with pytest.raises(ValueError, match=r"empty \(0 bytes\).*empty.mp4"):
        encode(processor, [user(text("Describe."), {"type": "video", "path": str(empty)})])
    with pytest.raises(ValueError, match="cannot decode video .*corrupt.mp4"):
        encode(processor, [user(text("Describe."), {"type": "video", "path": str(corrupt)})])


def test_placeholder_count_must_match_media_count(tiny):
    model, processor = tiny
    with pytest.raises(ValueError, match="Found total 2 <image> tokens and 1 images"):
        processor(text=["USER: <image> and <image> ASSISTANT:"], images=[frames(1)[0]], return_tensors="pt")
    inputs = processor(text=["USER: <image> what ASSISTANT:"], images=[frames(1)[0]], return_tensors="pt")
    two_images = torch.cat([inputs["pixel_values"]] * 2)
    with pytest.raises(ValueError, match=r"2 image\(s\) need 4 <image> placeholder tokens but input_ids has 2"):
        model(input_ids=inputs["input_ids"], pixel_values=two_images, qformer_input_ids=inputs["qformer_input_ids"],
              qformer_attention_mask=inputs["qformer_attention_mask"])


def test_saved_dtype_loads_in_another(tiny, tmp_path):
    model, processor = tiny
    inputs = encode(processor, [user({"type": "image", "image": frames(1)[0]}, text("What?"))])
    model.to(torch.bfloat16).save_pretrained(tmp_path / "bf16")
    model.to(torch.float32)
    as_float = AutoModelForCausalLM.from_pretrained(tmp_path / "bf16", dtype=torch.float32)
    assert {p.dtype for p in as_float.parameters()} == {torch.float32}
    as_bf16 = AutoModelForCausalLM.from_pretrained(tmp_path / "bf16", dtype=torch.bfloat16)
    assert {p.dtype for p in as_bf16.parameters()} == {torch.bfloat16}
    with torch.no_grad():
        logits = as_bf16(**inputs).logits
    assert logits.dtype == torch.bfloat16 and torch.isfinite(logits.float()).all()


def test_gradient_checkpointing_gives_the_same_gradients(tiny):
    model, processor = build_tiny_model_and_processor(seed=3)
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": frames(2)})])
    grads = []
    for checkpointing in (False, True):
        model.zero_grad()
        if checkpointing:
            model.activation_checkpointing_enable()
        model.train()
        model(**inputs, labels=inputs["input_ids"]).loss.backward()
        grads.append(model.model.language_model.layers[0].self_attn.q_proj.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_checkpointing_runs_no_backward_through_frozen_towers():
    """Only the LLM's embeddings are hooked to require grad: the frozen vision tower and Q-Former build no graph."""
    from hf_behavior.training.freezing import apply_freezing

    model, processor = build_tiny_model_and_processor(seed=3)
    apply_freezing(model, "finetune")
    model.activation_checkpointing_enable()
    model.train()
    needs_grad = {}
    for name in ("vision_tower", "qformer"):
        getattr(model.model, name).register_forward_hook(
            lambda module, args, out, name=name: needs_grad.update({name: out.last_hidden_state.requires_grad})
        )
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": frames(2)})])
    model(**inputs, labels=inputs["input_ids"]).loss.backward()
    assert needs_grad == {"vision_tower": False, "qformer": False}
    assert model.model.content_projector.linear_1.weight.grad is not None
    assert model.model.language_model.layers[0].self_attn.q_proj.weight.grad is not None


# --- transformers contract ------------------------------------------------------------------------------------


def test_return_dict_false_returns_a_tuple(tiny):
    model, processor = tiny
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": frames(2)})])
    with torch.no_grad():
        as_output = model(**inputs, labels=inputs["input_ids"])
        as_tuple = model(**inputs, labels=inputs["input_ids"], return_dict=False)
        base_tuple = model.model(**inputs, return_dict=False)
    assert isinstance(as_tuple, tuple) and isinstance(base_tuple, tuple)
    torch.testing.assert_close(as_tuple[0], as_output.loss)
    torch.testing.assert_close(as_tuple[1], as_output.logits)
    torch.testing.assert_close(base_tuple[0], model.model(**inputs).last_hidden_state)
    model.config.return_dict = False  # the config's setting works as the argument does
    try:
        with torch.no_grad():
            from_config = model(**inputs)
    finally:
        model.config.return_dict = True
    assert isinstance(from_config, tuple)
    torch.testing.assert_close(from_config[0], as_output.logits)


def test_model_input_names_are_what_the_processor_returns(tiny):
    _, processor = tiny
    names = processor.model_input_names
    assert len(names) == len(set(names))
    inputs = encode(processor, [user({"type": "image", "image": frames(1)[0]}, text("And the video?"),
                                     {"type": "video", "video": frames(2)})])
    assert set(inputs) - set(processor.unused_input_names) == set(names)


def test_tensor_parallel_plan_names_real_modules_and_known_styles(tiny):
    from fnmatch import fnmatch

    from transformers.integrations.tensor_parallel import ALL_PARALLEL_STYLES

    model, _ = tiny
    module_names = [name for name, _ in model.named_modules()]
    assert model.tp_plan["lm_head"] == "colwise_gather_output"
    for pattern, style in model.tp_plan.items():
        assert style in ALL_PARALLEL_STYLES
        assert any(fnmatch(name, pattern) for name in module_names), pattern


def test_full_graph_compiled_decoding_with_a_static_cache(tiny):
    """`_can_compile_fullgraph`: the decoding steps compile as one graph (fullgraph raises on any graph break)."""
    from transformers import CompileConfig

    model, processor = tiny
    assert model._can_compile_fullgraph
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": frames(3)})])
    compile_config = CompileConfig(fullgraph=True, backend="eager", mode=None)
    compile_config._compile_all_devices = True  # transformers' switch to compile on CPU
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    with torch.no_grad():
        eager = model.generate(**inputs, max_new_tokens=5, do_sample=False)
        compiled = model.generate(
            **inputs, max_new_tokens=5, do_sample=False, cache_implementation="static", compile_config=compile_config
        )
    assert torch._dynamo.utils.counters["stats"]["unique_graphs"] >= 1
    assert compiled.tolist() == eager.tolist()


@pytest.mark.slow
def test_flex_attention_gives_the_eager_logits():
    """`_supports_flex_attn`: the vision tower, the Q-Former and the LLM all run FlexAttention (CPU: inference)."""
    model, processor = build_tiny_model_and_processor(seed=4)
    inputs = encode(processor, [user(text("Describe the video."), {"type": "video", "video": frames(2)})])
    with torch.no_grad():
        reference = model.eval()(**inputs).logits
        model.set_attn_implementation("flex_attention")
        towers = (model.model.vision_tower, model.model.qformer, model.model.language_model)
        assert {tower.config._attn_implementation for tower in towers} == {"flex_attention"}
        flex = model(**inputs).logits
    torch.testing.assert_close(flex, reference, rtol=1e-5, atol=1e-5)


def test_video_urls_load_as_local_files(tiny, tmp_path):
    """A video URL in a chat message is fetched as transformers' load_video does (a local server, loopback only)."""
    import functools
    import http.server
    import threading

    _, processor = tiny
    clip_path = write_scene_video(tmp_path / "clip.mp4")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
        from_url = encode(processor, [user(text("Describe."), {"type": "video", "url": url})])
        from_file = encode(processor, [user(text("Describe."), {"type": "video", "path": str(clip_path)})])
        with pytest.raises(Exception, match="404"):
            encode(processor, [user(text("Describe."), {"type": "video", "url": url.replace("clip", "missing")})])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert from_url["num_frames_per_video"].tolist() == from_file["num_frames_per_video"].tolist()
    assert torch.equal(from_url["pixel_values_videos"], from_file["pixel_values_videos"])
