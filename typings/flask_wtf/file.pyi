# Flask-WTF 1.3 (flask_wtf/file.py).
from collections.abc import Iterable
from typing import Any

from wtforms import Field
from wtforms import FileField as _FileField
from wtforms import MultipleFileField as _MultipleFileField
from wtforms.form import BaseForm
from wtforms.validators import DataRequired

class FileField(_FileField): ...
class MultipleFileField(_MultipleFileField): ...
class FileRequired(DataRequired): ...

class FileAllowed:
    upload_set: Iterable[str] | Any  # the allowed extensions, or a Flask-Uploads UploadSet
    message: str | None
    def __init__(self, upload_set: Iterable[str] | Any, message: str | None = None) -> None: ...
    def __call__(self, form: BaseForm, field: Field) -> None: ...

class FileSize:
    max_size: int
    min_size: int
    message: str | None
    def __init__(self, max_size: int, min_size: int = 0, message: str | None = None) -> None: ...
    def __call__(self, form: BaseForm, field: Field) -> None: ...

file_required = FileRequired
file_allowed = FileAllowed
file_size = FileSize
