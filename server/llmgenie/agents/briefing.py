"""Turn an AnalyzedContext into the text an agent is briefed with.

The briefing carries what the smart wrapper already found (file, selection, enclosing
symbol, related code, repo map, project rules) so that agents start from the right place
and only use tools to dig further. Everything in the context is already redacted.

Small models have small windows (8k tokens is common locally): `briefing_chars` turns the
model's window into a character budget, and `describe_context` fills it in order of
importance: the request and selection, the file around the selection, related code, the
repository map, each shortened or left out (saying so) when the budget runs out.
"""

from __future__ import annotations

from llmgenie.contracts.agents import AnalyzedContext

MAX_FILE_CHARS = 16_000
MAX_RELATED = 6
# Tokens every call needs besides the briefing: system prompt, tool schemas, the answer's
# JSON schema and rules, and the conversation's own turns.
PROMPT_OVERHEAD_TOKENS = 3000
# Conservative characters per token for code (English prose is nearer 4).
CHARS_PER_TOKEN = 3
MIN_BRIEFING_CHARS = 1500


def briefing_chars(context_window: int, max_output_tokens: int) -> int:
    """Characters the briefing may take: half of what the window leaves after the answer
    and the fixed prompt (the other half stays free for tool results)."""
    free = context_window - max_output_tokens - PROMPT_OVERHEAD_TOKENS
    return max(MIN_BRIEFING_CHARS, free // 2 * CHARS_PER_TOKEN)


def tool_output_chars(context_window: int, ceiling: int) -> int:
    """Characters one tool result may take: an eighth of the window, at most `ceiling`."""
    return max(MIN_BRIEFING_CHARS, min(ceiling, context_window * CHARS_PER_TOKEN // 8))


def numbered(text: str, first_line: int = 1) -> str:
    """`text` with 1-based line numbers, in the format the read_file tool uses."""
    return "\n".join(f"{first_line + i:>5}| {line}" for i, line in enumerate(text.splitlines()))


def _file_excerpt(ctx: AnalyzedContext, max_chars: int = MAX_FILE_CHARS) -> str:
    """The file, numbered; a window around the selection when it exceeds `max_chars`."""
    text = ctx.file_text
    if not text or max_chars <= 0:
        return ""
    lines = text.splitlines()
    if len(text) <= max_chars:
        return numbered(text)
    centre = ctx.request.range.start_line if ctx.request.range else 1
    average = max(1, len(text) // max(1, len(lines)))
    half = max(5, max_chars // average // 2)
    start = max(1, centre - half)
    end = min(len(lines), centre + half)
    window = "\n".join(lines[start - 1 : end])
    return (
        f"(showing lines {start}-{end} of {len(lines)}; use read_file for the rest)\n"
        + numbered(window, start)
    )


def _clipped(text: str, max_chars: int, what: str) -> str:
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars)] + f"\n… ({what} shortened to fit the model's window)"


def describe_context(ctx: AnalyzedContext, max_chars: int | None = None) -> str:
    """The shared part of every briefing: where the user is and what is around it, in at
    most about `max_chars` characters (None: the usual limits only)."""
    return _describe(ctx, max_chars if max_chars is not None else 10 * MAX_FILE_CHARS)


def _describe(ctx: AnalyzedContext, budget: int) -> str:
    req = ctx.request
    parts: list[str] = []

    def left() -> int:
        return budget - sum(len(p) + 2 for p in parts)

    if req.prompt:
        parts.append(f"User request: {req.prompt}")
    if req.diagnostic:
        parts.append(f"Diagnostic to fix: {req.diagnostic}")
    if req.path:
        where = f"File: {req.path}"
        if ctx.language:
            where += f" (language: {ctx.language})"
        if req.range:
            where += f", lines {req.range.start_line}-{req.range.end_line}"
        parts.append(where)
    if ctx.enclosing_symbol:
        parts.append(f"Enclosing symbol: {ctx.enclosing_symbol}")
    if ctx.selection_text and req.range:
        selected = numbered(ctx.selection_text, req.range.start_line)
        parts.append("Selected code:\n" + _clipped(selected, left() * 2 // 3, "selection"))
    if ctx.guidance:
        rules = "\n".join(f"- {g}" for g in ctx.guidance)
        guidance = "Project rules (follow them):\n" + _clipped(rules, left() // 4, "rules")
    else:
        guidance = ""
    excerpt = _file_excerpt(ctx, min(MAX_FILE_CHARS, left() - len(guidance) - 200))
    if excerpt:
        parts.append(
            f"Current text of {req.path} (line numbers are not part of the file):\n{excerpt}"
        )
    related = [hit for hit in ctx.related if hit.text][:MAX_RELATED]
    room = left() - len(guidance) - 100
    blocks: list[str] = []
    for hit in related:
        block = (
            f"{hit.path}:{hit.start_line}-{hit.end_line}"
            + (f" ({hit.symbol})" if hit.symbol else "")
            + "\n"
            + numbered(hit.text or "", hit.start_line)
        )
        if len(block) + 2 > room:
            break  # best first: what does not fit is found with search_code
        blocks.append(block)
        room -= len(block) + 2
    if blocks:
        parts.append("Related code:\n" + "\n\n".join(blocks))
    if ctx.repo_map:
        room = left() - len(guidance) - 100
        if room > 200:
            parts.append("Repository map:\n" + _clipped(ctx.repo_map, room, "map"))
    if guidance:
        parts.append(guidance)
    traits = [name for name, present in ctx.workspace_traits.items() if present]
    if traits:
        parts.append("Workspace traits: " + ", ".join(sorted(traits)))
    return "\n\n".join(parts)


OUTPUT_RULES = (
    "Your final answer is ONE JSON object, nothing else, with keys: "
    '"message" (string, Markdown, for the user), '
    '"edits" (list of {"path", "old_text", "new_text", "description"}) and '
    '"findings" (list of {"path", "start_line", "end_line", "severity", "rule", "message", '
    '"fix"}). Rules: paths are workspace-relative; old_text is copied verbatim from the '
    "current file (without line numbers) and matches it exactly once; an empty old_text "
    "creates a new file; lines are 1-based and inclusive; severity is error, warning, info "
    "or hint. Edits and findings already recorded with the propose_edit and report_finding "
    "tools must not be repeated."
)
