import os

import pytest

from sandbox.world import World
from tests.e2e.harness import BotUnderTest

# slack_sdk ignores NO_PROXY: loopback tests must not go through a proxy.
for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(name, None)


@pytest.fixture
def world(tmp_path):
    with World(tmp_path) as started:
        yield started


@pytest.fixture
def make_bot(world):
    bots: list[BotUnderTest] = []

    def start(**overrides: str) -> BotUnderTest:
        bots.append(BotUnderTest(world, **overrides))
        return bots[-1]

    yield start
    for bot in bots:
        bot.stop()


@pytest.fixture
def bot(make_bot):
    return make_bot()
