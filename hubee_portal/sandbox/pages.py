"""Staff pages of the sandbox: the OSL side, for people.

Deposit test télédossiers, act on a case as the citizen or the operator would, see each case's
status and events as HubEE sees them, run HubEE's purge on an adjustable clock, and switch the
simulated faults. Staff accounts only; unlike the API views, these pages need the normal login.
Every action is a POST form (CSRF), and works without JavaScript. The logic lives in `services`;
these views stay thin.
"""

from __future__ import annotations

import functools
import json
import mimetypes
import secrets
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from . import services, storage
from .enums import AttachmentStatus, CaseStatus, EventStatus, Party
from .forms import (
    MAX_SEED,
    CloseForm,
    DepositForm,
    DocumentsForm,
    FaultForm,
    MessageForm,
    PurgeForm,
    RetentionForm,
    complement_type,
)
from .models import Attachment, Case, Event, FaultSettings, Subscription
from .workflow import LOCKED_STATUSES

CASES_SHOWN = 50


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The login middleware sends anonymous people to the login page; others need is_staff."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied(
                "Le bac à sable HubEE est réservé aux comptes du personnel (administrateurs)."
            )
        return view(request, *args, **kwargs)

    return wrapper


def _case(case_id: uuid.UUID) -> Case:
    return get_object_or_404(Case.objects.select_related("subscription"), pk=case_id)


def _case_url(case: Case) -> str:
    return reverse("sandbox:osl-case", args=[case.pk])


def _uploaded(files: list[Any], kind: str) -> list[services.FileSpec]:
    specs: list[services.FileSpec] = []
    for upload in files:
        mime_type = upload.content_type or mimetypes.guess_type(upload.name)[0]
        specs.append((upload.name, kind, (mime_type or "application/octet-stream")[:255], upload))
    return specs


# -- list --------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    waiting_si = Count("notifications", filter=Q(notifications__recipient_type=Party.SI))
    subscriptions = []
    for subscription in Subscription.objects.annotate(case_count=Count("cases")):
        cases = (
            subscription.cases.annotate(waiting=waiting_si)
            .select_related("subscription")
            .order_by("-create_date_time")[:CASES_SHOWN]
        )
        subscriptions.append(
            {
                "object": subscription,
                "name": services.PROCESS_NAMES.get(subscription.process_code, subscription.name),
                "cases": list(cases),
            }
        )
    return render(
        request,
        "sandbox/home.html",
        {"subscriptions": subscriptions, "cases_shown": CASES_SHOWN},
    )


# -- deposit -----------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def deposit(request: HttpRequest, subscription_id: uuid.UUID) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    code = subscription.process_code
    if request.method == "POST":
        form = DepositForm(request.POST, request.FILES, process_code=code)
        if form.is_valid():
            data = form.cleaned_data
            seed = data["graine"] if data["graine"] is not None else secrets.randbelow(MAX_SEED)
            try:
                case = services.deposit_generated_case(
                    subscription,
                    seed=seed,
                    applicant={
                        "first_name": data["prenom"],
                        "last_name": data["nom"],
                        "email": data["courriel"] or None,
                    },
                    files=_uploaded(data["fichiers"], data["type_piece"]),
                    eicar=data["eicar"],
                    eicar_type=data["type_piece"] or complement_type(code),
                )
            except services.SandboxError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    f"Télédossier {case.external_id} déposé : HubEE l'a notifié au service "
                    "instructeur, le portail le recevra à sa prochaine synchronisation.",
                )
                return redirect(_case_url(case))
    else:
        seed = secrets.randbelow(MAX_SEED)
        person = services.generated_applicant(seed)
        form = DepositForm(
            initial={
                "prenom": person.first_name,
                "nom": person.last_name,
                "courriel": person.email,
                "graine": seed,
            },
            process_code=code,
        )
    return render(
        request,
        "sandbox/deposit.html",
        {
            "subscription": subscription,
            "name": services.PROCESS_NAMES.get(code, subscription.name),
            "form": form,
        },
    )


# -- one case ----------------------------------------------------------------------------------


def _render_case(request: HttpRequest, case: Case, **forms: Any) -> HttpResponse:
    subscription = case.subscription
    closed = case.status in LOCKED_STATUSES
    events = list(
        Event.objects.filter(case=case).prefetch_related("attachments").order_by("position")
    )
    context = {
        "case": case,
        "subscription": subscription,
        "name": services.PROCESS_NAMES.get(subscription.process_code, subscription.name),
        "hubee_json": json.dumps(
            services.case_as_hubee_sees_it(case), indent=2, ensure_ascii=False
        ),
        "events": events,
        "attachments": list(case.attachments.all()),
        "closed": closed,
        "waiting_si": case.notifications.filter(recipient_type=Party.SI).count(),
        "waiting_osl": case.notifications.filter(recipient_type=Party.OSL).count(),
        "documents_form": forms.get("documents_form")
        or DocumentsForm(
            process_code=subscription.process_code,
            allows_messages=subscription.allows_messages,
            awaiting=case.status == CaseStatus.ADD_AWAITING,
        ),
        "message_form": forms.get("message_form") or MessageForm(),
        "close_form": forms.get("close_form")
        or CloseForm(allows_messages=subscription.allows_messages),
        "acknowledgeable": EventStatus.SENT,
        "si": Party.SI,
    }
    status = 400 if forms else 200
    return render(request, "sandbox/case.html", context, status=status)


@staff_required
@require_http_methods(["GET", "HEAD"])
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    return _render_case(request, _case(case_id))


def _act(request: HttpRequest, case: Case, action: Callable[[], Any], done: str) -> HttpResponse:
    try:
        action()
    except services.SandboxError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(_case_url(case))


@staff_required
@require_POST
def add_documents(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(case_id)
    subscription = case.subscription
    form = DocumentsForm(
        request.POST,
        request.FILES,
        process_code=subscription.process_code,
        allows_messages=subscription.allows_messages,
        awaiting=case.status == CaseStatus.ADD_AWAITING,
    )
    if not form.is_valid():
        return _render_case(request, case, documents_form=form)
    data = form.cleaned_data
    files = _uploaded(data["fichiers"], data["type_piece"])
    if not files:
        kind = data["type_piece"] or complement_type(subscription.process_code)
        files = [services.complement_file(case, kind)]
    count = len(files)
    return _act(
        request,
        case,
        lambda: services.osl_attach_deposit(
            case,
            files,
            message=data.get("message") or None,
            case_new_status=CaseStatus.HUBEE_NOTIFIED if data.get("renotifier") else None,
        ),
        f"{count} pièce{'s' if count > 1 else ''} ajoutée{'s' if count > 1 else ''} "
        "(ATTACH_DEPOSIT) : le service instructeur est notifié.",
    )


@staff_required
@require_POST
def send_message(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(case_id)
    form = MessageForm(request.POST)
    if not form.is_valid():
        return _render_case(request, case, message_form=form)
    text = form.cleaned_data["message"]
    return _act(
        request,
        case,
        lambda: services.osl_message(case, text),
        "Message envoyé (SENDING_MESSAGE) : le service instructeur est notifié.",
    )


@staff_required
@require_POST
def close(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(case_id)
    form = CloseForm(request.POST, allows_messages=case.subscription.allows_messages)
    if not form.is_valid():
        return _render_case(request, case, close_form=form)
    text = form.cleaned_data.get("message") or None
    return _act(
        request,
        case,
        lambda: services.osl_close(case, message=text),
        "Télédossier clos (STATUS_UPDATE CLOSED) : le service instructeur est notifié.",
    )


@staff_required
@require_POST
def acknowledge(request: HttpRequest, case_id: uuid.UUID, event_id: uuid.UUID) -> HttpResponse:
    case = _case(case_id)
    event = get_object_or_404(Event, pk=event_id, case=case)
    return _act(
        request,
        case,
        lambda: services.osl_acknowledge(event),
        "Réception accusée (RECEIVED) : le service instructeur en est notifié.",
    )


@staff_required
@require_POST
def purge(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    case = _case(case_id)
    return _act(
        request,
        case,
        lambda: services.purge_case(case),
        "Télédossier purgé : HubEE répond désormais 404 partout pour lui.",
    )


@staff_required
@require_http_methods(["GET", "HEAD"])
def attachment(request: HttpRequest, case_id: uuid.UUID, attachment_id: uuid.UUID) -> HttpResponse:
    """A file of the case or of one of its events, as the sandbox stores it."""
    case = _case(case_id)
    found = get_object_or_404(
        Attachment.objects.filter(Q(case=case) | Q(event__case=case)), pk=attachment_id
    )
    handle = storage.open_attachment(found.id)
    if found.status != AttachmentStatus.RECEIVED or handle is None:
        if handle is not None:
            handle.close()
        raise Http404("Ce fichier n'est pas disponible dans le bac à sable.")
    return FileResponse(
        handle, as_attachment=True, filename=found.file_name, content_type=found.mime_type
    )


# -- HubEE's purge -----------------------------------------------------------------------------


def _render_purge(
    request: HttpRequest,
    *,
    purge_form: PurgeForm | None = None,
    bound: RetentionForm | None = None,
) -> HttpResponse:
    rows = []
    for subscription in Subscription.objects.all():
        if bound is not None and bound.instance.pk == subscription.pk:
            form = bound
        else:
            form = RetentionForm(instance=subscription)
        rows.append(
            {
                "object": subscription,
                "name": services.PROCESS_NAMES.get(subscription.process_code, subscription.name),
                "form": form,
            }
        )
    return render(
        request,
        "sandbox/purge.html",
        {"subscriptions": rows, "purge_form": purge_form or PurgeForm()},
        status=400 if purge_form is not None or bound is not None else 200,
    )


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def purge_rules(request: HttpRequest) -> HttpResponse:
    """The démarches' retention settings, and HubEE's purge run "as if N days later"."""
    if request.method != "POST":
        return _render_purge(request)
    form = PurgeForm(request.POST)
    if not form.is_valid():
        return _render_purge(request, purge_form=form)
    days = form.cleaned_data["jours"]
    result = services.run_purge(now=timezone.now() + timedelta(days=days))
    messages.success(request, result.summary())
    return redirect("sandbox:osl-purge-rules")


@staff_required
@require_POST
def retention(request: HttpRequest, subscription_id: uuid.UUID) -> HttpResponse:
    subscription = get_object_or_404(Subscription, pk=subscription_id)
    form = RetentionForm(request.POST, instance=subscription)
    if not form.is_valid():
        return _render_purge(request, bound=form)
    services.set_retention(
        subscription, **{name: form.cleaned_data[name] for name in services.RETENTION_FIELDS}
    )
    messages.success(
        request, f"Règles de conservation de la démarche {subscription.process_code} enregistrées."
    )
    return redirect("sandbox:osl-purge-rules")


# -- faults ------------------------------------------------------------------------------------


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def faults(request: HttpRequest) -> HttpResponse:
    current = FaultSettings.load()
    form = FaultForm(instance=current)
    if request.method == "POST":
        action = request.POST.get("action", "enregistrer")
        if action == "reinitialiser":
            services.reset_faults()
            messages.success(request, "Pannes désactivées : le bac à sable répond normalement.")
            return redirect("sandbox:osl-faults")
        if action == "vider-journal":
            services.clear_call_log()
            messages.success(request, "Journal des appels vidé.")
            return redirect("sandbox:osl-faults")
        form = FaultForm(request.POST, instance=FaultSettings.load())
        if form.is_valid():
            try:
                services.set_faults(**{name: form.cleaned_data[name] for name in form.fields})
            except services.SandboxError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    "Pannes enregistrées : chacune touche les premières tentatives sur chaque "
                    "ressource, les compteurs repartent de zéro.",
                )
                return redirect("sandbox:osl-faults")
    return render(
        request,
        "sandbox/faults.html",
        {"form": form, "counts": services.call_counts()},
        status=400 if form.is_bound and form.errors else 200,
    )
