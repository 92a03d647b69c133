from django.urls import path

from . import views

app_name = "sandbox"

# <str:...> on purpose: a non-UUID id must reach the view and get HubEE's 400, not a 404.
urlpatterns = [
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
