"""Run lifecycle: requests, progress events, results (edits, findings, messages), records."""
