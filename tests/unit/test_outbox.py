import time

import pytest

from bot.outbox import GiveUp, Outbox, RetryLater
from bot.store import Store
from bot.wiring import MIGRATIONS


def test_same_key_is_performed_once(store):
    outbox = Outbox(store)
    performed = []
    outbox.register("post", lambda payload: performed.append(payload["text"]) or {"ts": "1.0"})
    assert outbox.enqueue("post:C1:1", "post", {"text": "hi"})
    assert not outbox.enqueue("post:C1:1", "post", {"text": "hi"})  # a redelivered event
    assert outbox.run_due() == 1
    assert outbox.run_due() == 0
    assert performed == ["hi"]
    assert outbox.get("post:C1:1").result == {"ts": "1.0"}


def test_retry_later_waits_for_the_vendor_hint(store):
    outbox = Outbox(store)
    calls = []

    def flaky(payload):
        calls.append(time.time())
        if len(calls) == 1:
            raise RetryLater("429 from Zendesk", seconds=30)
        return None

    outbox.register("ticket", flaky)
    outbox.enqueue("t1", "ticket", {})
    outbox.run_due()
    assert outbox.run_due() == 0  # not due yet
    effect = outbox.get("t1")
    assert effect.state == "pending" and effect.attempts == 1 and effect.last_error == "429 from Zendesk"
    assert outbox.run_due(now=time.time() + 31) == 1
    assert outbox.get("t1").state == "done"


def test_errors_back_off_exponentially_and_give_up_is_final(store):
    outbox = Outbox(store, backoff_base=10)

    def down(payload):
        raise ConnectionError("refused")

    def refused(payload):
        raise GiveUp("channel_not_found")

    outbox.register("down", down)
    outbox.register("refused", refused)
    outbox.enqueue("a", "down", {})
    outbox.enqueue("b", "refused", {})
    before = time.time()
    outbox.run_due()
    row = store.query_one("SELECT * FROM outbox WHERE key = 'a'")
    assert 9 <= row["next_attempt_at"] - before <= 11
    outbox.run_due(now=time.time() + 11)
    row = store.query_one("SELECT * FROM outbox WHERE key = 'a'")
    assert row["attempts"] == 2 and 19 <= row["next_attempt_at"] - time.time() <= 21
    assert outbox.get("b").state == "failed" and outbox.get("b").last_error == "channel_not_found"
    assert outbox.counts() == {"pending": 1, "done": 0, "failed": 1}


def test_pending_work_survives_a_restart(tmp_path):
    path = tmp_path / "r.db"
    first = Store(path, MIGRATIONS)
    Outbox(first).enqueue("k", "post", {"text": "after restart"})
    first.close()  # the process dies before the outbox job ran
    second = Store(path, MIGRATIONS)
    outbox = Outbox(second)
    performed = []
    outbox.register("post", lambda payload: performed.append(payload["text"]))
    outbox.run_due()
    assert performed == ["after restart"]
    second.close()


def test_enqueue_joins_the_callers_transaction(store):
    outbox = Outbox(store)
    with pytest.raises(RuntimeError), store.write() as db:
        outbox.enqueue("k", "post", {}, db=db)
        raise RuntimeError("the state change failed")
    assert outbox.get("k") is None


def test_follow_ups_enqueued_by_a_handler_run_in_the_same_pass(store):
    outbox = Outbox(store)
    order = []

    def create_ticket(payload):
        order.append("ticket")
        outbox.enqueue("link:1", "post_link", {"ticket": 42})
        return {"id": 42}

    def always_later(payload):
        order.append("later")
        raise RetryLater("not yet", seconds=0)  # due again at once, but tried once per pass

    outbox.register("create_ticket", create_ticket)
    outbox.register("post_link", lambda payload: order.append(f"link {payload['ticket']}"))
    outbox.register("later", always_later)
    outbox.enqueue("ticket:1", "create_ticket", {})
    outbox.enqueue("later:1", "later", {})
    assert outbox.run_due() == 2
    assert order == ["ticket", "later", "link 42"]


def test_not_now_never_exhausts_an_effect_but_failures_do(store):
    outbox = Outbox(store, max_attempts=3)
    outbox.register("paced", lambda payload: (_ for _ in ()).throw(RetryLater("creation budget spent", seconds=0)))
    outbox.register("broken", lambda payload: (_ for _ in ()).throw(ConnectionError("refused")))
    outbox.enqueue("paced", "paced", {})
    outbox.enqueue("broken", "broken", {})
    for _ in range(5):
        outbox.run_due(now=time.time() + 10_000)
    paced, broken = outbox.get("paced"), outbox.get("broken")
    assert paced.state == "pending" and paced.attempts == 5 and paced.failures == 0
    assert broken.state == "failed" and broken.failures == 3 and broken.attempts == 3
