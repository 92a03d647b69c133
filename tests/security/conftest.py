"""Security findings (issue 19): the sandbox and the healthy baseline of the operations tests."""

from tests.operations.conftest import big_disk, healthy  # noqa: F401  (fixtures)
from tests.views.conftest import hubee, login, portal  # noqa: F401  (fixtures)
