"""Deterministic demo data: sites, staff accounts, counsellors and N young people (Faker fr_FR).

Fast enough for 100,000 young people: Faker fills small pools of names, streets and cities once,
then a seeded ``random.Random`` combines them, and rows go in by batched Core INSERTs.
Idempotent: the same seed always gives the same people in the same order, and a second run only
adds those that are missing (``--youths`` grows the set; it never deletes).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session

from backoffice.domain import audit, search
from backoffice.domain import vocabularies as vocab
from backoffice.models import Programme, Site, User, YoungPerson, utcnow

DEMO_PASSWORD = "demo-mission-locale"
SITES = [
    ("Antenne Lyon Centre", "12 rue de la République", "69002", "Lyon"),
    ("Antenne Villeurbanne", "5 cours Émile Zola", "69100", "Villeurbanne"),
    ("Antenne Vénissieux", "30 avenue Jean Jaurès", "69200", "Vénissieux"),
    ("Antenne Vaulx-en-Velin", "8 place de la Nation", "69120", "Vaulx-en-Velin"),
]
COUNSELLORS_PER_SITE = 4
BATCH = 5000


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    full_name: str
    site: str | None


DEMO_ACCOUNTS = [
    DemoAccount("admin@demo.mission-locale.fr", "admin", "Alice Administratrice", None),
    DemoAccount(
        "conseiller@demo.mission-locale.fr", "counsellor", "Camille Conseillère", SITES[0][0]
    ),
    DemoAccount("direction@demo.mission-locale.fr", "manager", "Dominique Directeur", None),
]


def _ascii(text: str) -> str:
    return (
        unicodedata.normalize("NFKD", text)
        .encode("ascii", "ignore")
        .decode()
        .lower()
        .replace(" ", "")
        .replace("'", "")
    )


def ensure_sites(session: Session) -> list[Site]:
    """The demo sites, created when missing."""
    existing = {s.name: s for s in session.scalars(sa.select(Site))}
    for name, address, postcode, city in SITES:
        if name not in existing:
            existing[name] = Site(name=name, address=address, postcode=postcode, city=city)
            session.add(existing[name])
    session.flush()
    return [existing[name] for name, *_ in SITES]


def ensure_staff(session: Session, sites: list[Site], fake: Faker) -> dict[int, list[int]]:
    """Demo accounts plus counsellors on every site; returns counsellor ids by site id."""
    by_email = {u.email: u for u in session.scalars(sa.select(User))}
    site_by_name = {s.name: s for s in sites}
    for account in DEMO_ACCOUNTS:
        if account.email not in by_email:
            user = User(
                email=account.email,
                role=account.role,
                full_name=account.full_name,
                site=site_by_name.get(account.site),
                active=True,
            )
            user.set_password(DEMO_PASSWORD)
            session.add(user)
            by_email[account.email] = user
    for site_index, site in enumerate(sites):
        for n in range(COUNSELLORS_PER_SITE):
            if site_index == 0 and n == 0:
                continue  # the demo counsellor account is this site's first counsellor
            first, last = fake.first_name(), fake.last_name()
            email = f"{_ascii(first)}.{_ascii(last)}.{site_index}{n}@demo.mission-locale.fr"
            if email not in by_email:
                user = User(
                    email=email,
                    role="counsellor",
                    full_name=f"{first} {last}",
                    site=site,
                    active=True,
                    phone=f"04 72 {site_index + 10:02d} {n + 10:02d} 00",
                )
                user.set_password(DEMO_PASSWORD)
                session.add(user)
                by_email[email] = user
    session.flush()
    counsellors: dict[int, list[int]] = {s.id: [] for s in sites}
    for user in by_email.values():
        if user.role == "counsellor" and user.site_id in counsellors:
            counsellors[user.site_id].append(user.id)
    for ids in counsellors.values():
        ids.sort()
    return counsellors


def _pools(fake: Faker) -> dict[str, list]:
    return {
        "first_F": [fake.first_name_female() for _ in range(300)],
        "first_M": [fake.first_name_male() for _ in range(300)],
        "last": [fake.last_name() for _ in range(1500)],
        "street": [fake.street_address() for _ in range(2000)],
    }


CITIES = [(city, postcode) for _name, _addr, postcode, city in SITES] + [
    ("Bron", "69500"),
    ("Lyon", "69003"),
    ("Lyon", "69007"),
    ("Lyon", "69008"),
    ("Lyon", "69009"),
    ("Saint-Fons", "69190"),
    ("Décines-Charpieu", "69150"),
]


def young_person_rows(count: int, counsellors: dict[int, list[int]], seed: int = 2026):
    """Yield ``count`` deterministic young-person rows (dicts) and their programme (or None)."""
    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    pools = _pools(fake)
    rng = random.Random(seed)
    site_ids = sorted(counsellors)
    today = dt.date.today()
    now = utcnow()
    education = vocab.EDUCATION_LEVELS.codes
    housing = vocab.HOUSING_SITUATIONS.codes
    resources = vocab.RESOURCES.codes
    seen: set[tuple] = set()  # the natural key (name, first name, birth date) stays unique
    for _ in range(count):
        gender = rng.choice("FFMMX" if rng.random() < 0.02 else "FM")
        rqth = rng.random() < 0.04
        while True:
            first = rng.choice(pools["first_F" if gender == "F" else "first_M"])
            last = rng.choice(pools["last"])
            age_days = rng.randint(16 * 365 + 4, (29 if rqth else 25) * 365)
            birth = today - dt.timedelta(days=age_days)
            if (last, first, birth) not in seen:
                seen.add((last, first, birth))
                break
        registered = today - dt.timedelta(days=rng.randint(0, min(age_days - 16 * 365, 3 * 365)))
        site_id = rng.choice(site_ids)
        referents = counsellors[site_id]
        roll = rng.random()
        status = "active" if roll < 0.78 else ("on_hold" if roll < 0.9 else "exited")
        city, postcode = rng.choice(CITIES)
        row = {
            "last_name": last,
            "first_name": first,
            "birth_date": birth,
            "gender": gender,
            "email": f"{_ascii(first)}.{_ascii(last)}{rng.randint(1, 999)}@example.fr",
            # 06 40 to 06 89: numbers that exist (06 3x, 06 9x are not all allocated)
            "phone": f"06 {rng.randint(40, 89)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
            f"{rng.randint(10, 99)}",
            "address": rng.choice(pools["street"]),
            "postcode": postcode,
            "city": city,
            "registration_date": registered,
            "site_id": site_id,
            "referent_id": rng.choice(referents) if referents else None,
            "status": status,
            "exit_reason": rng.choice(vocab.EXIT_REASONS.codes) if status == "exited" else None,
            "exit_date": today - dt.timedelta(days=rng.randint(1, 90))
            if status == "exited"
            else None,
            "education_level": rng.choice(education),
            "rqth": rqth,
            "qpv_resident": rng.random() < 0.3,
            "driving_licence": rng.random() < 0.25,
            "has_vehicle": rng.random() < 0.12,
            "housing_situation": rng.choice(housing),
            "resources": rng.choice(resources),
            "rgpd_consent_date": registered,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        if row["exit_date"] is not None and row["exit_date"] < registered:
            row["exit_date"] = registered
        programme = None
        kind_roll = rng.random()
        if kind_roll < 0.65:
            kind = "PACEA" if kind_roll < 0.35 else "CEJ"
            start = registered + dt.timedelta(days=rng.randint(0, 30))
            months = 24 if kind == "PACEA" else 12
            planned = start + dt.timedelta(days=months * 30)
            ended = status == "exited" or planned < today
            programme = {
                "kind": kind,
                "start_date": start,
                "planned_end_date": planned,
                "actual_end_date": min(planned, today) if ended else None,
                "end_reason": ("term" if planned < today else "request") if ended else None,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            if programme["actual_end_date"] is not None and programme["actual_end_date"] < start:
                programme["actual_end_date"] = start
        yield row, programme


def seed_demo(session: Session, youths: int, seed: int = 2026) -> dict[str, int]:
    """Sites, accounts, counsellors and ``youths`` young people; returns what was added."""
    from backoffice.domain.csvio.engine import bulk_insert

    fake = Faker("fr_FR")
    fake.seed_instance(seed)
    sites = ensure_sites(session)
    counsellors = ensure_staff(session, sites, fake)
    session.commit()
    existing = session.scalar(sa.select(sa.func.count(YoungPerson.id)))
    next_id = (session.scalar(sa.select(sa.func.max(YoungPerson.id))) or 0) + 1
    connection = session.connection()
    added = programmes_added = 0
    rows: list[dict] = []
    programmes: list[dict] = []

    def flush():
        # Core INSERTs with ids chosen here: RETURNING over batches is several times slower.
        nonlocal added, programmes_added
        if rows:
            search.fill_rows(YoungPerson.__table__, rows)
            bulk_insert(connection, YoungPerson.__table__, rows)
        if programmes:
            bulk_insert(connection, Programme.__table__, programmes)
        added += len(rows)
        programmes_added += len(programmes)
        rows.clear()
        programmes.clear()

    for index, (row, programme) in enumerate(young_person_rows(youths, counsellors, seed)):
        if index < existing:
            continue  # already there from an earlier run with the same seed
        row["id"] = next_id
        rows.append(row)
        if programme is not None:
            programmes.append({**programme, "young_person_id": next_id})
        next_id += 1
        if len(rows) >= BATCH:
            flush()
    flush()
    if added:  # Core INSERTs bypass the session listeners: one audit event for the batch
        audit.record_bulk_insert(
            session, "young_person", added, f"seed-demo: {programmes_added} programmes"
        )
    if connection.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        connection.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('young_person', 'id'), "
                "(SELECT coalesce(max(id), 1) FROM young_person))"
            )
        )
    session.commit()
    return {"young_people": added, "programmes": programmes_added}


#: What an action is, who does it, its activity theme and the hours it counts (CEJ).
ACTION_IDEAS = [
    ("Mettre à jour son CV", "young_person", "emploi", 2),
    ("Appeler l'organisme de formation", "young_person", "formation", 1),
    ("Prendre rendez-vous à la CPAM", "young_person", "sante", 1),
    ("Contacter le FJT", "counsellor", "logement", 1),
    ("Préparer l'entretien d'embauche", "young_person", "emploi", 3),
    ("Envoyer trois candidatures", "young_person", "emploi", 4),
    ("Monter le dossier d'aide FAJ", "counsellor", None, None),
    ("Visiter l'auto-école sociale", "young_person", "projet_pro", 2),
    ("Rappeler l'employeur", "counsellor", "emploi", 1),
    ("S'inscrire à l'atelier POP", "young_person", "projet_pro", 6),
]
OBJECTIVE_WORDS = [
    "Je veux passer mon permis",
    "Trouver un apprentissage en cuisine",
    "Avoir mon propre logement",
    "Travailler dans la logistique",
    "Reprendre une formation d'aide-soignante",
    "Améliorer mon français",
    "Gagner un peu d'argent rapidement",
    "Savoir ce que je veux faire",
]
PROPOSALS = [
    ("training", "Formation pré-qualifiante", None),
    ("job", "Offre d'emploi en logistique", None),
    ("workshop", "Atelier POP", "POP"),
    ("material_aid", "Tickets de transport", "TICKETS-TRANSPORT"),
    ("financial_aid", "Aide FAJ mobilité", "FAJ-MOBILITE"),
    ("referral", "Bilan de santé", "BILAN-SANTE"),
    ("immersion", "Immersion de deux semaines (PMSMP)", None),
]


EMPLOYERS = [
    "Boulangerie du Centre",
    "Entrepôt Logistique Rhône",
    "Mairie de Vénissieux",
    "Hôpital Édouard-Herriot",
    "Restaurant Le Comptoir",
    "AFPA Lyon",
    "GRETA Lyon Métropole",
    "Supermarché des Pentes",
    "Garage Moderne",
    "Association Sport dans la Ville",
]
#: How long a situation of each kind lasts when it has a known end (days).
SITUATION_DAYS = {"immersion": 14, "cdd_short": 90, "temping": 30, "training_prequalifying": 120}


def _situation(
    rng: random.Random, kinds: tuple[str, ...], when: dt.datetime, proposal: dict
) -> dict:
    """A situation a realised proposal led to, starting a few days before the interview that
    recorded it."""
    kind = rng.choice(kinds)
    start = (when - dt.timedelta(days=rng.randint(2, 20))).date()
    days = SITUATION_DAYS.get(kind)
    return {
        "young_person_id": proposal["young_person_id"],
        "kind": kind,
        "start_date": start,
        "end_date": start + dt.timedelta(days=days) if days else None,
        "organisation": rng.choice(EMPLOYERS),
        "hours_per_week": rng.choice((None, 35, 35, 24, 20)),
        "proposal_id": proposal["id"],
    }


#: Young people whose histories are generated, written and committed together (flat memory).
HISTORY_CHUNK = 2000


def seed_histories(
    session: Session,
    limit: int = 500,
    seed: int = 2026,
    max_interviews: int = 6,
    only: list[int] | None = None,
    min_interviews: int = 1,
) -> dict[str, int]:
    """Interviews with diagnoses, objectives, actions and proposals for the first ``limit``
    young people without any (1 to ``max_interviews`` each, over up to two years): some
    progress, a few stall (no outcome, nothing done). Streams ``HISTORY_CHUNK`` young people at
    a time through the driver, then keeps their progress state (domain/interviews.py).
    ``only``: these young people (without any interview) rather than the first ones."""
    from backoffice.domain.csvio.engine import bulk_insert
    from backoffice.domain.interviews import refresh_progress
    from backoffice.extensions import analyze
    from backoffice.models import (
        Action,
        AidType,
        DiagnosisDomain,
        DiagnosisEntry,
        Interview,
        Objective,
        Proposal,
        Situation,
        Theme,
    )

    rng = random.Random()
    domains = session.execute(sa.select(DiagnosisDomain.id, DiagnosisDomain.name)).all()
    situations = {
        d.id: [s.label for s in d.situations] for d in session.scalars(sa.select(DiagnosisDomain))
    }
    aids = dict(session.execute(sa.select(AidType.code, AidType.id)).all())
    themes = dict(session.execute(sa.select(Theme.code, Theme.id)).all())
    models = (Interview, DiagnosisEntry, Objective, Action, Proposal, Situation)
    next_ids = {
        model: (session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1 for model in models
    }
    now = utcnow()
    stamp = {"created_at": now, "updated_at": now, "version": 1}
    today = dt.date.today()
    span = 240 if max_interviews <= 6 else 730
    made = {"interviews": 0, "young_people": 0}
    processed = 0  # young people looked at (some too new to have had an interview yet)
    after = 0
    rows: dict[type, list[dict]] = {m: [] for m in models}

    def new(model, **values):
        values["id"] = next_ids[model]
        next_ids[model] += 1
        row = {**stamp, **values}
        rows[model].append(row)
        return row

    while processed < limit:
        # The first ``limit`` young people in accompaniment, by id; those who already have
        # interviews are left as they are (a second run adds nothing).
        candidates = session.execute(
            sa.select(
                YoungPerson.id,
                YoungPerson.referent_id,
                YoungPerson.registration_date,
                sa.select(Interview.id)
                .where(Interview.young_person_id == YoungPerson.id)
                .exists()
                .label("has_history"),
            )
            .where(
                YoungPerson.status != "exited",
                YoungPerson.id > after,
                YoungPerson.id.in_(only) if only is not None else sa.true(),
            )
            .order_by(YoungPerson.id)
            .limit(min(HISTORY_CHUNK, limit - processed))
        ).all()
        if not candidates:
            break
        after = candidates[-1][0]
        processed += len(candidates)
        people = [(i, r, reg) for i, r, reg, has_history in candidates if not has_history]
        if not people:
            continue
        for young_person_id, referent_id, registered in people:
            # One generator per young person: the same history whatever the chunk or the run,
            # so a second run adds nothing (not even to those too new to have an interview).
            rng.seed(seed * 1_000_003 + young_person_id)
            # Situations draw from their own generator: the rest of the history is unchanged.
            srng = random.Random(seed * 7_000_003 + young_person_id)
            stalling = rng.random() < 0.12
            low = max(min_interviews, min(3, max_interviews)) if stalling else min_interviews
            count = rng.randint(low, max_interviews)
            start = max(registered, today - dt.timedelta(days=span))
            gap = max(7, (today - start).days // (count + 1))
            when = dt.datetime.combine(start, dt.time(9 + rng.randint(0, 7), rng.choice((0, 30))))
            objective_id = None
            previous_actions: list[dict] = []
            open_proposals: list[dict] = []
            level = rng.randint(1, 2)
            held: dict | None = None  # the previous held interview (all rate autonomy here)
            for n in range(count):
                when += dt.timedelta(days=gap + rng.randint(-3, 3))
                if when.date() > today:
                    break
                last = n == count - 1
                draft = last and rng.random() < 0.05
                if not stalling and rng.random() < 0.4:
                    level = min(4, level + 1)
                interview = new(
                    Interview,
                    young_person_id=young_person_id,
                    counsellor_id=referent_id,
                    starts_at=when,
                    duration_minutes=rng.choice((30, 45, 60)),
                    channel=rng.choice(("appointment", "appointment", "phone", "walk_in")),
                    kind="first" if n == 0 else "follow_up",
                    attendance="present",
                    status="draft" if draft else "completed",
                    step=2 if draft else 6,
                    autonomy_level=None if draft else str(level),
                    next_appointment=when + dt.timedelta(days=gap) if last else None,
                    completed_at=None if draft else when + dt.timedelta(hours=1),
                    public_summary=None if draft else "Point sur les démarches et la suite.",
                    no_outcome_reason="Le jeune hésite encore." if stalling else None,
                    # the chain of held interviews, as domain/interviews.sync_chain keeps it
                    previous_held_at=None if draft or not held else held["starts_at"],
                    previous_assessed_at=None if draft or not held else held["starts_at"],
                    next_assessed_at=None,
                    has_proposal=False,  # made true below with its proposal
                )
                interview_id = interview["id"]
                if not draft:
                    if held:
                        held["next_assessed_at"] = when
                    held = interview
                if not draft:  # a draft's follow-up waits for its validation
                    for action in previous_actions:
                        action.update(
                            status="abandoned_youth"
                            if stalling
                            else rng.choice(("done", "done", "in_progress")),
                            reviewed_at_id=interview_id,
                        )
                    # Each interview asks what became of the open proposals (issue #13); a
                    # realised job, training or immersion mostly leads to a recorded situation.
                    for proposal in open_proposals:
                        proposal.update(
                            outcome=rng.choice(
                                ("done", "done", "refused_youth", "refused_third", "prescribed")
                            )
                        )
                        offered = vocab.SITUATIONS_FROM_PROPOSAL.get(proposal["kind"], ())
                        if proposal["outcome"] == "done" and offered and srng.random() < 0.75:
                            new(Situation, **_situation(srng, offered, when, proposal))
                    open_proposals = [p for p in open_proposals if p["outcome"] == "prescribed"]
                for domain_id, _name in rng.sample(domains, k=min(3, len(domains))):
                    labels = situations.get(domain_id) or []
                    new(
                        DiagnosisEntry,
                        interview_id=interview_id,
                        young_person_id=young_person_id,
                        domain_id=domain_id,
                        assessment=rng.choice(("identified", "in_progress", "resolved", "no_need")),
                        situations=rng.sample(labels, k=min(1, len(labels))),
                        young_person_words=None,
                    )
                if n == 0:
                    objective_id = new(
                        Objective,
                        young_person_id=young_person_id,
                        domain_id=domains[0][0],
                        statement=rng.choice(OBJECTIVE_WORDS),
                        agreed_at_id=interview_id,
                        target_date=today + dt.timedelta(days=rng.randint(30, 180)),
                        status="open",
                        counsellor_suggestion=None,
                    )["id"]
                if not stalling and not draft:
                    kind, text, aid_code = rng.choice(PROPOSALS)
                    proposal = new(
                        Proposal,
                        interview_id=interview_id,
                        young_person_id=young_person_id,
                        kind=kind,
                        outcome="prescribed",
                        description=text,
                        aid_type_id=aids.get(aid_code),
                        partner_id=None,
                        hours_per_week=None,
                        held_at=when,  # a validated interview, the young person present
                    )
                    interview["has_proposal"] = True
                    open_proposals.append(proposal)
                previous_actions = []
                if not draft:
                    for _ in range(rng.randint(1, 2)):
                        what, who, theme, hours = rng.choice(ACTION_IDEAS)
                        previous_actions.append(
                            new(
                                Action,
                                young_person_id=young_person_id,
                                objective_id=objective_id,
                                set_at_id=interview_id,
                                what=what,
                                who=who,
                                created_by="young_person"
                                if who == "young_person" and level >= 3 and rng.random() < 0.5
                                else "counsellor",
                                due_date=(when + dt.timedelta(days=gap - 2)).date(),
                                status="planned",
                                reviewed_at_id=None,
                                outcome_note=None,
                                theme_id=themes.get(theme),
                                hours=hours,
                                held_at=when,
                            )
                        )
        made["interviews"] += len(rows[Interview])
        made["young_people"] += len({row["young_person_id"] for row in rows[Interview]})
        connection = session.connection()
        for model in models:
            bulk_insert(connection, model.__table__, rows[model])
            rows[model].clear()
        refresh_progress(session, [p[0] for p in people])
        session.commit()
        if processed == len(candidates) and limit > HISTORY_CHUNK:
            # The next chunks' progress queries are planned on these statistics (PostgreSQL
            # would otherwise take the freshly filled tables for empty ones).
            analyze(session, *(m.__tablename__ for m in models))
    if made["interviews"]:
        audit.record_bulk_insert(
            session,
            "interview",
            made["interviews"],
            f"seed-demo: histories of {made['young_people']} young people",
        )
    if session.connection().dialect.name == "postgresql":
        for model in models:
            table = model.__tablename__
            session.connection().execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 1) FROM {table}))"
                )
            )
    session.commit()
    return made


REFERRAL_PATHS = [
    [],
    ["send"],
    ["send", "accept"],
    ["send", "refuse"],
    ["send", "accept", "enter"],
    ["send", "accept", "enter", "complete"],
    ["send", "accept", "enter", "drop_out"],
    ["send", "accept", "enter", "interrupt"],
    ["cancel"],
    ["send", "expire"],
]
AID_PATHS = [
    [],
    ["submit"],
    ["submit", "review"],
    ["submit", "review", "grant"],
    ["submit", "review", "grant", "pay"],
    ["submit", "review", "refuse"],
    ["submit", "review", "postpone"],
    ["close"],
]


def seed_workflows(session: Session, count: int = 60, seed: int = 2026) -> dict[str, int]:
    """Referrals and aid requests in every state, through the workflows themselves (so that
    their event logs and the budgets are consistent). Skipped when some already exist."""
    from backoffice.domain import referrals as flows
    from backoffice.domain.workflow import Actor, TransitionRefused, fire
    from backoffice.models import AidRequest, AidType, Partner, Referral

    if session.scalar(sa.select(sa.func.count(Referral.id))):
        return {"referrals": 0, "aid_requests": 0}
    rng = random.Random(seed + 2)
    people = session.execute(
        sa.select(YoungPerson.id, YoungPerson.referent_id)
        .where(YoungPerson.status == "active")
        .order_by(YoungPerson.id)
        .limit(count)
    ).all()
    partners = session.scalars(sa.select(Partner.id).order_by(Partner.id)).all()
    aids = session.scalars(
        sa.select(AidType).where(AidType.default_amount > 0).order_by(AidType.id)
    ).all()
    staff = Actor(None, "admin", "seed-demo")
    partner_actor = Actor(None, "partner", "partenaire (lien)")
    values = {
        "accept": {"appointment_at": (utcnow() + dt.timedelta(days=5)).strftime("%Y-%m-%dT10:00")},
        "refuse": {"refusal_reason": "full"},
        "cancel": {"comment": "Le jeune a trouvé une autre solution."},
        "complete": {"comment": "Parcours réalisé."},
        "drop_out": {"comment": "Le jeune ne s'est plus présenté."},
        "interrupt": {"comment": "Fin de session anticipée."},
        "expire": {"comment": "Sans réponse après 30 jours."},
        "refuse_aid": {"comment": "Ressources au-dessus du barème."},
        "postpone": {"comment": "Justificatif de domicile manquant."},
        "close": {"comment": "Demande retirée."},
        "pay": {"payment_method": "transfer"},
    }
    made = {"referrals": 0, "aid_requests": 0}
    for index, (young_person_id, referent_id) in enumerate(people):
        if partners and index % 2 == 0:
            referral = Referral(
                young_person_id=young_person_id,
                partner_id=rng.choice(partners),
                counsellor_id=referent_id,
                reason="Proposé lors de l'entretien",
                consent_at=utcnow(),
                shared_fields=["contact", "education_level"],
            )
            session.add(referral)
            session.flush()
            for name in REFERRAL_PATHS[(index // 2) % len(REFERRAL_PATHS)]:
                actor = (
                    Actor(None, "system", "système")
                    if name == "expire"
                    else (partner_actor if name in ("accept", "refuse") else staff)
                )
                fire(session, flows.REFERRAL, referral, name, actor, values.get(name, {}))
            made["referrals"] += 1
        elif aids:
            aid = aids[index % len(aids)]
            request = AidRequest(
                young_person_id=young_person_id,
                aid_type_id=aid.id,
                counsellor_id=referent_id,
                amount_asked=aid.default_amount,
                budget_year=dt.date.today().year,
            )
            session.add(request)
            session.flush()
            try:
                for name in AID_PATHS[(index // 2) % len(AID_PATHS)]:
                    extra = {"amount_granted": str(aid.default_amount)} if name == "grant" else {}
                    fire(
                        session,
                        flows.AID_REQUEST,
                        request,
                        name,
                        staff,
                        {**values.get("refuse_aid" if name == "refuse" else name, {}), **extra},
                    )
            except TransitionRefused:
                pass  # an envelope already spent: the request stays where the budget stopped it
            made["aid_requests"] += 1
    session.commit()
    return made


def seed_messages(session: Session, seed: int = 2026) -> dict[str, int]:
    """One young person in four (with an e-mail address, in accompaniment) agreed to be written
    to by e-mail, and the confirmation of their appointment to come waits in the outbox, as it
    would after their interview (``domain/notices.py``). Skipped when e-mail consents exist."""
    from backoffice.domain import notices
    from backoffice.domain.csvio.engine import bulk_insert
    from backoffice.models import Consent, Interview

    if session.scalar(sa.select(sa.func.count(Consent.id)).where(Consent.purpose == "email")):
        return {"consents": 0, "confirmations": 0}
    rng = random.Random(seed + 3)
    people = session.execute(
        sa.select(YoungPerson.id, YoungPerson.registration_date)
        .where(YoungPerson.status == "active", YoungPerson.email.is_not(None))
        .order_by(YoungPerson.id)
    ).all()
    now = utcnow()
    rows = [
        {
            "young_person_id": person_id,
            "purpose": "email",
            "method": rng.choice(("written", "oral", "signed")),
            "given_on": registered,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for person_id, registered in people
        if rng.random() < 0.25
    ]
    connection = session.connection()
    for start in range(0, len(rows), BATCH):
        bulk_insert(connection, Consent.__table__, rows[start : start + BATCH])
    if rows:
        audit.record_bulk_insert(session, "consent", len(rows), "seed-demo: consentements e-mail")
    today = dt.date.today()
    consenting = sa.select(Consent.young_person_id).where(Consent.purpose == "email")
    upcoming = session.scalars(
        sa.select(Interview)
        .options(sa.orm.joinedload(Interview.young_person))
        .where(
            Interview.status == "completed",
            Interview.next_appointment >= dt.datetime.combine(today, dt.time()),
            Interview.young_person_id.in_(consenting),
        )
        .order_by(Interview.id)
    ).all()
    confirmations = 0
    for interview in upcoming:
        latest = session.scalar(
            sa.select(Interview.id)
            .where(
                Interview.young_person_id == interview.young_person_id,
                Interview.status == "completed",
            )
            .order_by(Interview.starts_at.desc(), Interview.id.desc())
            .limit(1)
        )
        if latest == interview.id:
            notices.appointment_set(session, interview, today)
            confirmations += 1
    session.commit()
    return {"consents": len(rows), "confirmations": confirmations}
