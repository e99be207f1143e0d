"""What each approved visit earns, and the payment runs that pay it.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .ledger import record_pay_line

__all__ = ["record_pay_line"]
