"""Store scorecards and region reports as PDFs, one at a time or as a batch ZIP.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""
