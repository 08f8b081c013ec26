import time

from bot.clients.slack import build_web_client
from bot.identity import SlackDirectory
from bot.store import Store
from bot.wiring import MIGRATIONS


def lookups(world):
    return len(world.slack.calls("POST", r"/api/users\.lookupByEmail$"))


def test_email_maps_to_a_cached_mention_and_falls_back_to_the_name(world, tmp_path):
    store = Store(tmp_path / "i.db", MIGRATIONS)
    directory = SlackDirectory(store, build_web_client(world.settings(SWITCHBOARD_RETRY_PROFILE="test")))
    assert directory.mention_or_name("Alice@Sandbox.example", "Alice A") == "<@U0ALICE>"
    assert directory.mention_or_name("alice@sandbox.example", "Alice A") == "<@U0ALICE>"
    assert lookups(world) == 1  # the second answer came from SQLite
    assert directory.mention_or_name("ghost@nowhere.example", "Ghost <!channel>") == "Ghost &lt;!channel&gt;"
    assert directory.mention_or_name(None, "No Email") == "No Email"
    assert lookups(world) == 2
    store.close()


def test_deactivated_users_are_not_mentioned_and_the_cache_expires(world, tmp_path):
    world.slack.add_user("U0GONE", "gone", "Gone Person", "gone@sandbox.example", deleted=True)
    store = Store(tmp_path / "i.db", MIGRATIONS)
    directory = SlackDirectory(store, build_web_client(world.settings(SWITCHBOARD_RETRY_PROFILE="test")))
    assert not directory.lookup("gone@sandbox.example").found
    assert directory.lookup("bob@sandbox.example").user_id == "U0BOB"
    assert directory.lookup("bob@sandbox.example", now=time.time() + 7200).user_id == "U0BOB"
    assert lookups(world) == 3  # the expired entry was fetched again
    store.close()
