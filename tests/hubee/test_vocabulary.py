"""The HubEE vocabulary, written once: each named set pinned with today's members, and the
models' choices derived from it equal to the values and labels the portal used before."""

import pytest

from dossiers import enums as dossiers_enums
from dossiers.records.queues import QUEUE_STATUSES, Queue, queue_of
from hubee_portal import choices
from hubee_portal.hubee import vocabulary as v
from hubee_portal.hubee.vocabulary import ActionType, AttachmentStatus, CaseStatus, EventStatus
from hubee_portal.sandbox import enums as sandbox_enums

# The portal's values and labels as they were written in demarches/enums.py and
# dossiers/enums.py before the vocabulary (order included: it is the order of the choices).
PORTAL_CASE_STATUSES = [
    ("HUBEE_RECEIVED", "Reçu par le HubEE"),
    ("HUBEE_COMPLETED", "Complété"),
    ("HUBEE_NOTIFIED", "Nouveau"),
    ("SENT", "Transmis"),
    ("SI_RECEIVED", "Reçu"),
    ("IN_PROGRESS", "En cours"),
    ("ADD_AWAITING", "En attente de compléments"),
    ("REFUSED", "Refusé"),
    ("DONE", "Traité"),
    ("CLOSED", "Clos"),
    ("SI_INTG_ERROR", "Erreur d'intégration"),
    ("ARCHIVED", "Archivé"),
]
PORTAL_EVENT_STATUSES = [
    ("IN_PROGRESS", "En cours de dépôt"),
    ("SENT", "Envoyé"),
    ("RECEIVED", "Accusé de réception"),
]
PORTAL_ACTION_TYPES = [
    ("STATUS_UPDATE", "Changement de statut"),
    ("ATTACH_DEPOSIT", "Dépôt de pièces"),
    ("SENDING_MESSAGE", "Message"),
    ("ATTACH_DL", "Téléchargement d'une pièce"),
    ("ATTACH_DL_ALL", "Téléchargement de toutes les pièces"),
    ("COM_ADD", "Commentaire interne"),
]
# Only the sandbox had attachment statuses: its labels are the portal's now.
ATTACHMENT_STATUSES = [
    ("PENDING", "En attente du fichier"),
    ("RECEIVED", "Reçu"),
    ("CORRUPTED", "Corrompu (antivirus)"),
    ("REJECTED", "Rejeté"),
    ("DELETED", "Supprimé (purge)"),
]

S = CaseStatus


def test_named_status_sets_keep_todays_members():
    assert {S.DONE, S.REFUSED, S.CLOSED, S.ARCHIVED} == v.NO_FURTHER_PUSH
    assert {S.DONE, S.REFUSED, S.CLOSED} == v.RETENTION_START
    assert {S.CLOSED, S.ARCHIVED} == v.LOCKED
    assert {S.SENT, S.SI_RECEIVED, S.IN_PROGRESS} == v.FIRST_PUSH
    assert {S.DONE, S.REFUSED} == v.SI_FINAL
    assert {
        AttachmentStatus.CORRUPTED,
        AttachmentStatus.REJECTED,
        AttachmentStatus.DELETED,
    } == v.UNAVAILABLE_FILE


def test_queues_keep_todays_members():
    assert {
        S.HUBEE_RECEIVED,
        S.HUBEE_COMPLETED,
        S.HUBEE_NOTIFIED,
        S.SENT,
        S.SI_RECEIVED,
        S.IN_PROGRESS,
    } == v.QUEUE_TODO
    assert {S.ADD_AWAITING} == v.QUEUE_WAITING
    assert {S.DONE, S.REFUSED, S.CLOSED, S.ARCHIVED, S.SI_INTG_ERROR} == v.QUEUE_DONE
    # The same as the list's queues (dossiers/queues.py) today.
    assert QUEUE_STATUSES[Queue.TODO] == v.QUEUE_TODO
    assert QUEUE_STATUSES[Queue.WAITING] == v.QUEUE_WAITING
    assert QUEUE_STATUSES[Queue.DONE] == v.QUEUE_DONE


def test_every_status_is_in_exactly_one_queue():
    queues = [v.QUEUE_TODO, v.QUEUE_WAITING, v.QUEUE_DONE]
    for status in CaseStatus:
        assert sum(status in queue for queue in queues) == 1, status
        expected = {0: Queue.TODO, 1: Queue.WAITING, 2: Queue.DONE}
        assert queue_of(status) == expected[[status in q for q in queues].index(True)]


def test_status_order_is_todays():
    assert dict(v.STATUS_RANK) == {
        S.HUBEE_RECEIVED: 0,
        S.HUBEE_COMPLETED: 1,
        S.HUBEE_NOTIFIED: 2,
        S.SENT: 3,
        S.SI_RECEIVED: 4,
        S.IN_PROGRESS: 5,
        S.ADD_AWAITING: 6,
        S.REFUSED: 7,
        S.DONE: 7,
    }


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        ("HUBEE_NOTIFIED", "SI_RECEIVED", True),
        ("SENT", "IN_PROGRESS", True),
        ("IN_PROGRESS", "DONE", True),
        ("ADD_AWAITING", "REFUSED", True),
        ("IN_PROGRESS", "SI_RECEIVED", False),  # never backwards
        ("SI_RECEIVED", "SI_RECEIVED", False),  # nor in place
        ("REFUSED", "DONE", False),  # same rank
        ("DONE", "ARCHIVED", False),
        ("CLOSED", "DONE", False),  # nothing after CLOSED or ARCHIVED
        ("ARCHIVED", "IN_PROGRESS", False),
        ("IN_PROGRESS", "CLOSED", False),  # HubEE's own statuses are never pushed
        ("IN_PROGRESS", "SI_INTG_ERROR", False),
        ("IN_PROGRESS", "NOT_A_STATUS", False),
        ("NOT_A_STATUS", "SENT", True),  # an unknown current status ranks lowest
        ("", "SI_RECEIVED", True),
    ],
)
def test_moves_forward(current, new, expected):
    assert v.moves_forward(current, new) is expected


def test_moves_forward_on_every_pair_follows_the_pinned_order_and_sets():
    # Before the outbound split this compared with the outbox's moves_forward; the outbox now
    # imports the vocabulary's, so the same pairs are checked against the truth written here:
    # the order pinned in test_status_order_is_todays and the NO_FURTHER_PUSH members.
    rank = {
        S.HUBEE_RECEIVED: 0,
        S.HUBEE_COMPLETED: 1,
        S.HUBEE_NOTIFIED: 2,
        S.SENT: 3,
        S.SI_RECEIVED: 4,
        S.IN_PROGRESS: 5,
        S.ADD_AWAITING: 6,
        S.REFUSED: 7,
        S.DONE: 7,
    }
    no_further_push = {S.DONE, S.REFUSED, S.CLOSED, S.ARCHIVED}
    for current in [*CaseStatus, "UNKNOWN"]:
        for new in [*CaseStatus, "UNKNOWN"]:
            expected = (
                current not in no_further_push and new in rank and rank[new] > rank.get(current, -1)
            )
            assert v.moves_forward(current, new) == expected


def test_labels_are_the_portals():
    assert [(m.value, m.label) for m in CaseStatus] == PORTAL_CASE_STATUSES
    assert [(m.value, m.label) for m in EventStatus] == PORTAL_EVENT_STATUSES
    assert [(m.value, m.label) for m in ActionType] == PORTAL_ACTION_TYPES
    assert [(m.value, m.label) for m in AttachmentStatus] == ATTACHMENT_STATUSES
    assert CaseStatus.HUBEE_NOTIFIED.label == "Nouveau"


def test_label_of_falls_back_to_the_raw_value():
    assert v.label_of("DONE") == "Traité"
    assert v.label_of(CaseStatus.HUBEE_NOTIFIED) == "Nouveau"
    assert v.label_of("RECEIVED", EventStatus) == "Accusé de réception"
    assert v.label_of("WHATEVER") == "WHATEVER"


def test_members_are_plain_strings():
    assert CaseStatus.DONE == "DONE"
    assert "DONE" in v.NO_FURTHER_PUSH
    assert f"{CaseStatus.DONE}" == "DONE"
    # Equal values of two enums are equal strings: sets mix them, labels do not.
    assert EventStatus.SENT == CaseStatus.SENT
    assert EventStatus.SENT.label == "Envoyé"
    assert CaseStatus.SENT.label == "Transmis"


@pytest.mark.parametrize(
    ("derived", "vocabulary", "today"),
    [
        (choices.CaseStatus, CaseStatus, PORTAL_CASE_STATUSES),
        (choices.EventStatus, EventStatus, PORTAL_EVENT_STATUSES),
        (choices.ActionType, ActionType, PORTAL_ACTION_TYPES),
        (choices.AttachmentStatus, AttachmentStatus, ATTACHMENT_STATUSES),
    ],
)
def test_derived_choices_equal_the_vocabulary_and_todays_values(derived, vocabulary, today):
    assert derived.choices == today
    assert derived.names == [m.name for m in vocabulary]
    for member in vocabulary:
        assert derived(member.value).label == member.label
        assert derived[member.name] == member
    assert derived.__name__ == vocabulary.__name__


def test_derived_choices_equal_the_apps_enums_today():
    # The models' choices did not change (makemigrations --check proves it too).
    assert choices.CaseStatus.choices == dossiers_enums.CaseStatus.choices
    assert choices.EventStatus.choices == dossiers_enums.EventStatus.choices
    assert choices.ActionType.choices == dossiers_enums.ActionType.choices
    assert choices.AttachmentStatus.choices == sandbox_enums.AttachmentStatus.choices
    # The sandbox writes the same values, with the portal's labels (« Nouveau »…).
    for derived, sandbox in (
        (choices.CaseStatus, sandbox_enums.CaseStatus),
        (choices.EventStatus, sandbox_enums.EventStatus),
        (choices.ActionType, sandbox_enums.ActionType),
    ):
        assert set(derived.values) == set(sandbox.values)
        assert derived.choices == sandbox.choices


def test_the_protocol_package_imports_no_django():
    import subprocess
    import sys

    code = (
        "import sys; import hubee_portal.hubee.vocabulary, hubee_portal.hubee; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
