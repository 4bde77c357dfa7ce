"""Extension instances, bound to the app in create_app."""
from flask_babel import Babel
from flask_compress import Compress
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .db import Base

# Under every app's SQLALCHEMY_ENGINE_OPTIONS (which may add to them): the values of a failing
# statement (password hashes, usernames) never appear in an error message or a log.
db = SQLAlchemy(model_class=Base, engine_options={"hide_parameters": True})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
# Pages and JSON compressed on the way out (static files are compressed ahead: static_files.py).
compress = Compress()

# Seconds to wait for PostgreSQL to accept a connection: an unreachable server answers 503 soon
# instead of holding the request until the worker is killed.
POSTGRES_CONNECT_TIMEOUT = 5


@event.listens_for(Engine, "do_connect")
def _postgres_connect_timeout(dialect, conn_rec, cargs, cparams):
    if dialect.name == "postgresql":
        cparams.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT)
