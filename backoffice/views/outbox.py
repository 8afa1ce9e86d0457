"""*Messages envoyés*: the e-mail outbox, for admins — what left, what waits, what was set
aside after repeated failures, and why; a message can be sent again. Nobody edits a message."""

from __future__ import annotations

from flask import current_app, flash
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..domain import outbox, values
from ..extensions import db
from ..models import OutboxMessage, utcnow
from .base import ADMIN, BackofficeModelView


class OutboxView(BackofficeModelView):
    """The outbox, newest first; without ``MAIL_SERVER`` the messages stay here."""

    permissions = {"list": ADMIN, "details": ADMIN, "edit": ADMIN}
    operation_of = {**BackofficeModelView.operation_of, "action_view": "edit"}
    list_template = "admin/outbox/list.html"
    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    column_exclude_list: list[str] = []  # the base view hides created_at: here it is the date
    column_list = ["created_at", "kind", "recipient", "subject", "status", "attempts", "sent_at"]
    column_default_sort = ("created_at", True)
    column_sortable_list = ["created_at", "kind", "recipient", "status", "attempts", "sent_at"]
    column_searchable_list = ["recipient", "subject"]
    column_filters = ["status", "kind", "created_at", "sent_at"]
    column_details_list = [
        "created_at",
        "kind",
        "recipient",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "attachment_name",
        "body_text",
    ]
    column_labels = {
        "created_at": _l("Écrit le"),
        "kind": _l("Motif"),
        "recipient": _l("Destinataire"),
        "subject": _l("Objet"),
        "status": _l("État"),
        "attempts": _l("Essais"),
        "next_attempt_at": _l("Prochain essai"),
        "sent_at": _l("Envoyé le"),
        "last_error": _l("Dernière erreur"),
        "attachment_name": _l("Pièce jointe"),
        "body_text": _l("Texte du message"),
    }

    def render(self, template, **kwargs):
        kwargs.setdefault("mail_server", current_app.config.get("MAIL_SERVER"))
        return super().render(template, **kwargs)

    @action("retry", _l("Renvoyer au prochain passage"))
    def action_retry(self, ids):
        """Send the chosen messages again at the next ``flask tick`` (after an SMTP outage, a
        recipient's address corrected…)."""
        numbers = [n for n in (values.parse_id(i) for i in ids) if n is not None]
        messages = self.get_query().filter(OutboxMessage.id.in_(numbers)).all()
        now = utcnow()
        count = 0
        for message in messages:
            if message.status != "sent":
                outbox.retry(message, now)
                count += 1
        db.session.commit()
        flash(
            ngettext(
                "%(num)d message sera renvoyé au prochain passage.",
                "%(num)d messages seront renvoyés au prochain passage.",
                count,
            ),
            "success",
        )
