# The vendored files hold mixins, not tests: tests/models/test_behavior_llava_common.py runs them.
collect_ignore_glob = ["test_*_common.py"]
