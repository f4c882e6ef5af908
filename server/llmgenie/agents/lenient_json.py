"""Find the JSON a model meant, in the text it actually wrote.

Real models, small local ones most of all, rarely answer with exactly one JSON object:
they wrap it in code fences, put prose around it, think aloud first (`<think>…</think>`),
prefix it with CrewAI's "Final Answer:", or run out of output tokens half-way through.
These helpers recover what can honestly be recovered and nothing more: a value cut off
mid-item is dropped, never completed by guessing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from llmgenie.llm.text_protocol import strip_reasoning

_FINAL_ANSWER = re.compile(r"^.*?Final Answer\s*:\s*", re.DOTALL | re.IGNORECASE)
_FENCE_ONLY = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n(?P<body>.*?)\n?```\s*$", re.DOTALL)
_DECODER = json.JSONDecoder(strict=False)


def answer_text(text: str) -> str:
    """The part of a free-text answer meant for the user: no reasoning, no "Thought:" lines
    before CrewAI's "Final Answer:", no code fence around the whole of it."""
    text = strip_reasoning(text)
    if "final answer" in text.lower():
        text = _FINAL_ANSWER.sub("", text, count=1).strip()
    fenced = _FENCE_ONLY.match(text)
    if fenced and not fenced.group("body").lstrip().startswith(("{", "[")):
        text = fenced.group("body").strip()
    return text


def json_values(text: str) -> Iterator[Any]:
    """Every complete JSON object or array in `text`, in order, outermost only.

    Fences and prose need no special case: decoding is tried at each `{` or `[`, and a
    success skips past the value, so a fenced object is found like a bare one.
    """
    pos = 0
    while True:
        starts = [i for i in (text.find("{", pos), text.find("[", pos)) if i != -1]
        if not starts:
            return
        start = min(starts)
        try:
            value, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            pos = start + 1
            continue
        yield value
        pos = end


def recover_truncated(text: str) -> dict[str, Any] | None:
    """The complete part of a JSON object that was cut off, or None.

    The idea: scan the text once, tracking open brackets and strings, and remember "cut
    points" where everything before is complete: just after an array opens, just after a
    nested object or array closes (a whole item), and just after a top-level string value
    closes. Closing the open brackets at a cut point yields valid JSON; the latest cut that
    parses wins. A half-written item is never a cut point, so it is dropped, not guessed.
    """
    start = text.find("{")
    if start == -1:
        return None
    body = text[start:]
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []
    in_string = escaped = value_string = False
    previous = ""  # last significant character outside strings
    for index, char in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if value_string:
                    cuts.append((index + 1, "".join(reversed(stack))))
                previous = '"'
            continue
        if char.isspace():
            continue
        if char == '"':
            in_string = True
            value_string = len(stack) == 1 and previous == ":"
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
            if char == "[":
                cuts.append((index + 1, "".join(reversed(stack))))
        elif char in "}]":
            if not stack or stack.pop() != char:
                return None  # unbalanced: malformed, not merely cut off
            if not stack:
                return None  # complete: the caller's decoder already rejected it
            cuts.append((index + 1, "".join(reversed(stack))))
        previous = char
    for end, closers in reversed(cuts):
        try:
            value = json.loads(body[:end] + closers, strict=False)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def cut_off_string(text: str) -> tuple[str, str] | None:
    """(key, the text so far) when `text` is a JSON object that stopped inside one of its
    top-level string values — a model that ran out of output tokens mid-sentence — or None.

    The value is decoded as far as it goes (an escape cut in half is dropped); nothing is
    added to it. The scan is recover_truncated's, tracking the last top-level key.
    """
    start = text.find("{")
    if start == -1:
        return None
    body = text[start:]
    depth = 0
    in_string = escaped = False
    string_start = 0
    previous = ""
    key = ""  # the last top-level key, as its JSON literal
    value_of: str | None = None  # the key whose string value is open, if any
    for index, char in enumerate(body):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
                if depth == 1 and value_of is None:
                    key = body[string_start : index + 1]
            continue
        if char.isspace():
            continue
        if char == '"':
            in_string = True
            string_start = index
            value_of = key if depth == 1 and previous == ":" else None
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth <= 0:
                return None  # complete, or unbalanced: not cut off inside a value
        previous = char
    if not in_string or value_of is None:
        return None
    partial = body[string_start + 1 :]
    for trim in range(7):  # at most a cut "\uXXXX" escape to drop
        try:
            value = json.loads('"' + partial[: len(partial) - trim] + '"', strict=False)
            name = json.loads(value_of, strict=False)
        except json.JSONDecodeError:
            continue
        return (name, value) if isinstance(name, str) and isinstance(value, str) else None
    return None
