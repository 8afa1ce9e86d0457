"""Flask CLI commands; each is a thin call into ``domain/`` or ``seed/``."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask import current_app

from .domain import audit
from .domain import vocabularies as vocab
from .extensions import analyze, db
from .models import Site, User


def init_app(app) -> None:
    """Register the commands on ``app``; their writes are audited as ``cli:<command>``."""
    for command in (
        create_user,
        seed_catalogue,
        seed_demo,
        demo_bootstrap,
        import_csv,
        export_csv,
        imports_purge,
        referrals_expire,
        tick,
        outbox_send,
        progress_refresh,
        gdpr_export,
        gdpr_anonymise,
        gdpr_register,
        retention,
    ):
        app.cli.add_command(command)


def act_as(command_name: str) -> None:
    """Name the CLI command as the actor of the writes that follow."""
    audit.set_actor(db.session, None, f"cli:{command_name}")


def create_or_update_user(
    email: str, role: str, password: str, site_name: str | None, full_name: str | None
) -> User:
    """Create the account (or update role, site and password of an existing one)."""
    if role not in vocab.ROLES:
        raise ValueError(f"unknown role {role!r}")
    if len(password) < 12:
        raise ValueError("the password must have at least 12 characters")
    site = None
    if site_name:
        site = db.session.scalar(sa.select(Site).where(Site.name == site_name))
        if site is None:
            site = Site(name=site_name)
            db.session.add(site)
    email = email.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name=full_name or email.split("@")[0], active=True)
        db.session.add(user)
    user.role = role
    user.site = site
    if full_name:
        user.full_name = full_name
    user.set_password(password)
    db.session.commit()
    return user


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(vocab.ROLES.codes), required=True)
@click.option("--site", "site_name", help="Site (antenne) name; created if it does not exist.")
@click.option("--name", "full_name", help="Full name shown in the screens.")
@click.option("--password", help="At least 12 characters; prompted (hidden) when absent.")
def create_user(email, role, site_name, full_name, password):
    """Create a staff account, or update an existing one's role, site and password."""
    act_as("create-user")
    if password is None:
        password = click.prompt("Mot de passe", hide_input=True, confirmation_prompt=True)
    try:
        user = create_or_update_user(email, role, password, site_name, full_name)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Compte {user.email} ({user.role}) prêt.")


@click.command("seed-catalogue")
def seed_catalogue():
    """Load the reference lists, the partners and the aid catalogue (idempotent)."""
    from seed.catalogue import load_catalogue

    act_as("seed-catalogue")
    counts = load_catalogue(db.session)
    click.echo(", ".join(f"{name}: +{n}" for name, n in counts.items()))


#: The tables the demo fills in bulk: their statistics are refreshed after a seed.
SEEDED_TABLES = (
    "young_person",
    "programme",
    "interview",
    "diagnosis_entry",
    "objective",
    "action",
    "proposal",
    "audit_event",
)


@click.command("seed-demo")
@click.option("--youths", default=300, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option(
    "--histories",
    "histories_limit",
    default=500,
    show_default=True,
    type=click.IntRange(0, 2_000_000),
    help="How many young people get a history of interviews.",
)
@click.option(
    "--max-interviews",
    default=6,
    show_default=True,
    type=click.IntRange(1, 40),
    help="Interviews per history at most (1 to N each; past 6 they span two years).",
)
def seed_demo(youths, seed_value, histories_limit, max_interviews):
    """Demo sites, accounts, counsellors and N young people (deterministic, idempotent)."""
    from seed.catalogue import load_catalogue
    from seed.demo import seed_demo as run_seed_demo
    from seed.demo import seed_histories, seed_messages, seed_workflows

    act_as("seed-demo")
    started = time.perf_counter()
    load_catalogue(db.session)
    counts = run_seed_demo(db.session, youths, seed_value)
    histories = seed_histories(db.session, min(youths, histories_limit), seed_value, max_interviews)
    seed_messages(db.session, seed_value)
    seed_workflows(db.session, min(youths, 120), seed_value)
    analyze(db.session, *SEEDED_TABLES, vacuum=True)
    elapsed = time.perf_counter() - started
    click.echo(
        f"{counts['young_people']} jeunes et {counts['programmes']} programmes ajoutés, "
        f"{histories['interviews']} entretiens pour {histories['young_people']} jeunes, "
        f"en {elapsed:.1f} s."
    )


@click.command("demo-bootstrap")
@click.option("--youths", default=300, show_default=True, type=click.IntRange(0, 2_000_000))
@click.option("--url", default="http://127.0.0.1:5000/", show_default=True)
def demo_bootstrap(youths, url):
    """Load the catalogue and demo data when the database has no account, then print the logins."""
    from seed.catalogue import load_catalogue
    from seed.demo import (
        DEMO_ACCOUNTS,
        DEMO_PASSWORD,
        seed_histories,
        seed_messages,
        seed_workflows,
    )
    from seed.demo import seed_demo as run_seed_demo

    act_as("demo-bootstrap")
    if db.session.scalar(sa.select(sa.func.count(User.id))) == 0:
        load_catalogue(db.session)
        run_seed_demo(db.session, youths)
        seed_histories(db.session, min(youths, 500))
        seed_messages(db.session)
        seed_workflows(db.session, min(youths, 120))
        analyze(db.session, *SEEDED_TABLES, vacuum=True)
        click.echo(f"Base vide : catalogue et {youths} jeunes de démonstration chargés.")
    click.echo("")
    click.echo(f"  Back-office : {url}")
    click.echo(f"  Base : {current_app.config['SQLALCHEMY_DATABASE_URI']}")
    for account in DEMO_ACCOUNTS:
        click.echo(f"  {vocab.ROLES.label(account.role):<26} {account.email}  /  {DEMO_PASSWORD}")
    if not current_app.config.get("MAIL_SERVER"):
        click.echo("")
        click.echo(
            "  E-mails : pas de MAIL_SERVER, ils restent dans la boîte d'envoi (écran « Messages "
            "envoyés », compte administration)."
        )
    click.echo("")


class _EntityChoice(click.Choice):
    """The declared import entities, read from the registry when the command runs."""

    def __init__(self):
        super().__init__([])

    @property
    def choices(self):
        from .domain.csvio import ENTITIES

        return list(ENTITIES)

    @choices.setter
    def choices(self, value):
        pass


ENTITY_CHOICE = _EntityChoice()


@click.command("import-csv")
@click.argument("entity", type=ENTITY_CHOICE)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count, write nothing.")
@click.option("--valid-only", is_flag=True, help="Write the valid rows, skip the invalid ones.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the counts.")
def import_csv(entity, file, dry_run, valid_only, as_json):
    """Import a CSV or .xlsx file; exit code 1 when the file is refused."""
    import json
    from pathlib import Path

    from .domain.csvio import log_import, run_import, spec_for

    act_as("import-csv")
    path = Path(file)
    report = run_import(  # streamed from the file, with no size limit (uploads keep theirs)
        db.session,
        spec_for(entity),
        path,
        path.name,
        commit=not dry_run,
        valid_only=valid_only,
        max_bytes=None,
    )
    mode = "dry_run" if dry_run else ("valid_only" if valid_only else "commit")
    log_import(db.session, report, user_id=None, mode=mode)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        click.echo(
            f"{report.created} créé(s), {report.updated} modifié(s), {report.unchanged} "
            f"inchangé(s), {report.skipped} ignoré(s), {len(report.errors)} erreur(s)."
        )
        for error in report.errors[:50]:
            column = f" [{error.column}]" if error.column else ""
            click.echo(f"  ligne {error.line}{column} : {error.message}", err=True)
        if report.refused:
            click.echo("Fichier refusé : rien n'a été écrit.", err=True)
    if report.refused:
        raise SystemExit(1)


@click.command("export-csv")
@click.argument("entity", type=ENTITY_CHOICE)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    help="File to write (default: standard output).",
)
def export_csv(entity, output):
    """Export every record of ENTITY as CSV (UTF-8 with BOM, semicolons), re-importable as is."""
    from .domain.csvio import csv_stream, export_cells, spec_for

    spec = spec_for(entity)
    fields = spec.fields(db.session)
    query = db.session.query(spec.model).order_by(spec.model.id)
    chunks = csv_stream(fields, export_cells(spec, fields, query))
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            for chunk in chunks:
                handle.write(chunk)
    else:
        for chunk in chunks:
            click.echo(chunk, nl=False)


@click.command("imports-purge")
def imports_purge():
    """Delete uploaded import files waiting for more than an hour (they hold personal data)."""
    from pathlib import Path

    from .domain.csvio import uploads

    count = uploads.purge(Path(current_app.config["IMPORT_UPLOAD_FOLDER"]))
    click.echo(f"{count} fichier(s) d'import supprimé(s).")


@click.command("referrals-expire")
def referrals_expire():
    """Expire referrals sent more than 30 days ago without answer (daily cron; idempotent)."""
    import datetime as dt

    from .domain.referrals import expire_overdue

    act_as("referrals-expire")
    count = expire_overdue(db.session, dt.date.today())
    db.session.commit()
    click.echo(f"{count} orientation(s) expirée(s).")


def _smtp_settings():
    from .domain import outbox

    return outbox.SmtpSettings.from_config(current_app.config)


@click.command("outbox-send")
@click.option(
    "--retry-now",
    is_flag=True,
    help="Also the messages waiting for their next attempt (after an SMTP outage is fixed).",
)
def outbox_send(retry_now):
    """Send the e-mails waiting in the outbox (``flask tick`` does it too)."""
    from .domain import outbox

    settings = _smtp_settings()
    if not settings.server:
        pending = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(outbox.OutboxMessage)
            .where(outbox.OutboxMessage.status == "pending")
        )
        click.echo(
            f"MAIL_SERVER n'est pas configuré : {pending} message(s) restent dans la boîte "
            "d'envoi (écran Messages envoyés)."
        )
        return
    counts = outbox.send_due(db.session, settings, retry_now=retry_now)
    click.echo(
        f"{counts['sent']} message(s) envoyé(s), {counts['retry']} à réessayer plus tard, "
        f"{counts['failed']} abandonné(s)."
    )


#: How long one tick may hold the lock; a tick that dies frees it after this.
TICK_LOCK = 15 * 60


@click.command("tick")
def tick():
    """What runs on a schedule (cron: every 5 minutes), idempotent, once at a time whatever the
    number of servers (a lock in the database): expire unanswered referrals and tell who must
    chase, write tomorrow's appointment reminders, send the outbox, delete abandoned import
    uploads, old sent messages and read notifications, anonymise the young people at the end
    of their retention and purge the journals past theirs."""
    import datetime as dt
    import os
    import socket
    from pathlib import Path

    from .domain import gdpr, notices, outbox, scheduler
    from .domain.csvio import uploads
    from .domain.referrals import expire_overdue
    from .models import utcnow

    act_as("tick")
    holder = f"{socket.gethostname()}:{os.getpid()}"
    if not scheduler.acquire(db.session, "tick", holder, utcnow(), dt.timedelta(seconds=TICK_LOCK)):
        click.echo("Un autre « flask tick » est en cours : rien à faire.")
        return
    try:
        today = dt.date.today()
        expired = expire_overdue(db.session, today)
        chased = notices.chase_due(db.session, today)
        reminded = notices.reminders_due(db.session, today)
        db.session.commit()
        counts = outbox.send_due(db.session, _smtp_settings())
        purged = uploads.purge(Path(current_app.config["IMPORT_UPLOAD_FOLDER"]))
        notices.purge(db.session, utcnow(), current_app.config["NOTICES_KEEP_DAYS"])
        kept = gdpr.retention(
            db.session,
            today,
            current_app.config["RETENTION_YEARS"],
            current_app.config["LOG_RETENTION_DAYS"],
            apply=True,
        )
        db.session.commit()
    finally:
        db.session.rollback()
        scheduler.release(db.session, "tick", holder)
    click.echo(
        f"{expired} orientation(s) expirée(s), {chased} à relancer, {reminded} rappel(s) de "
        f"rendez-vous, {counts['sent']} message(s) envoyé(s) ({counts['retry']} à réessayer), "
        f"{purged} fichier(s) d'import supprimé(s), {len(kept['anonymise'])} jeune(s) "
        "anonymisé(s) en fin de conservation."
    )


@click.command("progress-refresh")
def progress_refresh():
    """Recompute every young person's *sans progression* state and chain of held interviews
    from the interviews (after a change of rule, or a restore); the app keeps them up to date
    otherwise."""
    from .domain.interviews import refresh_progress, sync_chain
    from .models import YoungPerson

    started = time.perf_counter()
    count = refresh_progress(db.session, sa.select(YoungPerson.id))
    sync_chain(db.session, db.session.scalars(sa.select(YoungPerson.id)).all())
    db.session.commit()
    click.echo(f"{count} jeunes recalculés en {time.perf_counter() - started:.1f} s.")


@click.command("gdpr-export")
@click.argument("young_person_id", type=int)
@click.option("--output", "-o", required=True, help="The .zip to write.")
def gdpr_export(young_person_id, output):
    """Write YOUNG_PERSON_ID's complete record (right of access) as a zip: JSON and CSV."""
    from .domain import gdpr
    from .models import YoungPerson

    if db.session.get(YoungPerson, young_person_id) is None:
        raise click.ClickException(f"Jeune n°{young_person_id} inconnu.")
    act_as("gdpr-export")
    data = gdpr.export_zip(db.session, young_person_id, None)
    db.session.commit()
    with open(output, "wb") as handle:
        handle.write(data)
    click.echo(f"Données du jeune n°{young_person_id} écrites dans {output}.")


@click.command("gdpr-anonymise")
@click.argument("young_person_id", type=int)
@click.option("--reason", required=True, help="Why (an erasure request, the end of retention…).")
@click.option("--requested-by", default="la direction", show_default=True, help="Who asked.")
def gdpr_anonymise(young_person_id, reason, requested_by):
    """Anonymise YOUNG_PERSON_ID for good (identity, contact and free texts; counts kept)."""
    from .domain import gdpr

    act_as("gdpr-anonymise")
    try:
        gdpr.anonymise(db.session, young_person_id, reason, requested_by, None)
    except gdpr.AnonymisationRefused as refusal:
        db.session.rollback()
        raise click.ClickException(str(refusal)) from refusal
    db.session.commit()
    click.echo(f"Jeune n°{young_person_id} anonymisé.")


@click.command("gdpr-register")
@click.option("--output", "-o", default="docs/registre-des-traitements.md", show_default=True)
def gdpr_register(output):
    """Write the processing register generated from the data model."""
    from .domain import gdpr

    with open(output, "w", encoding="utf-8") as handle:
        handle.write(gdpr.register_markdown())
    click.echo(f"Registre écrit dans {output}.")


@click.command("retention")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="List only (default).")
@click.option("--apply", "mode", flag_value="apply", help="Anonymise and purge.")
def retention(mode):
    """List, or apply, what the retention rules anonymise or purge today, and why."""
    import datetime as dt

    from .domain import gdpr

    act_as("retention")
    config = current_app.config
    report = gdpr.retention(
        db.session,
        dt.date.today(),
        config["RETENTION_YEARS"],
        config["LOG_RETENTION_DAYS"],
        apply=mode == "apply",
    )
    verb = "anonymisé" if mode == "apply" else "à anonymiser"
    for young_person_id, why in report["anonymise"]:
        click.echo(f"jeune n°{young_person_id} {verb} : {why}")
    click.echo(
        f"{len(report['anonymise'])} jeune(s) {verb}(s) ; "
        f"{report['audit_events']} ligne(s) du journal et {report['consultations']} "
        f"consultation(s) de plus de {config['LOG_RETENTION_DAYS']} jours, "
        f"{report['answer_links']} lien(s) de réponse expiré(s) "
        + ("supprimés." if mode == "apply" else "à supprimer.")
    )
    if mode == "apply":
        db.session.commit()
    else:
        db.session.rollback()
