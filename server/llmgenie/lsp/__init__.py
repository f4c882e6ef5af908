"""The language server: an adapter that converts LSP into calls on the Application.

    features   one small function per LSP feature, and create_server()
    server     LlmgenieServer: pygls server + Application; app events → LSP messages
    results    a run's result as applyEdit, diagnostics and messages
    edits      ProposedEdits → WorkspaceEdit (pure planner)
    positions  1-based lines ↔ LSP positions in the negotiated encoding
    protocol   pygls' JSON-RPC hardened: every request gets an answer
    errors     JSON-RPC error codes and the contract-error → JSON-RPC mapping
    entry      transports (stdio, TCP, WebSocket) and the fast `initialize` path
    fastinit   answer `initialize` before pygls has loaded
    options    initializationOptions → settings for the session
    workdone   work-done progress bars
    uris       file:// URIs ↔ paths

Importing this package is cheap; heavy libraries load lazily in the services.
"""
