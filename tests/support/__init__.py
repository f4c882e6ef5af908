"""Shared test helpers: the scripted model server and pytest fixtures built on it."""
