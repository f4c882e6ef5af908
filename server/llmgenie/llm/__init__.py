"""Model access over litellm: routing, fallbacks, timeouts, retries, streaming, cost/budget."""
