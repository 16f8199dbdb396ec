"""``python -m necstgen_desk`` is the ``necstgen-desk`` command."""

import sys

from necstgen_desk.main import main

sys.exit(main())
