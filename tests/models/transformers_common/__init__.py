"""transformers 5.23.0's common test mixins, copied unchanged from its sdist (`pip download --no-deps --no-binary
:all: transformers==5.23.0`: tests/test_modeling_common.py, test_processing_common.py, test_configuration_common.py;
Apache-2.0, their license headers kept), run against BehaviorLlava by tests/models/test_behavior_llava_common.py.

The sdist does not ship three modules these files import; they are registered here as what they provide to the
mixins, nothing more, and the tests that need them are skipped with that reason:
- `exporters.test_export.ExportTesterMixin` (a base of ModelTesterMixin: the torch.export tests) -> an empty mixin;
- `generation.test_utils.GenerationTesterMixin` -> an empty mixin (our generation tests:
  tests/models/test_behavior_llava_generation.py);
- `utils.test_configuration_utils.config_common_kwargs` (ConfigTester.check_config_arguments_init) -> None;
- `fetch_hub_objects_for_ci.url_to_local_path` (utils/ of the repository: the CI's local copies of the test media on
  the Hub) -> the URL itself; the tests that load those URLs are skipped (no network in the tests).
"""

import sys
import types

NOT_IN_SDIST = "not shipped in the transformers 5.23.0 sdist"


def _register(name: str, **attributes) -> None:
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        module_name = ".".join([__name__, *parts[:depth]])
        module = sys.modules.setdefault(module_name, types.ModuleType(module_name, NOT_IN_SDIST))
        if depth < len(parts):
            module.__path__ = []
    module.__dict__.update(attributes)


# test_configuration_common runs `direct_transformers_import(<this folder>)`, which executes this file again under the
# name "transformers": the stand-ins are registered only under this package's own name, never inside transformers.
if __name__ == "transformers_common":
    _register("exporters.test_export", ExportTesterMixin=type("ExportTesterMixin", (), {}))
    _register("generation.test_utils", GenerationTesterMixin=type("GenerationTesterMixin", (), {}))
    _register("utils.test_configuration_utils", config_common_kwargs=None)
    sys.modules.setdefault("fetch_hub_objects_for_ci", types.ModuleType("fetch_hub_objects_for_ci", NOT_IN_SDIST))
    sys.modules["fetch_hub_objects_for_ci"].url_to_local_path = lambda url: url
