"""The context engine of one workspace, behind the `WorkspaceEngine` facade.

    facade      WorkspaceEngine: open/close, index, editor buffers, search, repo map, health
    database    IndexDatabase: the catalog and all of its queries; consistent read snapshots
    embeddings  EmbeddingIndex: provider lifecycle, vectors, dense search
    navigation  CodeNavigator: definitions, references, context around a position
    repo_map    build_repo_map: graph ranking + the renderer, for a file, symbol or text

The catalog and all of its SQL live in llmgenie.engine.database (IndexDatabase).
"""

from llmgenie.engine.facade import WorkspaceEngine

__all__ = ["WorkspaceEngine"]
