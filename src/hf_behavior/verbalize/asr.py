"""Speech: audio pulled from the container with PyAV, resampled to 16 kHz with librosa, transcribed by
Whisper through the transformers ASR pipeline (chunked, batched, timestamped), split per scene."""

from __future__ import annotations

import logging
from pathlib import Path

import av
import librosa
import numpy as np

from ..decoding import decode_frames

SAMPLING_RATE = 16_000
logger = logging.getLogger(__name__)


def load_audio(path: str | Path, sampling_rate: int = SAMPLING_RATE) -> np.ndarray | None:
    """Mono float32 waveform at ``sampling_rate``, or None when the file has no audio track.

    A packet the decoder rejects (a damaged stretch of a download) becomes silence of its length, so that the
    transcript's timestamps still match the scenes, with a warning; a track with no decodable packet is an error.
    """
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        chunks, source_rate, bad_packets, next_sample = [], None, [], None
        for frame in decode_frames(container, stream, bad_packets):
            source_rate = frame.sample_rate
            start = round(frame.pts * frame.time_base * source_rate) if frame.pts is not None else (next_sample or 0)
            if next_sample is not None and start > next_sample:  # the skipped packets' time
                chunks.append(np.zeros(start - next_sample, dtype=np.float32))
            raw = frame.to_ndarray()
            samples = raw.astype(np.float32)
            if frame.format.is_packed:  # packed: [1, samples * channels] interleaved
                samples = samples.reshape(-1, len(frame.layout.channels)).T
            if np.issubdtype(raw.dtype, np.integer):
                samples /= np.iinfo(raw.dtype).max
            chunks.append(samples.mean(axis=0))
            next_sample = start + frame.samples
    if bad_packets:
        if source_rate is None:
            raise ValueError(f"{path}: none of the audio track's {len(bad_packets)} packets could be decoded")
        logger.warning("%s: %d damaged audio packets replaced by silence; first %s", path, len(bad_packets),
                       bad_packets[0])  # fmt: skip
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    waveform = np.concatenate(chunks)
    return librosa.resample(waveform, orig_sr=source_rate, target_sr=sampling_rate).astype(np.float32)


class Transcriber:
    """Whisper (or any ASR checkpoint) through ``pipeline("automatic-speech-recognition")``."""

    def __init__(self, model: str, device=None, batch_size: int = 8, chunk_length_s: float = 30.0,
                 language: str | None = None, max_new_tokens: int | None = None, dtype=None):
        from transformers import pipeline

        self.pipe = pipeline(
            "automatic-speech-recognition", model=model, device=device, dtype=dtype,
            chunk_length_s=chunk_length_s, ignore_warning=True,
        )
        self.batch_size = batch_size
        self.generate_kwargs = {"task": "transcribe"}
        if language:
            self.generate_kwargs["language"] = language
        if max_new_tokens:
            self.generate_kwargs["max_new_tokens"] = max_new_tokens

    def __call__(self, waveforms: list[np.ndarray]) -> list[dict]:
        """One ``{"text", "chunks": [{"text", "timestamp": (start, end)}]}`` per waveform."""
        inputs = [{"raw": waveform, "sampling_rate": SAMPLING_RATE} for waveform in waveforms]
        return self.pipe(inputs, batch_size=self.batch_size, return_timestamps=True, generate_kwargs=self.generate_kwargs)


def scene_transcripts(chunks: list[dict], scenes: list[tuple[float, float]], duration: float | None = None) -> list[str | None]:
    """Text spoken in each scene: every timestamped chunk goes to the scene it overlaps most
    (chunks clipped to the media's duration; a chunk with no end lasts until the end)."""
    texts: list[list[str]] = [[] for _ in scenes]
    end_of_media = duration if duration is not None else max((end for _, end in scenes), default=0.0)
    for chunk in chunks:
        text = chunk.get("text", "").strip()
        start, end = chunk.get("timestamp") or (None, None)
        if not text or start is None:
            continue
        end = end_of_media if end is None else min(end, end_of_media)
        start = min(start, end_of_media)
        overlaps = [min(end, scene_end) - max(start, scene_start) for scene_start, scene_end in scenes]
        if not overlaps:
            continue
        best = int(np.argmax(overlaps))
        if overlaps[best] <= 0:  # a zero-length chunk: the scene its start falls in
            best = next((i for i, (a, b) in enumerate(scenes) if a <= start < b), len(scenes) - 1)
        texts[best].append(text)
    return [" ".join(parts) if parts else None for parts in texts]
