"""gunicorn reads this file from the working directory by itself (the Dockerfile's CMD runs there).

Only the metrics' multiprocess housekeeping lives here; workers, threads and the bind address stay
on the command line. With PROMETHEUS_MULTIPROC_DIR set (docs/operations.md):
- the directory is emptied when the server starts, so counters of an earlier run (whose process
  ids the new workers may reuse) are not added in;
- a worker that exits has its live gauges removed.
"""

import os
import shutil
from pathlib import Path
from typing import Any


def on_starting(server: Any) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
