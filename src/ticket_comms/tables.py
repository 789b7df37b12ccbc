"""The SQLAlchemy MetaData that every domain's models.py defines its tables on.

Only Alembic and the migrations-match-models test read these tables: the service itself speaks
SQL through psycopg, and never imports SQLAlchemy (see migrations/__init__.py).
"""

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
