# Flask-Babel 4.0 (flask_babel/speaklater.py).
from collections.abc import Callable
from typing import Any

class LazyString(str):
    """A message translated when it is used, into the locale of that moment.

    At run time this is not a str subclass: it hands every str method, comparison,
    ``%`` and ``__html__`` on to the translated text, which is how WTForms labels and
    messages, Jinja and Flask (``flash``, its JSON) use it. It is a str here so that it
    fits the APIs typed for text that accept it. Where a real str is needed (json.dumps,
    a database column) the code calls ``str()`` on it.
    """

    def __init__(self, func: Callable[..., str], *args: Any, **kwargs: Any) -> None: ...
    def __html__(self) -> str: ...
