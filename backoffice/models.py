"""The data model: tables, constraints and small model methods.

Closed lists are stored as short codes checked by the database (see ``domain/vocabularies.py``);
amounts are ``Numeric`` (never floats); timestamps are naive UTC. A column declared
``info={"sensitive": True}`` (private notes, health, secrets) is written to the audit trail as
changed, never with its content.
"""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .domain import search
from .domain import vocabularies as vocab
from .domain.people import age_on, eligibility_warning
from .extensions import db

#: Actions still to do (planned, in progress, waiting): a partial index covers them.
OPEN_ACTIONS_SQL = "status IN ('in_progress', 'planned', 'waiting')"
DONE_ACTIONS_SQL = "status = 'done'"


def utcnow() -> dt.datetime:
    """Naive UTC now, the one clock of the database's timestamps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def in_list(column: str, vocabulary: vocab.Vocabulary) -> sa.CheckConstraint:
    """CHECK that ``column`` holds a code of ``vocabulary`` (NULL passes; NOT NULL is separate)."""
    return sa.CheckConstraint(
        vocabulary.sql_check(column),
        name=f"{column}_in_list",
        info={"column": column, "vocabulary": vocabulary},
    )


def vocabularies_of(model: type) -> dict[str, vocab.Vocabulary]:
    """The closed list behind each coded column of ``model``, read from its CHECK constraints."""
    return {
        constraint.info["column"]: constraint.info["vocabulary"]
        for constraint in model.__table__.constraints
        if isinstance(constraint, sa.CheckConstraint) and "vocabulary" in constraint.info
    }


class Timestamped:
    """Created/updated timestamps and an optimistic-locking version counter."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @sa.orm.declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805 - SQLAlchemy's declared_attr signature
        return {"version_id_col": cls.version}


class Site(Timestamped, db.Model):
    """A local office (*antenne*) of the mission locale."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    address: Mapped[str | None] = mapped_column(sa.String(200))
    postcode: Mapped[str | None] = mapped_column(sa.String(5))
    city: Mapped[str | None] = mapped_column(sa.String(120))

    users: Mapped[list[User]] = relationship(back_populates="site")
    young_people: Mapped[list[YoungPerson]] = relationship(back_populates="site")

    def __str__(self) -> str:
        return self.name


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Timestamped, db.Model):
    """A staff account: administrative staff, counsellor or manager."""

    __tablename__ = "user_account"
    __table_args__ = (in_list("role", vocab.ROLES), in_list("locale", vocab.LOCALES))
    __scope__ = "site_id"  # colleagues of the same site (domain/scope.py)
    __scope_self__ = True  # a counsellor without a site still sees their own account

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(120), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    role: Mapped[str] = mapped_column(sa.String(16), index=True)
    site_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("site.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255), info={"sensitive": True})
    locale: Mapped[str | None] = mapped_column(sa.String(2))
    #: Part of every session cookie of this account (Flask-Login's alternative id): changing it
    #: ends them all — at sign-out, password change, deactivation, "déconnecter partout".
    session_token: Mapped[str] = mapped_column(
        sa.String(64), default=new_session_token, info={"sensitive": True}
    )
    #: The secret of the counsellor's private calendar feed (``/agenda/<token>.ics``); None: no
    #: feed. A new one revokes the old address.
    calendar_token: Mapped[str | None] = mapped_column(
        sa.String(64), unique=True, index=True, info={"sensitive": True}
    )

    site: Mapped[Site | None] = relationship(back_populates="users")

    def __str__(self) -> str:
        return self.full_name

    def get_id(self) -> str:
        """The session's user id: the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """End every session of this account, on every device (a replayed cookie is refused)."""
        self.session_token = new_session_token()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active

    def set_password(self, password: str) -> None:
        """Store a scrypt hash of ``password``; the sessions opened with the old one end."""
        self.password_hash = generate_password_hash(password, method="scrypt")
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        """Whether ``password`` matches; False for an account that has no password yet."""
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def role_label(self) -> str:
        return vocab.ROLES.label(self.role)


@sa.event.listens_for(User.active, "set")
def _deactivation_ends_sessions(user: User, value, old, _initiator) -> None:
    """A deactivated account loses its open sessions at once, on every device."""
    if old is True and value is False:
        user.end_sessions()


class YoungPerson(Timestamped, db.Model):
    """A young person (*jeune*) accompanied by the mission locale."""

    __tablename__ = "young_person"
    __scope__ = "site_id"  # a young person of another site does not exist (domain/scope.py)
    __table_args__ = (
        in_list("gender", vocab.GENDERS),
        in_list("status", vocab.YOUTH_STATUSES),
        in_list("exit_reason", vocab.EXIT_REASONS),
        in_list("education_level", vocab.EDUCATION_LEVELS),
        in_list("housing_situation", vocab.HOUSING_SITUATIONS),
        in_list("resources", vocab.RESOURCES),
        sa.CheckConstraint("status <> 'exited' OR exit_date IS NOT NULL", name="exit_has_date"),
        sa.Index("ix_young_person_name", "last_name", "first_name"),
        # Caseloads and the home page's counts, answered from the index alone.
        sa.Index("ix_young_person_referent_status", "referent_id", "status", "site_id"),
        sa.Index("ix_young_person_site_status", "site_id", "status"),
        # A counsellor's Jeunes (their site), in name order without a sort.
        sa.Index("ix_young_person_site_name", "site_id", "last_name", "first_name"),
        # The activity report's exits of a period, by reason and site, from the index alone.
        sa.Index("ix_young_person_exit", "exit_date", "exit_reason", "site_id"),
        # A site's young people (the report of one site checks each row's young person among
        # them): read from the index alone, not from the whole table (PostgreSQL).
        sa.Index("ix_young_person_site_id", "site_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    last_name: Mapped[str] = mapped_column(sa.String(100))
    first_name: Mapped[str] = mapped_column(sa.String(100))
    birth_date: Mapped[dt.date] = mapped_column(index=True)
    gender: Mapped[str | None] = mapped_column(sa.String(1))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    postcode: Mapped[str | None] = mapped_column(sa.String(5))
    city: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    registration_date: Mapped[dt.date] = mapped_column(default=dt.date.today, index=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id", ondelete="RESTRICT"))
    referent_id: Mapped[int | None] = mapped_column(  # indexed with status (caseloads)
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(16), default="active", index=True)
    exit_reason: Mapped[str | None] = mapped_column(sa.String(16))
    exit_date: Mapped[dt.date | None]
    education_level: Mapped[str | None] = mapped_column(sa.String(8))
    #: A disability recognition: sensitive (masked in the journal, left out of list exports
    #: but the admin's, see ``views/exports.py``).
    rqth: Mapped[bool] = mapped_column(default=False, info={"sensitive": True})
    qpv_resident: Mapped[bool] = mapped_column(default=False)
    driving_licence: Mapped[bool] = mapped_column(default=False)
    has_vehicle: Mapped[bool] = mapped_column(default=False)
    housing_situation: Mapped[str | None] = mapped_column(sa.String(16))
    resources: Mapped[str | None] = mapped_column(sa.String(16))
    rgpd_consent_date: Mapped[dt.date | None]
    #: When the young person's data were anonymised (``domain.gdpr.anonymise``): identity,
    #: contact and free texts gone for good, counts and amounts kept for the reports.
    anonymised_at: Mapped[dt.datetime | None]
    #: The retention extended until this date (an open aid file…), and why (an admin's note).
    retention_until: Mapped[dt.date | None]
    retention_note: Mapped[str | None] = mapped_column(sa.Text)
    #: The young person's own space (``/mon-espace/``): the secret of its current link and when
    #: the link stops working. None: no link, or revoked by the counsellor.
    space_nonce: Mapped[str | None] = mapped_column(sa.String(64), info={"sensitive": True})
    space_expires_at: Mapped[dt.datetime | None]
    #: Progress state kept by domain/interviews.py (refresh_progress) from the interviews:
    #: why the young person is *sans progression* (codes), and the last completed interview.
    stalling: Mapped[str | None] = mapped_column(sa.String(40))
    last_interview_at: Mapped[dt.datetime | None]
    #: Names, e-mail, phone digits and city, lower-case without accents: what the search index
    #: covers (domain/search.py), filled on every write path.
    search_text: Mapped[str | None] = mapped_column(
        sa.Text, info={"search_of": ("last_name", "first_name", "email", "phone", "city")}
    )

    site: Mapped[Site] = relationship(back_populates="young_people")
    referent: Mapped[User | None] = relationship()
    programmes: Mapped[list[Programme]] = relationship(
        back_populates="young_person",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Programme.start_date.desc()",
    )

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"

    @property
    def age(self) -> int | None:
        """Age today, in full years."""
        return age_on(self.birth_date, dt.date.today()) if self.birth_date else None

    @property
    def eligibility_warning(self) -> str | None:
        """A warning when the registration falls outside 16-25 (29 with RQTH)."""
        return eligibility_warning(
            self.birth_date, bool(self.rqth), self.registration_date or dt.date.today()
        )

    @property
    def current_programme(self) -> Programme | None:
        """The programme running today, if any."""
        today = dt.date.today()
        for programme in self.programmes:
            if programme.start_date <= today and (
                programme.actual_end_date is None or programme.actual_end_date >= today
            ):
                return programme
        return None


def _search_index(table: sa.Table) -> None:
    """The engine's search index on ``table.search_text``, created and dropped with the table
    (``create_all`` in tests and tools; the migrations create it with the same statements)."""

    def create(target, connection, **kw):
        for statement in search.index_ddl(target.name, connection.dialect.name):
            connection.exec_driver_sql(statement)

    def drop(target, connection, **kw):
        for statement in search.drop_ddl(target.name, connection.dialect.name):
            connection.exec_driver_sql(statement)

    sa.event.listen(table, "after_create", create)
    sa.event.listen(table, "before_drop", drop)


_search_index(YoungPerson.__table__)


@sa.event.listens_for(YoungPerson, "before_insert")
@sa.event.listens_for(YoungPerson, "before_update")
def _fill_search_text(mapper, connection, target) -> None:
    sources = search.sources_of(mapper.local_table)
    target.search_text = search.text_for({name: getattr(target, name) for name in sources}, sources)


class Programme(Timestamped, db.Model):
    """An enrolment in a contractual programme (PACEA or CEJ); never two at once."""

    __tablename__ = "programme"
    __table_args__ = (
        in_list("kind", vocab.PROGRAMME_KINDS),
        in_list("end_reason", vocab.PROGRAMME_END_REASONS),
        sa.CheckConstraint(
            "planned_end_date IS NULL OR planned_end_date >= start_date", name="planned_after_start"
        ),
        sa.CheckConstraint(
            "actual_end_date IS NULL OR actual_end_date >= start_date", name="ended_after_start"
        ),
        # At most one open enrolment per young person, whatever the path that writes it.
        sa.Index(
            "uq_programme_one_open",
            "young_person_id",
            unique=True,
            sqlite_where=sa.text("actual_end_date IS NULL"),
            postgresql_where=sa.text("actual_end_date IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(8), index=True)
    start_date: Mapped[dt.date]
    planned_end_date: Mapped[dt.date | None]
    actual_end_date: Mapped[dt.date | None]
    end_reason: Mapped[str | None] = mapped_column(sa.String(16))

    young_person: Mapped[YoungPerson] = relationship(back_populates="programmes")

    def __str__(self) -> str:
        return f"{self.kind} depuis le {self.start_date:%d/%m/%Y}"


partner_theme = sa.Table(
    "partner_theme",
    db.metadata,
    sa.Column("partner_id", sa.ForeignKey("partner.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("theme_id", sa.ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
)


def programme_running_on(day: dt.date):
    """SQL: the programme runs on ``day`` (started, not ended) — ``current_programme`` in SQL,
    for the *Programme en cours* filter and the list's column."""
    return sa.and_(
        Programme.start_date <= day,
        sa.or_(Programme.actual_end_date.is_(None), Programme.actual_end_date >= day),
    )


class Theme(Timestamped, db.Model):
    """An activity theme of the service offer, with the hours it counts towards the CEJ."""

    __tablename__ = "theme"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    default_hours: Mapped[int] = mapped_column(default=2)

    def __str__(self) -> str:
        return self.name


class Partner(Timestamped, db.Model):
    """An external partner: training body, employer, health professional, association…"""

    __tablename__ = "partner"
    __table_args__ = (
        in_list("kind", vocab.PARTNER_KINDS),
        sa.CheckConstraint("siret IS NULL OR length(siret) = 14", name="siret_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    address: Mapped[str | None] = mapped_column(sa.String(200))
    postcode: Mapped[str | None] = mapped_column(sa.String(5))
    city: Mapped[str | None] = mapped_column(sa.String(120), index=True)
    siret: Mapped[str | None] = mapped_column(sa.String(14), unique=True)
    website: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True, index=True)
    notes: Mapped[str | None] = mapped_column(sa.Text)

    themes: Mapped[list[Theme]] = relationship(secondary=partner_theme, order_by=Theme.id)

    def __str__(self) -> str:
        return self.name


class AidType(Timestamped, db.Model):
    """An entry of the aid catalogue: the mission locale's toolbox."""

    __tablename__ = "aid_type"
    __table_args__ = (
        in_list("category", vocab.AID_CATEGORIES),
        in_list("unit", vocab.AID_UNITS),
        sa.CheckConstraint("default_amount IS NULL OR default_amount >= 0", name="amount_positive"),
        sa.CheckConstraint("yearly_budget IS NULL OR yearly_budget >= 0", name="budget_positive"),
        sa.CheckConstraint(
            "ceiling_per_youth IS NULL OR ceiling_per_youth >= 0", name="ceiling_positive"
        ),
        sa.CheckConstraint(
            "delegation_threshold IS NULL OR delegation_threshold >= 0", name="delegation_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    category: Mapped[str] = mapped_column(sa.String(32), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    unit: Mapped[str] = mapped_column(sa.String(16), default="euro")
    default_amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    yearly_budget: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    ceiling_per_youth: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    #: Up to this amount (in the aid's unit) a counsellor grants directly, in one logged step;
    #: above it, or when empty, the request goes through the instruction path and a decider.
    delegation_threshold: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    partner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partner.id", ondelete="SET NULL"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True, index=True)

    partner: Mapped[Partner | None] = relationship()

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DiagnosisDomain(Timestamped, db.Model):
    """A domain of the whole situation assessed in the shared diagnosis (housing, health…)."""

    __tablename__ = "diagnosis_domain"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str | None] = mapped_column(sa.Text)

    situations: Mapped[list[DiagnosisSituation]] = relationship(
        back_populates="domain",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="DiagnosisSituation.position",
    )

    def __str__(self) -> str:
        return self.name


class DiagnosisSituation(Timestamped, db.Model):
    """A checklist situation of a diagnosis domain (e.g. *hébergé chez un tiers*)."""

    __tablename__ = "diagnosis_situation"
    __table_args__ = (sa.UniqueConstraint("domain_id", "label", name="uq_situation_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    domain_id: Mapped[int] = mapped_column(
        sa.ForeignKey("diagnosis_domain.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)

    domain: Mapped[DiagnosisDomain] = relationship(back_populates="situations")

    def __str__(self) -> str:
        return self.label


class Interview(Timestamped, db.Model):
    """An individual interview (*entretien*): diagnosis, discussion, programming."""

    __tablename__ = "interview"
    __table_args__ = (
        in_list("channel", vocab.INTERVIEW_CHANNELS),
        in_list("kind", vocab.INTERVIEW_KINDS),
        in_list("attendance", vocab.ATTENDANCE),
        in_list("status", vocab.INTERVIEW_STATUSES),
        in_list("autonomy_level", vocab.AUTONOMY_LEVELS),
        sa.CheckConstraint(
            "duration_minutes IS NULL OR duration_minutes BETWEEN 1 AND 600", name="duration_range"
        ),
        sa.Index("ix_interview_youth_date", "young_person_id", "starts_at"),
        # A counsellor's drafts (home page), newest last.
        sa.Index("ix_interview_counsellor_status", "counsellor_id", "status", "starts_at"),
        # The activity report: the interviews validated in a period, by attendance, read from
        # the index alone (channel, kind, young person, autonomy and the chain included).
        sa.Index(
            "ix_interview_held",
            "status",
            "attendance",
            "starts_at",
            "channel",
            "kind",
            "young_person_id",
            "autonomy_level",
            "previous_held_at",
            "previous_assessed_at",
            "next_assessed_at",
            "has_proposal",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE")
    )
    counsellor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    starts_at: Mapped[dt.datetime] = mapped_column(index=True)
    duration_minutes: Mapped[int | None]
    channel: Mapped[str] = mapped_column(sa.String(16), default="appointment")
    kind: Mapped[str] = mapped_column(sa.String(20), default="follow_up")
    attendance: Mapped[str] = mapped_column(sa.String(20), default="present")
    status: Mapped[str] = mapped_column(sa.String(10), default="draft", index=True)
    step: Mapped[int] = mapped_column(default=1)  # the furthest step reached, to resume there
    public_summary: Mapped[str | None] = mapped_column(sa.Text)
    private_notes: Mapped[str | None] = mapped_column(sa.Text, info={"sensitive": True})
    autonomy_level: Mapped[str | None] = mapped_column(sa.String(1))
    next_appointment: Mapped[dt.datetime | None] = mapped_column(index=True)
    no_outcome_reason: Mapped[str | None] = mapped_column(sa.Text)
    completed_at: Mapped[dt.datetime | None]
    #: A draft's follow-up of earlier work (action reviews, proposal outcomes, objective
    #: progress), applied to the file only when the interview is validated
    #: (``domain.interviews.complete``); a discarded draft leaves the file as it was.
    pending: Mapped[dict] = mapped_column(sa.JSON, default=dict, server_default="{}")
    #: The chain of the young person's held interviews (validated, young person present), kept
    #: by ``domain/interviews.py`` on every flush, NULL on the others: the time of the previous
    #: held one, and of the previous and next held ones that rated autonomy (when this one did).
    #: The activity report reads from them, in one index range and without grouping a period's
    #: interviews per young person, who was accompanied and how far their autonomy went.
    previous_held_at: Mapped[dt.datetime | None]
    previous_assessed_at: Mapped[dt.datetime | None]
    next_assessed_at: Mapped[dt.datetime | None]
    #: The interview made a proposal at least (kept with ``Proposal.held_at``): the report's
    #: concrete outcome, read with the rest of the interview's figures.
    has_proposal: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    young_person: Mapped[YoungPerson] = relationship()
    counsellor: Mapped[User | None] = relationship()
    diagnosis: Mapped[list[DiagnosisEntry]] = relationship(
        back_populates="interview", cascade="all, delete-orphan", passive_deletes=True
    )
    proposals: Mapped[list[Proposal]] = relationship(
        back_populates="interview",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Proposal.id",
    )

    def __str__(self) -> str:
        return f"Entretien du {self.starts_at:%d/%m/%Y}"


class DiagnosisEntry(Timestamped, db.Model):
    """One domain of the shared diagnosis at one interview."""

    __tablename__ = "diagnosis_entry"
    __table_args__ = (
        in_list("assessment", vocab.ASSESSMENTS),
        sa.UniqueConstraint("interview_id", "domain_id", name="uq_diagnosis_entry_domain"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interview.id", ondelete="CASCADE"))
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    domain_id: Mapped[int] = mapped_column(
        sa.ForeignKey("diagnosis_domain.id", ondelete="RESTRICT"), index=True
    )
    # the situation labels ticked (health, disability…: sensitive, like the words)
    situations: Mapped[list] = mapped_column(sa.JSON, default=list, info={"sensitive": True})
    young_person_words: Mapped[str | None] = mapped_column(sa.Text, info={"sensitive": True})
    assessment: Mapped[str] = mapped_column(sa.String(16), default="no_need")

    interview: Mapped[Interview] = relationship(back_populates="diagnosis")
    domain: Mapped[DiagnosisDomain] = relationship()

    def __str__(self) -> str:
        return f"{self.domain} : {vocab.ASSESSMENTS.label(self.assessment)}"


class Objective(Timestamped, db.Model):
    """An objective, in the young person's own words, agreed at an interview."""

    __tablename__ = "objective"
    __table_args__ = (in_list("status", vocab.OBJECTIVE_STATUSES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    domain_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("diagnosis_domain.id", ondelete="SET NULL")
    )
    statement: Mapped[str] = mapped_column(sa.Text)  # the young person's words
    counsellor_suggestion: Mapped[str | None] = mapped_column(sa.Text)
    agreed_at_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interview.id", ondelete="SET NULL")
    )
    target_date: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(sa.String(10), default="open", index=True)

    domain: Mapped[DiagnosisDomain | None] = relationship()

    def __str__(self) -> str:
        return self.statement


class Action(Timestamped, db.Model):
    """Work to do between two interviews, by the young person, the counsellor or a partner."""

    __tablename__ = "action"
    __table_args__ = (
        in_list("status", vocab.ACTION_STATUSES),
        in_list("who", vocab.PARTIES),
        in_list("created_by", vocab.CREATORS),
        # The open actions of a caseload, by due date (overdue ones on the home page).
        sa.Index(
            "ix_action_open_due",
            "young_person_id",
            "due_date",
            sqlite_where=sa.text(OPEN_ACTIONS_SQL),
            postgresql_where=sa.text(OPEN_ACTIONS_SQL),
        ),
        # The actions set at an interview, and who proposed them (the report reads it alone).
        sa.Index("ix_action_set_at_created", "set_at_id", "created_by"),
        # The done actions by due date, with what the CEJ's weekly hours read (the report reads
        # a range of it alone). Partial: the overdue actions of a caseload keep theirs
        # (ix_action_open_due), and a period's done actions are all the index holds there.
        sa.Index(
            "ix_action_done_due",
            "due_date",
            "young_person_id",
            "theme_id",
            "hours",
            "status",  # always 'done': SQLite then reads the index alone
            sqlite_where=sa.text(DONE_ACTIONS_SQL),
            postgresql_where=sa.text(DONE_ACTIONS_SQL),
        ),
        sa.CheckConstraint("hours IS NULL OR hours BETWEEN 0 AND 60", name="hours_range"),
        # The actions set at the interviews held in a period, and who proposed them (the
        # report reads a range of it alone).
        sa.Index("ix_action_held", "held_at", "created_by", "young_person_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    objective_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("objective.id", ondelete="SET NULL")
    )
    set_at_id: Mapped[int | None] = mapped_column(sa.ForeignKey("interview.id", ondelete="CASCADE"))
    reviewed_at_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interview.id", ondelete="SET NULL")
    )
    what: Mapped[str] = mapped_column(sa.Text)
    who: Mapped[str] = mapped_column(sa.String(16), default="young_person")
    created_by: Mapped[str] = mapped_column(sa.String(16), default="counsellor")
    due_date: Mapped[dt.date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default="planned", index=True)
    outcome_note: Mapped[str | None] = mapped_column(sa.Text)
    #: The activity theme and the hours the action counts (empty: the theme's default hours):
    #: the CEJ's weekly hours of activity are read from them.
    theme_id: Mapped[int | None] = mapped_column(sa.ForeignKey("theme.id", ondelete="SET NULL"))
    hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    #: When the young person ticked the action done from their space: their word, which the
    #: counsellor reviews at the next interview (the status changes there).
    youth_done_at: Mapped[dt.datetime | None]
    #: The time of the interview that set the action, when that interview is held (validated,
    #: young person present); None otherwise. Kept by ``domain/interviews.py`` on every flush,
    #: so that the activity report reads a period's actions as one index range.
    held_at: Mapped[dt.datetime | None]

    objective: Mapped[Objective | None] = relationship()
    theme: Mapped[Theme | None] = relationship()

    def __str__(self) -> str:
        return self.what


class Proposal(Timestamped, db.Model):
    """What an interview produced: a training, a job lead, an aid, a referral, a workshop…"""

    __tablename__ = "proposal"
    __table_args__ = (
        in_list("kind", vocab.PROPOSAL_KINDS),
        in_list("outcome", vocab.PROPOSAL_OUTCOMES),
        sa.CheckConstraint(
            "hours_per_week IS NULL OR hours_per_week BETWEEN 0 AND 60", name="hours_range"
        ),
        # An interview's proposals, with their kind and outcome.
        sa.Index("ix_proposal_interview_kind", "interview_id", "kind", "outcome"),
        # The proposals of the interviews held in a period (the report reads a range of it
        # alone).
        sa.Index(
            "ix_proposal_held", "held_at", "kind", "outcome", "interview_id", "young_person_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(sa.ForeignKey("interview.id", ondelete="CASCADE"))
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(sa.String(20))
    outcome: Mapped[str] = mapped_column(sa.String(16), default="prescribed")
    description: Mapped[str] = mapped_column(sa.Text)
    hours_per_week: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    #: For an aid of the catalogue: how much, in the aid's unit (10 tickets, 150 €); the draft
    #: aid request it opens asks for that.
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    aid_type_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("aid_type.id", ondelete="SET NULL")
    )
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id", ondelete="SET NULL"))
    #: The time of its interview when that interview is held (validated, young person
    #: present); None otherwise. Kept by ``domain/interviews.py`` (see ``Action.held_at``).
    held_at: Mapped[dt.datetime | None]

    interview: Mapped[Interview] = relationship(back_populates="proposals")
    aid_type: Mapped[AidType | None] = relationship()
    partner: Mapped[Partner | None] = relationship()

    def __str__(self) -> str:
        return f"{vocab.PROPOSAL_KINDS.label(self.kind)} : {self.description}"


class Situation(Timestamped, db.Model):
    """What the young person is doing, dated: a job, a work-study contract, a training, an
    immersion, civic service… — the outcome the activity report counts (``SITUATION_KINDS``)."""

    __tablename__ = "situation"
    __table_args__ = (
        in_list("kind", vocab.SITUATION_KINDS),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ended_after_start"),
        sa.CheckConstraint(
            "hours_per_week IS NULL OR hours_per_week BETWEEN 0 AND 60", name="hours_range"
        ),
        sa.Index("ix_situation_youth_start", "young_person_id", "start_date"),
        sa.Index("ix_situation_start_kind", "start_date", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(sa.String(24))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date | None]
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    hours_per_week: Mapped[Decimal | None] = mapped_column(sa.Numeric(4, 1))
    #: The proposal it came from, when a realised proposal led to it.
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL"), index=True
    )

    young_person: Mapped[YoungPerson] = relationship()
    proposal: Mapped[Proposal | None] = relationship()

    @property
    def family(self) -> str:
        return vocab.SITUATION_FAMILY_OF.get(self.kind, "other")

    def __str__(self) -> str:
        return f"{vocab.SITUATION_KINDS.label(self.kind)} depuis le {self.start_date:%d/%m/%Y}"


class Referral(Timestamped, db.Model):
    """An *orientation*: the young person sent to a partner, with consent, and followed."""

    __tablename__ = "referral"
    __table_args__ = (
        in_list("status", vocab.REFERRAL_STATES),
        in_list("refusal_reason", vocab.REFUSAL_REASONS),
        in_list("contact_preference", vocab.CONTACT_PREFERENCES),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    partner_id: Mapped[int] = mapped_column(
        sa.ForeignKey("partner.id", ondelete="RESTRICT"), index=True
    )
    counsellor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("proposal.id", ondelete="SET NULL")
    )
    aid_type_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("aid_type.id", ondelete="SET NULL")
    )
    service: Mapped[str | None] = mapped_column(sa.String(200))
    reason: Mapped[str] = mapped_column(sa.Text, info={"sensitive": True})  # may say health
    request: Mapped[str | None] = mapped_column(sa.Text)
    availability: Mapped[str | None] = mapped_column(sa.Text)
    contact_preference: Mapped[str] = mapped_column(sa.String(12), default="direct")
    consent_at: Mapped[dt.datetime | None]
    #: How the consent was given (``vocab.CONSENT_METHODS``); None when recorded before it was
    #: asked, or ticked in the edit form.
    consent_method: Mapped[str | None] = mapped_column(sa.String(10))
    shared_fields: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(12), default="draft", index=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    answered_at: Mapped[dt.datetime | None]
    appointment_at: Mapped[dt.datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(sa.String(16))
    refusal_message: Mapped[str | None] = mapped_column(sa.Text)
    outcome_note: Mapped[str | None] = mapped_column(sa.Text)
    answer_nonce: Mapped[str | None] = mapped_column(sa.String(64), info={"sensitive": True})
    #: When the partner's answer link stops working: 8 days after it was sent (or re-sent).
    answer_expires_at: Mapped[dt.datetime | None]

    young_person: Mapped[YoungPerson] = relationship()
    partner: Mapped[Partner] = relationship()
    counsellor: Mapped[User | None] = relationship()
    aid_type: Mapped[AidType | None] = relationship()
    proposal: Mapped[Proposal | None] = relationship()

    def __str__(self) -> str:
        return f"Orientation n°{self.id} vers {self.partner}"


class AidRequest(Timestamped, db.Model):
    """A request for an aid of the catalogue: request → decision → payment, within a budget."""

    __tablename__ = "aid_request"
    __table_args__ = (
        in_list("status", vocab.AID_REQUEST_STATES),
        in_list("payment_method", vocab.PAYMENT_METHODS),
        sa.CheckConstraint("amount_asked > 0", name="asked_positive"),
        sa.CheckConstraint(
            "amount_granted IS NULL OR amount_granted >= 0", name="granted_positive"
        ),
        sa.Index("ix_aid_request_budget", "aid_type_id", "budget_year", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    aid_type_id: Mapped[int] = mapped_column(sa.ForeignKey("aid_type.id", ondelete="RESTRICT"))
    interview_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("interview.id", ondelete="SET NULL")
    )
    counsellor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    amount_asked: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    amount_granted: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    budget_year: Mapped[int]
    decision_date: Mapped[dt.date | None]
    payment_date: Mapped[dt.date | None]
    payment_method: Mapped[str | None] = mapped_column(sa.String(12))
    refusal_reason: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)

    young_person: Mapped[YoungPerson] = relationship()
    aid_type: Mapped[AidType] = relationship()
    interview: Mapped[Interview | None] = relationship()

    def __str__(self) -> str:
        return f"Demande n°{self.id} : {self.aid_type}"


class WorkflowEvent(db.Model):
    """An append-only line of a workflow's log: who fired which transition, when, and why."""

    __tablename__ = "workflow_event"
    __table_args__ = (sa.Index("ix_workflow_event_record", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    entity: Mapped[str] = mapped_column(sa.String(20))
    entity_id: Mapped[int]
    young_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    transition: Mapped[str] = mapped_column(sa.String(32))
    from_state: Mapped[str] = mapped_column(sa.String(20))
    to_state: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    comment: Mapped[str | None] = mapped_column(sa.Text)

    def __str__(self) -> str:
        return f"{self.transition} ({self.from_state} → {self.to_state})"


class AuditEvent(db.Model):
    """One write on one record: who, when, what, and for updates each field's old and new value.

    Append-only: written by the session listeners of ``domain/audit.py`` (and by bulk loaders
    themselves); no screen edits or deletes it. One exception, the right to erasure: an
    anonymisation (``domain/gdpr.py``) keeps each row's action but replaces its values.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.CheckConstraint(
            "action IN ('insert', 'update', 'delete', 'bulk_insert')", name="action_in_list"
        ),
        sa.Index("ix_audit_event_record", "entity", "entity_id"),
        sa.Index("ix_audit_event_parent", "parent_entity", "parent_id"),
        # The journal, newest first, filtered by kind of record or by who.
        sa.Index("ix_audit_event_entity_at", "entity", "at"),
        sa.Index("ix_audit_event_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    action: Mapped[str] = mapped_column(sa.String(12))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[int | None]
    record_version: Mapped[int | None]
    #: The record this one belongs to (a programme's young person), so that its history shows it.
    parent_entity: Mapped[str | None] = mapped_column(sa.String(40))
    parent_id: Mapped[int | None]
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.action} {self.entity} #{self.entity_id}"


class Consent(Timestamped, db.Model):
    """A consent of the young person, for one purpose (``CONSENT_PURPOSES``): how and when it
    was given, who recorded it, and its withdrawal."""

    __tablename__ = "consent"
    __table_args__ = (
        in_list("purpose", vocab.CONSENT_PURPOSES),
        in_list("method", vocab.CONSENT_METHODS),
        sa.CheckConstraint(
            "withdrawn_on IS NULL OR withdrawn_on >= given_on", name="withdrawn_after_given"
        ),
        sa.Index("ix_consent_youth_purpose", "young_person_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE")
    )
    purpose: Mapped[str] = mapped_column(sa.String(12))
    #: The partner the data may be shared with (purpose ``sharing``).
    partner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(sa.String(10))
    given_on: Mapped[dt.date]
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    withdrawn_on: Mapped[dt.date | None]

    partner: Mapped[Partner | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return vocab.CONSENT_PURPOSES.label(self.purpose)


class Consultation(db.Model):
    """Who opened a young person's file, exported or anonymised their data, and when (CNIL
    practice for social data)."""

    __tablename__ = "consultation"
    __table_args__ = (
        sa.Index("ix_consultation_file", "young_person_id", "at"),
        in_list("kind", vocab.CONSULTATION_KINDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    young_person_id: Mapped[int] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(10), default="view", server_default="view")

    user: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.user} {self.at:%d/%m/%Y %H:%M}"


class OutboxMessage(db.Model):
    """An e-mail, written in the same transaction as the change that causes it and sent later
    by ``flask outbox-send`` / ``flask tick`` (``domain/outbox.py``): an SMTP outage loses
    nothing, a rolled-back change sends nothing."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        in_list("status", vocab.OUTBOX_STATUSES),
        in_list("kind", vocab.NOTICE_KINDS),
        # What the sender picks: the messages due, oldest first.
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    #: Scheduled messages (reminders) carry a key, so a second run writes none.
    key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    attachment_name: Mapped[str | None] = mapped_column(sa.String(100))
    attachment: Mapped[str | None] = mapped_column(sa.Text)  # an .ics, as text
    young_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[dt.datetime | None]
    #: A sender's claim on the message while it sends it: another sender leaves it alone.
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    claimed_until: Mapped[dt.datetime | None]

    user: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"


class Notification(db.Model):
    """A line in a counsellor's notifications (home page): a partner answered, a referral to
    chase, an aid decided… read or unread."""

    __tablename__ = "notification"
    __table_args__ = (
        in_list("kind", vocab.NOTICE_KINDS),
        sa.Index("ix_notification_user", "user_id", "read_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    young_person_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("young_person.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)
    text: Mapped[str] = mapped_column(sa.String(300))
    #: What the line opens: ``referral``, ``aid_request`` or ``young_person``, and its id.
    entity: Mapped[str | None] = mapped_column(sa.String(20))
    entity_id: Mapped[int | None]
    read_at: Mapped[dt.datetime | None]

    def __str__(self) -> str:
        return self.text


class SchedulerLock(db.Model):
    """A named lock in the database: one ``flask tick`` at a time, whatever the server."""

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(sa.String(64))
    until: Mapped[dt.datetime | None]


class ImportRun(db.Model):
    """One import: who, when, which file, and what it did (or would have done)."""

    __tablename__ = "import_run"
    __table_args__ = (
        sa.CheckConstraint("mode IN ('dry_run', 'commit', 'valid_only')", name="mode_in_list"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    actor_label: Mapped[str] = mapped_column(sa.String(120))
    entity: Mapped[str] = mapped_column(sa.String(20), index=True)
    filename: Mapped[str] = mapped_column(sa.String(255))
    mode: Mapped[str] = mapped_column(sa.String(12))
    written: Mapped[bool] = mapped_column(default=False)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)

    user: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.entity} {self.filename} {self.at:%d/%m/%Y %H:%M}"


# The counsellors' screen shows each caseload beside the name, sortable, in the list query itself.
User.caseload_count = column_property(
    # count(*), not count(id): answered from the (referent_id, status) index alone.
    sa.select(sa.func.count())
    .select_from(YoungPerson)
    .where(YoungPerson.referent_id == User.id, YoungPerson.status != "exited")
    .correlate_except(YoungPerson)
    .scalar_subquery(),
    deferred=True,  # loaded by the counsellors' screen only, not with every user
)
