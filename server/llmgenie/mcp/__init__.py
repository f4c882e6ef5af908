"""The MCP adapter: llmgenie's index and crews as Model Context Protocol tools, so any
MCP client (Copilot, Cursor, Continue, Cline, Claude Code) can use them.

Named `llmgenie.mcp`; the SDK is the top-level `mcp` package (absolute imports only).
"""
