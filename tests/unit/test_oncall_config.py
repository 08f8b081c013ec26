import pytest

from bot.oncall.config import load
from bot.settings import SettingsError, load_settings


def config(**env: str):
    return load(load_settings(env, dotenv_path=None))


def test_defaults():
    loaded = config()
    assert loaded.sync_seconds == 300.0 and loaded.handoff_dm is False


def test_values():
    loaded = config(ONCALL_SYNC_MINUTES="0.5", ONCALL_HANDOFF_DM="yes")
    assert loaded.sync_seconds == 30.0 and loaded.handoff_dm is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ONCALL_SYNC_MINUTES": "0"}, "ONCALL_SYNC_MINUTES must be a number of minutes between 0 and 1440"),
        ({"ONCALL_SYNC_MINUTES": "5m"}, "ONCALL_SYNC_MINUTES must be a number of minutes"),
        ({"ONCALL_SYNC_MINUTES": "2000"}, "ONCALL_SYNC_MINUTES must be a number of minutes"),
        ({"ONCALL_HANDOFF_DM": "sometimes"}, "ONCALL_HANDOFF_DM must be true or false, got 'sometimes'"),
    ],
)
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(SettingsError) as raised:
        config(**env)
    assert str(raised.value).startswith(message)
