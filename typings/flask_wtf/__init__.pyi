# Flask-WTF 1.3 (flask_wtf/): the names the project uses.
from .csrf import CSRFProtect as CSRFProtect
from .form import FlaskForm as FlaskForm

__all__ = ["CSRFProtect", "FlaskForm"]
