"""The case workspace's read-only lists, written in Python.

Django's own changelist writes its rows this way (`items_for_result`): one
`format_html` per row instead of a template node per cell, tag and filter,
which would be most of the cost of rendering a busy case's page.
The markup (ids, classes, data attributes) is what the browser tests and
workspace.js read; templates/admin/cases/case/change_form.html places it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from cases.choices import HandlingCode, ShareProposalOutcome


def tlp_badge(code: str) -> SafeString:
    """The handling code as a TLP 2.0 label (colours in casebridge/admin.css)."""
    label = dict(HandlingCode.choices).get(code, code)
    css = code.lower().replace("+", "-")
    return format_html('<span class="tlp tlp-{}">{}</span>', css, label)


def when(value) -> str:
    """A time as the workspace shows it, in the reader's time zone (`|date:"Y-m-d H:i T"`)."""
    return formats.date_format(timezone.localtime(value), "Y-m-d H:i T") if value else ""


def _joined(parts: list[SafeString]) -> SafeString:
    """Rows already escaped by `format_html`, one after the other."""
    return format_html_join("", "{}", ((part,) for part in parts))


def participants(items: Iterable[dict], may_share: bool) -> SafeString:
    lead, yes, change = gettext("lead"), gettext("yes"), gettext("Change or end access")
    rows = []
    for item in items:
        p = item["participation"]
        action = ""
        if may_share:
            link = (
                format_html(
                    '<a href="{}" class="cb-change-access">{}</a>', item["access_url"], change
                )
                if item["access_url"]
                else ""
            )
            action = format_html("<td>{}</td>", link)
        rows.append(
            format_html(
                '<tr class="cb-participant" data-agency="{}"><td>{}{}</td><td>{}</td><td>{}</td>'
                "<td>{}</td><td>{}</td>{}</tr>",
                p.agency.code,
                p.agency,
                format_html(' <span class="cb-meta">({})</span>', lead) if item["is_lead"] else "",
                p.get_level_display(),
                yes if p.confidential else "—",
                when(p.expires_at) if p.expires_at else "—",
                when(p.granted_at),
                action,
            )
        )
    return _joined(rows)


def task_logs(items: Iterable[dict], log_url: str, csrf_token: str) -> SafeString:
    """Each task with its progress log, and the "Log progress" form where the reader may log."""
    due, empty, log = gettext("due"), gettext("No progress logged yet."), gettext("Log progress")
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)
    out = []
    for item in items:
        task = item["task"]
        meta = [task.assigned_agency.code]
        if task.assigned_user:
            meta.append(task.assigned_user.get_username())
        meta.append(str(task.get_priority_display()))
        if task.due_date:
            meta.append(f"{due} {formats.date_format(task.due_date, 'Y-m-d')}")
        entries = item["entries"]
        if entries:
            log_html = format_html(
                '<ol class="cb-log">{}</ol>',
                format_html_join(
                    "",
                    '<li><span class="cb-meta">{} · {} · {}</span>'
                    '<div class="cb-log-body">{}</div></li>',
                    (
                        (
                            when(e.created_at),
                            e.agency.code,
                            e.user.get_username(),
                            linebreaksbr(e.body),
                        )
                        for e in entries
                    ),
                ),
            )
        else:
            log_html = format_html('<p class="cb-empty">{}</p>', empty)
        form = ""
        if item["may_log"]:
            form = format_html(
                '<form method="post" action="{url}" class="cb-log-form">{csrf}'
                '<input type="hidden" name="task" value="{pk}">'
                '<label for="cb-log-body-{pk}">{log}</label>'
                '<textarea name="body" id="cb-log-body-{pk}" rows="2" maxlength="4000" required>'
                "</textarea>"
                '<button type="submit" class="button cb-log-submit">{log}</button></form>',
                url=log_url,
                csrf=csrf,
                pk=task.pk,
                log=log,
            )
        out.append(
            format_html(
                '<article class="cb-task-log" id="cb-task-log-{pk}" data-task="{pk}">'
                '<h3><a href="{url}" class="cb-task-open" id="cb-task-open-{pk}">{title}</a> '
                '<span class="cb-meta cb-task-meta">{meta} · '
                '<span class="cb-task-status">{status}</span></span></h3>{log}{form}</article>',
                pk=task.pk,
                url=item["url"],
                title=task.title,
                meta=" · ".join(meta),
                status=task.get_status_display(),
                log=log_html,
                form=form,
            )
        )
    return _joined(out)


def notes(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<article class="cb-note" id="cb-note-{}"><h3 class="cb-meta">{} · {} · {} · {}{}</h3>'
        '<div class="cb-note-body">{}</div></article>',
        (
            (
                n.pk,
                when(n.created_at),
                n.agency.code,
                tlp_badge(n.handling_code),
                n.source_reliability,
                n.information_accuracy,
                linebreaksbr(n.body),
            )
            for n in items
        ),
    )


def documents(items: Iterable) -> SafeString:
    download, custody = gettext("Download (verified)"), gettext("Chain of custody")
    return format_html_join(
        "",
        '<tr class="cb-document" data-document="{}"><td><a href="{}">{}</a></td><td>{}</td>'
        '<td>{}</td><td>{}</td><td><a href="{}" class="cb-download">{}</a> · '
        '<a href="{}" class="cb-custody">{}</a></td></tr>',
        (
            (
                d.public_id,
                reverse("admin:cases_document_change", args=[d.pk]),
                d.title,
                d.agency.code,
                tlp_badge(d.handling_code),
                when(d.created_at),
                reverse("cases:document-download", args=[d.public_id]),
                download,
                reverse("cases:document-custody", args=[d.public_id]),
                custody,
            )
            for d in items
        ),
    )


def identifiers(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<tr class="cb-identifier"><td>{}</td><td><a href="{}">{}</a></td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                i.get_kind_display(),
                reverse("admin:cases_identifier_change", args=[i.pk]),
                i.raw_value,
                i.agency.code,
                tlp_badge(i.handling_code),
                when(i.created_at),
            )
            for i in items
        ),
    )


def mla_requests(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<tr class="cb-mla-request"><td><a href="{}">{}{}</a></td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                reverse("admin:cases_mlarequest_change", args=[r.pk]),
                r.get_kind_display(),
                f" · {r.requesting_reference}" if r.requesting_reference else "",
                r.requesting_agency.code,
                r.requested_agency.code,
                r.get_status_display(),
                when(r.updated_at),
            )
            for r in items
        ),
    )


def share_proposals(items: Iterable[dict], decide_url: str, csrf_token: str) -> SafeString:
    """Share proposals on the case: to the lead, with Accept and Decline
    buttons on the pending ones (a form each, posting to the decision page)
    and what accepting did; to the proposing agency, its own and their status."""
    accept, decline, with_note = gettext("Accept"), gettext("Decline"), gettext("With a note…")
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', csrf_token)
    outcomes = dict(ShareProposalOutcome.choices)
    rows = []
    for item in items:
        p = item["proposal"]
        status = p.get_status_display()
        if item["outcome"]:
            status = format_html(
                '{} <span class="cb-meta cb-proposal-outcome">({})</span>',
                status,
                outcomes.get(item["outcome"], item["outcome"]),
            )
        decision = ""
        if item["may_decide"]:
            decision = format_html(
                '<form method="post" action="{url}" class="cb-proposal-decision">{csrf}'
                '<input type="hidden" name="proposal" value="{id}">'
                '<button type="submit" name="_accept" class="button cb-proposal-accept">'
                "{accept}</button> "
                '<button type="submit" name="_decline" class="button cb-proposal-decline">'
                "{decline}</button> "
                '<a href="{url}?proposal={id}" class="cb-proposal-open">{with_note}</a></form>',
                url=decide_url,
                csrf=csrf,
                id=p.public_id,
                accept=accept,
                decline=decline,
                with_note=with_note,
            )
        elif p.decision_note:
            decision = format_html(
                '<div class="cb-proposal-note">{}</div>', linebreaksbr(p.decision_note)
            )
        rows.append(
            format_html(
                '<tr class="cb-share-proposal" data-proposal="{}" data-status="{}">'
                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td><td>{}</td></tr>",
                p.public_id,
                p.status,
                p.proposing_agency.code,
                p.agency.code,
                p.get_level_display(),
                when(p.expires_at) if p.expires_at else "—",
                linebreaksbr(p.reason),
                when(p.created_at),
                status,
                decision,
            )
        )
    return _joined(rows)


# --- the Network tab ----------------------------------------------------------------


def _node(link, end: str) -> str:
    entity = getattr(link, f"{end}_entity")
    return str(entity if entity is not None else getattr(link, f"{end}_identifier"))


def entities(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<tr class="cb-entity" data-kind="{}"><td><a href="{}">{}</a></td><td>{}</td>'
        "<td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                e.kind,
                reverse("admin:cases_entity_change", args=[e.pk]),
                e.name,
                e.get_kind_display(),
                e.get_role_display() or "—",
                e.agency.code,
                tlp_badge(e.handling_code),
            )
            for e in items
        ),
    )


def links(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<tr class="cb-link"><td>{}</td><td><a href="{}">{}</a></td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                _node(link, "from"),
                reverse("admin:cases_link_change", args=[link.pk]),
                link.get_kind_display(),
                _node(link, "to"),
                f"{link.source_reliability}{link.information_accuracy}",
                tlp_badge(link.handling_code),
            )
            for link in items
        ),
    )


def transactions(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<tr class="cb-transaction"><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
        '<td class="cb-amount">{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                reverse("admin:cases_transaction_change", args=[t.pk]),
                when(t.occurred_at),
                t.from_identifier.raw_value,
                t.to_identifier.raw_value,
                f"{t.amount.normalize():,f} {t.currency}",
                t.agency.code,
                tlp_badge(t.handling_code),
            )
            for t in items
        ),
    )


def assets(items: Iterable) -> SafeString:
    return format_html_join(
        "",
        '<tr class="cb-asset" data-state="{}"><td><a href="{}">{}</a></td>'
        '<td class="cb-amount">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                a.state,
                reverse("admin:cases_asset_change", args=[a.pk]),
                a.description,
                f"{a.value.normalize():,f} {a.currency}",
                a.get_state_display(),
                formats.date_format(a.state_on, "Y-m-d"),
                a.holding_agency.code if a.holding_agency and a.holding_agency_shown else "—",
                tlp_badge(a.handling_code),
            )
            for a in items
        ),
    )
