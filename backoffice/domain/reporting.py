"""The activity report (*Pilotage*): one documented function per indicator, in one place.

Each indicator is a plain, set-based SQL aggregate over a period (``Period``: start included, end
excluded) and a site (None: all sites) — no per-row Python. Its French title and definition are
declared beside it (``INDICATORS``): the screen shows them with each figure, the README lists
them, the .xlsx export carries them. The same functions run for the period and for the same
period one year earlier. Plain Python, no Flask.

Conventions: an interview *held* is a validated interview the young person attended
(``attendance = present``); a date falls in the period when ``start <= date < end``; young people
are counted once (``COUNT(DISTINCT …)``); the site is the young person's site.

Shared passes: several indicators read the same rows (the period's validated interviews, the
young people they concern). Two set-based statements (``_interview_counts`` and ``_profiles``)
read them once per period and site while ``report`` computes the whole report; each indicator
still states its own definition, from their small grouped results. Computed alone (the CSV of
one table, the tests), an indicator runs them itself.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import (
    Action,
    AidRequest,
    AidType,
    Interview,
    Partner,
    Programme,
    Proposal,
    Referral,
    Situation,
    Theme,
    YoungPerson,
)
from . import vocabularies as vocab
from .interviews import stalled_clause
from .values import InvalidValue
from .vocabularies import N_

# --- the period -------------------------------------------------------------------------------

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


@dataclass(frozen=True)
class Period:
    """``start`` included, ``end`` excluded, with its French label."""

    start: dt.date
    end: dt.date
    label: str

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def a_year_earlier(self) -> Period:
        def back(day: dt.date) -> dt.date:
            try:
                return day.replace(year=day.year - 1)
            except ValueError:  # 29 February
                return day.replace(year=day.year - 1, day=28)

        start, end = back(self.start), back(self.end)
        return Period(start, end, _label_of(start, end))

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The period as datetimes, for timestamp columns."""
        return dt.datetime.combine(self.start, dt.time()), dt.datetime.combine(self.end, dt.time())


def _label_of(start: dt.date, end: dt.date) -> str:
    last = end - dt.timedelta(days=1)
    if start.day == 1 and end == _add_months(start, 12) and start.month == 1:
        return f"année {start.year}"
    if start.day == 1 and end == _add_months(start, 3) and start.month in (1, 4, 7, 10):
        return f"T{(start.month - 1) // 3 + 1} {start.year}"
    if start.day == 1 and end == _add_months(start, 1):
        return f"{MONTHS[start.month - 1]} {start.year}"
    return f"du {start:%d/%m/%Y} au {last:%d/%m/%Y}"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, value: str = "", start: str = "", end: str = "") -> Period:
    """The period asked for: ``year`` (``2025``), ``quarter`` (``2025-T2``), ``month``
    (``2025-03``) or ``dates`` (two dates, both included). :class:`InvalidValue` in French."""
    from .values import parse_date

    value = (value or "").strip()
    if kind == "year":
        if not re.fullmatch(r"(19|20)\d\d", value):
            raise InvalidValue(f"Année « {value} » : écrivez-la sur quatre chiffres (2025).")
        start_day = dt.date(int(value), 1, 1)
        return Period(start_day, _add_months(start_day, 12), f"année {value}")
    if kind == "quarter":
        found = re.fullmatch(r"((?:19|20)\d\d)-?T([1-4])", value, re.IGNORECASE)
        if not found:
            raise InvalidValue(f"Trimestre « {value} » : écrivez-le 2025-T1 à 2025-T4.")
        start_day = dt.date(int(found.group(1)), 3 * int(found.group(2)) - 2, 1)
        return Period(
            start_day, _add_months(start_day, 3), _label_of(start_day, _add_months(start_day, 3))
        )
    if kind == "month":
        found = re.fullmatch(r"((?:19|20)\d\d)-(0[1-9]|1[0-2])", value)
        if not found:
            raise InvalidValue(f"Mois « {value} » : écrivez-le 2025-03.")
        start_day = dt.date(int(found.group(1)), int(found.group(2)), 1)
        return Period(
            start_day, _add_months(start_day, 1), _label_of(start_day, _add_months(start_day, 1))
        )
    if kind == "dates":
        if not (start or "").strip() or not (end or "").strip():
            raise InvalidValue("Indiquez la date de début et la date de fin.")
        first, last = parse_date(start), parse_date(end)
        if last < first:
            raise InvalidValue("La date de fin précède la date de début.")
        if (last - first).days > 3 * 366:
            raise InvalidValue("Une période de trois ans au plus.")
        return Period(
            first, last + dt.timedelta(days=1), _label_of(first, last + dt.timedelta(days=1))
        )
    raise InvalidValue("Choisissez une période : mois, trimestre, année ou deux dates.")


# --- tables -----------------------------------------------------------------------------------


@dataclass
class Table:
    """An indicator's figures: one row per label, one value per measure (typed: int, Decimal
    for amounts, averages and shares in %; None when it cannot be computed)."""

    measures: list[str]
    rows: list[tuple[str, list]] = field(default_factory=list)

    def value(self, label: str, measure: int = 0):
        for row_label, row_values in self.rows:
            if row_label == label:
                return row_values[measure]
        raise KeyError(label)

    def as_dict(self) -> dict[str, list]:
        return dict(self.rows)


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    definition: str
    compute: Callable[[Session, Period, int | None], Table]
    #: the chart drawn beside its table: "bar" (first measure per label), or None
    chart: str | None = "bar"


INDICATORS: list[Indicator] = []


def indicator(key: str, title: str, definition: str, chart: str | None = "bar"):
    """Declare an indicator: its function is its definition in SQL, its text the definition
    in French."""

    def register(function):
        INDICATORS.append(Indicator(key, title, definition, function, chart))
        return function

    return register


def by_key() -> dict[str, Indicator]:
    return {i.key: i for i in INDICATORS}


# --- helpers ----------------------------------------------------------------------------------


def _of_site(column, site_id: int | None):
    """SQL: ``column`` (a young person id) belongs to a young person of the site."""
    if site_id is None:
        return sa.true()
    return column.in_(sa.select(YoungPerson.id).where(YoungPerson.site_id == site_id))


def _validated(period: Period):
    """SQL conditions: an interview validated in the period, whatever the attendance (spelled
    with every attendance, so that the ``ix_interview_held`` index answers it)."""
    start, end = period.bounds
    return (
        Interview.status == "completed",
        Interview.attendance.in_(vocab.ATTENDANCE.codes),
        Interview.starts_at >= start,
        Interview.starts_at < end,
    )


def _held_at(held_at, young_person_id, period: Period, site_id: int | None):
    """SQL conditions: a proposal or an action (their ``held_at`` and ``young_person_id``) of
    an interview held in the period, at the site: one range of their ``held_at`` index, which
    ``domain/interviews.py`` keeps (the interview's time when it is held, else NULL)."""
    start, end = period.bounds
    return (held_at >= start, held_at < end, _of_site(young_person_id, site_id))


def _share(part, whole) -> Decimal | None:
    """``part`` in % of ``whole``, to one decimal (None when ``whole`` is nothing)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def _days(session: Session, later, earlier):
    """SQL: days between two timestamps, on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", later - earlier) / 86400.0
    return sa.func.julianday(later) - sa.func.julianday(earlier)


def _labelled(vocabulary: vocab.Vocabulary, counts: dict, measures: int = 1) -> list:
    """Rows in the vocabulary's order, zeros included (a figure absent is a zero, not a gap)."""
    return [
        (vocabulary.label(code), list(counts.get(code, [0] * measures)))
        for code in vocabulary.codes
    ]


# --- shared passes ----------------------------------------------------------------------------

_SHARED = "reporting_shared"


@contextmanager
def _sharing(session: Session) -> Iterator[None]:
    """Within the block, the shared passes run once per (period, site)."""
    session.info[_SHARED] = {}
    try:
        yield
    finally:
        session.info.pop(_SHARED, None)


def _shared(function):
    """A pass that several indicators read: computed once per (period, site) inside
    ``_sharing`` (a report), every time outside it (nothing kept that could go stale)."""

    @functools.wraps(function)
    def run(session: Session, period: Period, site_id: int | None):
        memo = session.info.get(_SHARED)
        if memo is None:
            return function(session, period, site_id)
        key = (function.__name__, period, site_id)
        if key not in memo:
            memo[key] = function(session, period, site_id)
        return memo[key]

    return run


#: The measures of ``_interview_counts``, per (attendance, channel, kind).
INTERVIEWS, FIRST_HELD, TWICE, GAIN, WITH_PROPOSAL = range(5)


@_shared
def _interview_counts(session: Session, period: Period, site_id: int | None) -> dict:
    """{(attendance, channel, kind): [interviews, first held, twice, gain, with a proposal]} of
    the interviews validated in the period, at the site, in one range of the
    ``ix_interview_held`` index. From what ``domain/interviews.py`` keeps on each of them (the
    chain of held interviews, ``has_proposal``):

    - *first held*: held, and the young person's first held one in the period (no held one
      since the start): each young person accompanied in the period counts once;
    - *twice*: the first held one rating autonomy in the period, when another one follows in the
      period: the young people assessed twice or more, once each;
    - *gain*: the level at the latest of those minus the level at the first, added up;
    - *with a proposal*: the interviews that made a proposal at least.
    """
    start, end = period.bounds
    present = Interview.attendance == "present"
    level = sa.cast(Interview.autonomy_level, sa.Integer)
    first_of_two = sa.and_(
        present,
        Interview.autonomy_level.is_not(None),
        sa.or_(Interview.previous_assessed_at.is_(None), Interview.previous_assessed_at < start),
        Interview.next_assessed_at < end,
    )
    last_of_two = sa.and_(
        present,
        Interview.autonomy_level.is_not(None),
        Interview.previous_assessed_at >= start,
        sa.or_(Interview.next_assessed_at.is_(None), Interview.next_assessed_at >= end),
    )
    return {
        (attendance, channel, kind): [n, first_held, twice, gain, proposed]
        for attendance, channel, kind, n, first_held, twice, gain, proposed in session.execute(
            sa.select(
                Interview.attendance,
                Interview.channel,
                Interview.kind,
                sa.func.count(),
                sa.func.count(
                    sa.case(
                        (
                            sa.and_(
                                present,
                                sa.or_(
                                    Interview.previous_held_at.is_(None),
                                    Interview.previous_held_at < start,
                                ),
                            ),
                            1,
                        )
                    )
                ),
                sa.func.count(sa.case((first_of_two, 1))),
                sa.func.coalesce(
                    sa.func.sum(sa.case((last_of_two, level), (first_of_two, -level), else_=0)),
                    0,
                ),
                sa.func.count(sa.case((Interview.has_proposal, 1))),
            )
            .where(*_validated(period), _of_site(Interview.young_person_id, site_id))
            .group_by(Interview.attendance, Interview.channel, Interview.kind)
        )
    }


def _tally(counts: dict, by: str | None, measure: int = INTERVIEWS, **match: str):
    """``_interview_counts``' ``measure`` added up by ``by`` ("attendance", "channel" or
    "kind"; None: one total), over the interviews that ``match`` (``attendance="present"``)."""
    totals: dict[str | None, int] = {}
    for (attendance, channel, kind), values in counts.items():
        row = {"attendance": attendance, "channel": channel, "kind": kind, None: None}
        if all(row[field] == value for field, value in match.items()):
            totals[row[by]] = totals.get(row[by], 0) + values[measure]
    return totals if by else totals.get(None, 0)


AGE_BANDS = ((16, 17), (18, 21), (22, 25))


def _age_band(ref: dt.date):
    """SQL: the young person's age band on ``ref`` ("16-17 ans", …, "26 ans et plus")."""

    def born_after(years: int) -> dt.date:  # younger than ``years`` on ``ref``
        try:
            return ref.replace(year=ref.year - years)
        except ValueError:
            return ref.replace(year=ref.year - years, day=28)

    bands = [
        (
            sa.and_(
                YoungPerson.birth_date > born_after(high + 1),
                YoungPerson.birth_date <= born_after(low),
            ),
            f"{low}-{high} ans",
        )
        for low, high in AGE_BANDS
    ]
    return sa.case(
        *bands,
        (YoungPerson.birth_date <= born_after(26), "26 ans et plus"),
        else_="moins de 16 ans",
    )


@_shared
def _profiles(session: Session, period: Period, site_id: int | None) -> list[tuple]:
    """The young people accompanied in the period (through their first held interview of the
    period, see ``_interview_counts``), grouped by profile: (age band on the period's last day,
    gender, education level, QPV, RQTH, number, of whom flagged *sans progression* today)."""
    start, _end = period.bounds
    profile = (
        _age_band(period.last_day),
        YoungPerson.gender,
        YoungPerson.education_level,
        YoungPerson.qpv_resident,
        YoungPerson.rqth,
    )
    return [
        tuple(row)
        for row in session.execute(
            sa.select(
                *profile,
                sa.func.count(),
                sa.func.count(sa.case((stalled_clause(dt.date.today()), 1))),
            )
            .select_from(Interview)
            .join(YoungPerson, YoungPerson.id == Interview.young_person_id)
            .where(
                *_validated(period),
                Interview.attendance == "present",
                sa.or_(Interview.previous_held_at.is_(None), Interview.previous_held_at < start),
                *((YoungPerson.site_id == site_id,) if site_id is not None else ()),
            )
            .group_by(*profile)
        )
    ]


def _accompanied(profiles: list[tuple], index: int | None = None, value=None, measure=5) -> int:
    """From ``_profiles``: the young people (``measure`` 6: the stalled ones) whose profile
    field ``index`` is ``value`` (all of them when ``index`` is None)."""
    return sum(row[measure] for row in profiles if index is None or row[index] == value)


# --- the indicators ---------------------------------------------------------------------------


@indicator(
    "young_people",
    N_("Jeunes en contact et accompagnés"),
    N_(
        "En contact : jeunes ayant au moins un événement enregistré dans la période (un "
        "entretien validé, quelle que soit la présence ; une orientation envoyée ; une demande "
        "d'aide créée ; une situation commencée). Accompagnés : jeunes ayant eu au moins un "
        "entretien individuel tenu (présent) dans la période. Premiers accueils : entretiens "
        "de premier accueil tenus dans la période."
    ),
)
def young_people(session: Session, period: Period, site_id: int | None) -> Table:
    start, end = period.bounds
    # From the interviews, each young person once: their first held interview of the period
    # (the chain, see ``_interview_counts``) or an interview they missed.
    events = sa.union(
        sa.select(Interview.young_person_id.label("y")).where(
            *_validated(period),
            sa.or_(
                Interview.attendance != "present",
                Interview.previous_held_at.is_(None),
                Interview.previous_held_at < start,
            ),
            _of_site(Interview.young_person_id, site_id),
        ),
        sa.select(Referral.young_person_id).where(
            Referral.sent_at >= start,
            Referral.sent_at < end,
            _of_site(Referral.young_person_id, site_id),
        ),
        sa.select(AidRequest.young_person_id).where(
            AidRequest.created_at >= start,
            AidRequest.created_at < end,
            _of_site(AidRequest.young_person_id, site_id),
        ),
        sa.select(Situation.young_person_id).where(
            Situation.start_date >= period.start,
            Situation.start_date < period.end,
            _of_site(Situation.young_person_id, site_id),
        ),
    ).subquery()
    in_contact = session.scalar(sa.select(sa.func.count()).select_from(events))
    counts = _interview_counts(session, period, site_id)
    return Table(
        [N_("Jeunes")],
        [
            (N_("En contact"), [in_contact]),
            (N_("Accompagnés"), [_tally(counts, None, FIRST_HELD, attendance="present")]),
            (
                N_("Premiers accueils"),
                [_tally(counts, "kind", attendance="present").get("first", 0)],
            ),
        ],
    )


@indicator(
    "interviews_by_channel",
    N_("Entretiens tenus par canal"),
    N_("Entretiens validés dans la période auxquels le jeune était présent, par canal."),
)
def interviews_by_channel(session: Session, period: Period, site_id: int | None) -> Table:
    counts = _tally(_interview_counts(session, period, site_id), "channel", attendance="present")
    return Table(
        [N_("Entretiens")], _labelled(vocab.INTERVIEW_CHANNELS, {k: [v] for k, v in counts.items()})
    )


@indicator(
    "interviews_by_attendance",
    N_("Rendez-vous par présence"),
    N_(
        "Entretiens validés dans la période, par présence : présent, absent non excusé, annulé "
        "par le jeune ou par la structure, reporté."
    ),
)
def interviews_by_attendance(session: Session, period: Period, site_id: int | None) -> Table:
    counts = _tally(_interview_counts(session, period, site_id), "attendance")
    return Table(
        [N_("Entretiens")], _labelled(vocab.ATTENDANCE, {k: [v] for k, v in counts.items()})
    )


@indicator(
    "concrete_outcome",
    N_("Entretiens avec une réalisation concrète"),
    N_(
        "Part des entretiens tenus dans la période qui ont produit au moins une proposition "
        "(formation, emploi, immersion, atelier, aide, orientation…)."
    ),
    chart=None,
)
def concrete_outcome(session: Session, period: Period, site_id: int | None) -> Table:
    counts = _interview_counts(session, period, site_id)
    held = _tally(counts, None, attendance="present")
    concrete = _tally(counts, None, WITH_PROPOSAL, attendance="present")
    return Table(
        [N_("Valeur")],
        [
            (N_("Entretiens tenus"), [held]),
            (N_("dont avec au moins une proposition"), [concrete]),
            (N_("Part (%)"), [_share(concrete, held)]),
        ],
    )


@indicator(
    "proposals",
    N_("Propositions par type et suite"),
    N_(
        "Propositions faites lors des entretiens tenus dans la période, par type, avec leur "
        "suite connue à ce jour (prescrit, réalisé, refus du jeune, refus du tiers)."
    ),
)
def proposals(session: Session, period: Period, site_id: int | None) -> Table:
    counts: dict[str, list[int]] = {}
    outcomes = vocab.PROPOSAL_OUTCOMES.codes
    for kind, outcome, n in session.execute(
        sa.select(Proposal.kind, Proposal.outcome, sa.func.count())
        .where(*_held_at(Proposal.held_at, Proposal.young_person_id, period, site_id))
        .group_by(Proposal.kind, Proposal.outcome)
    ):
        row = counts.setdefault(kind, [0] * (len(outcomes) + 1))
        row[0] += n
        row[1 + outcomes.index(outcome)] += n
    return Table(
        [N_("Total"), *(label for _code, label in vocab.PROPOSAL_OUTCOMES)],
        _labelled(vocab.PROPOSAL_KINDS, counts, len(outcomes) + 1),
    )


ACCEPTED_STATES = ("accepted", "entered", "completed", "dropped_out", "interrupted")


@indicator(
    "referrals",
    N_("Orientations par partenaire"),
    N_(
        "Orientations envoyées dans la période, par partenaire, et ce qu'elles sont devenues à "
        "ce jour : acceptées (y compris entrées, réalisées, abandonnées, interrompues), "
        "refusées, expirées sans réponse ; délai médian de réponse du partenaire, en jours, "
        "entre l'envoi et la réponse."
    ),
)
def referrals(session: Session, period: Period, site_id: int | None) -> Table:
    start, end = period.bounds
    sent = (
        Referral.sent_at >= start,
        Referral.sent_at < end,
        _of_site(Referral.young_person_id, site_id),
    )
    counts = {
        partner: [n, accepted, refused, expired, None]
        for partner, n, accepted, refused, expired in session.execute(
            sa.select(
                Referral.partner_id,
                sa.func.count(),
                sa.func.count(sa.case((Referral.status.in_(ACCEPTED_STATES), 1))),
                sa.func.count(sa.case((Referral.status == "refused", 1))),
                sa.func.count(sa.case((Referral.status == "expired", 1))),
            )
            .where(*sent)
            .group_by(Referral.partner_id)
        )
    }
    delay = _days(session, Referral.answered_at, Referral.sent_at)
    ranked = (
        sa.select(
            Referral.partner_id.label("partner"),
            delay.label("days"),
            sa.func.row_number()
            .over(partition_by=Referral.partner_id, order_by=delay)
            .label("rank"),
            sa.func.count().over(partition_by=Referral.partner_id).label("n"),
        )
        .where(*sent, Referral.answered_at.is_not(None))
        .subquery()
    )
    for partner, median in session.execute(  # the middle one, or the mean of the middle two
        sa.select(ranked.c.partner, sa.func.avg(ranked.c.days))
        .where(
            sa.or_(
                ranked.c.rank == (ranked.c.n + 1) // 2,
                ranked.c.rank == (ranked.c.n + 2) // 2,
            )
        )
        .group_by(ranked.c.partner)
    ):
        if partner in counts and median is not None:
            counts[partner][4] = Decimal(str(round(float(median), 1)))
    names = dict(
        session.execute(
            sa.select(Partner.id, Partner.name).where(Partner.id.in_(list(counts)))
        ).all()
    )
    return Table(
        [
            N_("Envoyées"),
            N_("Acceptées"),
            N_("Refusées"),
            N_("Expirées"),
            N_("Délai médian de réponse (jours)"),
        ],
        sorted(((names[p], v) for p, v in counts.items()), key=lambda row: (-row[1][0], row[0])),
    )


@indicator(
    "referral_refusals",
    N_("Motifs de refus des orientations"),
    N_("Orientations envoyées dans la période et refusées par le partenaire, par motif."),
)
def referral_refusals(session: Session, period: Period, site_id: int | None) -> Table:
    start, end = period.bounds
    counts = dict(
        session.execute(
            sa.select(Referral.refusal_reason, sa.func.count())
            .where(
                Referral.status == "refused",
                Referral.sent_at >= start,
                Referral.sent_at < end,
                _of_site(Referral.young_person_id, site_id),
            )
            .group_by(Referral.refusal_reason)
        ).all()
    )
    return Table(
        [N_("Orientations")], _labelled(vocab.REFUSAL_REASONS, {k: [v] for k, v in counts.items()})
    )


@indicator(
    "aids",
    N_("Aides accordées et enveloppes"),
    N_(
        "Par aide du catalogue : demandes créées dans la période ; demandes accordées (ou "
        "payées) dont la décision date de la période, et leur montant, dans l'unité de l'aide ; "
        "enveloppe annuelle ; part de l'enveloppe consommée par ces accords (toutes antennes "
        "pour l'enveloppe, qui est commune)."
    ),
)
def aids(session: Session, period: Period, site_id: int | None) -> Table:
    start, end = period.bounds
    asked = dict(
        session.execute(
            sa.select(AidRequest.aid_type_id, sa.func.count())
            .where(
                AidRequest.created_at >= start,
                AidRequest.created_at < end,
                _of_site(AidRequest.young_person_id, site_id),
            )
            .group_by(AidRequest.aid_type_id)
        ).all()
    )
    granted = {
        aid: (n, total)
        for aid, n, total in session.execute(
            sa.select(
                AidRequest.aid_type_id,
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(AidRequest.amount_granted), 0),
            )
            .where(
                AidRequest.status.in_(("granted", "paid")),
                AidRequest.decision_date >= period.start,
                AidRequest.decision_date < period.end,
                _of_site(AidRequest.young_person_id, site_id),
            )
            .group_by(AidRequest.aid_type_id)
        )
    }
    rows = []
    for aid in session.scalars(sa.select(AidType).order_by(AidType.name)):
        if aid.id not in asked and aid.id not in granted and not aid.active:
            continue
        n, total = granted.get(aid.id, (0, Decimal(0)))
        total = Decimal(total)
        rows.append(
            (
                f"{aid.name} (en {vocab.AID_UNITS.label(aid.unit)}s)",
                [
                    asked.get(aid.id, 0),
                    n,
                    total,
                    aid.yearly_budget,
                    _share(total, aid.yearly_budget) if aid.yearly_budget else None,
                ],
            )
        )
    return Table(
        [
            N_("Demandes"),
            N_("Accordées"),
            N_("Montant accordé"),
            N_("Enveloppe annuelle"),
            N_("Enveloppe consommée (%)"),
        ],
        rows,
    )


#: The situation families counted as entries (the outcomes reported).
ENTRY_FAMILIES = ("employment", "work_study", "training", "immersion")


def _family_case():
    return sa.case(
        *((Situation.kind == kind, family) for kind, family in vocab.SITUATION_FAMILY_OF.items()),
        else_="other",
    )


@indicator(
    "situations",
    N_("Entrées en situation"),
    N_(
        "Situations commencées dans la période, par famille : emploi (dont emploi durable : CDI "
        "et CDD de 6 mois ou plus), alternance, formation, immersion ; et nombre de jeunes ayant "
        "au moins une entrée en emploi, alternance, formation ou immersion."
    ),
)
def situations(session: Session, period: Period, site_id: int | None) -> Table:
    family = _family_case()
    in_period = (
        Situation.start_date >= period.start,
        Situation.start_date < period.end,
        _of_site(Situation.young_person_id, site_id),
    )
    counts = dict(
        session.execute(sa.select(family, sa.func.count()).where(*in_period).group_by(family)).all()
    )
    lasting, people = session.execute(
        sa.select(
            sa.func.count(sa.case((Situation.kind.in_(vocab.LASTING_EMPLOYMENT), 1))),
            sa.func.count(
                sa.distinct(sa.case((family.in_(ENTRY_FAMILIES), Situation.young_person_id)))
            ),
        ).where(*in_period)
    ).one()
    rows = [
        (vocab.SITUATION_FAMILIES.label(code), [counts.get(code, 0)]) for code in ENTRY_FAMILIES
    ]
    rows.insert(1, (N_("dont emploi durable (CDI, CDD de 6 mois ou plus)"), [lasting]))
    rows += [
        (vocab.SITUATION_FAMILIES.label(code), [counts.get(code, 0)])
        for code in vocab.SITUATION_FAMILIES.codes
        if code not in ENTRY_FAMILIES
    ]
    rows.append(
        (N_("Jeunes avec au moins une entrée (emploi, alternance, formation, immersion)"), [people])
    )
    return Table([N_("Entrées")], rows)


@indicator(
    "programmes",
    N_("CEJ et PACEA"),
    N_(
        "Par programme : entrées (début dans la période) ; jeunes dans le programme à un moment "
        "de la période (commencé avant sa fin, pas terminé avant son début) ; sorties (fin "
        "effective dans la période)."
    ),
)
def programmes(session: Session, period: Period, site_id: int | None) -> Table:
    site = _of_site(Programme.young_person_id, site_id)
    counts = {
        kind: [entries, present, exits]
        for kind, entries, present, exits in session.execute(
            sa.select(
                Programme.kind,
                sa.func.count(
                    sa.case(
                        (
                            sa.and_(
                                Programme.start_date >= period.start,
                                Programme.start_date < period.end,
                            ),
                            1,
                        )
                    )
                ),
                sa.func.count(sa.distinct(Programme.young_person_id)),
                sa.func.count(
                    sa.case(
                        (
                            sa.and_(
                                Programme.actual_end_date >= period.start,
                                Programme.actual_end_date < period.end,
                            ),
                            1,
                        )
                    )
                ),
            )
            .where(
                site,
                Programme.start_date < period.end,
                sa.or_(
                    Programme.actual_end_date.is_(None), Programme.actual_end_date >= period.start
                ),
            )
            .group_by(Programme.kind)
        )
    }
    return Table(
        [N_("Entrées"), N_("Jeunes dans le programme"), N_("Sorties")],
        _labelled(vocab.PROGRAMME_KINDS, counts, 3),
    )


#: The CEJ asks for 15 hours of activity a week at least.
CEJ_WEEKLY_HOURS = 15


def _mondays(period: Period) -> list[tuple[dt.date, dt.date]]:
    """The weeks (Monday to Sunday) that start in the period, as (Monday, next Monday)."""
    first = period.start + dt.timedelta(days=(7 - period.start.weekday()) % 7)
    weeks = []
    while first < period.end:
        weeks.append((first, first + dt.timedelta(days=7)))
        first += dt.timedelta(days=7)
    return weeks


@indicator(
    "cej_hours",
    N_("CEJ : semaines à 15 heures d'activité ou plus"),
    N_(
        "Pour chaque jeune en CEJ, chaque semaine de la période (du lundi au dimanche) où le "
        "contrat court le lundi. Ses heures : celles des actions réalisées dont l'échéance tombe "
        "dans la semaine (les heures de l'action, sinon celles de sa thématique), plus les heures "
        "hebdomadaires de ses situations en cours ce lundi-là (formation, emploi, immersion…). "
        "Part des semaines qui atteignent 15 heures."
    ),
    chart=None,
)
def cej_hours(session: Session, period: Period, site_id: int | None) -> Table:
    weeks = _mondays(period)
    counted, reached = _cej_weeks(session, weeks, site_id) if weeks else (0, 0)
    return Table(
        [N_("Valeur")],
        [
            (N_("Semaines en CEJ"), [counted]),
            (N_("dont à 15 heures ou plus"), [reached]),
            (N_("Part (%)"), [_share(reached, counted)]),
        ],
    )


def _days_since(session: Session, day, origin: dt.date):
    """SQL: whole days from ``origin`` to a date column, on either engine."""
    if session.get_bind().dialect.name == "postgresql":
        return day - sa.literal(origin, sa.Date)
    return sa.cast(
        sa.func.julianday(day) - sa.func.julianday(sa.literal(origin.isoformat())), sa.Integer
    )


def _week_of(session: Session, day, first_monday: dt.date):
    """SQL: the index of the week (0 for the one starting ``first_monday``) of a date column."""
    return _days_since(session, day, first_monday) // 7


def _cej_weeks(session: Session, mondays: list, site_id: int | None) -> tuple[int, int]:
    """(weeks in CEJ, of which at 15 hours or more), as ``cej_hours`` defines them, per young
    person and week, without listing the weeks.

    The contracts and the situations with weekly hours become steps: +1 contract and +hours at
    the first of the period's Mondays they run on, -1 and -hours after the last. Added up in
    week order for each young person (a window), the steps give spans of weeks over which the
    number of contracts running and the situations' hours do not change. The weeks in CEJ are the
    spans' weeks with a contract running; those at 15 hours are the spans' weeks whose
    situations reach 15 hours alone, and the weeks with done actions (summed per week) that
    reach it with them."""
    first, last = mondays[0][0], mondays[-1][1]
    last_index = len(mondays) - 1

    def span(start, end):
        """SQL: the indexes of the first and the last of the period's Mondays on which a
        (start, end or NULL) range runs."""
        from_start = _days_since(session, start, first)
        to_end = _days_since(session, end, first)
        return (
            sa.case((from_start <= 0, 0), else_=(from_start + 6) // 7).label("first"),
            sa.case(
                (end.is_(None), last_index),
                (to_end >= 7 * last_index, last_index),
                else_=to_end // 7,
            ).label("last"),
        )

    in_cej = (
        Programme.kind == "CEJ",
        Programme.start_date < last,
        sa.or_(Programme.actual_end_date.is_(None), Programme.actual_end_date >= first),
        _of_site(Programme.young_person_id, site_id),
    )
    people = sa.select(Programme.young_person_id).where(*in_cej)
    ranges = (
        sa.union_all(
            sa.select(
                Programme.young_person_id.label("y"),
                *span(Programme.start_date, Programme.actual_end_date),
                sa.literal(0).label("hours"),
                sa.literal(1).label("cej"),
            ).where(*in_cej),
            sa.select(
                Situation.young_person_id,
                *span(Situation.start_date, Situation.end_date),
                Situation.hours_per_week,
                sa.literal(0),
            ).where(
                Situation.hours_per_week.is_not(None),
                Situation.start_date < last,
                sa.or_(Situation.end_date.is_(None), Situation.end_date >= first),
                Situation.young_person_id.in_(people),
            ),
        )
        .cte("ranges")
        .prefix_with("MATERIALIZED")
    )
    runs = ranges.c["last"] >= ranges.c["first"]  # on one of the period's Mondays at least
    steps = sa.union_all(
        sa.select(ranges.c.y, ranges.c["first"].label("w"), ranges.c.hours, ranges.c.cej).where(
            runs
        ),
        sa.select(ranges.c.y, ranges.c["last"] + 1, -ranges.c.hours, -ranges.c.cej).where(runs),
    ).subquery("steps")
    # Several steps in the same week are peers of the window (the default frame, RANGE, adds
    # them all): each reads the week's sums, and all but the last span no week (``until`` is
    # the next step's week: the same one).
    order = {"partition_by": steps.c.y, "order_by": steps.c.w}
    spans = (
        sa.select(
            steps.c.y,
            steps.c.w.label("since"),
            sa.func.lead(steps.c.w, 1, last_index + 1).over(**order).label("until"),
            sa.func.sum(steps.c.hours).over(**order).label("hours"),
            sa.func.sum(steps.c.cej).over(**order).label("cej"),
        )
        .cte("spans")
        .prefix_with("MATERIALIZED")
    )
    week = _week_of(session, Action.due_date, first)
    sqlite = session.get_bind().dialect.name == "sqlite"
    acted = (
        sa.select(
            Action.young_person_id.label("y"),
            week.label("w"),
            sa.func.sum(sa.func.coalesce(Action.hours, Theme.default_hours, 0)).label("hours"),
        )
        .outerjoin(Theme, Action.theme_id == Theme.id)
        .where(
            # Written as in the partial index ix_action_done_due (a literal, which SQLite needs
            # to use it): the period's done actions are a range of it.
            Action.status == sa.literal_column("'done'"),
            Action.due_date >= first,
            Action.due_date < last,
            # SQLite: ``+ 0`` lets that range drive, not a lookup of every action of each young
            # person in CEJ.
            ((Action.young_person_id + 0) if sqlite else Action.young_person_id).in_(people),
        )
        .group_by(Action.young_person_id, week)
        .subquery("acted")
    )
    weeks = spans.c.until - spans.c.since
    enough = spans.c.hours >= CEJ_WEEKLY_HOURS
    counted, by_situations, with_actions = session.execute(
        sa.select(
            sa.select(sa.func.coalesce(sa.func.sum(weeks), 0))
            .where(spans.c.cej > 0)
            .scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(weeks), 0))
            .where(spans.c.cej > 0, enough)
            .scalar_subquery(),
            sa.select(sa.func.count())
            .select_from(acted)
            .join(
                spans,
                sa.and_(
                    spans.c.y == acted.c.y,
                    spans.c.since <= acted.c.w,
                    spans.c.until > acted.c.w,
                ),
            )
            .where(
                spans.c.cej > 0,
                sa.not_(enough),
                spans.c.hours + acted.c.hours >= CEJ_WEEKLY_HOURS,
            )
            .scalar_subquery(),
        )
    ).one()
    return int(counted), int(by_situations) + int(with_actions)


@indicator(
    "programme_exits",
    N_("Sorties de CEJ et de PACEA par motif"),
    N_("Programmes terminés dans la période, par motif de fin (CEJ et PACEA)."),
)
def programme_exits(session: Session, period: Period, site_id: int | None) -> Table:
    counts: dict[str, list[int]] = {}
    kinds = vocab.PROGRAMME_KINDS.codes
    for reason, kind, n in session.execute(
        sa.select(Programme.end_reason, Programme.kind, sa.func.count())
        .where(
            Programme.actual_end_date >= period.start,
            Programme.actual_end_date < period.end,
            _of_site(Programme.young_person_id, site_id),
        )
        .group_by(Programme.end_reason, Programme.kind)
    ):
        counts.setdefault(reason or "other", [0] * len(kinds))[kinds.index(kind)] += n
    return Table(list(kinds), _labelled(vocab.PROGRAMME_END_REASONS, counts, len(kinds)))


@indicator(
    "exits",
    N_("Sorties de l'accompagnement par motif"),
    N_("Jeunes sortis de l'accompagnement dans la période (date de sortie), par motif."),
)
def exits(session: Session, period: Period, site_id: int | None) -> Table:
    where = [
        YoungPerson.exit_date >= period.start,
        YoungPerson.exit_date < period.end,
    ]
    if site_id is not None:
        where.append(YoungPerson.site_id == site_id)
    counts = dict(
        session.execute(
            sa.select(YoungPerson.exit_reason, sa.func.count())
            .where(*where)
            .group_by(YoungPerson.exit_reason)
        ).all()
    )
    counts = {k or "other": [v] for k, v in counts.items()}
    return Table([N_("Jeunes")], _labelled(vocab.EXIT_REASONS, counts))


@indicator(
    "profile",
    N_("Profil des jeunes accompagnés"),
    N_(
        "Jeunes accompagnés dans la période (au moins un entretien tenu) : âge au dernier jour "
        "de la période, genre, niveau de formation, résidence en QPV, RQTH."
    ),
)
def profile(session: Session, period: Period, site_id: int | None) -> Table:
    profiles = _profiles(session, period, site_id)
    rows: list[tuple[str, list]] = []
    for low, high in AGE_BANDS:
        rows.append((f"Âge : {low}-{high} ans", [_accompanied(profiles, 0, f"{low}-{high} ans")]))
    rows.append(("Âge : 26 ans et plus", [_accompanied(profiles, 0, "26 ans et plus")]))
    rows.append(("Âge : moins de 16 ans", [_accompanied(profiles, 0, "moins de 16 ans")]))
    for code, label in vocab.GENDERS:
        rows.append((f"Genre : {label}", [_accompanied(profiles, 1, code)]))
    for code, label in vocab.EDUCATION_LEVELS:
        rows.append((f"Niveau : {label}", [_accompanied(profiles, 2, code)]))
    rows.append(("Niveau : non renseigné", [_accompanied(profiles, 2, None)]))
    rows.append(("Résident QPV", [_accompanied(profiles, 3, True)]))
    rows.append(("RQTH", [_accompanied(profiles, 4, True)]))
    return Table([N_("Jeunes")], rows)


@indicator(
    "quality",
    N_("Qualité de l'accompagnement"),
    N_(
        "Taux de jeunes sans progression : part des jeunes accompagnés dans la période signalés "
        "« sans progression » à ce jour (règle affichée sur l'accueil). Progression d'autonomie : "
        "moyenne, sur les jeunes ayant au moins deux entretiens tenus et évalués dans la "
        "période, du niveau au dernier moins le niveau au premier (échelle de 1 à 4). Actions "
        "proposées par le jeune : part des actions fixées lors des entretiens tenus dans la "
        "période que le jeune a proposées lui-même."
    ),
    chart=None,
)
def quality(session: Session, period: Period, site_id: int | None) -> Table:
    profiles = _profiles(session, period, site_id)
    counts = _interview_counts(session, period, site_id)
    twice = _tally(counts, None, TWICE, attendance="present")
    gain = _tally(counts, None, GAIN, attendance="present")
    actions, by_youth = session.execute(
        sa.select(
            sa.func.count(),
            sa.func.count(sa.case((Action.created_by == "young_person", 1))),
        ).where(*_held_at(Action.held_at, Action.young_person_id, period, site_id))
    ).one()
    return Table(
        [N_("Valeur")],
        [
            (
                N_("Jeunes sans progression (%)"),
                [_share(_accompanied(profiles, measure=6), _accompanied(profiles))],
            ),
            (
                N_("Progression moyenne d'autonomie (niveaux)"),
                [(Decimal(gain) / twice).quantize(Decimal("0.01")) if twice else None],
            ),
            (N_("Actions proposées par le jeune (%)"), [_share(by_youth, actions)]),
        ],
    )


# --- the report ---------------------------------------------------------------------------------


@dataclass
class Section:
    indicator: Indicator
    current: Table
    previous: Table

    def rows(self) -> list[tuple[str, list, list]]:
        """(label, this period's values, a year earlier's values), labels of both periods."""
        before = self.previous.as_dict()
        now = self.current.as_dict()
        labels = [label for label, _v in self.current.rows]
        labels += [label for label, _v in self.previous.rows if label not in now]
        empty = [None] * len(self.current.measures)
        return [(label, now.get(label, empty), before.get(label, empty)) for label in labels]


@dataclass
class Report:
    period: Period
    previous: Period
    site_id: int | None
    site_name: str
    sections: list[Section]


def report(
    session: Session,
    period: Period,
    site_id: int | None,
    site_name: str = "Toutes les antennes",
    only: list[str] | None = None,
) -> Report:
    """Every indicator (or ``only`` these) for the period and a year earlier."""
    earlier = period.a_year_earlier()
    with _sharing(session):
        sections = [
            Section(i, i.compute(session, period, site_id), i.compute(session, earlier, site_id))
            for i in INDICATORS
            if only is None or i.key in only
        ]
    return Report(period, earlier, site_id, site_name, sections)
