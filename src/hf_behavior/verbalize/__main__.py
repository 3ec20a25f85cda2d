"""`python -m hf_behavior.verbalize` / `accelerate launch -m hf_behavior.verbalize`."""

import sys

from .run import main

sys.exit(main())
