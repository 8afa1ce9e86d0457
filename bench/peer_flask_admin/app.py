"""The peer: a stock Flask-Admin 2.2 ``ModelView`` of the ``young_person`` table, with no code of
the project (the table is reflected from the database), listing and searching the same columns
as the project's *Jeunes* screen. ``bench/pages.py`` measures it in the same run.

    create_peer_app(url).test_client().get("/admin/young_person/?search=martin")
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker


def create_peer_app(url: str) -> Flask:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    table = sa.Table("young_person", metadata, autoload_with=engine)

    class Base(DeclarativeBase):
        pass

    class YoungPerson(Base):
        __table__ = table

    session = scoped_session(sessionmaker(bind=engine))
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "peer"

    class YoungPersonView(ModelView):
        column_list = ["last_name", "first_name", "birth_date", "status", "city", "phone"]
        column_searchable_list = ["last_name", "first_name", "email", "phone", "city"]
        column_default_sort = [("last_name", False), ("first_name", False)]
        column_filters = ["status", "city"]
        page_size = 20

    admin = Admin(app, name="peer")
    admin.add_view(YoungPersonView(YoungPerson, session, endpoint="young_person"))

    @app.teardown_appcontext
    def _remove(exc=None):
        session.remove()

    return app
