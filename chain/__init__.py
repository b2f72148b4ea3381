"""Chain layer: compile, deploy, node engines and typed contract clients.

Knows nothing of ``vault``, ``keys`` or HTTP.
"""
