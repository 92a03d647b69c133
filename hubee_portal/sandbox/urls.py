from django.urls import include, path

from . import pages, views

app_name = "sandbox"

# The OSL side, for people (staff accounts, normal login).
urlpatterns = [
    path("", pages.home, name="osl-home"),
    path("pannes/", pages.faults, name="osl-faults"),
    path("purge/", pages.purge_rules, name="osl-purge-rules"),
    path("purge/abonnements/<uuid:subscription_id>/", pages.retention, name="osl-retention"),
    path("abonnements/<uuid:subscription_id>/deposer/", pages.deposit, name="osl-deposit"),
    path("dossiers/<uuid:case_id>/", pages.case_detail, name="osl-case"),
    path("dossiers/<uuid:case_id>/pieces/", pages.add_documents, name="osl-documents"),
    path("dossiers/<uuid:case_id>/message/", pages.send_message, name="osl-message"),
    path("dossiers/<uuid:case_id>/cloture/", pages.close, name="osl-close"),
    path("dossiers/<uuid:case_id>/purge/", pages.purge, name="osl-purge"),
    path(
        "dossiers/<uuid:case_id>/evenements/<uuid:event_id>/accuser-reception/",
        pages.acknowledge,
        name="osl-acknowledge",
    ),
    path(
        "dossiers/<uuid:case_id>/fichiers/<uuid:attachment_id>/",
        pages.attachment,
        name="osl-attachment",
    ),
]

# The fake API (bearer token, no login, no CSRF).
# <str:...> on purpose: a non-UUID id must reach the view and get HubEE's 400, not a 404.
urlpatterns += [
    path("oauth2/token", views.token, name="token"),
    path("teledossiers/v1/notifications", views.notifications, name="notifications"),
    path(
        "teledossiers/v1/notifications/<str:notification_id>",
        views.notification_detail,
        name="notification",
    ),
    path("teledossiers/v1/cases/<str:case_id>", views.case_detail, name="case"),
    path(
        "teledossiers/v1/cases/<str:case_id>/attachments/<str:attachment_id>",
        views.case_attachment,
        name="case-attachment",
    ),
    path("teledossiers/v1/cases/<str:case_id>/events", views.case_events, name="events"),
    path(
        "teledossiers/v1/cases/<str:case_id>/events/<str:event_id>",
        views.event_detail,
        name="event",
    ),
    path(
        "teledossiers/v1/cases/<str:case_id>/events/<str:event_id>/attachments/<str:attachment_id>",
        views.event_attachment,
        name="event-attachment",
    ),
]

# The fake ProConnect (hubee_portal.sandbox.proconnect): settings.PROCONNECT_SANDBOX_PATH.
urlpatterns += [path("proconnect/api/v2/", include("hubee_portal.sandbox.proconnect.urls"))]
