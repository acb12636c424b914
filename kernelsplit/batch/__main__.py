"""``python -m kernelsplit.batch MAX_MEMORY [PARENT_PID]``: a worker process (see ``worker.py``).

The worker's code lives in ``kernelsplit.batch.worker`` and is imported under that name, so the
steps that call :func:`~kernelsplit.batch.worker.reading` reach the same module state.
"""

from __future__ import annotations

import sys

from .worker import main

if __name__ == "__main__":
    sys.exit(main(sys.argv))
