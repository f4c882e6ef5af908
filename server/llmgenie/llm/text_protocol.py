"""What models write as text that means something else: reasoning and textual tool calls.

Small local models often ignore native function calling and write the call as text in the
Hermes/Qwen format (`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`), or answer
with nothing but such a JSON object; reasoning models prefix `<think>…</think>`. These
helpers turn such text into OpenAI-format tool calls, strip reasoning, and keep a textual
tool call out of what is streamed to the user.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Collection
from typing import Any

_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<(think|thinking|reasoning)>", re.IGNORECASE)
_TAGGED = re.compile(r"<tool_call>\s*(?P<body>.*?)\s*(?:</tool_call>|\Z)", re.DOTALL)
_FENCED = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)
OPEN_TAG = "<tool_call>"
CLOSE_TAG = "</tool_call>"


def strip_reasoning(text: str) -> str:
    """`text` without reasoning blocks; an unclosed one (cut off while thinking) is dropped
    with everything after it."""
    text = _THINK.sub("", text)
    opened = _OPEN_THINK.search(text)
    if opened:
        text = text[: opened.start()]
    return text.strip()


# A call whose JSON is broken (cut off, an extra brace) but whose tool is named up front.
_BROKEN_CALL = re.compile(
    r'^\s*\{\s*"name"\s*:\s*"(?P<name>[^"\\]+)"\s*'
    r'(?:,\s*"(?:arguments|parameters)"\s*:\s*(?P<arguments>.*))?$',
    re.DOTALL,
)
_DECODER = json.JSONDecoder(strict=False)


def _broken_call(body: str, names: Collection[str]) -> dict[str, Any] | None:
    """A textual call to a tool on offer whose JSON does not parse: its arguments object
    when that much is whole, else the raw text, so the tool answers that the arguments are
    invalid (as for a native call with broken arguments) and the model can try again."""
    match = _BROKEN_CALL.match(body)
    if match is None or match.group("name") not in names:
        return None  # only a tool on offer: otherwise it may be an answer about tools
    raw = (match.group("arguments") or "").strip()
    try:
        arguments, _ = _DECODER.raw_decode(raw)
        encoded = json.dumps(arguments) if isinstance(arguments, dict) else raw
    except json.JSONDecodeError:
        encoded = raw
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": match.group("name"), "arguments": encoded},
    }


def _call_from(body: str, names: Collection[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(body, strict=False)
    except json.JSONDecodeError:
        return _broken_call(body, names)
    if not isinstance(data, dict):
        return None
    name = data.get("name")
    if not isinstance(name, str) or (names and name not in names):
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    if isinstance(arguments, str):
        encoded = arguments
    elif isinstance(arguments, dict):
        encoded = json.dumps(arguments)
    else:
        return None
    return {
        "id": f"call_{uuid.uuid4().hex[:12]}",
        "type": "function",
        "function": {"name": name, "arguments": encoded},
    }


def parse_text_tool_calls(
    text: str, names: Collection[str] = ()
) -> tuple[list[dict[str, Any]], str]:
    """(tool calls written as text, the text without them). `names`: tools on offer (a
    call to anything else stays text). A bare answer that is only such a JSON object, in
    a fence or not, counts too."""
    calls: list[dict[str, Any]] = []
    if OPEN_TAG in text:
        kept: list[str] = []
        position = 0
        for match in _TAGGED.finditer(text):
            call = _call_from(match.group("body"), names)
            if call is None:
                continue
            calls.append(call)
            kept.append(text[position : match.start()])
            position = match.end()
        kept.append(text[position:])
        return calls, "".join(kept).strip()
    body = strip_reasoning(text)
    fenced = _FENCED.match(body)
    if fenced:
        body = fenced.group("body")
    if body.lstrip().startswith("{") and '"name"' in body:
        call = _call_from(body.strip(), names)
        if call is not None:
            return [call], ""
    return [], text


class ToolCallStreamFilter:
    """Streams text through, holding back anything that may be a textual tool call.

    The idea: text is released as it comes, except a tail that could be the start of
    `<tool_call>`; inside a tag nothing is released. An answer whose first visible
    character is `{` is held back whole (it may be a bare JSON tool call) and released
    by `flush()` at the end if it was not one.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._inside = False
        self._holding_json: bool | None = None  # decided at the first visible character

    def feed(self, text: str) -> str:
        """Add a streamed piece; return what may be shown now."""
        self._pending += text
        if self._holding_json is None:
            visible = self._pending.lstrip()
            if not visible:
                return ""
            self._holding_json = visible.startswith("{")
        if self._holding_json:
            return ""
        out: list[str] = []
        while self._pending:
            if self._inside:
                end = self._pending.find(CLOSE_TAG)
                if end == -1:
                    return "".join(out)
                self._pending = self._pending[end + len(CLOSE_TAG) :]
                self._inside = False
                continue
            start = self._pending.find(OPEN_TAG)
            if start != -1:
                out.append(self._pending[:start])
                self._pending = self._pending[start + len(OPEN_TAG) :]
                self._inside = True
                continue
            keep = _partial_tag_suffix(self._pending)
            out.append(self._pending[: len(self._pending) - keep])
            self._pending = self._pending[len(self._pending) - keep :]
            break
        return "".join(out)

    def flush(self, is_tool_call: bool) -> str:
        """The held-back rest at the end of the answer (nothing if it was a tool call)."""
        rest, self._pending = self._pending, ""
        if is_tool_call or self._inside:
            return ""
        return rest


def _partial_tag_suffix(text: str) -> int:
    """Length of the longest tail of `text` that is a proper prefix of `<tool_call>`."""
    for size in range(min(len(OPEN_TAG) - 1, len(text)), 0, -1):
        if OPEN_TAG.startswith(text[-size:]):
            return size
    return 0


def describe_tools(tools: list[dict[str, Any]], *, json_only: bool = False) -> str:
    """The tools and how to call them, for a system prompt (the text tool-call protocol).

    Deterministic for the same tools (keys sorted), so the prompt prefix stays cacheable.
    `json_only`: the answer is constrained to JSON (JSON mode), so a call is the bare
    object instead of a tagged one.
    """
    lines = ["# Tools", "", "You can call these tools (JSON Schema of their arguments):"]
    for tool in tools:
        function = tool.get("function") or {}
        spec = {
            "name": function.get("name", ""),
            "description": function.get("description", ""),
            "parameters": function.get("parameters") or {},
        }
        lines.append(json.dumps(spec, sort_keys=True, separators=(",", ":")))
    example = '{"name": "TOOL_NAME", "arguments": {"ARGUMENT": "VALUE"}}'
    if json_only:
        lines += [
            "",
            "To call a tool, answer with only this JSON object and nothing else:",
            example,
            "The tool's result comes back in a <tool_response> message. When you have "
            "what you need, give your final answer instead.",
        ]
    else:
        lines += [
            "",
            "To call a tool, write the call, and nothing after it, as:",
            f"{OPEN_TAG}\n{example}\n{CLOSE_TAG}",
            "The tool's result comes back in a <tool_response> message. When you have "
            "what you need, give your final answer without any tool call.",
        ]
    return "\n".join(lines)


def to_text_protocol(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, json_only: bool = False
) -> list[dict[str, Any]]:
    """`messages` for a model without native tool calling: the tools described at the end of
    the system prompt, earlier calls written as text and their results as user messages."""
    described = describe_tools(tools, json_only=json_only)
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        if role == "system" and not any(m.get("role") == "system" for m in out):
            content = str(message.get("content") or "")
            out.append({"role": "system", "content": f"{content}\n\n{described}".lstrip()})
        elif role == "assistant" and message.get("tool_calls"):
            out.append({"role": "assistant", "content": _calls_as_text(message, json_only)})
        elif role == "tool":
            name = message.get("name") or "tool"
            result = str(message.get("content") or "")
            out.append(
                {
                    "role": "user",
                    "content": f'<tool_response name="{name}">\n{result}\n</tool_response>',
                }
            )
        else:
            out.append({k: v for k, v in message.items() if k in ("role", "content", "name")})
    if not any(m.get("role") == "system" for m in out):
        out.insert(0, {"role": "system", "content": described})
    return out


def _calls_as_text(message: dict[str, Any], json_only: bool) -> str:
    """An assistant message's tool calls written the way the model was told to write them."""
    parts = [str(message.get("content") or "").strip()] if not json_only else []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        raw = function.get("arguments") or "{}"
        try:
            arguments = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            arguments = raw
        body = json.dumps({"name": function.get("name", ""), "arguments": arguments})
        parts.append(body if json_only else f"{OPEN_TAG}\n{body}\n{CLOSE_TAG}")
    return "\n".join(p for p in parts if p)
