"""Flask extensions, created unbound and bound in create_app."""
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from .errors import ErrorSchema

# Named constraints so that Alembic can alter them on SQLite and PostgreSQL alike.
db = SQLAlchemy(metadata=MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}))
migrate = Migrate()
csrf = CSRFProtect()
login = LoginManager()
login.login_view = "auth.login_page"
login.login_message = "Please log in to open that page."


class JsonApi(Api):
    """flask-smorest Api whose errors are rendered by optintel.errors, for the API only.

    Each operation documents the statuses it answers and no catch-all "default", so that the
    document says which errors a client meets (and schemathesis holds the API to it)."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


api = JsonApi()
