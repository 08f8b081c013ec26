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
    assert window.free_at() == 1060.0
    clock.now = 1060.0
    assert window.try_take()
    window.pause(30)
    assert not window.try_take() and window.free_at() == 1090.0
