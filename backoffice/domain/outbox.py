"""The e-mail outbox: a message is a row written in the same transaction as the change that
causes it (a rolled-back change sends nothing), and sent later by ``flask outbox-send`` or
``flask tick`` (an SMTP outage loses nothing: the message waits and is tried again, later and
later, then set aside for an admin to look at).

Sending uses the standard library (``smtplib`` and ``email.message.EmailMessage``): plain text
with an HTML alternative and an ``.ics`` attachment is all we need, and the sender runs in the
CLI, outside any request, with its own retry rules — a Flask mail extension would add an app
context and little else.

Several senders may run at once (``flask tick`` on two servers): each first *claims* the
messages it will send with a conditional UPDATE, committed before it connects, so a message is
claimed by one sender only. A sender that dies leaves its claim to expire, and the message is
sent by the next (at least once; the ``Message-ID`` stays the same, so mail clients show one).
"""

from __future__ import annotations

import datetime as dt
import secrets
import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import jinja2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..models import OutboxMessage, utcnow

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"
#: Attempts before a message is set aside (status ``failed``, shown to the admins).
MAX_ATTEMPTS = 8
#: How long a sender's claim lasts: past it, another sender may take the message.
CLAIM = dt.timedelta(minutes=10)
#: Messages a sender takes at once.
BATCH = 200


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send (``MAIL_*`` settings). ``server`` empty: nothing is sent."""

    server: str | None
    port: int = 25
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    use_ssl: bool = False
    sender: str = "ne-pas-repondre@mission-locale.invalid"
    timeout: float = 20.0

    @classmethod
    def from_config(cls, config) -> SmtpSettings:
        return cls(
            server=config.get("MAIL_SERVER") or None,
            port=int(config.get("MAIL_PORT") or 25),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            sender=config.get("MAIL_DEFAULT_SENDER") or cls.sender,
        )


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=jinja2.select_autoescape(("html",)),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["date"] = lambda d: d.strftime("%d/%m/%Y") if d else ""
_environment.filters["datetime"] = lambda d: (
    d.strftime("%d/%m/%Y à %H h %M").replace(" h 00", " h") if d else ""
)


def render(template: str, **context) -> tuple[str, str, str]:
    """``(subject, text, html)`` from ``templates/mail/<template>.txt`` and ``.html``: the
    subject is the text template's first line."""
    text = _environment.get_template(f"{template}.txt").render(**context).strip()
    subject, _, body = text.partition("\n")
    html = _environment.get_template(f"{template}.html").render(**context).strip()
    return subject.strip(), body.strip() + "\n", html


def write(
    session: Session,
    kind: str,
    recipient: str,
    template: str,
    *,
    young_person_id: int | None = None,
    user_id: int | None = None,
    key: str | None = None,
    attachment: tuple[str, str] | None = None,
    now: dt.datetime | None = None,
    **context,
) -> OutboxMessage | None:
    """Write one message to the outbox (flushed with the caller's transaction). A message with
    a ``key`` is written once: None when one with that key exists."""
    if key is not None and session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.key == key)
    ):
        return None
    subject, text, html = render(template, **context)
    message = OutboxMessage(
        kind=kind,
        key=key,
        recipient=recipient,
        subject=subject[:200],
        body_text=text,
        body_html=html,
        attachment_name=attachment[0] if attachment else None,
        attachment=attachment[1] if attachment else None,
        young_person_id=young_person_id,
        user_id=user_id,
        created_at=now or utcnow(),
        next_attempt_at=now or utcnow(),
    )
    session.add(message)
    session.flush()
    return message


def email_of(message: OutboxMessage, sender: str, domain: str = "mission-locale") -> EmailMessage:
    """The message as MIME: plain text, its HTML alternative, the attachment."""
    email = EmailMessage()
    email["Subject"] = message.subject
    email["From"] = sender if "<" in sender else formataddr(("Mission locale", sender))
    email["To"] = message.recipient
    email["Message-ID"] = make_msgid(f"outbox-{message.id}", domain=domain)
    email["Date"] = message.created_at.replace(tzinfo=dt.UTC).strftime(
        "%a, %d %b %Y %H:%M:%S +0000"
    )
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    if message.attachment:
        email.add_attachment(
            message.attachment.encode(),
            maintype="text",
            subtype="calendar",
            filename=message.attachment_name or "rendez-vous.ics",
            params={"method": "PUBLISH"},
        )
    return email


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the ``attempts``-th failure: 5 min, 10, 20… at most 12 hours."""
    return min(dt.timedelta(minutes=5) * 2 ** max(attempts - 1, 0), dt.timedelta(hours=12))


def claim(
    session: Session, worker: str, now: dt.datetime, limit: int = BATCH, retry_now: bool = False
) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker`` and commit, so that no other sender
    takes them; returns their ids. ``retry_now``: the pending ones waiting for their next
    attempt too (an admin after an outage)."""
    due = OutboxMessage.status == "pending"
    if not retry_now:
        due = sa.and_(due, OutboxMessage.next_attempt_at <= now)
    free = sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now)
    candidates = (
        sa.select(OutboxMessage.id)
        .where(due, free)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    ids = session.scalars(candidates).all()
    if not ids:
        session.commit()
        return []
    # The WHERE is checked again row by row: a message another sender claimed meanwhile (on
    # PostgreSQL the UPDATE waits for its commit, then re-reads the row) is left out.
    session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), due, free)
        .values(claimed_by=worker, claimed_until=now + CLAIM)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker)
        .order_by(OutboxMessage.id)
    ).all()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.use_ssl:
        smtp = smtplib.SMTP_SSL(settings.server, settings.port, timeout=settings.timeout)
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    try:
        if settings.use_tls and not settings.use_ssl:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
    except OSError:
        smtp.close()
        raise
    return smtp


def _failed(message: OutboxMessage, error: str, now: dt.datetime) -> None:
    message.attempts += 1
    message.last_error = error[:2000]
    message.claimed_by = message.claimed_until = None
    if message.attempts >= MAX_ATTEMPTS:
        message.status = "failed"
    else:
        message.next_attempt_at = now + backoff(message.attempts)


def send_due(
    session: Session,
    settings: SmtpSettings,
    now: dt.datetime | None = None,
    retry_now: bool = False,
) -> dict[str, int]:
    """Send the messages due, batch after batch; commits after each message (a message is the
    unit of work here, unlike the rest of ``domain/``). Returns the counts ``sent``,
    ``retry`` (refused or unreachable: tried again later) and ``failed`` (set aside)."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not settings.server:
        return counts
    worker = f"{socket.gethostname()}:{secrets.token_hex(6)}"
    seen: set[int] = set()
    while True:
        moment = now or utcnow()
        ids = [i for i in claim(session, worker, moment, retry_now=retry_now) if i not in seen]
        if not ids:
            return counts
        seen.update(ids)
        smtp = None
        try:
            smtp = _connect(settings)
        except OSError as error:  # SMTPException included
            for message in session.scalars(
                sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
            ):
                _failed(message, f"Serveur d'envoi injoignable : {error}", moment)
                counts["failed" if message.status == "failed" else "retry"] += 1
            session.commit()
            return counts  # the server is down: the next run tries again
        try:
            for message_id in ids:
                message = session.get(OutboxMessage, message_id)
                if message is None or message.status != "pending":
                    continue
                try:
                    smtp.send_message(email_of(message, settings.sender))
                except OSError as error:  # SMTPException included
                    _failed(message, f"Refusé par le serveur d'envoi : {error}", moment)
                    counts["failed" if message.status == "failed" else "retry"] += 1
                    # (SMTPException is an OSError: a refusal keeps the connection.)
                    lost = isinstance(error, smtplib.SMTPServerDisconnected) or not isinstance(
                        error, smtplib.SMTPException
                    )
                    if lost:
                        session.commit()
                        smtp.close()
                        smtp = None
                        smtp = _connect(settings)
                else:
                    message.status = "sent"
                    message.sent_at = utcnow()
                    message.attempts += 1
                    message.last_error = None
                    message.claimed_by = message.claimed_until = None
                    counts["sent"] += 1
                session.commit()
        except OSError:
            session.rollback()  # the rest of the batch stays claimed until the claim expires
            return counts
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except OSError:
                    pass
                finally:
                    smtp.close()


def retry(message: OutboxMessage, now: dt.datetime) -> None:
    """An admin sends a set-aside (or waiting) message again, at the next run."""
    if message.status == "sent":
        return
    if message.status == "failed":
        message.attempts = 0
    message.status = "pending"
    message.next_attempt_at = now
    message.claimed_by = message.claimed_until = None


def purge_sent(session: Session, before: dt.datetime) -> int:
    """Delete the messages sent before ``before``: they hold personal data, and the change
    that caused them is in the record."""
    result = session.execute(
        sa.delete(OutboxMessage).where(
            OutboxMessage.status == "sent", OutboxMessage.sent_at < before
        )
    )
    return result.rowcount or 0
