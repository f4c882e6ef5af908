"""The remote half: the team server (REST + WebSocket over one application of runs) and
the editor's forwarding client.

    app        create_app: the ASGI app (REST /api/v1, WebSocket /lsp, health, metrics)
    service    TeamService: every team feature once, for both front doors
    api, ws    the REST and WebSocket adapters; rpc: JSON-RPC 2.0 over a socket
    ledger     teams, members, runs, run events (sequence numbers), the audit chain
    runner     RunRunner / InProcessQueue: claim, run the smart wrapper, record, end once
    workspace  EditorWorkspace: a run's view of the developer's index, over the socket
    auth       passwords, JWT access tokens, refresh and personal tokens
    roles      viewer < member < admin, and the crews/tools each role may use
    live       event tail, rate limits and sessions (Redis, or in memory with --dev)
    db         SQLAlchemy models; migrate + migrations/: Alembic
    settings   the server's own settings (secrets from the environment or files)
    client     TeamClient: the editor side (forward a run, follow it, answer tool calls)
"""
