"""Waves: setting one up, its visits, the plan's precision, assigning and scheduling
shoppers, and telling them.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""
