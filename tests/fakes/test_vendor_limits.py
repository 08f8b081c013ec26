"""`World(vendor_limits=True)` turns on the vendors' limits in every fake that has them; by default they are off."""

from __future__ import annotations

from sandbox.world import World


def test_world_turns_every_vendor_limit_on_or_leaves_them_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    limited = World(tmp_path / "limited", vendor_limits=True)
    assert limited.slack.vendor_limits is True
    assert (limited.zendesk.export_delay_seconds, limited.zendesk.export_rate_limit_per_minute) == (60, 10)
    assert (limited.statuspage.requests_per_second, limited.statuspage.limit_status) == (1, 429)

    plain = World(tmp_path / "plain")
    assert plain.slack.vendor_limits is False
    assert (plain.zendesk.export_delay_seconds, plain.zendesk.export_rate_limit_per_minute) == (0, None)
    assert plain.statuspage.requests_per_second is None
