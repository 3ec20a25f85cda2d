"""Start-up: `hf-behavior ... --help` and the data jobs import neither torch nor transformers (6-8 s and ~1 GB
each); `import hf_behavior` still registers BehaviorLlava with transformers' Auto classes for users."""

import json
import subprocess
import sys
import textwrap

import pytest

from hf_behavior.cli import COMMANDS


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_imports_neither_torch_nor_transformers(command):
    argv = ["--help"] if command is None else [command, "--help"]
    out = run_python(f"""
        import contextlib, io, json, sys
        from hf_behavior.cli import main
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            try:
                main({argv!r})
            except SystemExit as exit_:
                assert exit_.code == 0, exit_.code
        heavy = sorted({{name.split(".")[0] for name in sys.modules}} & {{"torch", "transformers"}})
        print(json.dumps({{"heavy": heavy, "help": text.getvalue()}}))
    """)
    result = json.loads(out)
    assert result["heavy"] == [] and "usage: hf-behavior" in result["help"]


def test_a_build_imports_neither_torch_nor_transformers(tmp_path):
    """The build itself (ingest, filters, records, parquet, card) has no use for them: they were its memory floor."""
    out = run_python(f"""
        import sys
        sys.path.insert(0, {str(tmp_path.parent)!r})
        from pathlib import Path
        sys.path.insert(0, "tests")
        from data.dumps import write_realistic_youtube
        from hf_behavior.cli import main
        folder = write_realistic_youtube(Path({str(tmp_path)!r}))
        assert main(["build-blift", "-o", {str(tmp_path / "out")!r}, "--youtube", str(folder), "--configs", "blift"]) == 0
        print(sorted({{name.split(".")[0] for name in sys.modules}} & {{"torch", "transformers"}}))
    """)
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.slow  # four interpreters importing torch and transformers
def test_import_hf_behavior_registers_with_the_auto_classes():
    """Whatever is imported first: the package, then transformers' Auto classes (or the other way round), a model
    module of transformers (whose `modeling_layers` loads the Auto classes from its own body), or our own config."""
    for first in ("import hf_behavior; from transformers import AutoConfig, AutoModelForCausalLM, AutoProcessor",
                  "from transformers import AutoConfig, AutoModelForCausalLM, AutoProcessor; import hf_behavior",
                  "import hf_behavior; from transformers import LlamaForCausalLM; from transformers import AutoConfig, AutoModelForCausalLM, AutoProcessor",
                  "import hf_behavior; from hf_behavior.models.behavior_llava import BehaviorLlavaConfig; from transformers import AutoConfig, AutoModelForCausalLM, AutoProcessor"):  # fmt: skip
        out = run_python(f"""
            import sys
            {first}
            from transformers import AutoModelForImageTextToText
            from transformers.models.auto.processing_auto import PROCESSOR_MAPPING
            from transformers.models.auto.video_processing_auto import VIDEO_PROCESSOR_MAPPING
            from transformers.pipelines import PIPELINE_REGISTRY
            kind = type(AutoConfig.for_model("behavior_llava"))
            print(kind.__name__, AutoModelForCausalLM._model_mapping[kind].__name__,
                  AutoModelForImageTextToText._model_mapping[kind].__name__, PROCESSOR_MAPPING[kind].__name__,
                  "BehaviorLlavaVideoProcessor" in repr(VIDEO_PROCESSOR_MAPPING[kind]), "behavior-simulation" in PIPELINE_REGISTRY.get_supported_tasks())
        """)
        assert out.split() == ["BehaviorLlavaConfig", "BehaviorLlavaForCausalLM", "BehaviorLlavaForCausalLM",
                               "BehaviorLlavaProcessor", "True", "True"], first  # fmt: skip


def test_import_hf_behavior_alone_is_light():
    out = run_python("""
        import sys
        import hf_behavior
        print(sorted({name.split(".")[0] for name in sys.modules} & {"torch", "transformers"}))
        print(hf_behavior.BehaviorLlavaConfig.model_type)  # the classes are there, imported on first use
    """)
    assert out.split("\n")[:2] == ["[]", "behavior_llava"]
