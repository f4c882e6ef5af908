"""The workspace on disk: file discovery with git ignore semantics, safe reads, buffer overlay."""
