"""Pluggable embedding providers (local ONNX MiniLM, Ollama, litellm) behind one protocol."""
