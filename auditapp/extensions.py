"""Flask extensions, created unbound here and bound in create_app."""

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from .networks import client_network

# Named constraints keep migrations stable across SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The base class of every model. Flask-SQLAlchemy makes db.Model at run time: a class
# with Base's body (its metadata and registry) on DeclarativeBase and Flask-SQLAlchemy's
# mixins (``query``, ``__repr__``, table names and binds). Its static type is only
# ``type[...]``, which a class cannot subclass, so type checkers see such a class here.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, DeclarativeBase):
        __abstract__ = True

else:
    Model = db.Model

migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
# Pages, CSS and JS go gzip- or brotli-compressed: shoppers are often on a weak signal.
compress = Compress()
# Counts requests per client network (an IPv6 client by its /64, as sign-in throttling
# does) or per a key a route names, where a route asks for it; storage is set by
# create_app (memory, or Redis when configured).
limiter = Limiter(key_func=client_network)
