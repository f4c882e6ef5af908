"""A CrewAI `Crew` that keeps its replay log in memory (imports CrewAI: load lazily).

Stock CrewAI writes every task output to `latest_kickoff_task_outputs.db` under the user's
data directory, named after the current directory, for `crewai replay`. llmgenie keeps its
own run records and audit log, so that copy would be an unaudited duplicate of agent output
outside the workspace (and concurrent runs would wipe each other's rows).
"""

from __future__ import annotations

from typing import Any

from llmgenie.agents.crewai_setup import load_crewai

load_crewai()

from crewai import Crew  # noqa: E402  (after the offline environment is set)
from crewai.task import Task  # noqa: E402
from crewai.utilities.task_output_storage_handler import TaskOutputStorageHandler  # noqa: E402
from pydantic import PrivateAttr  # noqa: E402


class InMemoryTaskOutputs(TaskOutputStorageHandler):
    """CrewAI's task-output log, kept in this process only and dropped with the crew."""

    def __init__(self) -> None:  # no super(): that would create the SQLite file
        self._outputs: list[dict[str, Any]] = []

    def update(self, task_index: int, log: dict[str, Any]) -> None:
        self._outputs.append({"task_index": task_index, **log})

    def add(
        self,
        task: Task,
        output: dict[str, Any],
        task_index: int,
        inputs: dict[str, Any] | None = None,
        was_replayed: bool = False,
    ) -> None:
        self._outputs.append(
            {
                "task_index": task_index,
                "task_id": str(task.id),
                "output": output,
                "inputs": inputs or {},
                "was_replayed": was_replayed,
            }
        )

    def reset(self) -> None:
        self._outputs.clear()

    def load(self) -> list[dict[str, Any]] | None:
        return list(self._outputs) or None


class GenieCrew(Crew):
    """CrewAI's Crew without the on-disk replay log."""

    _task_output_handler: TaskOutputStorageHandler = PrivateAttr(
        default_factory=InMemoryTaskOutputs
    )
