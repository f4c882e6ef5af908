"""A per-run spending limit shared by every model call of the run (thread-safe)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from llmgenie.contracts.errors import BudgetExceeded


@dataclass
class RunBudget:
    """Tokens and USD spent by one run, against optional limits."""

    max_tokens: int | None = None
    max_usd: float | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check(self, pending_tokens: int = 0) -> None:
        """Raise BudgetExceeded if the run has spent (or, with `pending_tokens`, would spend)
        more than its limit."""
        with self._lock:
            tokens, cost = self.tokens + pending_tokens, self.cost_usd
        if self.max_tokens is not None and tokens > self.max_tokens:
            raise BudgetExceeded(
                f"token budget exceeded: {tokens} tokens used of {self.max_tokens} "
                "(raise llm.budget_tokens to allow more)"
            )
        if self.max_usd is not None and cost > self.max_usd:
            raise BudgetExceeded(
                f"cost budget exceeded: ${cost:.4f} spent of ${self.max_usd:.4f} "
                "(raise llm.budget_usd to allow more)"
            )

    def add(self, tokens: int, cost_usd: float) -> None:
        """Account one finished call."""
        with self._lock:
            self.tokens += tokens
            self.cost_usd += cost_usd
            self.calls += 1

    @property
    def remaining_tokens(self) -> int | None:
        with self._lock:
            return None if self.max_tokens is None else self.max_tokens - self.tokens
