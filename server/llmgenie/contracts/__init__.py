"""The contracts every layer shares: pydantic models, identifiers and error types.

A leaf: nothing here imports any other part of llmgenie (import-linter enforces it), and
`ids` is standard library only, cheap enough for the server's cold start.

    ids        crews, commands, custom methods, code-action kinds (the one source of truth)
    runs       RunRequest, RunEvent, RunResult, RunRecord, ProposedEdit, Finding
    agents     AnalyzedContext, PermissionDecision (the smart wrapper's step outputs)
    search     SearchResult, FileHit, ChunkHit, ScoreReason
    symbols    Symbol, Reference, PositionContext
    index      IndexSummary, IndexHealth
    status     StatusSnapshot, HealthReport
    protocol   the JSON-RPC params of llmgenie's commands and custom requests
    progress   CancelToken, Cancelled, ProgressEvent
    errors     errors that cross layers (PathEscapeError, NoModelConfigured, ...)
"""
