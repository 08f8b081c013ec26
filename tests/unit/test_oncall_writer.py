from bot.oncall.writer import RateWindow


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_never_more_than_the_limit_in_any_minute():
    clock = Clock()
    window = RateWindow(20, clock)
    taken = []
    for _ in range(600):  # ten minutes in one-second steps, always asking
        if window.try_take():
            taken.append(clock.now)
        clock.now += 1
    assert len(taken) == 200
    assert max(sum(1 for t in taken if start <= t < start + 60) for start in taken) == 20


def test_free_at_and_pause():
    clock = Clock()
    window = RateWindow(2, clock)
    assert window.try_take() and window.try_take() and not window.try_take()
    assert window.free_at() == 1061.0  # a second past Slack's minute: its clock and ours are not the same
    clock.now = 1061.0
    assert window.try_take()
    window.pause(30)
    assert not window.try_take() and window.free_at() == 1091.0


def test_a_restarted_writer_does_not_spend_the_minute_again(store):
    from bot.oncall.writer import LIMITS_PER_MINUTE, SlackWriter, WriteReport

    clock = Clock()
    first = SlackWriter(store, slack=None, clock=clock)  # type: ignore[arg-type]
    report = WriteReport()
    assert all(
        first._take("conversations.setTopic", report) for _ in range(LIMITS_PER_MINUTE["conversations.setTopic"])
    )
    clock.now += 10
    second = SlackWriter(store, slack=None, clock=clock)  # a new process, ten seconds later
    assert not second._take("conversations.setTopic", report)
    assert second.windows["conversations.setTopic"].free_at() == 1061.0
    clock.now = 1061.0
    assert second._take("conversations.setTopic", report)
