"""Structured logs (structlog → stderr) and Prometheus metrics shared by every service."""
