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
    API_KEY_OWNER_INACTIVE = "api_key_owner_inactive"
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
    # batteries and the ledger
    BATTERY_CODE_INVALID = "battery_code_invalid"
    MANUFACTURER_CODE_NOT_YOURS = "manufacturer_code_not_yours"
    BATTERY_ALREADY_REGISTERED = "battery_already_registered"
    BATTERY_UNKNOWN = "battery_unknown"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    NOT_HOLDER = "not_holder"
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    VIN_INVALID = "vin_invalid"
    VEHICLE_UNKNOWN = "vehicle_unknown"
    VEHICLE_SCRAPPED = "vehicle_scrapped"
    NOT_SWAP_MODEL = "not_swap_model"
    NOT_IN_THIS_VEHICLE = "not_in_this_vehicle"
    BATTERY_IS_WASTE = "battery_is_waste"
    BATTERY_NOT_WASTE = "battery_not_waste"
    RECIPIENT_INVALID = "recipient_invalid"
    RECIPIENT_NOT_LICENSED = "recipient_not_licensed"
    NOT_THE_RECIPIENT = "not_the_recipient"
    LICENCE_REQUIRED = "licence_required"
    FIELD_OF_USE_BANNED = "field_of_use_banned"
    STANDARD_NUMBER_INVALID = "standard_number_invalid"
    PARENT_INVALID = "parent_invalid"
    QUANTITY_INVALID = "quantity_invalid"
    OCCURRED_AT_INVALID = "occurred_at_invalid"
    # bulk imports and the API
    IMPORT_FILE_INVALID = "import_file_invalid"
    IMPORT_DUPLICATE_FILE = "import_duplicate_file"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    BULK_REJECTED = "bulk_rejected"
    # uploads
    FILE_NOT_IMAGE = "file_not_image"
    # working-day calendar
    WORKDAY_OVERRIDE_INVALID = "workday_override_invalid"
    # scrapping: intake, the vehicle-and-battery check, certificates
    OWNER_ID_INVALID = "owner_id_invalid"
    DECLARATION_REQUIRED = "declaration_required"
    VEHICLE_IS_NEV = "vehicle_is_nev"
    BATTERY_CODES_NOT_EXPECTED = "battery_codes_not_expected"
    BATTERY_LISTED_TWICE = "battery_listed_twice"
    BATTERY_HELD_ELSEWHERE = "battery_held_elsewhere"
    INTAKE_ALREADY_OPEN = "intake_already_open"
    INTAKE_NOT_AWAITING_DECISION = "intake_not_awaiting_decision"
    PHOTOS_REQUIRED = "photos_required"
    CERTIFICATE_NOT_ALLOWED = "certificate_not_allowed"
    CERTIFICATE_NUMBER_INVALID = "certificate_number_invalid"
    CERTIFICATE_NUMBER_TAKEN = "certificate_number_taken"
    BATTERY_CHECK_STALE = "battery_check_stale"
    CERTIFICATE_NOT_VALID = "certificate_not_valid"
    CERTIFICATE_SUPERSEDED = "certificate_superseded"
    # filings: the one review workflow, monthly pack-count reports
    FILING_TRANSITION_NOT_ALLOWED = "filing_transition_not_allowed"
    FILING_NOT_EDITABLE = "filing_not_editable"
    FILING_WRONG_KIND = "filing_wrong_kind"
    FILING_NOT_ASSIGNED_TO_YOU = "filing_not_assigned_to_you"
    ASSIGNEE_INVALID = "assignee_invalid"
    COUNT_INVALID = "count_invalid"
    REPORT_MONTH_INVALID = "report_month_invalid"
    REPORT_MONTH_IN_FUTURE = "report_month_in_future"
    REPORT_MONTH_DUPLICATE = "report_month_duplicate"
    REPORT_MONTH_APPROVED = "report_month_approved"
    REPORT_FILE_INVALID = "report_file_invalid"
    COMPOSITION_INVALID = "composition_invalid"
    # deadlines: reporting deadlines (apps.deadlines)
    DEADLINE_INVALID = "deadline_invalid"
    CONFIRMATION_REQUIRED = "confirmation_required"
    ATTACHMENT_INVALID = "attachment_invalid"
    # enforcement actions (apps.enforcement) and the reviewer's side of discrepancies
    ENFORCEMENT_TRANSITION_NOT_ALLOWED = "enforcement_transition_not_allowed"
    ENFORCEMENT_NOT_EDITABLE = "enforcement_not_editable"
    FOUR_EYES_REQUIRED = "four_eyes_required"
    NOT_THE_DRAFTER = "not_the_drafter"
    AMOUNT_INVALID = "amount_invalid"
    ACTION_DEADLINE_INVALID = "action_deadline_invalid"
    TEXT_REQUIRED = "text_required"
    EVIDENCE_INVALID = "evidence_invalid"
    OUTCOME_REQUIRED = "outcome_required"
    DISCREPANCY_TRANSITION_NOT_ALLOWED = "discrepancy_transition_not_allowed"
    # filings: recovery (utilization) reports and explanations
    WEIGHT_INVALID = "weight_invalid"
    RECOVERY_OUTPUT_WITHOUT_INPUT = "recovery_output_without_input"
    RECYCLER_NOT_LICENSED = "recycler_not_licensed"
    EXPLANATION_SUBJECT_INVALID = "explanation_subject_invalid"
    EXPLANATION_ALREADY_FILED = "explanation_already_filed"
    EXPLANATION_TEXT_REQUIRED = "explanation_text_required"


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
