"""Markers that transformers' vendored common tests (transformers_common/) put on their tests."""

TRANSFORMERS_TEST_MARKERS = {
    "accelerate_tests": "transformers: needs accelerate",
    "flash_attn_test": "transformers: needs flash-attention (CUDA)",
    "flash_attn_3_test": "transformers: needs flash-attention 3 (CUDA)",
    "flash_attn_4_test": "transformers: needs flash-attention 4 (CUDA)",
    "torch_compile_test": "transformers: compiles the model",
}


def pytest_configure(config):
    for name, description in TRANSFORMERS_TEST_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")
