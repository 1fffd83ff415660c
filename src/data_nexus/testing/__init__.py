"""Helpers for tests and benchmarks: throwaway PostgreSQL clusters (not part of the public API)."""
