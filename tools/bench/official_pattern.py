"""The official DINUM script's call pattern (API.md §7.2), replayed against the sandbox.

Test tooling for the benchmark: it makes the same HTTP calls, in the same order, as SolutionSI
(SC1/SC2), so that its cost can be measured against the same server as our sync. Plain
`requests`, no Django. Faithful to the pattern, including what makes it slow:

- a new TCP connection per call (a fresh `requests` call each time, `Connection: close`);
- a new token per batch of 25 notifications;
- per new case: GET the case, download each attachment (whole body in memory), POST the
  minimal then the maximal status, DELETE the notification;
- strictly sequential, until the list comes back empty.

Known flaws of the script that only matter on errors or hostile data (API.md §7.3) are not
reproduced: file names are reduced to their last component, and a failed call is retried a few
times then raised instead of exiting.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

API_PREFIX = "/teledossiers/v1"  # the official script's own, as it writes it: not our client's
APPLICATION_NAME = "script_HUBEE_DINUM"  # what SC1/SC2 send, hard-coded
RETRY_NB = 5  # SC1 NombreRetry / SC2 retry_nb
NOTIFICATION_MAX = 25  # SC1 notificationMax / SC2 max_notifications
TIMEOUT = (10.0, 120.0)


@dataclass(frozen=True)
class OfficialConfig:
    token_url: str
    api_url: str  # the API base, without /teledossiers/v1
    client_id: str
    client_secret: str = field(repr=False)
    download_dir: Path = Path("telechargements")
    min_status: str = "IN_PROGRESS"
    max_status: str = "DONE"
    editor_name: str = "COMMUNE X"
    software_version: str = "2.0.0"
    max_notifications: int = NOTIFICATION_MAX


@dataclass
class OfficialResult:
    """What the replay did, counted on its side (the sandbox's log counts the same calls)."""

    seconds: float = 0.0
    batches: int = 0
    calls: int = 0
    tokens: int = 0
    cases: int = 0
    files: int = 0
    bytes: int = 0
    events: int = 0
    retries: int = 0


class OfficialPatternError(RuntimeError):
    """A call still failed after the script's retries."""


class OfficialPattern:
    def __init__(self, config: OfficialConfig) -> None:
        self.config = config
        self.result = OfficialResult()
        self._api = config.api_url.rstrip("/") + API_PREFIX
        self._headers = {
            "editorName": config.editor_name,
            "applicationName": APPLICATION_NAME,
            "softwareVersion": config.software_version,
            # No keep-alive: the script opens a new connection for every call.
            "Connection": "close",
        }
        self._token = ""

    # -- HTTP -----------------------------------------------------------------------------------

    def _send(self, method: str, url: str, *, expected: tuple[int, ...], **kwargs: Any):
        last: Exception | None = None
        for attempt in range(RETRY_NB):
            if attempt:
                self.result.retries += 1
            self.result.calls += 1
            try:
                # requests.request: a throw-away Session, so a new connection every time.
                response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
            except requests.RequestException as exc:
                last = exc
                continue
            if response.status_code in expected:
                return response
            last = OfficialPatternError(
                f"{method} {url} -> HTTP {response.status_code}: {response.text[:300]}"
            )
        raise OfficialPatternError(f"{method} {url} failed {RETRY_NB} times: {last}") from last

    def _api_call(self, method: str, path: str, *, expected: tuple[int, ...], **kwargs: Any):
        headers = {**self._headers, "Authorization": f"Bearer {self._token}"}
        return self._send(method, self._api + path, expected=expected, headers=headers, **kwargs)

    def get_token(self) -> None:
        response = self._send(
            "POST",
            self.config.token_url,
            expected=(200,),
            auth=(self.config.client_id, self.config.client_secret),
            data={"scope": "SI", "grant_type": "client_credentials"},
            headers=self._headers,
        )
        self._token = response.json()["access_token"]
        self.result.tokens += 1

    def post_status(self, case_id: str, status: str) -> None:
        body = {
            "actionType": "STATUS_UPDATE",
            "author": "me",
            "notification": True,
            "caseNewStatus": status,
            "message": f"passage du télédossier à {status}",
        }
        self._api_call("POST", f"/cases/{case_id}/events", expected=(201,), json=body)

    def download(self, path: str, folder: Path, file_name: str) -> None:
        response = self._api_call("GET", path, expected=(200,))
        content = response.content  # the whole file in memory, as the script does
        folder.mkdir(parents=True, exist_ok=True)
        (folder / Path(file_name).name).write_bytes(content)
        self.result.files += 1
        self.result.bytes += len(content)

    # -- the algorithm (API.md §7.2) ------------------------------------------------------------

    def run(self) -> OfficialResult:
        started = time.monotonic()
        while True:
            self.get_token()  # a new token for every batch
            notifications = self._api_call(
                "GET",
                "/notifications",
                expected=(200,),
                params={"eventDetails": "true", "maxResult": str(self.config.max_notifications)},
            ).json()
            if not notifications:
                break
            self.result.batches += 1
            for notification in notifications:
                self.handle(notification)
        self.result.seconds = time.monotonic() - started
        return self.result

    def handle(self, notification: dict[str, Any]) -> None:
        case_id = notification["caseId"]
        event_id = notification.get("eventId")
        if event_id is None:
            case = self._api_call("GET", f"/cases/{case_id}", expected=(200,)).json()
            folder = self.config.download_dir / Path(str(case["externalId"])).name
            for attachment in case.get("attachments") or []:
                self.download(
                    f"/cases/{case_id}/attachments/{attachment['id']}",
                    folder,
                    attachment["fileName"],
                )
            self.post_status(case_id, self.config.min_status)
            self.post_status(case_id, self.config.max_status)
            self._api_call("DELETE", f"/notifications/{notification['id']}", expected=(204,))
            self.result.cases += 1
            return
        self.result.events += 1
        if notification.get("eventStatus") == "RECEIVED":
            self._api_call("DELETE", f"/notifications/{notification['id']}", expected=(204,))
            return
        event = self._api_call("GET", f"/cases/{case_id}/events/{event_id}", expected=(200,))
        event = event.json()
        if event.get("actionType") == "ATTACH_DEPOSIT":
            case = self._api_call("GET", f"/cases/{case_id}", expected=(200,)).json()
            folder = self.config.download_dir / Path(str(case["externalId"])).name
            for attachment in event.get("attachments") or []:
                self.download(
                    f"/cases/{case_id}/events/{event_id}/attachments/{attachment['id']}",
                    folder,
                    attachment["fileName"],
                )
            self.post_status(case_id, self.config.min_status)
            self.post_status(case_id, self.config.max_status)
        # The script acknowledges the event and leaves the notification: the next poll shows
        # it with eventStatus RECEIVED, and only then is it deleted.
        self._api_call(
            "PATCH",
            f"/cases/{case_id}/events/{event_id}",
            expected=(204,),
            json={"status": "RECEIVED"},
        )


def run(config: OfficialConfig) -> OfficialResult:
    """Replay the official script's pattern for one démarche until its list is empty."""
    return OfficialPattern(config).run()
