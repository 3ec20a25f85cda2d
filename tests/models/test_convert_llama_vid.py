"""The converter against the original LLaMA-VID code (fixtures it wrote, see fixtures/llama_vid/make_reference.py)
and against a reference forward written here from the original LLaMA-VID / LAVIS equations."""

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, AutoProcessor, LlamaConfig, LlamaForCausalLM
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from hf_behavior.cli import main
from hf_behavior.models.behavior_llava import BehaviorLlavaConfig
from hf_behavior.models.behavior_llava.assemble import add_media_tokens
from hf_behavior.models.behavior_llava.convert_llama_vid_to_hf import (
    build_original_processor,
    convert_llama_vid_checkpoint,
    original_compress,
    original_image_settings,
    original_llm_tokenizer,
)

VISION, PATCH, IMAGE, VISION_LAYERS, VISION_HEADS = 32, 14, 28, 2, 2
QFORMER, QFORMER_LAYERS, QFORMER_HEADS, QUERIES, BERT_VOCAB = 16, 2, 2, 4, 50
TEXT = LlamaConfig(hidden_size=24, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                   num_key_value_heads=2, vocab_size=40)


def original_checkpoint(seed: int = 0) -> tuple[dict, dict]:
    """(LLaMA-VID state dict incl. the EVA tower, LAVIS eva_vit_g.pth-style state dict) with random weights."""
    generator = torch.Generator().manual_seed(seed)

    def rand(*shape, scale=0.2):
        return torch.randn(*shape, generator=generator) * scale

    def norm(prefix, width):
        return {f"{prefix}.weight": 1 + rand(width, scale=0.1), f"{prefix}.bias": rand(width, scale=0.1)}

    def linear(prefix, fan_in, fan_out):
        return {f"{prefix}.weight": rand(fan_out, fan_in), f"{prefix}.bias": rand(fan_out, scale=0.05)}

    patches = (IMAGE // PATCH) ** 2
    eva = {"cls_token": rand(1, 1, VISION), "pos_embed": rand(1, 1 + patches, VISION),
           "patch_embed.proj.weight": rand(VISION, 3, PATCH, PATCH, scale=0.05), "patch_embed.proj.bias": rand(VISION),
           "norm.weight": torch.ones(VISION), "norm.bias": torch.zeros(VISION)}  # LAVIS' unused head norm
    for i in range(VISION_LAYERS):
        block = f"blocks.{i}"
        eva |= norm(f"{block}.norm1", VISION) | norm(f"{block}.norm2", VISION)
        eva |= {f"{block}.attn.qkv.weight": rand(3 * VISION, VISION), f"{block}.attn.q_bias": rand(VISION),
                f"{block}.attn.v_bias": rand(VISION)}
        eva |= linear(f"{block}.attn.proj", VISION, VISION)
        eva |= linear(f"{block}.mlp.fc1", VISION, 3 * VISION) | linear(f"{block}.mlp.fc2", 3 * VISION, VISION)

    bert = "model.vlm_att_encoder.bert"
    state = {"model.vlm_att_query": rand(1, QUERIES, QFORMER),
             f"{bert}.embeddings.word_embeddings.weight": rand(BERT_VOCAB, QFORMER),
             f"{bert}.embeddings.position_embeddings.weight": rand(64, QFORMER),
             f"{bert}.embeddings.position_ids": torch.arange(64)[None]}
    state |= norm(f"{bert}.embeddings.LayerNorm", QFORMER)
    for i in range(QFORMER_LAYERS):
        layer = f"{bert}.encoder.layer.{i}"
        kinds = ["attention", "crossattention"] if i % 2 == 0 else ["attention"]
        for kind in kinds:
            source = VISION if kind == "crossattention" else QFORMER
            state |= linear(f"{layer}.{kind}.self.query", QFORMER, QFORMER)
            state |= linear(f"{layer}.{kind}.self.key", source, QFORMER)
            state |= linear(f"{layer}.{kind}.self.value", source, QFORMER)
            state |= linear(f"{layer}.{kind}.output.dense", QFORMER, QFORMER) | norm(f"{layer}.{kind}.output.LayerNorm", QFORMER)
        for suffix in ("", "_query"):
            state |= linear(f"{layer}.intermediate{suffix}.dense", QFORMER, 2 * QFORMER)
            state |= linear(f"{layer}.output{suffix}.dense", 2 * QFORMER, QFORMER)
            state |= norm(f"{layer}.output{suffix}.LayerNorm", QFORMER)
    state |= norm("model.vlm_att_ln", VISION)
    state |= linear("model.vlm_att_projector", QFORMER, VISION)
    state |= linear("model.vlm_att_key_projector", VISION, VISION)
    state |= linear("model.vlm_att_val_projector", VISION, TEXT.hidden_size)
    state |= linear("model.mm_projector.0", VISION, TEXT.hidden_size)
    state |= linear("model.mm_projector.2", TEXT.hidden_size, TEXT.hidden_size)
    torch.manual_seed(seed)
    state |= LlamaForCausalLM(TEXT).state_dict()  # LLaMA-VID's LLM keys are LlamaForCausalLM's
    return state, eva


# --- the reference forward, from the original equations ---------------------------------------------------------


def layer_norm(x, sd, prefix, eps):
    return F.layer_norm(x, x.shape[-1:], sd[f"{prefix}.weight"], sd[f"{prefix}.bias"], eps)


def lin(x, sd, prefix):
    return F.linear(x, sd[f"{prefix}.weight"], sd[f"{prefix}.bias"])


def attention(q, k, v, heads, additive_mask=None):
    (n, lq, d), lk = q.shape, k.shape[1]
    split = lambda t, length: t.view(n, length, heads, d // heads).transpose(1, 2)  # noqa: E731
    scores = split(q, lq) @ split(k, lk).transpose(-1, -2) / math.sqrt(d // heads)
    if additive_mask is not None:
        scores = scores + additive_mask
    return (scores.softmax(-1) @ split(v, lk)).transpose(1, 2).reshape(n, lq, d)


def eva_forward(eva, pixels):
    """LAVIS EVA-ViT: x + attn(norm1(x)); x + mlp(norm2(x)); all tokens, no final norm."""
    x = F.conv2d(pixels, eva["patch_embed.proj.weight"], eva["patch_embed.proj.bias"], stride=PATCH)
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([eva["cls_token"].expand(x.shape[0], -1, -1), x], dim=1) + eva["pos_embed"]
    for i in range(VISION_LAYERS):
        b = f"blocks.{i}"
        h = layer_norm(x, eva, f"{b}.norm1", 1e-6)
        bias = torch.cat([eva[f"{b}.attn.q_bias"], torch.zeros(VISION), eva[f"{b}.attn.v_bias"]])
        q, k, v = F.linear(h, eva[f"{b}.attn.qkv.weight"], bias).chunk(3, dim=-1)
        x = x + lin(attention(q, k, v, VISION_HEADS), eva, f"{b}.attn.proj")
        x = x + lin(F.gelu(lin(layer_norm(x, eva, f"{b}.norm2", 1e-6), eva, f"{b}.mlp.fc1")), eva, f"{b}.mlp.fc2")
    return x


def qformer_forward(sd, input_ids, text_mask, image_features):
    """LAVIS BertModel with query_embeds: queries first, cross-attention on even layers for the queries only."""
    bert = "model.vlm_att_encoder.bert"
    n = input_ids.shape[0]
    text = sd[f"{bert}.embeddings.word_embeddings.weight"][input_ids]
    text = text + sd[f"{bert}.embeddings.position_embeddings.weight"][: input_ids.shape[1]]
    x = torch.cat([sd["model.vlm_att_query"].expand(n, -1, -1), text], dim=1)
    x = layer_norm(x, sd, f"{bert}.embeddings.LayerNorm", 1e-12)
    mask = torch.cat([torch.ones(n, QUERIES), text_mask.float()], dim=1)
    additive = ((1 - mask) * torch.finfo(torch.float32).min)[:, None, None, :]

    def block(h, kv, prefix, extra_mask=None):
        ctx = attention(lin(h, sd, f"{prefix}.self.query"), lin(kv, sd, f"{prefix}.self.key"),
                        lin(kv, sd, f"{prefix}.self.value"), QFORMER_HEADS, extra_mask)
        return layer_norm(lin(ctx, sd, f"{prefix}.output.dense") + h, sd, f"{prefix}.output.LayerNorm", 1e-12)

    def feed_forward(h, layer, suffix):
        out = lin(F.gelu(lin(h, sd, f"{layer}.intermediate{suffix}.dense")), sd, f"{layer}.output{suffix}.dense")
        return layer_norm(out + h, sd, f"{layer}.output{suffix}.LayerNorm", 1e-12)

    for i in range(QFORMER_LAYERS):
        layer = f"{bert}.encoder.layer.{i}"
        h = block(x, x, f"{layer}.attention", additive)
        queries, words = h[:, :QUERIES], h[:, QUERIES:]
        if i % 2 == 0:
            queries = block(queries, image_features, f"{layer}.crossattention")
        x = torch.cat([feed_forward(queries, layer, "_query"), feed_forward(words, layer, "")], dim=1)
    return x[:, :QUERIES]


def reference_logits(state, eva, pixels, qformer_ids, qformer_mask, before_ids, after_ids):
    """LLaMA-VID `encode_images` + `token_generation` (compress 'mean') + the LLM on the spliced embeddings."""
    features = eva_forward(eva, pixels)
    frames = features.shape[0]
    query_output = qformer_forward(state, qformer_ids.expand(frames, -1), qformer_mask.expand(frames, -1),
                                   layer_norm(features, state, "model.vlm_att_ln", 1e-5))
    text_q = lin(query_output, state, "model.vlm_att_projector")
    patches = features[:, 1:]
    scores = text_q @ lin(patches, state, "model.vlm_att_key_projector").transpose(-1, -2) / patches.shape[-1] ** 0.5
    context = lin((scores.softmax(-1) @ patches).mean(1)[:, None], state, "model.vlm_att_val_projector")
    content = lin(F.gelu(lin(patches.mean(1, keepdim=True), state, "model.mm_projector.0")), state, "model.mm_projector.2")
    visual = torch.cat([context, content], dim=1).flatten(0, 1)
    llm = LlamaForCausalLM(TEXT)
    llm.load_state_dict({k: v for k, v in state.items() if k.startswith(("model.embed", "model.layers", "model.norm", "lm_head"))})
    embed = llm.get_input_embeddings()
    inputs = torch.cat([embed(before_ids), visual, embed(after_ids)])[None]
    return llm(inputs_embeds=inputs).logits[0]


def write_checkpoint(folder, state, eva, *, eva_inside: bool, shards_as: str):
    folder.mkdir(parents=True, exist_ok=True)
    config = TEXT.to_dict() | {"mm_hidden_size": VISION, "num_query": QUERIES, "compress_type": "mean",
                               "bert_type": "qformer_pretrain_freeze_all", "mm_projector_type": "mlp2x_gelu",
                               "mm_vision_select_feature": "patch", "mm_vision_tower": "eva_vit_g.pth",
                               "architectures": ["LlavaLlamaAttForCausalLM"], "image_processor": "processor"}
    (folder / "config.json").write_text(json.dumps(config))
    # the CLIPImageProcessor folder `image_processor` names (found next to the checkpoint): the tower's input size
    (folder / "processor").mkdir()
    (folder / "processor" / "preprocessor_config.json").write_text(json.dumps({"crop_size": IMAGE, "size": IMAGE}))
    weights = dict(state)
    if eva_inside:
        weights |= {f"model.vision_tower.vision_tower.{k}": v for k, v in eva.items()}
    else:
        torch.save(eva, folder / "eva_vit_g.pth")
    keys = sorted(weights)
    halves = [dict((k, weights[k].contiguous()) for k in keys[: len(keys) // 2]),
              dict((k, weights[k].contiguous()) for k in keys[len(keys) // 2 :])]
    for i, half in enumerate(halves):
        if shards_as == "safetensors":
            save_file(half, folder / f"model-0000{i + 1}-of-00002.safetensors")
        else:
            torch.save(half, folder / f"pytorch_model-0000{i + 1}-of-00002.bin")


@pytest.mark.parametrize(("eva_inside", "shards_as"), [(True, "safetensors"), (False, "bin")])
def test_converted_logits_equal_the_reference_forward(tmp_path, eva_inside, shards_as):
    state, eva = original_checkpoint()
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=eva_inside, shards_as=shards_as)
    model = convert_llama_vid_checkpoint(tmp_path / "ckpt", vision_heads=VISION_HEADS, qformer_heads=QFORMER_HEADS).eval()
    config = model.config
    assert (config.num_query_tokens, config.compress, config.vision_config.num_hidden_layers) == (QUERIES, "mean", 2)

    generator = torch.Generator().manual_seed(1)
    frames = 3
    pixels = torch.randn(frames, 3, IMAGE, IMAGE, generator=generator)
    qformer_ids = torch.randint(0, BERT_VOCAB, (1, 7), generator=generator)
    qformer_mask = torch.tensor([[1, 1, 1, 1, 1, 0, 0]])
    before, after = torch.tensor([1, 5, 9, 11]), torch.tensor([3, 7, 2])
    with torch.no_grad():
        expected = reference_logits(state, eva, pixels, qformer_ids, qformer_mask, before, after)
        placeholders = torch.full((2 * frames,), config.video_token_id)
        ours = model(
            input_ids=torch.cat([before, placeholders, after])[None], pixel_values_videos=pixels,
            num_frames_per_video=[frames], qformer_input_ids=qformer_ids, qformer_attention_mask=qformer_mask,
        ).logits[0]
    assert ours.shape == expected.shape
    assert (ours - expected).abs().max() < 1e-5


def test_saved_conversion_round_trips(tmp_path):
    state = load_file(FIXTURES / "video_mean_224_pth" / "weights.safetensors")
    tower = write_original_layout("video_mean_224_pth", tmp_path / "original")
    code = main(["convert-llama-vid", "--checkpoint", str(tmp_path / "original"), "--output", str(tmp_path / "hf"),
                 "--vision-tower", str(tower), "--vision-heads", "2", "--qformer-heads", "2",
                 "--qformer-tokenizer", str(FIXTURES / "qformer_tokenizer")])
    assert code == 0 and (tmp_path / "hf" / "model.safetensors").is_file()
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "hf")
    assert model.dtype == torch.bfloat16  # the CLI's default
    torch.testing.assert_close(model.model.query_tokens, state["model.vlm_att_query"].bfloat16(), rtol=0, atol=0)
    processor = AutoProcessor.from_pretrained(tmp_path / "hf")
    assert processor.chat_template and processor.qformer_tokenizer.bos_token == "[DEC]"
    assert processor.qformer_tokenizer.truncation_side == "left"
    assert model.config.video_token_id == processor.video_token_id == len(processor.tokenizer) - 1
    assert model.generation_config.pad_token_id == processor.tokenizer.unk_token_id


def test_checkpoint_without_tokenizer_fails_naming_the_folder(tmp_path):
    write_original_layout("video_grid2_336_inside_rope", tmp_path / "original")
    for file in (FIXTURES / "llm_tokenizer").iterdir():
        (tmp_path / "original" / file.name).unlink()
    model = convert_llama_vid_checkpoint(tmp_path / "original", vision_heads=2, qformer_heads=2)
    with pytest.raises(FileNotFoundError, match="no LLM tokenizer"):
        build_original_processor(model, tmp_path / "original", FIXTURES / "qformer_tokenizer", None)


def test_missing_key_fails_with_its_name(tmp_path):
    state, eva = original_checkpoint()
    del state["model.vlm_att_key_projector.weight"]
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=True, shards_as="safetensors")
    with pytest.raises(KeyError, match="model.context_key_projector.weight"):
        convert_llama_vid_checkpoint(tmp_path / "ckpt", vision_heads=VISION_HEADS, qformer_heads=QFORMER_HEADS)


def test_unmapped_key_fails_with_its_name(tmp_path):
    state, eva = original_checkpoint()
    state["model.some_new_adapter.weight"] = torch.zeros(2)
    write_checkpoint(tmp_path / "ckpt", state, eva, eva_inside=True, shards_as="safetensors")
    with pytest.raises(KeyError, match="model.some_new_adapter.weight"):
        convert_llama_vid_checkpoint(tmp_path / "ckpt", vision_heads=VISION_HEADS, qformer_heads=QFORMER_HEADS)


# --- against the original LLaMA-VID code: fixtures written by fixtures/llama_vid/make_reference.py ----------------

FIXTURES = Path(__file__).parent / "fixtures" / "llama_vid"
QUESTION = "what is the person doing in this clip?"  # make_reference.QUESTION
# kind: (compress, image size, visual tokens per frame)
ORIGINAL_KINDS = {
    "video_mean_224_pth": ("mean", 224, 1 + 1),
    "image_none_336_pth": ("none", 336, 1 + 576),
    "video_grid2_336_inside_rope": ("grid:2", 336, 1 + 4),
}


def write_original_layout(kind: str, folder: Path) -> Path | None:
    """The checkpoint as LLaMA-VID ships it: config.json, sharded pytorch_model-*.bin with their index, the LLaMA
    tokenizer files; the LAVIS tower as eva_vit_g.pth beside it (returned) unless the checkpoint holds the tower."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text((FIXTURES / kind / "config.json").read_text())
    for file in (FIXTURES / "llm_tokenizer").iterdir():
        shutil.copy(file, folder / file.name)
    weights = load_file(FIXTURES / kind / "weights.safetensors")
    names = sorted(weights)
    shards = {f"pytorch_model-0000{i + 1}-of-00002.bin": names[i::2] for i in range(2)}
    for shard, keys in shards.items():
        torch.save({key: weights[key] for key in keys}, folder / shard)
    index = {"metadata": {}, "weight_map": {key: shard for shard, keys in shards.items() for key in keys}}
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    if not (FIXTURES / kind / "eva_vit_g.safetensors").is_file():
        return None
    torch.save(load_file(FIXTURES / kind / "eva_vit_g.safetensors"), folder.parent / "eva_vit_g.pth")
    return folder.parent / "eva_vit_g.pth"


def convert_fixture(kind: str, tmp_path: Path) -> Path:
    tower = write_original_layout(kind, tmp_path / "original")
    argv = ["convert-llama-vid", "--checkpoint", str(tmp_path / "original"), "--output", str(tmp_path / "hf"),
            "--vision-heads", "2", "--qformer-heads", "2", "--dtype", "float32",
            "--qformer-tokenizer", str(FIXTURES / "qformer_tokenizer")]
    assert main(argv + (["--vision-tower", str(tower)] if tower else [])) == 0
    return tmp_path / "hf"


@pytest.mark.parametrize("kind", ORIGINAL_KINDS)
def test_converted_folder_matches_the_original_code(tmp_path, kind):
    """Pixels, tower features, visual tokens and logits of the converted folder (AutoModelForCausalLM +
    AutoProcessor) against the original LLaMA-VID code run on the same frames and prompt."""
    compress, side, tokens_per_frame = ORIGINAL_KINDS[kind]
    reference = load_file(FIXTURES / kind / "reference.safetensors")
    out = convert_fixture(kind, tmp_path)
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    processor = AutoProcessor.from_pretrained(out)
    assert (model.config.compress, model.config.vision_config.image_size) == (compress, side)
    frames = reference["frames"].numpy()
    is_video = kind.startswith("video")

    if is_video:
        pixels = processor.video_processor(frames, return_tensors="pt")["pixel_values_videos"]
    else:
        pixels = processor.image_processor(list(frames), return_tensors="pt")["pixel_values"]
    assert pixels.shape[-2:] == (side, side)
    assert (pixels[:, :, ::7, ::7] - reference["pixel_values_strided"]).abs().max() <= 1e-6
    torch.testing.assert_close(pixels.double().sum(dim=(1, 2, 3)), reference["pixel_values_sum"], rtol=0, atol=1e-3)

    qformer = processor.qformer_tokenizer([QUESTION], return_tensors="pt")
    assert qformer["input_ids"][0].tolist() == reference["qformer_input_ids"].tolist()
    qformer_ids, qformer_mask = qformer["input_ids"], qformer["attention_mask"]
    with torch.no_grad():
        if is_video:
            output = model.model.get_video_features(pixels, [len(pixels)], qformer_ids, qformer_mask,
                                                    output_hidden_states=True)
        else:
            output = model.model.get_image_features(pixels, qformer_ids, qformer_mask, output_hidden_states=True)
        features = output.hidden_states[model.config.vision_feature_layer]
        visual = torch.cat(output.pooler_output)
        assert visual.shape[0] == len(pixels) * tokens_per_frame
        original_ids = reference["input_ids"]
        at = int((original_ids == -200).nonzero())
        token_id = model.config.video_token_id if is_video else model.config.image_token_id
        input_ids = torch.cat([original_ids[:at], torch.full((visual.shape[0],), token_id), original_ids[at + 1 :]])
        media = {"pixel_values_videos": pixels, "num_frames_per_video": [len(pixels)]} if is_video else {
            "pixel_values": pixels}
        logits = model(input_ids=input_ids[None], qformer_input_ids=qformer_ids, qformer_attention_mask=qformer_mask,
                       **media).logits[0]
    kept = reference["logits_last"].shape[0]  # the positions after the media
    differences = {name: float((ours - reference[name]).abs().max()) for name, ours in
                   (("vision_features", features), ("visual_tokens", visual), ("logits_last", logits[-kept:]))}
    assert all(value < 1e-4 for value in differences.values()), differences


@pytest.fixture(scope="module")
def converted_video(tmp_path_factory) -> Path:
    return convert_fixture("video_mean_224_pth", tmp_path_factory.mktemp("converted_video"))


def reference_prompt() -> tuple[str, torch.Tensor, torch.Tensor]:
    """(the original's prompt, its input ids with IMAGE_TOKEN_INDEX -200 for the media, the video frames)."""
    path = FIXTURES / "video_mean_224_pth" / "reference.safetensors"
    with safe_open(path, "pt") as file:
        prompt = file.metadata()["prompt"]
    reference = load_file(path)
    return prompt, reference["input_ids"], reference["frames"]


def converted_prompt_ids(processor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(our input ids for the fixture's prompt and video, the original's, our video token id)."""
    _, original, video = reference_prompt()
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": QUESTION}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True)
    inputs = processor(text=prompt, videos=video.numpy(), return_tensors="pt")
    return inputs["input_ids"][0], original, processor.video_token_id


def test_converted_processor_builds_the_original_prompt_up_to_the_media(converted_video):
    """Chat template + LLaMA tokenizer give the original's ids (conv vicuna_v1, LlamaTokenizer legacy) before the
    media, and as many placeholders, at the original's media position, as the model emits."""
    ids, original, video_token_id = converted_prompt_ids(AutoProcessor.from_pretrained(converted_video))
    at = int((original == -200).nonzero())
    is_media = ids == video_token_id
    assert int(is_media.sum()) == 3 * 2
    assert int(is_media.nonzero()[0]) == at
    assert ids[:at].tolist() == original[:at].tolist()


def test_converted_processor_builds_the_original_prompt_after_the_media(converted_video):
    processor = AutoProcessor.from_pretrained(converted_video)
    assert processor.tokenize_media_chunks  # LLaVA's tokenizer_image_token
    ids, original, video_token_id = converted_prompt_ids(processor)
    assert ids[ids != video_token_id].tolist() == original[original != -200].tolist()


def slow_legacy_llama_ids(text: str) -> list[int]:
    """transformers 4.31's LlamaTokenizer(legacy=True), which LLaMA-VID runs: BOS, then the text split at the special
    tokens and each piece encoded by SentencePiece itself (its dummy prefix on every piece)."""
    import sentencepiece

    model = sentencepiece.SentencePieceProcessor(model_file=str(FIXTURES / "llm_tokenizer" / "tokenizer.model"))
    ids = [model.bos_id()]
    for piece in re.split("(<s>|</s>|<unk>)", text):
        ids += [model.piece_to_id(piece)] if piece in ("<s>", "</s>", "<unk>") else model.encode(piece) if piece else []
    return ids


def test_converted_tokenizer_reloads_as_the_original_legacy_sentencepiece(converted_video):
    """The saved folder's tokenizer, reloaded, is the original's legacy one: after a special token and before a
    leading space too (transformers 5's LlamaTokenizer would reload with a Metaspace pre-tokenizer: no '\u2581'
    after `</s>` when not legacy, one '\u2581' where SentencePiece puts two)."""
    tokenizer = AutoProcessor.from_pretrained(converted_video).tokenizer
    turns = "USER: what is the person doing? ASSISTANT: cooking.</s>USER: and now? ASSISTANT: eating.</s>"
    for text in (turns, "x</s> USER:", " what  is it? ", "\n what"):
        assert tokenizer(text).input_ids == slow_legacy_llama_ids(text), text
    # LLaVA's tokenizer_image_token on the original's prompt, with the reloaded tokenizer
    prompt, original, _ = reference_prompt()
    before, after = (tokenizer(chunk).input_ids for chunk in prompt.split("<image>"))
    assert before + [-200] + after[1:] == original.tolist()


def test_non_legacy_llama_checkpoint_gets_the_original_ids_by_media_chunks(converted_video, tmp_path):
    """A checkpoint whose tokenizer_config.json says `"legacy": false` (as Vicuna v1.5's) keeps transformers' non-legacy
    LlamaTokenizer; legacy only changes text after special tokens, which this prompt has none of, so tokenised by
    media chunks it gives the original's ids, and in one piece it misses the '\u2581' that starts the text after the
    media."""
    folder = tmp_path / "non_legacy"
    shutil.copytree(FIXTURES / "llm_tokenizer", folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**config, "legacy": False}))
    tokenizer = add_media_tokens(original_llm_tokenizer(folder, LlamaConfig()), str(folder))
    assert tokenizer.legacy is False
    processor = AutoProcessor.from_pretrained(converted_video, tokenizer=tokenizer)
    ids, original, video_token_id = converted_prompt_ids(processor)
    assert ids[ids != video_token_id].tolist() == original[original != -200].tolist()
    processor.tokenize_media_chunks = False
    ids, _, _ = converted_prompt_ids(processor)
    missing = original[original != -200].tolist()
    at = int((original == -200).nonzero())
    assert tokenizer.convert_ids_to_tokens(missing.pop(at)) == "\u2581"
    assert ids[ids != video_token_id].tolist() == missing


def test_eva_pos_embed_is_interpolated_as_the_original(tmp_path):
    """A 224-px eva_vit_g.pth under a 336-px checkpoint: 16x16 -> 24x24 bicubic, CLS position kept."""
    out = convert_fixture("image_none_336_pth", tmp_path)
    model = AutoModelForCausalLM.from_pretrained(out)
    source = load_file(FIXTURES / "image_none_336_pth" / "eva_vit_g.safetensors")["pos_embed"]
    ours = model.model.vision_tower.embeddings.position_embedding
    assert ours.shape == (1, 577, source.shape[-1])
    torch.testing.assert_close(ours[:, :1], source[:, :1], rtol=0, atol=0)
    grid = source[:, 1:].reshape(1, 16, 16, -1).permute(0, 3, 1, 2)
    expected = F.interpolate(grid, size=(24, 24), mode="bicubic", align_corners=False).permute(0, 2, 3, 1)
    torch.testing.assert_close(ours[:, 1:], expected.flatten(1, 2), rtol=0, atol=0)


@pytest.mark.parametrize(("setting", "size"), [
    ("./llamavid/processor/clip-patch14-336", 336), ("./llamavid/processor/clip-patch14-224", 224),
    ("./model_zoo/OpenAI/clip-vit-large-patch14", 224), ("openai/clip-vit-large-patch14-336", 336), (None, 224),
])
def test_image_size_comes_from_the_image_processor_setting(tmp_path, setting, size):
    original = {} if setting is None else {"image_processor": setting}
    assert original_image_settings(original, tmp_path)["size"] == size


def test_image_processor_folder_next_to_the_checkpoint_is_read(tmp_path):
    (tmp_path / "my-processor").mkdir()
    (tmp_path / "my-processor" / "preprocessor_config.json").write_text(json.dumps({"crop_size": 280, "size": 280}))
    assert original_image_settings({"image_processor": "my-processor"}, tmp_path)["size"] == 280
    with pytest.raises(ValueError, match="--image-size"):
        original_image_settings({"image_processor": "./some/processor"}, tmp_path)


@pytest.mark.parametrize(("compress_type", "compress"), [(None, "none"), ("mean", "mean"), ("grid:4", "grid:4")])
def test_compress_type_maps_as_the_original_pools(compress_type, compress):
    assert original_compress(compress_type) == compress


@pytest.mark.parametrize(("side", "tokens"), [(224, 1 + 256), (336, 1 + 576)])
def test_no_compression_gives_every_patch_and_a_context_token(side, tokens):
    config = BehaviorLlavaConfig(compress=original_compress(None), vision_config={"image_size": side})
    assert config.num_visual_tokens(1) == tokens and config.num_visual_tokens(3, is_video=True) == 3 * tokens


def test_missing_qformer_tokenizer_words_fail_with_the_sizes(tmp_path):
    bert = tmp_path / "big_bert"
    bert.mkdir()
    words = (FIXTURES / "qformer_tokenizer" / "vocab.txt").read_text().split()
    (bert / "vocab.txt").write_text("\n".join(words + [f"extra{i}" for i in range(5)]) + "\n")
    (bert / "tokenizer_config.json").write_text((FIXTURES / "qformer_tokenizer" / "tokenizer_config.json").read_text())
    write_original_layout("video_grid2_336_inside_rope", tmp_path / "original")
    model = convert_llama_vid_checkpoint(tmp_path / "original", vision_heads=2, qformer_heads=2)
    with pytest.raises(ValueError, match=r"has 52 tokens but the Q-Former embeds only 47"):
        build_original_processor(model, tmp_path / "original", bert, None)


def expand2square(image, background_color):
    """LLaMA-VID's padding of images for `image_aspect_ratio="pad"` (llamavid/train/train.py, LazySupervisedDataset)."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    result = Image.new(image.mode, (side, side), background_color)
    result.paste(image, ((side - width) // 2, (side - height) // 2))
    return result


@pytest.mark.parametrize("size", [(61, 45), (45, 61), (40, 40)])
def test_pad_checkpoints_pad_images_as_the_original(tmp_path, size):
    """`image_aspect_ratio: "pad"` -> the converted image processor pads with int(mean * 255), then CLIP's steps."""
    write_original_layout("video_grid2_336_inside_rope", tmp_path / "original")
    config = json.loads((tmp_path / "original" / "config.json").read_text()) | {"image_aspect_ratio": "pad"}
    (tmp_path / "original" / "config.json").write_text(json.dumps(config))
    model = convert_llama_vid_checkpoint(tmp_path / "original", vision_heads=2, qformer_heads=2)
    processor = build_original_processor(model, tmp_path / "original", FIXTURES / "qformer_tokenizer", None)
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (*size[::-1], 3), dtype=np.uint8))
    clip = CLIPImageProcessorPil(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336})
    mean_colour = tuple(int(x * 255) for x in clip.image_mean)
    expected = clip(expand2square(image, mean_colour), return_tensors="pt")["pixel_values"]
    ours = processor.image_processor(image, return_tensors="pt")["pixel_values"]
    assert (ours - expected).abs().max() <= 1e-6
