"""Verbalization of images and videos into per-media sidecar JSON files (`hf-behavior verbalize`).

Stages, each a plain function: scenes.py (PyAV decoding, PySceneDetect's ContentDetector scores and cut filter),
keyframes.py, captions.py (Listing 5 with any image-text-to-text model), colors.py, asr.py (Whisper pipeline),
replay.py; run.py wires them together and splits the work across processes with accelerate.

The sidecar files are a contract with the BLIFT builder (`hf_behavior.data`):

# Verbalization sidecar schema (contract between `hf-behavior verbalize` and the BLIFT builder)

One JSON file per media item: `<sidecar_dir>/<media_id>.json`, written atomically (tmp file + os.replace).
`media_id` is the media file's stem (yt-dlp names files `<video_id>.<ext>`, so for YouTube it is the video id;
for Reddit images it is the post id the builder names the downloaded file after).

{
  "media_id": "BKPQkjRF4yY",
  "media_path": "/abs/path/BKPQkjRF4yY.mp4",
  "kind": "video",                       # "video" | "image"
  "status": "done",                       # "done" | "failed"
  "error": null,                          # str when status == "failed" (exception type + message)
  "duration": 31.2,                       # seconds; null for images
  "asr": "full transcript text" ,         # null when no audio track / no ASR model run
  "scenes": [
    {
      "index": 0,
      "start": 0.0, "end": 4.2,           # seconds (0, 0 for images)
      "keyframes": [1.5],                 # timestamps (s) of the frames described
      "caption": "a woman looking off into the distance",
      "keywords": ["cosmetic", "eyebrow", "face"],
      "foreground_colors": ["black", "mud green", "gray"],
      "background_colors": ["dark brown", "black"],
      "tone": "neutral",                  # "warm" | "neutral" | "cool"
      "asr": "text spoken in this scene", # null when none
      "replay": 0.53                      # null when there is no replay graph (heatmap)
    }
  ],
  "stats": {"frames_decoded": 930, "seconds": 2.1}
}

A re-run skips media ids whose sidecar has status "done". The builder joins only "done" sidecars; a "failed" one
is counted as a skip with its error as the reason.
"""
