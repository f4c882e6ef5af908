"""Turn an AnalyzedContext into the text an agent is briefed with.

The briefing carries what the smart wrapper already found (file, selection, enclosing
symbol, related code, repo map, project rules) so that agents start from the right place
and only use tools to dig further. Everything in the context is already redacted.
"""

from __future__ import annotations

from llmgenie.contracts.agents import AnalyzedContext

MAX_FILE_CHARS = 16_000
MAX_RELATED = 6


def numbered(text: str, first_line: int = 1) -> str:
    """`text` with 1-based line numbers, in the format the read_file tool uses."""
    return "\n".join(f"{first_line + i:>5}| {line}" for i, line in enumerate(text.splitlines()))


def _file_excerpt(ctx: AnalyzedContext) -> str:
    """The file, numbered; a window around the selection when the file is large."""
    text = ctx.file_text
    if not text:
        return ""
    lines = text.splitlines()
    if len(text) <= MAX_FILE_CHARS:
        return numbered(text)
    centre = ctx.request.range.start_line if ctx.request.range else 1
    average = max(1, len(text) // max(1, len(lines)))
    half = max(20, MAX_FILE_CHARS // average // 2)
    start = max(1, centre - half)
    end = min(len(lines), centre + half)
    window = "\n".join(lines[start - 1 : end])
    return (
        f"(showing lines {start}-{end} of {len(lines)}; use read_file for the rest)\n"
        + numbered(window, start)
    )


def describe_context(ctx: AnalyzedContext) -> str:
    """The shared part of every briefing: where the user is and what is around it."""
    req = ctx.request
    parts: list[str] = []
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
        parts.append("Selected code:\n" + numbered(ctx.selection_text, req.range.start_line))
    excerpt = _file_excerpt(ctx)
    if excerpt:
        parts.append(
            f"Current text of {req.path} (line numbers are not part of the file):\n{excerpt}"
        )
    related = [hit for hit in ctx.related if hit.text][:MAX_RELATED]
    if related:
        blocks = [
            f"{hit.path}:{hit.start_line}-{hit.end_line}"
            + (f" ({hit.symbol})" if hit.symbol else "")
            + "\n"
            + numbered(hit.text or "", hit.start_line)
            for hit in related
        ]
        parts.append("Related code:\n" + "\n\n".join(blocks))
    if ctx.repo_map:
        parts.append("Repository map:\n" + ctx.repo_map)
    if ctx.guidance:
        parts.append("Project rules (follow them):\n" + "\n".join(f"- {g}" for g in ctx.guidance))
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
