"""Clients, regions, stores, shoppers and users: creating, importing and exporting them.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""
