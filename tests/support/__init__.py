"""Helpers for tests that run against the real infrastructure."""
