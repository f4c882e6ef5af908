"""llmgenie: an AI engineering team that lives in the editor."""

__version__ = "0.1.0"
