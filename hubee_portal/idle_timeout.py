"""Sessions end after SESSION_IDLE_TIMEOUT without activity, and SESSION_COOKIE_AGE after the
login whatever the activity (Django's own expiry slides each time the session is saved).

The last activity is written at most once a minute: a session is not saved on every request.
Background requests of a page (fetch, images) are no activity: a dossier page left open,
following its sends, does not keep the session alive.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

STARTED = "hubee_session_started"
LAST_ACTIVITY = "hubee_last_activity"
WRITE_EVERY = 60  # seconds

EXPIRED = (
    "Votre session a expiré après une période d'inactivité ou sa durée maximale : "
    "connectez-vous de nouveau pour continuer."
)


@receiver(user_logged_in, dispatch_uid="hubee_session_started")
def _login_started(sender, request, user, **kwargs) -> None:
    now = int(time.time())
    request.session[STARTED] = now
    request.session[LAST_ACTIVITY] = now


def _is_activity(request) -> bool:
    # Sent by browsers: "navigate" for a page or a form, "cors"/"no-cors"/"same-origin" for
    # what a page loads or fetches by itself. Absent (other clients): counted.
    return request.headers.get("Sec-Fetch-Mode", "navigate") == "navigate"


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        session = request.session
        now = int(time.time())
        started = session.get(STARTED)
        last = session.get(LAST_ACTIVITY)
        if started is None or last is None:  # a session from before this version
            session[STARTED] = started or now
            session[LAST_ACTIVITY] = now
            return
        idle, age = now - last, now - started
        if idle > settings.SESSION_IDLE_TIMEOUT or age > settings.SESSION_COOKIE_AGE:
            logout(request)
            # After logout: the message survives the flushed session (cookie storage first).
            messages.info(request, EXPIRED)
            return
        if _is_activity(request) and now - last >= WRITE_EVERY:
            session[LAST_ACTIVITY] = now
