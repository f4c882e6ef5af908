"""The workspace on disk: file discovery with git ignore semantics, safe reads, buffer overlay.

Modules (each documents its public API in its docstring):
    discovery  discover_files(root, settings=None, *, check_content=False,
               builtin_ignores=True) -> Discovery(files, skipped)
    gitignore  IgnoreSpec: gitignore patterns evaluated per path exactly like git
    files      resolve_inside / to_rel (PathEscapeError), read_workspace_file -> FileText |
               SkippedFile, decode_source, sniff_content, content_hash
    overlay    BufferOverlay: thread-safe open-buffer texts with versions (the engine's)
    classify   is_test_path: the one test-file classifier
    traits     workspace_traits: cheap facts about a project (Dockerfile, CI, tests...)
"""
