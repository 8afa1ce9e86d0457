"""The interview loop closes (issue #13): each interview starts from what the last one produced —
every action and every open proposal followed up — records only what was said, writes nothing to
the file before it is validated, and can be thrown away."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from backoffice.domain import interviews as rules
from backoffice.domain import values
from backoffice.extensions import db
from backoffice.models import (
    Action,
    DiagnosisEntry,
    Interview,
    Objective,
    Partner,
    Proposal,
    Referral,
)

from .test_interviews import NOW, _domains, _history, _interview, _start, _step

HEADER = dict(
    starts_at="2026-11-20T10:00", channel="appointment", kind="follow_up", attendance="present"
)


def _earlier_work(youth):
    """A validated interview two weeks ago: four actions, two proposals, one objective."""
    previous = _interview(
        youth,
        NOW - dt.timedelta(days=14),
        autonomy_level="2",
        next_appointment=NOW,
    )
    actions = {
        name: Action(
            young_person_id=youth.id,
            set_at_id=previous.id,
            what=name,
            who="young_person",
            due_date=dt.date(2026, 11, 15),
        )
        for name in ("CV", "CPAM", "Mission locale", "Permis")
    }
    partner = Partner(name="Centre de formation Horizons", kind="training_body")
    proposals = {
        kind: Proposal(
            interview_id=previous.id,
            young_person_id=youth.id,
            kind=kind,
            description=f"{kind} proposé",
            outcome="prescribed",
        )
        for kind in ("training", "job")
    }
    objective = Objective(
        young_person_id=youth.id, statement="Avoir mon permis", agreed_at_id=previous.id
    )
    db.session.add_all([partner, objective, *actions.values(), *proposals.values()])
    db.session.commit()
    return previous, actions, proposals, objective


def _going_in_circles(youth):
    """Three interviews up to today with nothing concrete and nothing done: flagged."""
    _history(
        youth,
        [False, False, False],
        [None, None, None],
        start=dt.datetime.combine(dt.date.today(), dt.time(9)),
    )


def _finish_steps(client, interview):
    """Steps 2 to 5 with what validation needs."""
    _step(client, interview, 2, **HEADER)
    _step(client, interview, 3)
    _step(client, interview, 4, **{"new-0-kind": "workshop", "new-0-description": "Atelier CV"})
    _step(
        client,
        interview,
        5,
        **{
            "new-0-what": "Finir le CV",
            "new-0-who": "young_person",
            "new-0-created_by": "young_person",
            "new-0-due": "2026-12-01",
            "autonomy_level": "3",
        },
    )


def test_every_action_and_proposal_is_followed_up_and_applied_at_validation(client, youth):
    _previous, actions, proposals, objective = _earlier_work(youth)
    interview = _start(client, youth)
    page = client.get(f"/admin/interviews/{interview.id}/step/1").get_data(as_text=True)
    assert "training proposé" in page and "Les propositions en attente de suite" in page
    ids = {name: a.id for name, a in actions.items()}
    # Postponed needs its new date.
    body = _step(client, interview, 1, **{f"actions-{ids['CV']}-choice": "postponed"}).get_data(
        as_text=True
    )
    assert "Reporté à quand ?" in body
    assert (
        f'id="erreur-actions-{ids["CV"]}-due"' in body
    )  # the message sits under the date it asks for
    reviews = {
        f"actions-{ids['CV']}-choice": "postponed",
        f"actions-{ids['CV']}-due": "2026-12-05",
        f"actions-{ids['CPAM']}-choice": "done",
        f"actions-{ids['Mission locale']}-choice": "abandoned",
        f"actions-{ids['Mission locale']}-by": "structure",
        f"actions-{ids['Mission locale']}-note": "Atelier supprimé",
        f"actions-{ids['Permis']}-choice": "ongoing",
        f"proposals-{proposals['training'].id}-outcome": "done",
        f"proposals-{proposals['job'].id}-outcome": "ongoing",
        f"objectives-{objective.id}-status": "reached",
    }
    assert _step(client, interview, 1, **reviews).status_code == 302
    _finish_steps(client, interview)

    db.session.expire_all()
    # Nothing on the file before validation.
    assert {
        a.status for a in db.session.scalars(sa.select(Action).where(Action.id.in_(ids.values())))
    } == {"planned"}
    assert db.session.get(Proposal, proposals["training"].id).outcome == "prescribed"
    assert db.session.get(Objective, objective.id).status == "open"
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Atelier CV" not in file and "Finir le CV" not in file  # the draft's additions

    problems = rules.completion_problems(db.session, db.session.get(Interview, interview.id))
    assert problems == []
    response = client.post(f"/admin/interviews/{interview.id}/complete")
    assert response.status_code == 302 and "/file/" in response.headers["Location"]
    db.session.expire_all()
    status = {name: db.session.get(Action, i) for name, i in ids.items()}
    assert status["CV"].status == "in_progress" and status["CV"].due_date == dt.date(2026, 12, 5)
    assert status["CPAM"].status == "done"
    assert status["Mission locale"].status == "cancelled_structure"
    assert status["Mission locale"].outcome_note == "Atelier supprimé"
    assert status["Permis"].status == "in_progress"
    assert all(a.reviewed_at_id == interview.id for a in status.values())
    assert db.session.get(Proposal, proposals["training"].id).outcome == "done"
    assert db.session.get(Proposal, proposals["job"].id).outcome == "prescribed"  # asked again
    assert db.session.get(Objective, objective.id).status == "reached"

    # The next interview asks again about what is still open, and only that.
    following = _start(client, youth)
    page = client.get(f"/admin/interviews/{following.id}/step/1").get_data(as_text=True)
    assert "job proposé" in page and "training proposé" not in page
    assert "<b>CV</b>" in page and "<b>CPAM</b>" not in page


def test_validation_waits_for_each_open_proposal(client, youth):
    _previous, actions, proposals, _objective = _earlier_work(youth)
    interview = _start(client, youth)
    _step(client, interview, 1, **{f"actions-{a.id}-choice": "done" for a in actions.values()})
    _finish_steps(client, interview)
    client.post(f"/admin/interviews/{interview.id}/complete")
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "draft"
    summary = client.get(f"/admin/interviews/{interview.id}/step/6").get_data(as_text=True)
    assert "Des propositions précédentes attendent leur suite" in summary


def test_a_discarded_draft_leaves_the_file_as_it_was(client, youth):
    _previous, actions, _proposals, objective = _earlier_work(youth)
    partner = db.session.scalar(sa.select(Partner))
    interview = _start(client, youth)
    _step(
        client,
        interview,
        1,
        **{f"actions-{a.id}-choice": "done" for a in actions.values()},
        **{f"objectives-{objective.id}-status": "abandoned"},
    )
    _step(
        client,
        interview,
        2,
        **HEADER,
        **{f"domains-{_domains()['sante']}-assessment": "identified"},
    )
    _step(client, interview, 3, **{"new-0-statement": "Trouver un appartement"})
    _step(
        client,
        interview,
        4,
        **{
            "new-0-kind": "training",
            "new-0-description": "Formation cariste",
            "new-0-partner": str(partner.id),
        },
    )
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 1  # a draft referral

    response = client.post(f"/admin/interviews/{interview.id}/discard")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Interview, interview.id) is None
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(DiagnosisEntry.id))) == 0
    assert [o.statement for o in db.session.scalars(sa.select(Objective))] == ["Avoir mon permis"]
    assert db.session.get(Objective, objective.id).status == "open"
    assert {a.status for a in db.session.scalars(sa.select(Action))} == {"planned"}
    # A validated interview cannot be discarded.
    previous = db.session.scalar(sa.select(Interview).where(Interview.status == "completed"))
    client.post(f"/admin/interviews/{previous.id}/discard")
    assert db.session.get(Interview, previous.id) is not None


def test_the_file_shows_the_next_appointment_and_the_domains_left_aside(client, youth, app):
    d = _domains()
    old = _interview(youth, dt.datetime(2025, 11, 1, 10, 0))
    db.session.add(
        DiagnosisEntry(
            interview_id=old.id,
            young_person_id=youth.id,
            domain_id=d["logement"],
            assessment="identified",
        )
    )
    upcoming = dt.datetime.now().replace(microsecond=0) + dt.timedelta(days=3)
    _interview(youth, dt.datetime.now() - dt.timedelta(days=1), next_appointment=upcoming)
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert upcoming.strftime("%d/%m/%Y à %H:%M") in file
    assert "Non revus depuis 6 mois" in file
    assert "Logement (le 01/11/2025)" in file and "Santé (jamais abordé)" in file
    app.config["DIAGNOSIS_REVIEW_MONTHS"] = 24  # configurable: two years covers 2025
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Logement (le" not in file and "Santé (jamais abordé)" in file


def test_months_before_keeps_the_calendar():
    assert rules.months_before(dt.date(2026, 11, 28), 6) == dt.date(2026, 5, 28)
    assert rules.months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert rules.months_before(dt.date(2026, 3, 15), 3) == dt.date(2025, 12, 15)
    assert rules.months_before(dt.date(2026, 1, 10), 13) == dt.date(2024, 12, 10)


def test_the_stalling_alert_spares_those_en_veille_and_quotes_its_rule(client, youth, app):
    from backoffice.models import YoungPerson

    _going_in_circles(youth)
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Sans progression." in file and "lors des 3 derniers entretiens" in file
    mine = client.get("/admin/myyoungperson/?flt0_0=1").get_data(as_text=True)
    assert "Amrani" in mine
    # En veille: the accompaniment is paused, no alert anywhere.
    db.session.get(YoungPerson, youth.id).status = "on_hold"
    db.session.commit()
    assert "Sans progression." not in client.get(f"/admin/interviews/file/{youth.id}").get_data(
        as_text=True
    )
    assert "Amrani" not in client.get("/admin/myyoungperson/?flt0_0=1").get_data(as_text=True)
    assert (
        "Amrani" not in client.get("/admin/").get_data(as_text=True).split("Sans progression")[-1]
    )
    # The thresholds come from the configuration, and the screens quote them.
    rules.configure(rules.StallingRule(interviews=2, days_without_interview=30))
    try:
        db.session.get(YoungPerson, youth.id).status = "active"
        rules.refresh_progress(db.session, [youth.id])
        db.session.commit()
        file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
        assert "lors des 2 derniers entretiens" in file
    finally:
        rules.configure(rules.StallingRule())


def test_the_stalling_alert_opens_a_referral_to_a_psychologist(client, youth):
    from .factories import make_partner

    make_partner(name="Cabinet dentaire", kind="doctor")
    psy = make_partner(name="CMP Jeunes adultes", kind="psychologist")
    _going_in_circles(youth)
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    link = file.split('id="refer-psychologist" href="')[1].split('"')[0].replace("&amp;", "&")
    form = client.get(link).get_data(as_text=True)
    assert f'<option selected value="{psy.id}">' in form or (f'value="{psy.id}" selected' in form)
    assert f'value="{youth.id}" selected' in form or f'<option selected value="{youth.id}">' in form


def test_a_missed_appointment_is_recorded_from_the_file_and_an_absence_counts(client, youth):
    appointment = dt.datetime.now().replace(second=0, microsecond=0) - dt.timedelta(days=1)
    _interview(youth, appointment - dt.timedelta(days=14), next_appointment=appointment)
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "qu&#39;est-il devenu" in file or "qu'est-il devenu" in file
    url = f"/admin/interviews/file/{youth.id}/attendance"
    # Postponed needs the new date, in the future.
    body = client.post(url, data={"attendance": "postponed"}, follow_redirects=True)
    assert "Reporté à quand" in body.get_data(as_text=True)
    past = (appointment - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    body = client.post(
        url, data={"attendance": "postponed", "new_appointment": past}, follow_redirects=True
    )
    assert "doit être à venir" in body.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Interview.id))) == 1
    later = (dt.datetime.now() + dt.timedelta(days=6)).replace(second=0, microsecond=0)
    client.post(
        url, data={"attendance": "postponed", "new_appointment": later.strftime("%Y-%m-%dT%H:%M")}
    )
    recorded = db.session.scalar(sa.select(Interview).where(Interview.attendance == "postponed"))
    assert recorded.starts_at == appointment and recorded.next_appointment == later
    file = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert f"Prochain rendez-vous :</b> {later.strftime('%d/%m/%Y à %H:%M')}" in file
    assert "Reporté" in file


def test_an_absence_counts_in_the_stalling_rule_a_cancellation_does_not(client, youth):
    start = dt.datetime.combine(dt.date.today(), dt.time(9)) - dt.timedelta(days=30)
    for n, attendance in enumerate(("present", "present", "cancelled_structure")):
        _interview(youth, start + dt.timedelta(days=7 * n), attendance=attendance)
    assert not rules.stalling(db.session, youth.id, dt.date.today()).flagged
    _interview(youth, start + dt.timedelta(days=28), attendance="absent")
    verdict = rules.stalling(db.session, youth.id, dt.date.today())
    assert verdict.flagged and rules.REASONS[rules.NO_OUTCOME] in verdict.reasons


def test_an_aid_proposal_carries_its_amount_to_the_aid_request(client, youth):
    from backoffice.models import AidRequest

    from .factories import make_aid_type

    tickets = make_aid_type(name="Tickets de bus", unit="ticket", default_amount=Decimal("20"))
    interview = _start(client, youth)
    row = {"new-0-kind": "financial_aid", "new-0-description": "Tickets pour les rendez-vous"}
    for typed, message in (
        ("1.500", "est ambigu"),  # refused, never read as 1,5
        ("-3", "un nombre négatif n&#39;est pas accepté"),
        ("0", "Un montant plus grand que zéro"),
    ):
        body = _step(
            client, interview, 4, **row, **{"new-0-aid": str(tickets.id), "new-0-amount": typed}
        ).get_data(as_text=True)
        assert "new-0-amount" in body and 'aria-invalid="true"' in body, typed
        assert message in body, typed
    body = _step(client, interview, 4, **row, **{"new-0-amount": "10"}).get_data(as_text=True)
    assert "Un montant va avec une aide du catalogue" in body.replace("&#39;", "'")
    assert db.session.scalar(sa.select(sa.func.count(AidRequest.id))) == 0
    _step(client, interview, 4, **row, **{"new-0-aid": str(tickets.id), "new-0-amount": "10"})
    request = db.session.scalar(sa.select(AidRequest))
    assert request.amount_asked == Decimal("10")  # what was proposed, not the default 20
    assert db.session.scalar(sa.select(Proposal)).amount == Decimal("10")
    page = client.get(f"/admin/interviews/{interview.id}/step/4").get_data(as_text=True)
    assert "Tickets de bus, 10\u00a0tickets" in page


def test_step_4_offers_first_the_partners_of_the_needs_noted_today(client, youth):
    from backoffice.models import Theme

    from .factories import make_partner

    housing = Theme(code="logement", name="Logement")
    db.session.add(housing)
    make_partner(name="Auto-école solidaire", kind="driving_school")
    fjt = make_partner(name="FJT Les Acacias", kind="fjt")
    fjt.themes.append(housing)
    db.session.commit()
    interview = _start(client, youth)
    page = client.get(f"/admin/interviews/{interview.id}/step/4").get_data(as_text=True)
    assert "En lien avec les besoins" not in page  # nothing noted yet: one plain list
    _step(
        client,
        interview,
        2,
        **HEADER,
        **{f"domains-{_domains()['logement']}-assessment": "identified"},
    )
    page = client.get(f"/admin/interviews/{interview.id}/step/4").get_data(as_text=True)
    first = page.split("En lien avec les besoins notés aujourd")[1].split("</optgroup>")[0]
    assert "FJT Les Acacias" in first and "Auto-école solidaire" not in first
    assert "Auto-école solidaire" in page.split("Autres partenaires")[1]


# --- appointments: the counsellor's day and week (issue #13) -----------------------------------


def _appointment_set(youth, held: dt.datetime, appointment: dt.datetime):
    return _interview(youth, held, autonomy_level="2", next_appointment=appointment)


def test_past_appointments_leave_today_and_wait_to_be_recorded_from_home(client, youth):
    now = values.local_now().replace(second=0)
    superseded = now + dt.timedelta(hours=1)
    past = now - dt.timedelta(hours=3)
    _appointment_set(youth, now - dt.timedelta(days=20), superseded)  # held since: not shown
    _appointment_set(youth, now - dt.timedelta(days=6), past)
    home = client.get("/admin/").get_data(as_text=True)
    assert "Rendez-vous passés, à pointer" in home and past.strftime("%d/%m %H:%M") in home
    today = home[home.index('id="today"') : home.index("Cette semaine")]
    assert str(youth) not in today  # neither the past one nor the superseded one
    # Recorded from the home page, back to it.
    response = client.post(
        f"/admin/interviews/file/{youth.id}/attendance",
        data={
            "attendance": "absent",
            "appointment": past.strftime("%Y-%m-%dT%H:%M"),
            "back": "/admin/",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    recorded = db.session.scalar(sa.select(Interview).where(Interview.attendance == "absent"))
    assert recorded.starts_at == past
    home = client.get("/admin/").get_data(as_text=True)
    assert "Rendez-vous passés, à pointer" not in home
    # The same form posted again (another tab): refused, nothing recorded twice.
    again = client.post(
        f"/admin/interviews/file/{youth.id}/attendance",
        data={
            "attendance": "absent",
            "appointment": past.strftime("%Y-%m-%dT%H:%M"),
            "back": "/admin/",
        },
        follow_redirects=True,
    )
    assert "déjà été pointé" in again.get_data(as_text=True)
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Interview.attendance == "absent")) == 1
    )


def test_the_attendance_form_never_sends_elsewhere(client, youth):
    past = values.local_now().replace(second=0) - dt.timedelta(hours=3)
    _appointment_set(youth, past - dt.timedelta(days=6), past)
    response = client.post(
        f"/admin/interviews/file/{youth.id}/attendance",
        data={"attendance": "cancelled_youth", "back": "https://evil.example/"},
    )
    assert "evil" not in response.headers["Location"]


def test_the_week_view_shows_each_day_and_records_the_past(client, youth, counsellor):
    from .factories import make_young_person

    now = values.local_now().replace(second=0)
    coming = (now + dt.timedelta(days=10)).replace(hour=14, minute=30)
    other = make_young_person(site_id=counsellor.site_id, referent=counsellor, last_name="Zed")
    _appointment_set(youth, now - dt.timedelta(days=4), coming)
    past = now - dt.timedelta(days=1)
    _appointment_set(other, now - dt.timedelta(days=9), past)
    page = client.get(f"/admin/interviews/agenda?semaine={coming.date().isoformat()}")
    body = page.get_data(as_text=True)
    monday = coming.date() - dt.timedelta(days=coming.weekday())
    assert f"semaine du {monday.strftime('%d/%m/%Y')}" in body
    day = body[body.index(f'id="day-{coming.date().isoformat()}"') :]
    assert (
        day.index("14:30") < day.index("</section>")
        and str(youth) in day[: day.index("</section>")]
    )
    assert body.count('class="card card-body mb-2 agenda-day') == 7
    this_week = client.get(f"/admin/interviews/agenda?semaine={past.date().isoformat()}")
    assert "Présent : commencer l&#39;entretien" in this_week.get_data(as_text=True) or (
        "Présent : commencer l'entretien" in this_week.get_data(as_text=True)
    )
    bad = client.get("/admin/interviews/agenda?semaine=32/13/2026")
    assert bad.status_code == 200 and "Semaine invalide" in bad.get_data(as_text=True)


# --- the wizard as declared steps ---------------------------------------------------------------


def test_each_step_is_one_declaration_and_one_partial(app):
    from pathlib import Path

    from backoffice.views import wizard

    templates = Path(app.root_path) / "templates"
    assert [s.key for s in wizard.STEPS] == [key for _n, key, _t in rules.STEPS]
    for step in wizard.STEPS:
        assert (templates / step.template).is_file(), step.template
        assert issubclass(step.form_class, wizard.StepForm)


def test_rows_meet_their_records_by_id_whatever_the_order(app):
    from werkzeug.datastructures import MultiDict

    from backoffice.views import wizard

    with app.test_request_context():
        form = wizard.SinceForm(
            formdata=MultiDict(
                {"actions-42-choice": "done", "actions-7-choice": "ongoing", "actions-7-due": ""}
            )
        )
        assert form.actions.row(7).form.choice.data == "ongoing"
        assert form.actions.row(42).form.choice.data == "done"
        assert form.actions.row(5).form.choice.data is None  # a row not posted is empty
        assert form.actions.row(42).form.choice.id == "actions-42-choice"
        form = wizard.SinceForm(formdata=MultiDict({"actions-3-choice": "maybe"}))
        assert not form.validate()
        assert wizard.field_errors(form) == {
            "actions-3-choice": "Revue de l'action : choix invalide."
        }
