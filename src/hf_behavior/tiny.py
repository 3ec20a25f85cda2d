"""Tiny random BehaviorLlava models and processors, built offline (tests, the quickstart, CPU smoke runs).

Nothing here downloads: the tokenizers are trained in-process on a small corpus, the weights are random.
"""

from __future__ import annotations

import io
import string

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AddedToken, BertTokenizer, LlamaTokenizer, PreTrainedTokenizerFast

from .models.behavior_llava import BehaviorLlavaConfig, BehaviorLlavaForCausalLM, BehaviorLlavaProcessor
from .models.behavior_llava.assemble import PLACEHOLDER_TOKENS, build_processor
from .models.behavior_llava.processing_behavior_llava import VICUNA_SYSTEM

CORPUS = [
    VICUNA_SYSTEM,
    "You are an AI visual assistant. You are given a detailed description of a media, followed by the actual media. "
    "Answer all questions as if you are seeing the media.",
    'The video advertisement is titled "Make Your Own Footsteps" for the brand Gatorade. The audio in the ad says '
    '"go further". Analyze this video deeply, then write scene by scene description of the video and answer the '
    "following questions. What percentage of viewers would like this video, and what would be the top-5 popular "
    "comments on this video? What would the replay graph values for each scene be?",
    "The scene-by-scene descriptions are: Scene 1: The scene shows a red square on a blue background. The foreground "
    "colors of the scene are red, and the background colors are blue. The dominant tone of the scene is warm. This "
    "scene is categorized by the tags: square, shape, color. The video will be liked by 2.5% of viewers, and the "
    'popular comments could be: 1. "love it" 2. "so cool" The replay values for each scene would be: Scene 1: 0.8',
    "USER: ASSISTANT: What is shown in the image? Describe the video. A cat, a dog and a car. yes no",
    string.ascii_letters + string.digits + string.punctuation,
]
LLM_SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<pad>"]
# Label words the SentencePiece tokenizer learns as whole pieces ("▁amusement"), as a real LLM vocabulary has them.
EMOTION_WORDS = ("amusement", "excitement", "sadness", "anger", "fear", "surprise", "neutral")


def build_tiny_tokenizer(vocab_size: int = 512, placeholders: bool = True) -> PreTrainedTokenizerFast:
    """A byte-level BPE LLaMA-style tokenizer (<s> prepended, </s> as eos), with <image>/<video> placeholders unless
    `placeholders=False` (a plain LLM tokenizer, as the assembling tests start from)."""
    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=LLM_SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS, trainer=trainer)
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", backend.token_to_id("<s>"))]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    if placeholders:
        tokenizer.add_tokens(
            [AddedToken(token, special=True, normalized=False) for token in PLACEHOLDER_TOKENS], special_tokens=True
        )
    return tokenizer


def build_tiny_sentencepiece_tokenizer(
    vocab_size: int = 800, placeholders: bool = True, legacy: bool = True
) -> LlamaTokenizer:
    """A LLaMA-style SentencePiece tokenizer (as Vicuna's): BPE with byte fallback trained by sentencepiece, words
    prefixed with '▁', <s> prepended, in the legacy layout (the '▁' is prepended to every text, as sentencepiece
    does), so a text tokenized alone differs from the same text inside a prompt (" amusement" -> '▁', '▁amusement').
    Use it in memory: transformers 5.23 reloads a saved LlamaTokenizer with its own Metaspace pre-tokenizer instead
    of the saved normalizer, which tokenizes " amusement" alone without the extra '▁'.
    `legacy=False`: transformers 5's LlamaTokenizer(legacy=False) layout instead, '▁' prepended to the first piece
    only, so text right after a special token or placeholder starts without it.
    """
    import sentencepiece
    from transformers.convert_slow_tokenizer import generate_merges

    proto = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter([*CORPUS, " ".join(EMOTION_WORDS)]), model_writer=proto, vocab_size=vocab_size, model_type="bpe",
        character_coverage=1.0, byte_fallback=True, split_digits=True, add_dummy_prefix=True,
        remove_extra_whitespaces=False, normalization_rule_name="identity", hard_vocab_limit=False,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, minloglevel=2,
    )  # fmt: skip
    spm = sentencepiece.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = {spm.id_to_piece(i): i for i in range(spm.get_piece_size())}
    merges = generate_merges(vocab, {piece: spm.get_score(i) for piece, i in vocab.items()})
    # transformers' legacy LLaMA conversion: prepend '▁', spaces to '▁', no pre-tokenizer; byte-fallback decoding.
    backend = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    if legacy:
        backend.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    else:
        backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
    backend.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)]
    )
    backend.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", vocab["<s>"])]
    )
    tokenizer = LlamaTokenizer(
        vocab=vocab, merges=merges, tokenizer_object=backend, legacy=legacy, add_prefix_space=True,
        bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>",  # LLaVA pads with <unk>
    )  # fmt: skip
    if placeholders:
        tokenizer.add_tokens(
            [AddedToken(token, special=True, normalized=False) for token in PLACEHOLDER_TOKENS], special_tokens=True
        )
    return tokenizer


TOKENIZER_BUILDERS = {"bpe": build_tiny_tokenizer, "sentencepiece": build_tiny_sentencepiece_tokenizer}


def build_tiny_qformer_tokenizer() -> BertTokenizer:
    """A WordPiece BERT tokenizer over the corpus words plus single characters, so no text maps to [UNK] only."""
    words = {word.strip(string.punctuation).lower() for line in CORPUS for word in line.split()}
    chars = set(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"]
    vocab += sorted(words - {""}) + sorted(chars) + sorted(f"##{c}" for c in chars)
    return BertTokenizer(vocab={token: i for i, token in enumerate(dict.fromkeys(vocab))})


def tiny_config(tokenizer=None, qformer_tokenizer=None, **overrides) -> BehaviorLlavaConfig:
    """A BehaviorLlavaConfig of a few hundred thousand parameters, shaped like the real one (EVA + Q-Former + LLaMA)."""
    tokenizer = tokenizer or build_tiny_tokenizer()
    qformer_vocab = len(qformer_tokenizer or build_tiny_qformer_tokenizer())
    kwargs = dict(
        vision_config=dict(
            model_type="blip_2_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, image_size=56, patch_size=14, initializer_range=0.02,
        ),
        qformer_config=dict(
            model_type="instructblip_qformer", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=2, encoder_hidden_size=32, vocab_size=qformer_vocab, max_position_embeddings=512,
        ),
        text_config=dict(
            model_type="llama", hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=len(tokenizer), max_position_embeddings=2048,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        ),
        num_query_tokens=4,
        max_frames=8,
        image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        video_token_id=tokenizer.convert_tokens_to_ids("<video>"),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    kwargs.update(overrides)
    return BehaviorLlavaConfig(**kwargs)


def build_tiny_processor(config: BehaviorLlavaConfig | None = None, tokenizer=None) -> BehaviorLlavaProcessor:
    """`tokenizer`: a tokenizer, or the name of a tiny family ("bpe", "sentencepiece"); default "bpe"."""
    if tokenizer is None or isinstance(tokenizer, str):
        tokenizer = TOKENIZER_BUILDERS[tokenizer or "bpe"]()
    return build_processor(config or tiny_config(tokenizer), tokenizer, build_tiny_qformer_tokenizer())


def build_tiny_model_and_processor(seed: int = 0, tokenizer: str = "bpe", **config_overrides):
    """(model, processor) sharing one tokenizer of the given family ("bpe": byte-level BPE, "sentencepiece": LLaMA);
    the model's placeholder ids match the processor's."""
    import torch

    tokenizer = TOKENIZER_BUILDERS[tokenizer]()
    config = tiny_config(tokenizer, **config_overrides)
    torch.manual_seed(seed)
    model = BehaviorLlavaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, build_tiny_processor(config, tokenizer)
