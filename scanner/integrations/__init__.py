"""Integrations that put the gate where jobs start (Lightning callback ...).

Each one is optional and imports its framework lazily: wormsign depends on none of them.
"""
