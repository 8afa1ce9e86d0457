"""The peer: stock Flask-Admin 2.2 ``ModelView``s of the ``young_person`` table, with no code of
the project (the tables are reflected from the database). ``bench/pages.py`` measures them in
the same run as the project's screens.

- ``/admin/bare/``: six columns, two filters, Flask-Admin's defaults otherwise;
- ``/admin/same/``: the project's *Jeunes* screen as stock Flask-Admin can declare it: the
  same columns (site and referent through relationships), the same default sort, the same
  filters on stored columns, the details view on, searching the same five columns.

    create_peer_app(url).test_client().get("/admin/same/?search=martin")
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask
from flask_admin import Admin
from flask_admin.contrib.sqla import ModelView
from flask_babel import Babel
from sqlalchemy.orm import DeclarativeBase, relationship, scoped_session, sessionmaker

SEARCHED = ["last_name", "first_name", "email", "phone", "city"]


def create_peer_app(url: str) -> Flask:
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    people = sa.Table("young_person", metadata, autoload_with=engine)
    sites = sa.Table("site", metadata, autoload_with=engine)
    users = sa.Table("user_account", metadata, autoload_with=engine)

    class Base(DeclarativeBase):
        pass

    class Site(Base):
        __table__ = sites

        def __str__(self):
            return self.name

    class User(Base):
        __table__ = users

        def __str__(self):
            return self.full_name

    class YoungPerson(Base):
        __table__ = people
        site = relationship(Site)
        referent = relationship(User)

    session = scoped_session(sessionmaker(bind=engine))
    app = Flask(__name__)
    app.config["SECRET_KEY"] = "peer"

    class BareView(ModelView):
        column_list = ["last_name", "first_name", "birth_date", "status", "city", "phone"]
        column_searchable_list = SEARCHED
        column_default_sort = [("last_name", False), ("first_name", False)]
        column_filters = ["status", "city"]

    class SameView(ModelView):
        can_view_details = True
        column_list = [
            "last_name",
            "first_name",
            "birth_date",
            "site",
            "referent",
            "status",
            "city",
            "phone",
        ]
        column_sortable_list = [
            "last_name",
            "first_name",
            "birth_date",
            ("site", "site.name"),
            ("referent", "referent.full_name"),
            "status",
            "city",
            "registration_date",
        ]
        column_searchable_list = SEARCHED
        column_default_sort = [("last_name", False), ("first_name", False)]
        column_filters = [
            "site",
            "referent",
            "status",
            "birth_date",
            "education_level",
            "housing_situation",
            "rqth",
            "qpv_resident",
            "driving_licence",
            "registration_date",
            "city",
        ]

    Babel(app)  # Flask-Admin 2 translates through Flask-Babel when it is installed
    admin = Admin(app, name="peer")
    admin.add_view(BareView(YoungPerson, session, endpoint="bare"))
    admin.add_view(SameView(YoungPerson, session, endpoint="same", name="same"))

    @app.teardown_appcontext
    def _remove(exc=None):
        session.remove()

    return app
