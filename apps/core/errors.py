"""Domain errors with stable codes.

Services raise `DomainError`; the API exception handler turns it into `{code, message, field}` and the
web views show `message` on the form (attached to `field` when there is one). Codes are part of the API
contract: add new ones, never rename.
"""
from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # generic
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    INVALID = "invalid"
    # accounts
    ENTERPRISE_SUSPENDED = "enterprise_suspended"
    ENTERPRISE_NOT_ACTIVE = "enterprise_not_active"
    USER_ALREADY_EXISTS = "user_already_exists"
    CANNOT_DEACTIVATE_SELF = "cannot_deactivate_self"
    LAST_ENTERPRISE_ADMIN = "last_enterprise_admin"
    API_KEY_INVALID = "api_key_invalid"
    API_KEY_REVOKED = "api_key_revoked"
    # enterprises
    USCC_INVALID = "uscc_invalid"
    USCC_DUPLICATE = "uscc_duplicate"
    ROLE_REQUIRED = "role_required"
    REGISTRATION_NOT_PENDING = "registration_not_pending"
    REGISTRATION_NOT_RETURNED = "registration_not_returned"
    COMMENT_REQUIRED = "comment_required"
    ENTERPRISE_STATUS_INVALID = "enterprise_status_invalid"
    FILE_NOT_PDF = "file_not_pdf"
    FILE_TOO_LARGE = "file_too_large"
    MARKUP_NOT_ALLOWED = "markup_not_allowed"
    # manufacturer codes
    MANUFACTURER_CODE_INVALID = "manufacturer_code_invalid"
    MANUFACTURER_CODE_TAKEN = "manufacturer_code_taken"
    NOT_A_BATTERY_MAKER = "not_a_battery_maker"
    # licences
    NOT_A_RECYCLER = "not_a_recycler"
    LICENCE_NUMBER_TAKEN = "licence_number_taken"
    LICENCE_DATES_INVALID = "licence_dates_invalid"
    LICENCE_EXPIRED = "licence_expired"
    LICENCE_OVERLAP = "licence_overlap"
    LICENCE_CAPACITY_INVALID = "licence_capacity_invalid"
    LICENCE_SCOPE_REQUIRED = "licence_scope_required"
    LICENCE_CHEMISTRY_REQUIRED = "licence_chemistry_required"
    LICENCE_STATUS_INVALID = "licence_status_invalid"
    REASON_REQUIRED = "reason_required"


class DomainError(Exception):
    """A rule was broken. `message` is for people (already translated or lazy), `code` for programs."""

    def __init__(self, *, code: ErrorCode | str, message, field: str | None = None, status: int = 400):
        super().__init__(str(message))
        self.code = str(code)
        self.message = message
        self.field = field
        self.status = status

    def __str__(self) -> str:
        return str(self.message)


class NotFound(DomainError):
    """Not there, or not yours: the two look the same (tenant isolation)."""

    def __init__(self, message=None):
        from django.utils.translation import gettext_lazy as _

        super().__init__(code=ErrorCode.NOT_FOUND, message=message or _("Not found."), status=404)
