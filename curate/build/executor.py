"""Running one datatrove pipeline of a build stage on the recipe's executor (local, Slurm or Ray)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from curate.dedup import PipelinePlan
from curate.recipe import ExecutorSettings

SLURM_POLL_SECONDS = 30


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """datatrove logs every task to stderr; send that (workers included: they inherit fd 2) to the stage log."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved_fd, saved_stream = os.dup(2), sys.stderr
    with path.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)
        sys.stderr = log  # loguru binds the stream object when datatrove adds its task sink
        try:
            yield
        finally:
            log.flush()
            sys.stderr = saved_stream
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def run_plan(plan: PipelinePlan, logs_dir: Path, executor: ExecutorSettings) -> None:
    """Run one pipeline on the recipe's executor; finished tasks (datatrove completions) are skipped."""
    logging_dir = str(logs_dir / plan.name)
    if executor.kind == "local":
        from datatrove.executor import LocalPipelineExecutor

        runner = LocalPipelineExecutor(plan.pipeline, tasks=plan.tasks, workers=min(executor.workers, plan.tasks),
                                       logging_dir=logging_dir)
    elif executor.kind == "slurm":
        from datatrove.executor import SlurmPipelineExecutor

        runner = SlurmPipelineExecutor(pipeline=plan.pipeline, tasks=plan.tasks, workers=executor.workers,
                                       logging_dir=logging_dir, **executor.options)
    else:
        from datatrove.executor import RayPipelineExecutor

        runner = RayPipelineExecutor(pipeline=plan.pipeline, tasks=plan.tasks, workers=executor.workers,
                                     logging_dir=logging_dir, **executor.options)
    log_path = logs_dir / f"{plan.name}.stderr.log"
    try:
        with _stderr_to(log_path):
            runner.run()
        # Slurm's run() submits and returns: the next pipeline reads this one's outputs, so wait for completions.
        while executor.kind == "slurm" and runner.get_incomplete_ranks():
            time.sleep(SLURM_POLL_SECONDS)
    except Exception as e:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"pipeline {logs_dir.name}/{plan.name} failed ({e}); log tail:\n{tail}") from e
