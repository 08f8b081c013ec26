from collections.abc import Iterator

import pytest

from sandbox.fakes.pagerduty import PagerDutyFake
from sandbox.world import World


@pytest.fixture
def account_b(world: World) -> Iterator[PagerDutyFake]:
    """A second PagerDuty account (its own server, as each real account has its own API key and data)."""
    fake = PagerDutyFake(world.ca, tokens=("pd-b",))
    fake.start()
    fake.add_user("PALICEB", "Alice Archer", "alice@sandbox.example")
    fake.add_service("PBPAY01", "Payments (EU)")
    fake.add_service("PBMON01", "B monitors")
    yield fake
    fake.stop()
