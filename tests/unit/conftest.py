import pytest

from bot.store import Store
from bot.wiring import MIGRATIONS


@pytest.fixture
def store(tmp_path):
    """A fresh database with every migration of this version applied."""
    opened = Store(tmp_path / "switchboard.db", MIGRATIONS)
    yield opened
    opened.close()
