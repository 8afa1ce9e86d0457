"""The interview wizard: can a counsellor run a real follow-up from start to finish, resume it,
print the summary — and is a young person going in circles flagged, and only then?"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from backoffice.domain import interviews as rules
from backoffice.extensions import db
from backoffice.models import (
    Action,
    DiagnosisDomain,
    DiagnosisEntry,
    Interview,
    Objective,
    Proposal,
)

from .factories import make_aid_type, make_site, make_young_person

NOW = dt.datetime(2026, 11, 20, 10, 0)


def _interview(youth, when, status="completed", **kw):
    interview = Interview(
        young_person_id=youth.id,
        counsellor_id=youth.referent_id,
        starts_at=when,
        status=status,
        **kw,
    )
    db.session.add(interview)
    db.session.commit()
    return interview


def _start(client, youth):
    response = client.post(f"/admin/interviews/new/{youth.id}")
    assert response.status_code == 302
    return db.session.scalar(sa.select(Interview).where(Interview.status == "draft"))


def _step(client, interview, number, go="next", **data):
    return client.post(f"/admin/interviews/{interview.id}/step/{number}", data={"go": go, **data})


def _domains():
    return {d.code: d.id for d in db.session.scalars(sa.select(DiagnosisDomain))}


def test_a_first_interview_skips_since_last_time_and_completes(client, youth):
    interview = _start(client, youth)
    assert interview.kind == "first" and interview.step == 2
    assert (
        client.get(f"/admin/interviews/{interview.id}/step/1")
        .headers["Location"]
        .endswith(f"/{interview.id}/step/2")
    )
    d = _domains()
    response = _step(
        client,
        interview,
        2,
        starts_at="2026-11-20T10:00",
        channel="appointment",
        kind="first",
        attendance="present",
        duration_minutes="45",
        **{
            f"domains-{d['logement']}-assessment": "identified",
            f"domains-{d['logement']}-situations": "Hébergé chez un tiers",
            f"domains-{d['logement']}-words": "Je dors chez mon cousin",
            f"domains-{d['sante']}-assessment": "no_need",
        },
    )
    assert response.headers["Location"].endswith("/step/3")
    entry = db.session.scalar(
        sa.select(DiagnosisEntry).where(DiagnosisEntry.domain_id == d["logement"])
    )
    assert entry.situations == ["Hébergé chez un tiers"]
    assert entry.young_person_words == "Je dors chez mon cousin"

    _step(
        client,
        interview,
        3,
        **{
            "new-0-statement": "Avoir mon propre appartement",
            "new-0-suggestion": "Demande de logement en FJT",
            "new-0-domain": str(d["logement"]),
        },
    )
    objective = db.session.scalar(sa.select(Objective))
    assert objective.statement == "Avoir mon propre appartement"
    assert objective.agreed_at_id == interview.id

    aid = make_aid_type(code="FAJ-LOGEMENT", name="FAJ logement")
    _step(
        client,
        interview,
        4,
        **{
            "new-0-kind": "financial_aid",
            "new-0-description": "Dépôt de garantie FJT",
            "new-0-aid": str(aid.id),
        },
    )
    assert db.session.scalar(sa.select(Proposal.aid_type_id)) == aid.id

    _step(
        client,
        interview,
        5,
        **{
            "new-0-what": "Remplir le dossier FJT",
            "new-0-who": "young_person",
            "new-0-created_by": "young_person",
            "new-0-due": "2026-11-27",
            "autonomy_level": "2",
            "next_appointment": "2026-11-27T14:00",
            "public_summary": "On monte le dossier FJT ensemble.",
        },
    )
    summary = client.get(f"/admin/interviews/{interview.id}/step/6").get_data(as_text=True)
    assert "Avoir mon propre appartement" in summary and "Remplir le dossier FJT" in summary
    response = client.post(f"/admin/interviews/{interview.id}/complete")
    assert response.headers["Location"].endswith(f"/admin/interviews/file/{youth.id}")
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "completed"


def test_each_step_validates_on_its_own(client, youth):
    interview = _start(client, youth)
    body = _step(
        client,
        interview,
        2,
        starts_at="hier",
        channel="appointment",
        kind="first",
        attendance="present",
    ).get_data(as_text=True)
    assert "« hier » n&#39;est pas une date" in body and 'value="hier"' in body  # kept
    body = _step(
        client,
        interview,
        3,
        **{"new-0-statement": "Trouver une formation", "new-0-suggestion": "trouver une formation"},
    ).get_data(as_text=True)
    assert "Ce sont les mots du conseiller" in body
    body = _step(client, interview, 3, **{"new-0-suggestion": "Faire un CV"}).get_data(as_text=True)
    assert "sa formulation est obligatoire" in body
    assert db.session.scalar(sa.select(sa.func.count(Objective.id))) == 0
    body = _step(client, interview, 4).get_data(as_text=True)
    assert "ajoutez une proposition, ou dites pourquoi" in body
    body = _step(
        client,
        interview,
        5,
        **{"new-0-what": "Appeler", "new-0-who": "young_person", "new-0-created_by": "counsellor"},
    ).get_data(as_text=True)
    assert "Une échéance évite de tourner en rond" in body


def test_finishing_without_outcome_needs_a_reason(client, youth):
    interview = _start(client, youth)
    response = _step(client, interview, 4, no_outcome_reason="Le jeune ne s'est pas décidé.")
    assert response.headers["Location"].endswith("/step/5")
    _step(
        client,
        interview,
        5,
        **{
            "new-0-what": "Réfléchir aux métiers",
            "new-0-who": "young_person",
            "new-0-created_by": "counsellor",
            "new-0-due": "2026-12-01",
            "autonomy_level": "1",
        },
    )
    client.post(f"/admin/interviews/{interview.id}/complete")
    db.session.expire_all()
    assert db.session.get(Interview, interview.id).status == "completed"


def test_validation_lists_what_is_missing(client, youth):
    interview = _start(client, youth)
    response = client.post(f"/admin/interviews/{interview.id}/complete", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Aucune réalisation concrète" in body and "Aucune action" in body
    assert db.session.get(Interview, interview.id).status == "draft"


def test_a_draft_resumes_where_it_was_and_back_keeps_what_was_typed(client, youth):
    interview = _start(client, youth)
    _step(
        client,
        interview,
        2,
        go="next",
        starts_at="2026-11-20T10:00",
        channel="phone",
        kind="first",
        attendance="present",
    )
    _step(client, interview, 3, go="prev", **{"new-0-statement": "Passer le permis"})
    assert db.session.scalar(sa.select(Objective.statement)) == "Passer le permis"
    again = client.post(f"/admin/interviews/new/{youth.id}")  # the same draft, at step 3
    assert again.headers["Location"].endswith(f"/{interview.id}/step/3")
    page = client.get(f"/admin/interviews/{interview.id}/step/2").get_data(as_text=True)
    assert 'value="phone" selected' in page


def test_a_follow_up_reviews_the_previous_actions(client, youth):
    previous = _interview(youth, NOW - dt.timedelta(days=14), autonomy_level="1")
    action = Action(
        young_person_id=youth.id,
        set_at_id=previous.id,
        what="Appeler la CPAM",
        who="young_person",
        due_date=dt.date(2026, 11, 15),
    )
    db.session.add(action)
    db.session.commit()
    interview = _start(client, youth)
    assert interview.kind == "follow_up" and interview.step == 1
    page = client.get(f"/admin/interviews/{interview.id}/step/1").get_data(as_text=True)
    assert "Appeler la CPAM" in page
    body = _step(client, interview, 1, **{f"actions-{action.id}-choice": "abandoned"}).get_data(
        as_text=True
    )
    assert "Qui a abandonné l&#39;action" in body  # who gave it up, then why
    body = _step(
        client,
        interview,
        1,
        **{f"actions-{action.id}-choice": "abandoned", f"actions-{action.id}-by": "structure"},
    ).get_data(as_text=True)
    assert "Dites pourquoi l&#39;action est abandonnée." in body
    _step(
        client,
        interview,
        1,
        **{
            f"actions-{action.id}-choice": "abandoned",
            f"actions-{action.id}-by": "structure",
            f"actions-{action.id}-note": "Plus de rendez-vous à la CPAM avant janvier",
        },
    )
    db.session.expire_all()
    # Kept on the draft, not yet on the file: the action is still open.
    assert db.session.get(Action, action.id).status == "planned"
    assert (
        rules.pending(db.session.get(Interview, interview.id), "actions")[str(action.id)]["by"]
        == "structure"
    )


def test_the_diagnosis_records_only_what_was_discussed(client, youth):
    previous = _interview(youth, NOW - dt.timedelta(days=14))
    d = _domains()
    db.session.add(
        DiagnosisEntry(
            interview_id=previous.id,
            young_person_id=youth.id,
            domain_id=d["logement"],
            assessment="in_progress",
            situations=["Hébergé chez un tiers"],
            young_person_words="toujours chez mon cousin",
        )
    )
    db.session.commit()
    interview = _start(client, youth)
    page = client.get(f"/admin/interviews/{interview.id}/step/2").get_data(as_text=True)
    # The last word is shown beside the domain, never selected for today.
    assert "toujours chez mon cousin" in page and "Dernier point" in page
    assert 'value="in_progress" selected' not in page
    assert page.count("Non abordé aujourd'hui") == 2
    header = dict(
        starts_at="2026-11-20T10:00", channel="appointment", kind="follow_up", attendance="present"
    )
    # A situation ticked without saying where the domain stands is refused, not guessed.
    body = _step(
        client,
        interview,
        2,
        **header,
        **{f"domains-{d['logement']}-situations": "Hébergé chez un tiers"},
    ).get_data(as_text=True)
    assert "Logement : où en est ce domaine ?" in body
    _step(client, interview, 2, **header, **{f"domains-{d['sante']}-assessment": "identified"})
    recorded = db.session.scalars(
        sa.select(DiagnosisEntry).where(DiagnosisEntry.interview_id == interview.id)
    ).all()
    assert [(e.domain_id, e.assessment) for e in recorded] == [(d["sante"], "identified")]
    # Set back to "non abordé": today's entry goes away.
    _step(client, interview, 2, **header)
    assert not db.session.scalars(
        sa.select(DiagnosisEntry).where(DiagnosisEntry.interview_id == interview.id)
    ).all()


def test_printable_summary_has_no_private_notes(client, youth):
    interview = _interview(
        youth,
        NOW,
        private_notes="Note confidentielle",
        public_summary="On avance sur le logement.",
        next_appointment=dt.datetime(2026, 12, 4, 9, 30),
    )
    db.session.add(
        Action(
            young_person_id=youth.id,
            set_at_id=interview.id,
            what="Envoyer le CV",
            who="young_person",
            due_date=dt.date(2026, 12, 1),
        )
    )
    db.session.commit()
    page = client.get(f"/admin/interviews/{interview.id}/summary").get_data(as_text=True)
    assert "Envoyer le CV" in page and "pour le 01/12/2026" in page
    assert "04/12/2026 à 09:30" in page and "On avance sur le logement." in page
    assert "Note confidentielle" not in page


def test_another_sites_young_person_does_not_exist(client, counsellor):
    other = make_young_person(site=make_site(), last_name="Ailleurs")
    interview = _interview(other, NOW)
    assert client.post(f"/admin/interviews/new/{other.id}").status_code == 404
    assert client.get(f"/admin/interviews/file/{other.id}").status_code == 404
    assert client.get(f"/admin/interviews/{interview.id}/summary").status_code == 404
    assert client.get(f"/admin/interviews/{interview.id}/step/2").status_code == 404
    assert client.get("/admin/interviews/file/abc").status_code == 404


def test_managers_read_the_file_but_do_not_run_interviews(client, auth):
    site = make_site()
    youth = make_young_person(site=site)
    auth.login(role="manager", site=site)
    assert client.get(f"/admin/interviews/file/{youth.id}").status_code == 200
    assert client.post(f"/admin/interviews/new/{youth.id}").status_code == 403


# --- going in circles --------------------------------------------------------------------------


def _history(youth, proposals: list[bool], actions_done: list[bool | None], start=NOW):
    interviews = []
    for n, has_proposal in enumerate(proposals):
        interview = _interview(youth, start - dt.timedelta(days=14 * (len(proposals) - n)))
        interviews.append(interview)
        if has_proposal:
            db.session.add(
                Proposal(
                    interview_id=interview.id,
                    young_person_id=youth.id,
                    kind="workshop",
                    description="Atelier POP",
                )
            )
        done = actions_done[n]
        if done is not None:
            db.session.add(
                Action(
                    young_person_id=youth.id,
                    set_at_id=interview.id,
                    what="x",
                    status="done" if done else "abandoned_youth",
                )
            )
    db.session.commit()
    return interviews


def test_three_interviews_without_outcome_are_flagged(app, youth):
    _history(youth, [False, False, False], [None, None, None])
    verdict = rules.stalling(db.session, youth.id, NOW.date())
    assert verdict.flagged and verdict.suggest_psychologist
    assert "Aucune réalisation concrète" in verdict.reasons[0]


def test_actions_never_done_are_flagged(app, youth):
    _history(youth, [True, True, True], [False, False, False])
    verdict = rules.stalling(db.session, youth.id, NOW.date())
    assert verdict.flagged and "n'a été réalisée" in verdict.reasons[0]


def test_a_healthy_history_is_not_flagged(app, youth):
    _history(youth, [True, False, True], [True, False, True])
    assert not rules.stalling(db.session, youth.id, NOW.date()).flagged


def test_no_interview_for_45_days_is_flagged(app, youth):
    _history(youth, [True], [True], start=NOW - dt.timedelta(days=60))
    verdict = rules.stalling(db.session, youth.id, NOW.date())
    assert verdict.flagged and not verdict.suggest_psychologist
    assert (
        rules.stalling(
            db.session, youth.id, NOW.date(), rules.StallingRule(days_without_interview=90)
        ).flagged
        is False
    )


def test_the_file_and_the_home_page_say_so(client, youth):
    _history(
        youth,
        [False, False, False],
        [None, None, None],
        start=dt.datetime.combine(dt.date.today(), dt.time(9)),
    )
    file_page = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Sans progression." in file_page and "psychologue" in file_page
    home = client.get("/admin/").get_data(as_text=True)
    assert "Jeunes sans progression" in home and "AMRANI Inès" in home


def test_overdue_actions_are_marked_in_the_file(client, youth):
    interview = _interview(youth, NOW)
    db.session.add(
        Action(
            young_person_id=youth.id,
            set_at_id=interview.id,
            what="Relancer",
            due_date=dt.date.today() - dt.timedelta(days=3),
        )
    )
    db.session.commit()
    page = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert 'class="table-danger overdue"' in page and "en retard" in page
    assert "Relancer" in client.get("/admin/").get_data(as_text=True)


def test_autonomy_over_time(app, youth):
    for days, level in ((30, "1"), (20, "2"), (10, "3")):
        _interview(youth, NOW - dt.timedelta(days=days), autonomy_level=level)
    assert [lvl for _d, lvl in rules.autonomy_series(db.session, youth.id)] == [1, 2, 3]


def test_a_referral_or_an_aid_from_step_4_starts_as_a_draft(client, youth):
    from backoffice.models import AidRequest, Referral

    from .factories import make_partner

    interview = _start(client, youth)
    psy = make_partner(name="Psychologue du CMP", kind="psychologist")
    aid = make_aid_type(code="TICKETS", name="Tickets", category="transport", unit="ticket")
    response = _step(
        client,
        interview,
        4,
        **{
            "new-0-kind": "referral",
            "new-0-description": "Bilan psy",
            "new-0-partner": str(psy.id),
            "new-1-kind": "material_aid",
            "new-1-description": "Tickets",
            "new-1-aid": str(aid.id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    referral = db.session.scalar(sa.select(Referral))
    assert referral.status == "draft" and referral.partner_id == psy.id
    assert referral.reason == "Bilan psy" and referral.consent_at is None
    request = db.session.scalar(sa.select(AidRequest))
    assert request.status == "draft" and request.amount_asked == aid.default_amount
    page = client.get(f"/admin/interviews/file/{youth.id}").get_data(as_text=True)
    assert "Psychologue du CMP" in page and "Brouillon" in page
    form = client.get(f"/admin/referral/new/?young_person={youth.id}").get_data(as_text=True)
    assert f'<option selected value="{youth.id}">' in form


def test_the_young_people_list_links_to_each_file(client, youth):
    page = client.get("/admin/youngperson/").get_data(as_text=True)
    assert f'href="/admin/interviews/file/{youth.id}"' in page


def test_my_young_people_flags_who_is_stalling(client, youth):
    _history(
        youth,
        [False, False, False],
        [None, None, None],
        start=dt.datetime.combine(dt.date.today(), dt.time(9)),
    )
    calm = make_young_person(site=youth.site, referent=youth.referent, last_name="Serein")
    page = client.get("/admin/myyoungperson/").get_data(as_text=True)
    row = page.split("Amrani")[1].split("</tr>")[0]
    assert "sans progression" in row
    calm_row = page.split("Serein")[1].split("</tr>")[0]
    assert "sans progression" not in calm_row and calm.id


def test_each_step_has_its_own_title_and_enter_saves_and_continues(client, youth):
    """Every step names itself in the page's title; the form's first submit button (the one
    Enter presses) is "Enregistrer et continuer", not "Précédent"."""
    import re

    _history(youth, [True], [True], start=dt.datetime.combine(dt.date.today(), dt.time(9)))
    draft = _start(client, youth)
    titles = set()
    for number in range(1, 7):
        html = client.get(f"/admin/interviews/{draft.id}/step/{number}").get_data(as_text=True)
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
        assert f"étape {number} sur 6" in title and "AMRANI Inès" in title
        titles.add(title)
        first = re.search(r'<button[^>]*name="go" value="(\w+)"', html)
        if number < 6:
            assert first.group(1) == "next", number
    assert len(titles) == 6
    file_title = re.search(
        r"<title>(.*?)</title>", client.get(f"/admin/interviews/file/{youth.id}").get_data(True)
    )
    assert "Dossier — AMRANI Inès" in file_title.group(1)
