"""`python -m mock_clockwise`: run the mock (see server.py and `--help`)."""
import sys

from .server import main

sys.exit(main())
