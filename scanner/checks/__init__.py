"""Checks: pure functions from the inventory to findings."""
