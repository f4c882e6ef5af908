"""The smart wrapper every agent action passes through:
context analysis → permission check → environment setup → execute with fallback."""
