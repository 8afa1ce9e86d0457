"""The one base ModelView: permissions as data, row-level scope, French labels read from the model.

Every generated screen derives from ``BackofficeModelView``. What a subclass declares (columns,
search, filters) wins; what it leaves out is derived from the model: French labels from
``labels.FIELD_LABELS``, choices and filters of coded columns from their CHECK constraints, filters on
booleans and on foreign keys.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from decimal import Decimal

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext as admin_lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_admin.model import filters as flask_admin_filters
from flask_admin.model import typefmt
from flask_admin.model.base import FilterGroup
from flask_babel import format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session
from wtforms import HiddenField

from ..domain import audit, scope, search, values
from ..domain import vocabularies as vocab
from ..extensions import db
from ..models import vocabularies_of
from . import validators as v
from .labels import FIELD_LABELS

ALL_ROLES = frozenset(vocab.ROLES.codes)
#: The last page a URL may ask for (an offset beyond fits no database integer; no list is that
#: long: a larger page number shows the empty page past the end).
MAX_PAGE = 1_000_000
ADMIN = frozenset({"admin"})
ADMIN_AND_MANAGER = frozenset({"admin", "manager"})


def translated(vocabulary: vocab.Vocabulary) -> list[tuple[str, object]]:
    """``(code, label)`` pairs with labels translated lazily for the current locale."""
    return [(code, _l(label)) for code, label in vocabulary]


def _french_date(view, value, name=None):
    return value.strftime("%d/%m/%Y")


def _french_datetime(view, value, name=None):
    return format_datetime(value, "dd/MM/yyyy HH:mm")  # stored in UTC, shown in Paris time


def _decimal(view, value, name=None):
    return format_decimal(value, format="#,##0.##")


def _bool_export(view, value, name=None):
    return _("oui") if value else _("non")


# Flask-Admin takes the first formatter whose type matches (isinstance): datetime, a subclass of
# date, must come first or every date-time shows without its time.
TYPE_FORMATTERS = {
    dt.datetime: _french_datetime,
    dt.date: _french_date,
    Decimal: _decimal,
    **{k: v for k, v in typefmt.BASE_FORMATTERS.items() if k not in (dt.date, dt.datetime)},
}
DETAIL_TYPE_FORMATTERS = {**TYPE_FORMATTERS, bool: _bool_export}
EXPORT_TYPE_FORMATTERS = {
    dt.datetime: _french_datetime,
    dt.date: _french_date,
    bool: _bool_export,
    **{k: v for k, v in typefmt.EXPORT_FORMATTERS.items() if k not in (dt.date, dt.datetime)},
}


#: The records of a young person's accompaniment (referrals, aid requests, situations): every
#: role reads them, counsellors and admins write them, admins delete, managers export.
ACCOMPANIMENT_RECORDS: dict[str, frozenset[str]] = {
    "list": ALL_ROLES,
    "details": ALL_ROLES,
    "create": frozenset({"admin", "counsellor"}),
    "edit": frozenset({"admin", "counsellor"}),
    "delete": frozenset({"admin"}),
    "export": frozenset({"admin", "manager"}),
}


class ListCount(int):
    """The number of rows a list shows beside its title, in French ("12 345"), or "plus de
    10 000" when the count stopped at its bound (pages are still computed on the number)."""

    def __new__(cls, value: int, bound: int | None = None):
        count = super().__new__(cls, value)
        count.bound = bound
        return count

    def __str__(self) -> str:
        if self.bound is not None and self > self.bound:
            return _("plus de %(n)s", n=format_decimal(self.bound))
        return format_decimal(int(self))

    __html__ = __str__


class BoundedCountQuery:
    """A count query that stops counting past ``bound`` rows: Flask-Admin adds the search and
    the filters to it (``filter``, ``join``…), then reads ``scalar()``."""

    def __init__(self, query, bound: int):
        self.query, self.bound = query, bound

    def __getattr__(self, name):
        attribute = getattr(self.query, name)
        if not callable(attribute):
            return attribute

        def rewrapped(*args, **kwargs):
            result = attribute(*args, **kwargs)
            return BoundedCountQuery(result, self.bound) if result is not None else result

        return rewrapped

    def scalar(self) -> int:
        rows = self.query.with_entities(sa.literal(1)).limit(self.bound + 1).subquery()
        return self.query.session.scalar(sa.select(sa.func.count()).select_from(rows))


class RelatedEqualFilter(sqla_filters.FilterEqual):
    """Equality on a foreign key, offered as a list of the related records' names.

    The options are read from the database (new counsellors appear), within the user's scope,
    and kept per process for ``TTL`` seconds — less when this process writes a record of that
    kind. The list's cells show the same names (``related_cell``) without loading the records.
    """

    TTL = 30.0
    #: Bumped when this process writes a record of a related kind (see ``_watch_writes``).
    generation = 0
    watched: set[type] = set()
    _cache: dict = {}

    def __init__(self, column, name, related_model, order_by=None, where=None):
        self.related_model = related_model
        self.order_by = order_by
        self.where = where
        RelatedEqualFilter.watched.add(related_model)
        super().__init__(column, name, options=self._related_options)

    def _related_options(self):
        if not has_request_context():  # Flask-Admin builds its caches at start-up: no user yet
            return []
        user = current_user
        key = (id(self), user.role, user.site_id, user.id, RelatedEqualFilter.generation)
        cached = RelatedEqualFilter._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.TTL:
            return cached[1]
        stmt = sa.select(self.related_model.id, self.related_model)
        clause = scope.clause_for(self.related_model, user)  # options obey the scope too
        if clause is not None:
            stmt = stmt.where(clause)
        if self.where is not None:
            stmt = stmt.where(self.where)
        if self.order_by is not None:
            stmt = stmt.order_by(self.order_by)
        options = [(str(i), str(r)) for i, r in db.session.execute(stmt)]
        if len(RelatedEqualFilter._cache) > 512:
            RelatedEqualFilter._cache.clear()
        RelatedEqualFilter._cache[key] = (time.monotonic(), options)
        return options

    def clean(self, value):
        found = values.parse_id(value)
        return -1 if found is None else found  # a tampered URL lists no row, not a 500


@sa.event.listens_for(Session, "after_flush")
def _watch_writes(session, flush_context):
    """A site, an account, a partner… written here: this process's filter options are stale."""
    watched = tuple(RelatedEqualFilter.watched)
    if watched and any(
        isinstance(obj, watched) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        RelatedEqualFilter.generation += 1


def related_cell(relation: str, column: str):
    """A list cell showing the related record's name from the view's filter options (no load of
    the record); the record itself when it is not among them (another site's counsellor)."""

    def cell(view, context, model, name):
        labels = view.related_labels(column)
        value = getattr(model, column)
        if value is None:
            return ""
        label = labels.get(str(value))
        return label if label is not None else str(getattr(model, relation) or "")

    return cell


class BackofficeModelView(ModelView):
    """Base of every generated screen: who may do what, which rows they see, French by default."""

    #: Which roles may do each operation; the menu and every endpoint read this one declaration.
    permissions: dict[str, frozenset[str]] = {
        "list": ALL_ROLES,
        "details": ALL_ROLES,
        "create": ADMIN,
        "edit": ADMIN,
        "delete": ADMIN,
        "export": ADMIN_AND_MANAGER,
    }

    can_set_page_size = True
    page_size = 20
    page_size_options = (20, 50, 100)
    export_types = ["csv", "xlsx"]
    column_type_formatters = TYPE_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS
    column_type_formatters_detail = DETAIL_TYPE_FORMATTERS
    column_details_exclude_list = ["version"]
    column_exclude_list = ["version", "created_at", "updated_at", "search_text"]
    details_template = "admin/model/details_history.html"
    form_excluded_columns = ["version", "created_at", "updated_at", "search_text"]
    #: String columns searched by default when a view declares no ``column_searchable_list``.
    default_search_names = (
        "name",
        "code",
        "label",
        "email",
        "phone",
        "city",
        "last_name",
        "first_name",
        "full_name",
    )

    def __init__(self, model, session, **kwargs):
        vocabularies = vocabularies_of(model)
        self.column_labels = {**FIELD_LABELS, **(self.column_labels or {})}
        choices = {column: translated(v) for column, v in vocabularies.items()}
        self.column_choices = {**choices, **(self.column_choices or {})}
        self.form_choices = {**choices, **(self.form_choices or {})}
        # Coded columns show their translated label, and nothing (not "None") when empty.
        labels = {column: _choice_label(v) for column, v in vocabularies.items()}
        self.column_formatters = {**labels, **(self.column_formatters or {})}
        self.column_formatters_export = {**labels, **(self.column_formatters_export or {})}
        numeric = {
            column.key: v.FrenchDecimalField
            for column in model.__table__.columns
            if isinstance(column.type, sa.Numeric)
        }
        dates = {
            column.key: v.FrenchDateField
            for column in model.__table__.columns
            if isinstance(column.type, sa.Date) and not isinstance(column.type, sa.DateTime)
        }
        self.form_overrides = {**numeric, **dates, **(self.form_overrides or {})}
        # The column's scale and precision bound what a form accepts, as in an import.
        form_args = {name: dict(args) for name, args in (self.form_args or {}).items()}
        for column in model.__table__.columns:
            if column.key in numeric:
                form_args.setdefault(column.key, {}).setdefault("places", column.type.scale or 0)
                form_args[column.key].setdefault("max_digits", column.type.precision)
            elif column.key in dates and column.key == "birth_date":
                form_args.setdefault(column.key, {}).setdefault("past", True)
        self.form_args = form_args
        if self.column_searchable_list is None:
            self.column_searchable_list = [
                name for name in self.default_search_names if name in model.__table__.c
            ]
        if self.column_filters is None:
            self.column_filters = self.derived_filters(model, vocabularies)
        super().__init__(model, session, **kwargs)

    @staticmethod
    def derived_filters(model, vocabularies) -> list:
        """Filters for coded columns, booleans and foreign keys, in the table's column order."""
        filters: list = []
        mapper = sa.inspect(model)
        for column in model.__table__.columns:
            label = FIELD_LABELS.get(column.key, column.key)
            if column.key in vocabularies or isinstance(column.type, sa.Boolean):
                filters.append(column.key)
            elif column.foreign_keys:
                for rel in mapper.relationships:
                    if column in rel.local_columns and rel.direction.name == "MANYTOONE":
                        label = FIELD_LABELS.get(rel.key, rel.key)
                        filters.append(
                            RelatedEqualFilter(getattr(model, column.key), label, rel.mapper.class_)
                        )
        return filters

    def filtered_url(self, **equals) -> str:
        """The list URL with an equality filter per ``column=value`` (for links from other pages)."""
        args = {}
        for position, (column, value) in enumerate(equals.items()):
            for key, (_index, flt) in self._filter_args.items():
                if (
                    isinstance(flt, sqla_filters.FilterEqual)
                    and getattr(flt.column, "key", None) == column
                ):
                    args[f"flt{position}_{key}"] = value
                    break
        return url_for(f"{self.endpoint}.index_view", **args)

    def _get_list_filter_args(self):
        """Flask-Admin's filter arguments, with numbers bounded: ``int()`` accepts any size,
        which the database refuses (an integer past 32 or 64 bits is a 500, not an empty
        list). An out-of-range value is refused like any invalid filter value."""
        accepted = super()._get_list_filter_args()
        if not accepted:
            return accepted
        kept = []
        for index, name, value in accepted:
            flt = self._filters[index]
            if isinstance(
                flt, flask_admin_filters.BaseIntFilter | flask_admin_filters.BaseIntListFilter
            ):
                numbers = (
                    value.split(",")
                    if isinstance(flt, flask_admin_filters.BaseIntListFilter)
                    else [value]
                )
                if not all(_bounded_int(n) for n in numbers if n.strip()):
                    flash(self.get_invalid_value_msg(value, flt), "error")
                    continue
            elif isinstance(
                flt, flask_admin_filters.BaseFloatFilter | flask_admin_filters.BaseFloatListFilter
            ):
                if not all(_bounded_float(n) for n in value.split(",") if n.strip()):
                    flash(self.get_invalid_value_msg(value, flt), "error")
                    continue
            kept.append((index, name, value))
        return kept

    def _get_filter_groups(self):
        """Flask-Admin computes filter options once at start-up; re-read the ones that come from
        the database (sites, counsellors, themes) on every request so that new rows appear.
        The translated groups are kept per locale and database options (a dozen filters'
        labels translated again on every page cost more than the page's queries)."""
        if not self._filter_groups:
            return None
        computed = g.setdefault("filter_groups", {})
        if self.endpoint in computed:  # once per request
            return computed[self.endpoint]
        fresh_options = {
            item["index"]: tuple(
                (str(value), str(label))
                for value, label in self._filters[item["index"]].get_options(self)
            )
            for group in self._filter_groups.values()
            for item in group.filters
            if callable(self._filters[item["index"]].options)
        }
        key = (str(get_locale()), tuple(sorted(fresh_options.items())))
        cache = self.__dict__.setdefault("_filter_groups_cache", {})
        if key not in cache:
            results = OrderedDict()
            for group in self._filter_groups.values():
                fresh = FilterGroup(group.label)
                for item in group.filters:
                    if item["index"] in fresh_options:
                        item = {**item, "options": [list(o) for o in fresh_options[item["index"]]]}
                    fresh.append(item)
                label, items = fresh.non_lazy()
                results[label] = items
            if len(cache) > 32:  # options change rarely: keep the latest few
                cache.clear()
            cache[key] = results
        computed[self.endpoint] = cache[key]
        return cache[key]

    # --- export through the CSV engine -----------------------------------------------------------

    #: The import/export declaration behind this screen (domain/csvio/entities.py), if any: its
    #: export is then the same file the import reads back, streamed, in CSV or .xlsx.
    csv_entity: str | None = None
    #: Whether this screen is the one that imports ``csv_entity`` (a second screen of the same
    #: records, such as *Mes jeunes*, exports them but leaves the import to the first).
    csv_imports: bool = True

    @expose("/export/<export_type>/")
    def export(self, export_type):
        """Every row the list shows (search, filters, sort, scope) as CSV or .xlsx, streamed
        through the one engine: never a page, never Flask-Admin's own export."""
        if export_type not in self.export_types:
            abort(404)
        from .exports import stream_export

        name = f"{self.csv_entity or self.endpoint}-{dt.date.today():%Y-%m-%d}"
        return stream_export(self, self.export_query(), export_type, name)

    def export_query(self):
        """The list's query without its page: what the screen shows, every row of it."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        _count, query = ModelView.get_list(  # not our get_list, which clamps the page size
            self,
            0,
            sort[0] if sort else None,
            view_args.sort_desc,
            view_args.search,
            view_args.filters,
            execute=False,
            page_size=0,
        )
        return query

    # --- permissions -------------------------------------------------------------------------

    def allowed(self, operation: str) -> bool:
        """Whether the signed-in user's role may perform ``operation`` on this screen.

        Outside a request (Flask-Admin building its caches at start-up) every operation counts as
        allowed, so that the details and export column caches are built.
        """
        if not has_request_context():
            return True
        return bool(
            current_user.is_authenticated
            and current_user.role in self.permissions.get(operation, frozenset())
        )

    @property
    def can_create(self):
        return self.allowed("create")

    @property
    def can_edit(self):
        return self.allowed("edit")

    @property
    def can_delete(self):
        return self.allowed("delete")

    @property
    def can_export(self):
        return self.allowed("export")

    @property
    def can_view_details(self):
        return self.allowed("details")

    #: Flask-Admin's view functions and the operation each performs (bulk actions: delete is
    #: the only one, a view adding others declares them here).
    operation_of = {
        "index_view": "list",
        "details_view": "details",
        "create_view": "create",
        "edit_view": "edit",
        "delete_view": "delete",
        "export": "export",
        "action_view": "delete",
        "ajax_update": "edit",
        "ajax_lookup": "list",
    }

    def is_accessible(self):
        return self.allowed("list")

    def _handle_view(self, name, **kwargs):
        """Refuse with 403 any operation the role may not do, whatever the URL or method."""
        refused = super()._handle_view(name, **kwargs)
        if refused is not None:
            return refused
        operation = self.operation_of.get(name)
        if operation is not None and not self.allowed(operation):
            abort(403)
        return None

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        abort(403)

    # --- row-level scope -----------------------------------------------------------------------

    def scope_clause(self):
        """The WHERE clause that limits this screen to what the user may see (None: everything)."""
        return scope.clause_for(self.model, current_user)

    def get_query(self):
        clause = self.scope_clause()
        query = super().get_query()
        return query if clause is None else query.filter(clause)

    #: Count at most this many rows, then say "plus de …" (None: an exact count). For tables
    #: of millions (the journal), where counting every matching row costs more than the page.
    count_bound: int | None = None

    def get_count_query(self):
        clause = self.scope_clause()
        query = super().get_count_query()
        query = query if clause is None else query.filter(clause)
        return query if self.count_bound is None else BoundedCountQuery(query, self.count_bound)

    def _apply_search(self, query, count_query, joins, count_joins, search_text):
        """A model with a ``search_text`` column is searched through its index (domain/search.py):
        accents, case and phone punctuation ignored, no scan of the table. Others: Flask-Admin's
        search on ``column_searchable_list``."""
        if "search_text" not in self.model.__table__.c:
            return super()._apply_search(query, count_query, joins, count_joins, search_text)
        clause = search.matching(self.model, search_text, db.engine.dialect.name)
        if clause is not None:
            query = query.filter(clause)
            if count_query is not None:
                count_query = count_query.filter(clause)
        return query, count_query, joins, count_joins

    def related_labels(self, column: str) -> dict[str, str]:
        """``{id: name}`` of the related records offered by this view's filter on ``column``."""
        cache = g.setdefault("related_labels", {})
        key = (self.endpoint, column)
        if key not in cache:
            labels: dict[str, str] = {}
            for flt in self._filters or ():
                if isinstance(flt, RelatedEqualFilter) and flt.column.key == column:
                    labels = dict(flt.get_options(self))
                    break
            cache[key] = labels
        return cache[key]

    def get_list_row_actions(self):
        from .row_actions import faster

        return faster(super().get_list_row_actions())

    def page_extras(self, name: str, load):
        """What the cells of the page being shown need beyond their row, loaded once for all
        its rows: ``load(ids)`` returns ``{id: value}``, computed on the first call of the
        request and kept in ``g`` (a formatter calls it for every row)."""
        cache = g.setdefault("page_extras", {})
        key = (self.endpoint, name)
        if key not in cache:
            rows = g.get("page_rows", {}).get(self.endpoint) or []
            cache[key] = load([row.id for row in rows]) if rows else {}
        return cache[key]

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Clamp what the URL says: a negative page is the first page, an unknown page size the
        default one (PostgreSQL refuses a negative OFFSET; nobody needs 100,000 rows on screen)."""
        page = min(max(page or 0, 0), MAX_PAGE)
        if page_size is not None and page_size not in self.page_size_options:
            page_size = self.page_size
        count, rows = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=execute, page_size=page_size
        )
        if count is not None:
            count = ListCount(count, self.count_bound)
        if execute and has_request_context():
            g.setdefault("page_rows", {})[self.endpoint] = rows
        return count, rows

    def get_one(self, id):
        """The record with primary key ``id`` inside the scope, or None (also for a malformed id)."""
        pk = values.parse_id(id)
        if pk is None:
            return None
        return self.get_query().filter(self.model.id == pk).one_or_none()

    def validate_form(self, form):
        """Validate, then turn lazy error messages into strings: Flask-Admin's templates only
        display errors that are ``str`` (``e is string``), so a lazy French message would vanish."""
        valid = super().validate_form(form)
        if not valid:
            _stringify_errors(form)
        return valid

    @action(
        "delete",
        admin_lazy_gettext("Delete"),
        admin_lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """Flask-Admin's bulk delete, with the ids parsed first: it passes the strings of the
        form to PostgreSQL, which refuses ``integer IN (varchar)`` and aborts the transaction."""
        numbers = [n for n in (values.parse_id(value) for value in ids) if n is not None]
        return super().action_delete(tuple(numbers))

    # --- no lost updates ---------------------------------------------------------------------

    def scaffold_form(self):
        """Every form carries the version of the record it was opened on."""
        form_class = super().scaffold_form()
        if hasattr(self.model, "version"):
            form_class.loaded_version = HiddenField()
        return form_class

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        if obj is not None and hasattr(form, "loaded_version") and not form.loaded_version.data:
            form.loaded_version.data = str(obj.version)
        return form

    def update_model(self, form, model):
        """Refuse to save a form opened before someone else's save, and say what they changed."""
        loaded = getattr(form, "loaded_version", None)
        if loaded is not None and str(model.version) != (loaded.data or "").strip():
            try:
                since = int(loaded.data)
            except (TypeError, ValueError):
                since = 0
            events = audit.changes_since(db.session, model.__tablename__, model.id, since)
            flash(
                Markup(
                    render_template(
                        "admin/model/stale_edit.html",
                        events=events,
                        labels=self.column_labels,
                    )
                ),
                "error",
            )
            return False
        return super().update_model(form, model)

    # --- history -------------------------------------------------------------------------------

    def history_of(self, model):
        """The audit events of ``model``, newest first, in French (the *Historique* tab)."""
        from .journal import describe

        return describe(audit.history_of(db.session, model.__tablename__, model.id))

    def entity_label(self, entity: str) -> str:
        return str(FIELD_LABELS.get(entity, entity))

    def field_label(self, name: str) -> str:
        return str(self.column_labels.get(name, name))

    # --- messages ------------------------------------------------------------------------------

    def handle_view_exception(self, exc):
        if isinstance(exc, sa.exc.IntegrityError):
            db.session.rollback()
            flash(
                _("Enregistrement refusé : une valeur est en double ou une donnée liée manque."),
                "error",
            )
            return True
        if isinstance(exc, sa.orm.exc.StaleDataError):
            db.session.rollback()
            flash(
                _(
                    "Cette fiche a été modifiée par quelqu'un d'autre pendant que vous la "
                    "modifiiez : rien n'a été écrasé. Rechargez-la pour voir ses valeurs actuelles."
                ),
                "error",
            )
            return True
        return super().handle_view_exception(exc)


def _bounded_int(text: str) -> bool:
    try:
        return abs(int(text)) <= values.MAX_ID
    except ValueError:
        return False


def _bounded_float(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return number == number and abs(number) <= 1e15


def _choice_label(vocabulary: vocab.Vocabulary):
    def format_cell(view, context, model, name):
        code = getattr(model, name)
        return _(vocabulary.label(code)) if code is not None else ""

    return format_cell


def _stringify_errors(form) -> None:
    for field in form:
        if isinstance(field.errors, list):
            field.errors = [str(e) if not isinstance(e, (dict, list)) else e for e in field.errors]
        for entry in getattr(field, "entries", ()):  # inline forms (FieldList of FormFields)
            inner = getattr(entry, "form", None)
            if inner is not None:
                _stringify_errors(inner)


def badge(text: str, kind: str = "secondary") -> Markup:
    """A small Bootstrap badge for list cells."""
    return Markup('<span class="badge badge-{}">{}</span>').format(kind, text)
