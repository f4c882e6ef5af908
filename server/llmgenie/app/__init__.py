"""The application layer: one transport-agnostic core the editor, the CLI and the team
server adapt. It decides; adapters only convert.

    application  Application: a client session over a set of folders (the entry point)
    folders      Folder, FolderRegistry: open folders, their settings and engines
    indexing     IndexScheduler: background indexing (pause, resume, rebuild) with progress
    documents    DocumentSync: debounced editor buffers → index
    runs         RunRegistry: start, follow, cancel and list agent runs (live + persisted)
    actions      suggest_actions: which crews to offer where (pure)
    requests     build_run_request: a client's ask → RunRequest (chat history included)
    events       the plain events adapters translate (status, progress, notices, runs)
"""
