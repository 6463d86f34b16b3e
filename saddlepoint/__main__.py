"""`python -m saddlepoint` (and `torchrun -m saddlepoint`) runs the command line."""

import sys

from saddlepoint.cli import main

sys.exit(main())
