"""The records services: the one door to GMP records (ADR 0004).

The UI builds one :class:`Records` and calls its services from one worker
thread; each use case checks permission, rule and signature, writes record,
signature and audit entries in one transaction, commits, then tells the
``on_change`` listeners. Qt-free.

Sibling services (the alarm service) build on the same core: ``Records.core``
is the :class:`ServiceCore` with its unit of work (``write``/``read``), the
actor, permission and signature checks, and :class:`Refusal` for refusals
that must leave an audit trace.
"""

from necstgen_desk.records.cleaning import CleaningEntry, CleaningType
from necstgen_desk.records.gowning import QualificationStatus
from necstgen_desk.records.lifecycle import (
    NoBlockers,
    ReleaseBlockers,
    RoomAction,
    RoomStatus,
)
from necstgen_desk.records.passwords import DEFAULT_POLICY, PasswordPolicy
from necstgen_desk.records.roles import Role
from necstgen_desk.records.signatures import SignatureMeaning, SigningSession
from necstgen_desk.services._core import Core as ServiceCore
from necstgen_desk.services._core import Refusal, Tx, audit_id, utc_now
from necstgen_desk.services.accounts import AccountService
from necstgen_desk.services.audit import AuditFilters, AuditService
from necstgen_desk.services.cleaning import CleaningService
from necstgen_desk.services.errors import (
    AuthenticationError,
    NotFound,
    PasswordChangeRequired,
    PermissionDenied,
    RecordError,
    RuleViolation,
    SessionEnded,
    SignatureError,
)
from necstgen_desk.services.facade import DEFAULT_CLEANUP_PERIOD, DEFAULT_IDLE_LOCK, Records
from necstgen_desk.services.gowning import GowningChanges, GowningService
from necstgen_desk.services.rooms import RoomStatusService
from necstgen_desk.services.views import (
    AuditView,
    CleaningView,
    GowningView,
    QualificationView,
    RecordChange,
    RoomStatusView,
    SignatureRequest,
    SignatureView,
    UserInfo,
    UserSession,
)
from necstgen_desk.storage.audit import ChainReport

__all__ = [
    "DEFAULT_CLEANUP_PERIOD",
    "DEFAULT_IDLE_LOCK",
    "DEFAULT_POLICY",
    "AccountService",
    "AuditFilters",
    "AuditService",
    "AuditView",
    "AuthenticationError",
    "ChainReport",
    "CleaningEntry",
    "CleaningService",
    "CleaningType",
    "CleaningView",
    "GowningChanges",
    "GowningService",
    "GowningView",
    "NoBlockers",
    "NotFound",
    "PasswordChangeRequired",
    "PasswordPolicy",
    "PermissionDenied",
    "QualificationStatus",
    "QualificationView",
    "RecordChange",
    "RecordError",
    "Records",
    "Refusal",
    "ReleaseBlockers",
    "Role",
    "RoomAction",
    "RoomStatus",
    "RoomStatusService",
    "RoomStatusView",
    "RuleViolation",
    "ServiceCore",
    "SessionEnded",
    "SignatureError",
    "SignatureMeaning",
    "SignatureRequest",
    "SignatureView",
    "SigningSession",
    "Tx",
    "UserInfo",
    "UserSession",
    "audit_id",
    "utc_now",
]
