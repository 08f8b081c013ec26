from bot.pacing import UserPacer


def test_a_user_past_the_limit_waits_for_the_oldest_command_to_leave_the_window():
    now = [1000.0]
    pacer = UserPacer(3, window=60.0, clock=lambda: now[0])
    assert [pacer.admit("U1") for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] += 10
    assert pacer.admit("U1") == 50.0
    assert pacer.admit("U2") == 0.0  # one person's pace is theirs alone
    now[0] += 50
    assert pacer.admit("U1") == 0.0


def test_zero_means_no_limit():
    pacer = UserPacer(0)
    assert all(pacer.admit("U1") == 0.0 for _ in range(1000))
