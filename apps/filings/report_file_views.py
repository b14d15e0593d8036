"""The monthly-report file upload page (apps.filings.report_file): thin over the service."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.batteries.imports.columns import COLUMNS
from apps.core.decorators import persona_required
from apps.core.errors import DomainError
from apps.filings.report_file import FILE_KIND, RULE_LABELS, ReportFileRejected, monthly_report_file_apply


class ReportFileForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"), help_text=gettext_lazy(
        "One row per month: the month (YYYY-MM) and the counts, under the form's column names (Chinese or English). "
        "CSV in UTF-8 or GBK."))


@persona_required("company")
def monthly_report_upload(request):
    form = ReportFileForm(request.POST or None, request.FILES or None)
    errors, results = [], []
    if request.method == "POST" and form.is_valid():
        try:
            results = monthly_report_file_apply(actor=request.user, upload=form.cleaned_data["file"])
        except ReportFileRejected as exc:
            messages.error(request, str(exc.message))
            labels = {c.key: c.label for c in COLUMNS[FILE_KIND]}
            errors = [{**e.as_dict(), "rule_label": RULE_LABELS.get(e.rule, e.rule),
                       "column_label": labels.get(e.column, e.column)} for e in exc.errors]
        except DomainError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message))
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("%(n)d monthly report(s) saved as drafts or corrected. Check them, then "
                                        "submit them for review.") % {"n": len(results)})
            form = ReportFileForm()
    columns = [(c.names[2] if len(c.names) > 2 else c.names[0], c.key, c.label) for c in COLUMNS[FILE_KIND]]
    return render(request, "filings/report_upload.html", {
        "form": form, "errors": errors, "results": results, "columns": columns, "template_kind": FILE_KIND})
