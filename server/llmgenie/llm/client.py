"""ModelClient: execute-with-fallback model calls over litellm for one run.

Per call: messages are redacted, then each model of the ordered chain is tried in turn.
A model is retried with exponential backoff on rate limits and 5xx (bounded by
`max_retries`); a timeout, an auth/bad-request error, a malformed answer or exhausted retries
move on to the next model. So does an answer that is no answer: empty, malformed, or a
stream that stopped before the model finished. The answer says which model answered and
which failed first.

Every call streams and sends an output-token limit (`max_tokens`), so a model cannot ramble
until its context is full, and closing the connection stops its generation. Each attempt
runs in a worker thread while the caller waits on a queue, checking the run's CancelToken
and two deadlines every few milliseconds: until the first token, the first-token deadline
(local models get a long one: a cold prompt on a small CPU takes tens of seconds); after it,
an idle deadline that restarts with every chunk. Cancellation or a deadline shuts the
call's sockets down (llm/transport.py), so the provider sees the connection close at once.

Tool calls a model writes as text (`<tool_call>{...}</tool_call>`) become real tool calls
when tools were offered, and that text is never streamed to `on_delta`. For a model whose
native tool calling is off (`LLMGENIE_MODEL_TOOL_PROTOCOL`, or litellm knows it lacks it)
the tools are not sent: they are described in the system prompt and the conversation's
earlier calls and results are written as text (llm/text_protocol.py).

A caller whose final answer is JSON says so (`json_answer`): the request then asks for the
provider's JSON mode (`response_format: json_object`) when it has one
(`LLMGENIE_MODEL_JSON_MODE`); the schema itself is in the caller's prompt.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import queue
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import context as otel_context

from llmgenie.config import Settings
from llmgenie.contracts.errors import BudgetExceeded, ModelCallError, NoModelConfigured
from llmgenie.contracts.progress import Cancelled, CancelToken
from llmgenie.litellm_setup import load_litellm
from llmgenie.llm.budget import RunBudget
from llmgenie.llm.capabilities import context_window, supports_json_mode, supports_native_tools
from llmgenie.llm.models import Completion
from llmgenie.llm.options import (
    DEFAULT_MAX_TOKENS,
    JsonMode,
    ModelOptions,
    ToolProtocol,
    is_local_model,
)
from llmgenie.llm.text_protocol import (
    ToolCallStreamFilter,
    parse_text_tool_calls,
    strip_reasoning,
    to_text_protocol,
)
from llmgenie.llm.transport import AbortableHTTPClient
from llmgenie.observability.logging import get_logger
from llmgenie.observability.metrics import LLM_COST, LLM_TOKENS
from llmgenie.observability.tracing import tracer
from llmgenie.redaction import redact_structure

log = get_logger(__name__)

_POLL_S = 0.02
# litellm's own preparation before the request goes out can take a second on a busy
# machine; the timeout is measured from the connect, with this much grace before it.
_PREPARE_GRACE_S = 10.0
# Providers that litellm drives through the OpenAI SDK: we hand it a client whose sockets
# we can shut down on cancel. Other providers are abandoned on cancel (they end at timeout).
_OPENAI_SDK_PROVIDERS = frozenset({"openai", "custom_openai"})


class ModelTimeout(TimeoutError):
    """One model did not start (or went silent mid-stream) within its deadline."""


class UnusableAnswer(Exception):
    """The model answered with nothing usable (empty, or a stream cut before the end)."""


class MessageRedactions:
    """Redacted copies of conversation messages, keyed by a hash of their content.

    A run sends its whole history again every round; redacting each distinct message once
    keeps a long run linear (a 20 MB tool argument was re-redacted every round before).
    Shared by a client's siblings; bounded, oldest entries dropped first.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def redact(self, redact: Callable[[str], str], message: Any) -> Any:
        """`message` with every string redacted, from the cache when seen before."""
        raw = json.dumps(message, sort_keys=True, default=str, ensure_ascii=False)
        key = hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
                return copy.deepcopy(cached)
        redacted = redact_structure(redact, message)
        with self._lock:
            self._entries[key] = redacted
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return copy.deepcopy(redacted)


class _Tee:
    """An `on_delta` that also remembers whether anything was shown."""

    def __init__(self, on_delta: Callable[[str], None], shown: list[str]) -> None:
        self._on_delta = on_delta
        self._shown = shown

    def __call__(self, text: str) -> None:
        self._shown.append(text)
        self._on_delta(text)


def model_chain(settings: Settings, override: str | None = None) -> list[str]:
    """The ordered models to try: an explicit override, the configured model, its fallbacks."""
    ordered = [override or "", settings.llm.model, *settings.llm.fallbacks]
    chain: list[str] = []
    for model in ordered:
        model = model.strip()
        if model and model not in chain:
            chain.append(model)
    return chain


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else None


def _is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, TimeoutError) or type(exc).__name__ in {"Timeout", "APITimeoutError"}


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _unreachable(exc: BaseException) -> bool:
    """A connection that never got an answer (refused, DNS, TLS, no network): litellm
    reports some of these as HTTP 500 "Connection error", which no server ever sent."""
    import httpx

    chain: BaseException | None = exc
    for _ in range(5):
        if chain is None:
            break
        if isinstance(chain, httpx.ConnectError | ConnectionError):
            return True
        chain = chain.__cause__ or chain.__context__
    name = type(exc).__name__
    return name == "APIConnectionError" or "Connection error" in str(exc)


def _describe(exc: BaseException) -> str:
    if _unreachable(exc):
        return "cannot reach the model's server (no connection: check the network and api_base)"
    status = _status_of(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(text) > 300:
        text = text[:300] + "…"
    return f"HTTP {status}: {text}" if status else f"{type(exc).__name__}: {text}"


def _tool_calls_of(message: Any) -> list[dict[str, Any]]:
    calls = getattr(message, "tool_calls", None) or []
    out: list[dict[str, Any]] = []
    for call in calls:
        function = getattr(call, "function", None)
        out.append(
            {
                "id": getattr(call, "id", None) or "",
                "type": "function",
                "function": {
                    "name": getattr(function, "name", "") or "",
                    "arguments": getattr(function, "arguments", "") or "",
                },
            }
        )
    return out


def _delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return ""
    delta = getattr(choices[0], "delta", None)
    content = getattr(delta, "content", None)
    return content if isinstance(content, str) else ""


def _chunk_facts(chunk: Any) -> tuple[bool, str | None]:
    """(whether the chunk carries generated output, its finish_reason)."""
    choices = getattr(chunk, "choices", None) or []
    if not choices:
        return False, None
    delta = getattr(choices[0], "delta", None)
    generated = bool(
        getattr(delta, "content", None)
        or getattr(delta, "tool_calls", None)
        or getattr(delta, "reasoning_content", None)
    )
    finish = getattr(choices[0], "finish_reason", None)
    return generated, finish if isinstance(finish, str) and finish else None


class ModelClient:
    """Model access for one run: fallback chain, retries, timeouts, streaming, budget.

    Thread-safe; siblings made with `with_model` share the run's budget, cancel token,
    redactor and completion callback.
    """

    def __init__(
        self,
        models: Sequence[str],
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 2,
        budget: RunBudget | None = None,
        redact: Callable[[str], str] | None = None,
        cancel: CancelToken | None = None,
        on_completion: Callable[[Completion], None] | None = None,
        backoff_s: float = 0.5,
        max_backoff_s: float = 8.0,
        first_token_timeout_s: float | None = None,
        local_first_token_timeout_s: float | None = None,
        max_tokens: int | None = None,
        json_mode: JsonMode = "auto",
        tool_protocol: ToolProtocol = "auto",
        context_window: int | None = None,
        endpoint: Callable[[str], tuple[str | None, str | None]] | None = None,
    ) -> None:
        if not models:
            raise NoModelConfigured()
        self.models = list(models)
        self.api_base = api_base
        self._api_key = api_key
        # (api_base, key) per model: each key goes only to its own model's provider. Without
        # it every model of the chain shares `api_base` and `api_key` (one provider).
        self._endpoint = endpoint
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.budget = budget or RunBudget()
        self._redact = redact
        self._redactions = MessageRedactions()
        self.cancel = cancel or CancelToken()
        self._on_completion = on_completion
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.first_token_timeout_s = first_token_timeout_s
        self.local_first_token_timeout_s = local_first_token_timeout_s
        self.max_tokens = max_tokens  # a user-set limit wins over the caller's
        self.json_mode: JsonMode = json_mode
        self.tool_protocol: ToolProtocol = tool_protocol
        self.context_window_override = context_window
        # The run's trace, wherever CrewAI calls from (its threads do not carry contexts).
        self._trace_parent = otel_context.get_current()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        model: str | None = None,
        budget: RunBudget | None = None,
        redact: Callable[[str], str] | None = None,
        cancel: CancelToken | None = None,
        on_completion: Callable[[Completion], None] | None = None,
    ) -> ModelClient:
        """A client for `settings.llm` (with `model` tried first); NoModelConfigured if none.

        The `LLMGENIE_MODEL_*` knobs (llm/options.py) come from the environment.
        """
        llm = settings.llm
        options = ModelOptions.from_env()
        return cls(
            model_chain(settings, model),
            api_base=llm.api_base,
            api_key=settings.credential("llm", llm.api_base),
            endpoint=settings.endpoint_for,
            timeout_s=options.idle_timeout_s or llm.timeout_s,
            first_token_timeout_s=options.first_token_timeout_s,
            local_first_token_timeout_s=options.local_first_token_timeout_s,
            max_tokens=options.max_tokens,
            json_mode=options.json_mode,
            tool_protocol=options.tool_protocol,
            context_window=options.context_window,
            max_retries=llm.max_retries,
            budget=budget or RunBudget(llm.budget_tokens, llm.budget_usd),
            redact=redact,
            cancel=cancel,
            on_completion=on_completion,
        )

    def with_model(self, model: str) -> ModelClient:
        """A sibling whose chain starts with `model` (per-agent model choice)."""
        chain = [model, *(m for m in self.models if m != model)]
        sibling = ModelClient(
            chain,
            api_base=self.api_base,
            api_key=self._api_key,
            endpoint=self._endpoint,
            timeout_s=self.timeout_s,
            max_retries=self.max_retries,
            budget=self.budget,
            redact=self._redact,
            cancel=self.cancel,
            on_completion=self._on_completion,
            backoff_s=self.backoff_s,
            max_backoff_s=self.max_backoff_s,
            first_token_timeout_s=self.first_token_timeout_s,
            local_first_token_timeout_s=self.local_first_token_timeout_s,
            max_tokens=self.max_tokens,
            json_mode=self.json_mode,
            tool_protocol=self.tool_protocol,
            context_window=self.context_window_override,
        )
        sibling._redactions = self._redactions
        return sibling

    def first_token_deadline(self, model: str) -> float:
        """Seconds `model` may take to its first token (longer for local providers)."""
        if self.first_token_timeout_s is not None:
            return self.first_token_timeout_s
        if self.local_first_token_timeout_s is not None and is_local_model(model):
            return max(self.timeout_s, self.local_first_token_timeout_s)
        return self.timeout_s

    def uses_text_tools(self, model: str) -> bool:
        """Whether tools go to `model` described in the prompt rather than as `tools`."""
        if self.tool_protocol != "auto":
            return self.tool_protocol == "text"
        return not supports_native_tools(model)

    def uses_json_mode(self, model: str) -> bool:
        """Whether a JSON answer from `model` is asked for with `response_format`."""
        if self.json_mode != "auto":
            return self.json_mode == "on"
        return supports_json_mode(model, self.endpoint_of(model)[0])

    def context_window(self, model: str | None = None) -> int:
        """Input tokens the first model of the chain (or `model`) accepts."""
        model = model or self.models[0]
        return context_window(model, self.endpoint_of(model)[0], self.context_window_override)

    def endpoint_of(self, model: str) -> tuple[str | None, str | None]:
        """(api_base, api key) to call `model` with."""
        if self._endpoint is not None:
            return self._endpoint(model)
        return self.api_base, self._api_key

    # --- the contract -------------------------------------------------------------------
    def complete(
        self,
        messages: list[dict[str, Any]],
        *,
        tools: list[dict[str, Any]] | None = None,
        on_delta: Callable[[str], None] | None = None,
        max_tokens: int | None = None,
        json_answer: bool = False,
    ) -> Completion:
        """Call the chain in order; stream deltas to `on_delta` when given; at most
        `max_tokens` output tokens (a user-set LLMGENIE_MODEL_MAX_TOKENS wins);
        `json_answer`: the final answer is a JSON object (JSON mode where the provider has it).

        Raises Cancelled, BudgetExceeded, or ModelCallError naming every model's error.
        """
        with tracer().start_as_current_span(
            "model.call", context=self._trace_parent, attributes={"llmgenie.models": self.models}
        ) as span:
            completion = self._complete(messages, tools, on_delta, max_tokens, json_answer)
            span.set_attribute("gen_ai.response.model", completion.model or "")
            span.set_attribute("gen_ai.usage.input_tokens", completion.prompt_tokens)
            span.set_attribute("gen_ai.usage.output_tokens", completion.completion_tokens)
            return completion

    def _complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        on_delta: Callable[[str], None] | None,
        max_tokens: int | None,
        json_answer: bool = False,
    ) -> Completion:
        limit = self.max_tokens or max_tokens or DEFAULT_MAX_TOKENS
        self.cancel.raise_if_cancelled()
        self.budget.check()
        safe = messages
        if self._redact is not None:
            safe = [self._redactions.redact(self._redact, m) for m in messages]
        failed: list[str] = []
        errors: list[str] = []
        for model in self.models:
            shown: list[str] = []
            seen = None if on_delta is None else _Tee(on_delta, shown)
            try:
                completion = self._complete_with_retries(
                    model, safe, tools, seen, limit, json_answer
                )
            except (Cancelled, BudgetExceeded):
                raise
            except Exception as exc:
                failed.append(model)
                errors.append(f"{model}: {_describe(exc)}")
                log.warning("model_fallback_needed", model=model, error=_describe(exc))
                if shown and on_delta is not None:
                    # The reader saw part of a failed answer: say so before the next one.
                    on_delta(f"\n\n({model} failed mid-answer: {_describe(exc)}; retrying)\n\n")
                continue
            completion.fallbacks_tried = failed
            self._account(completion)
            return completion
        raise ModelCallError("every model failed: " + "; ".join(errors))

    # --- internals ----------------------------------------------------------------------
    def _complete_with_retries(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        on_delta: Callable[[str], None] | None,
        max_tokens: int,
        json_answer: bool = False,
    ) -> Completion:
        attempt = 0
        while True:
            self.cancel.raise_if_cancelled()
            try:
                return self._call_once(model, messages, tools, on_delta, max_tokens, json_answer)
            except (Cancelled, BudgetExceeded):
                raise
            except Exception as exc:
                status = _status_of(exc)
                retryable = (
                    not _is_timeout(exc) and status is not None and (status == 429 or status >= 500)
                )
                if not retryable or attempt >= self.max_retries:
                    raise
                delay = min(self.max_backoff_s, self.backoff_s * (2**attempt))
                delay *= 0.75 + random.random() / 2  # jitter: concurrent runs do not sync up
                hinted = _retry_after(exc)
                if hinted is not None:
                    delay = min(self.max_backoff_s, max(delay, hinted))
                log.info(
                    "model_call_retrying",
                    model=model,
                    attempt=attempt + 1,
                    status=status,
                    delay_s=round(delay, 3),
                )
                self._sleep(delay)
                attempt += 1

    def _sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.cancel.raise_if_cancelled()
            time.sleep(min(_POLL_S, remaining))

    def _request_kwargs(
        self, litellm: Any, model: str, http: AbortableHTTPClient, timeout: float
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": model, "timeout": timeout, "num_retries": 0}
        api_base, api_key = self.endpoint_of(model)
        if api_base:
            kwargs["api_base"] = api_base
        if api_key:
            kwargs["api_key"] = api_key
        try:
            provider = litellm.get_llm_provider(model, api_base=api_base)[1]
        except Exception:
            provider = ""
        if provider in _OPENAI_SDK_PROVIDERS and http.tracking:
            import openai

            kwargs["client"] = openai.OpenAI(
                api_key=api_key or os.environ.get("OPENAI_API_KEY") or "no-key-configured",
                base_url=api_base or os.environ.get("OPENAI_BASE_URL") or None,
                http_client=http.client,
                max_retries=0,
                timeout=timeout,
            )
        return kwargs

    def _call_once(
        self,
        model: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        on_delta: Callable[[str], None] | None,
        max_tokens: int,
        json_answer: bool = False,
    ) -> Completion:
        litellm = load_litellm()
        first_token_s = self.first_token_deadline(model)
        # The transport's own timeouts only back ours up: they must not fire first.
        http_timeout = max(self.timeout_s, first_token_s) + _PREPARE_GRACE_S
        http = AbortableHTTPClient(http_timeout)
        kwargs = self._request_kwargs(litellm, model, http, http_timeout)
        json_mode = json_answer and self.uses_json_mode(model)
        if tools and self.uses_text_tools(model):
            kwargs["messages"] = to_text_protocol(messages, tools, json_only=json_mode)
        else:
            kwargs["messages"] = messages
            if tools:
                kwargs["tools"] = tools
        kwargs["max_tokens"] = max_tokens
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        names = [str(t.get("function", {}).get("name", "")) for t in tools or []]
        # With tools on offer, a tool call written as text must not reach the user.
        shown = ToolCallStreamFilter() if (tools and on_delta is not None) else None
        events: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            try:
                stream = litellm.completion(
                    **kwargs, stream=True, stream_options={"include_usage": True}
                )
                for chunk in stream:
                    if stop.is_set():
                        break
                    events.put(("chunk", chunk))
                events.put(("end", None))
            except BaseException as exc:  # handed to the caller's thread
                events.put(("error", exc))
            finally:
                http.close()

        started = time.monotonic()
        worker = threading.Thread(target=work, name=f"llm-call:{model}", daemon=True)
        worker.start()
        first_token_at: float | None = None
        last_chunk_at = started
        finish: str | None = None
        chunks: list[Any] = []
        streamed: list[str] = []
        streamed_chars = 0
        try:
            while True:
                if self.cancel.cancelled:
                    raise Cancelled()
                if first_token_at is not None:
                    deadline = last_chunk_at + self.timeout_s
                elif http.connected_at is not None:
                    deadline = http.connected_at + first_token_s
                else:
                    grace = _PREPARE_GRACE_S if http.tracking else 0.0
                    deadline = started + first_token_s + grace
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if first_token_at is None:
                        raise ModelTimeout(
                            f"no first token within {first_token_s:g}s (a slow model can be "
                            "given longer with LLMGENIE_MODEL_FIRST_TOKEN_TIMEOUT_S)"
                        )
                    raise ModelTimeout(f"the answer stalled for {self.timeout_s:g}s")
                try:
                    kind, payload = events.get(timeout=min(_POLL_S, remaining))
                except queue.Empty:
                    continue
                if kind == "error":
                    raise payload
                if kind == "end":
                    break
                chunks.append(payload)
                last_chunk_at = time.monotonic()
                generated, finished = _chunk_facts(payload)
                if generated and first_token_at is None:
                    first_token_at = last_chunk_at
                finish = finished or finish
                text = _delta_text(payload)
                if text:
                    streamed.append(text)
                    streamed_chars += len(text)
                    # ~4 chars per token: stop a runaway stream before the budget is blown.
                    self.budget.check(pending_tokens=streamed_chars // 4)
                    visible = shown.feed(text) if shown is not None else text
                    if visible and on_delta is not None:
                        on_delta(visible)
        except BaseException:
            stop.set()
            http.abort()
            raise
        if finish is None:
            raise UnusableAnswer("the answer stream ended before the model finished")
        response = self._assemble(litellm, chunks, messages, "".join(streamed))
        completion = self._to_completion(litellm, model, response, started, names)
        if shown is not None and on_delta is not None:
            rest = shown.flush(is_tool_call=bool(completion.tool_calls))
            if rest:
                on_delta(rest)
        connected = http.connected_at or started
        if first_token_at is not None:
            completion.ttft_s = round(max(0.0, first_token_at - connected), 3)
        completion.finish_reason = finish
        return completion

    def _assemble(self, litellm: Any, chunks: list[Any], messages: Any, text: str) -> Any:
        """Rebuild a full response (text, tool calls, usage) from stream chunks."""
        try:
            built = litellm.stream_chunk_builder(chunks, messages=messages)
            if built is not None:
                return built
        except Exception as exc:
            log.warning("model_stream_assembly_failed", error=str(exc))
        return litellm.ModelResponse(choices=[{"message": {"role": "assistant", "content": text}}])

    def _to_completion(
        self, litellm: Any, model: str, response: Any, started: float, names: list[str]
    ) -> Completion:
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise UnusableAnswer("the answer has no choices")
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None) or ""
        tool_calls = _tool_calls_of(message)
        if not tool_calls and names:
            tool_calls, text = parse_text_tool_calls(text, names)
        if not tool_calls and not strip_reasoning(text):
            raise UnusableAnswer("the model answered with nothing")
        usage = getattr(response, "usage", None)
        try:
            cost = float(litellm.completion_cost(completion_response=response, model=model))
        except Exception:  # unknown model (local, custom): no price known
            cost = 0.0
        completion = Completion(
            text=text,
            model=model,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            cost_usd=cost,
            tool_calls=tool_calls,
        )
        log.info(
            "model_call_finished",
            model=model,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            cost_usd=cost,
            tool_calls=len(completion.tool_calls),
            seconds=round(time.monotonic() - started, 3),
        )
        return completion

    def _account(self, completion: Completion) -> None:
        self.budget.add(
            completion.prompt_tokens + completion.completion_tokens, completion.cost_usd
        )
        LLM_TOKENS.labels(completion.model, "prompt").inc(completion.prompt_tokens)
        LLM_TOKENS.labels(completion.model, "completion").inc(completion.completion_tokens)
        if completion.cost_usd:
            LLM_COST.labels(completion.model).inc(completion.cost_usd)
        if completion.fallbacks_tried:
            log.warning(
                "model_fallback_used", model=completion.model, failed=completion.fallbacks_tried
            )
        if self._on_completion is not None:
            try:
                self._on_completion(completion)
            except Exception as exc:  # accounting must never break the run
                log.warning("model_completion_callback_failed", error=str(exc))
