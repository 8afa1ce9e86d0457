"""HTTP only: the admin and its screens, wired onto an app by ``init_app``."""

from __future__ import annotations

from pathlib import Path

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (
    AidRequest,
    AidType,
    AuditEvent,
    DiagnosisDomain,
    DiagnosisSituation,
    OutboxMessage,
    Partner,
    Referral,
    Site,
    Situation,
    Theme,
    User,
    YoungPerson,
)
from . import auth, referrals
from .audit import AuditEventView
from .catalogue import (
    AidTypeView,
    DiagnosisDomainView,
    DiagnosisSituationView,
    PartnerView,
    ThemeView,
)
from .gdpr import RetentionView
from .home import HomeView
from .imports import ImportView, check_declarations
from .interviews import InterviewView
from .outbox import OutboxView
from .people import AccountView, CounsellorView, MyYoungPeopleView, SiteView, YoungPersonView
from .referrals import AidRequestView, ReferralView
from .reporting import PilotageView
from .situations import SituationView

REFERENCES = _l("Référentiels")
FOLLOW_UP = _l("Orientations et aides")


def init_app(app) -> Admin:
    """Build a fresh Admin for ``app`` (never at import time: one Admin per app, tests included)."""
    app.register_blueprint(auth.bp)
    admin = Admin(
        app,
        name=app.config["APP_NAME"],
        theme=Bootstrap4Theme(
            swatch=app.config["FLASK_ADMIN_SWATCH"],
            fluid=True,
            base_template="admin/project_base.html",  # lang, skip link, <main>, AA theme
        ),
        index_view=HomeView(name=_l("Accueil"), url="/admin"),
        csp_nonce_generator=app.jinja_env.globals["csp_nonce"],
        translations_path=str(Path(__file__).parent.parent / "translations_admin"),
    )
    admin.add_view(
        MyYoungPeopleView(YoungPerson, db, name=_l("Mes jeunes"), endpoint="myyoungperson")
    )
    admin.add_view(YoungPersonView(YoungPerson, db, name=_l("Jeunes"), endpoint="youngperson"))
    admin.add_view(CounsellorView(User, db, name=_l("Conseillers"), endpoint="counsellor"))
    admin.add_view(PartnerView(Partner, db, name=_l("Partenaires"), endpoint="partner"))
    admin.add_view(AidTypeView(AidType, db, name=_l("Catalogue des aides"), endpoint="aidtype"))
    admin.add_view(SiteView(Site, db, name=_l("Sites"), endpoint="site"))
    admin.add_view(AccountView(User, db, name=_l("Comptes"), endpoint="account"))
    admin.add_view(
        DiagnosisDomainView(
            DiagnosisDomain,
            db,
            name=_l("Domaines du diagnostic"),
            endpoint="diagnosisdomain",
            category=REFERENCES,
        )
    )
    admin.add_view(
        DiagnosisSituationView(
            DiagnosisSituation,
            db,
            name=_l("Situations"),
            endpoint="diagnosissituation",
            category=REFERENCES,
        )
    )
    admin.add_view(
        ThemeView(Theme, db, name=_l("Thématiques"), endpoint="theme", category=REFERENCES)
    )
    admin.add_view(
        ReferralView(Referral, db, name=_l("Orientations"), endpoint="referral", category=FOLLOW_UP)
    )
    admin.add_view(
        AidRequestView(
            AidRequest, db, name=_l("Demandes d'aide"), endpoint="aidrequest", category=FOLLOW_UP
        )
    )
    admin.add_view(
        SituationView(
            Situation,
            db,
            name=_l("Situations des jeunes"),
            endpoint="situation",
            category=FOLLOW_UP,
        )
    )
    app.register_blueprint(referrals.bp)
    from . import youth_space

    app.register_blueprint(youth_space.bp)
    app.register_blueprint(youth_space.feed_bp)
    admin.add_view(
        InterviewView(name=_l("Entretiens"), endpoint="interviews", url="/admin/interviews")
    )
    admin.add_view(PilotageView(name=_l("Pilotage"), endpoint="pilotage", url="/admin/pilotage"))
    admin.add_view(ImportView(name=_l("Imports"), endpoint="imports", url="/admin/import"))
    admin.add_view(AuditEventView(AuditEvent, db, name=_l("Journal"), endpoint="audit"))
    admin.add_view(OutboxView(OutboxMessage, db, name=_l("Messages envoyés"), endpoint="outbox"))
    admin.add_view(
        RetentionView(name=_l("Conservation (RGPD)"), endpoint="retention", url="/admin/rgpd")
    )
    check_declarations(admin)
    return admin
