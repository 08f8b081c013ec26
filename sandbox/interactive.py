"""`sandbox --interactive`: type as a workspace user and watch the bot answer in the transcript."""

from __future__ import annotations

import contextlib
import threading

from sandbox.transcript import Transcript
from sandbox.world import CHANNELS, PEOPLE, World

HELP = """Type a message to post it, or a slash command such as /switchboard status.
  :as <name>      act as another user ({users})
  :in <channel>   move to another channel ({channels})
  :home           open the app's Home tab
  :quit           stop the sandbox"""


def interactive_loop(world: World, transcript: Transcript, stop: threading.Event) -> None:
    users = {handle: user_id for user_id, handle, *_ in PEOPLE}
    channels = {name: channel_id for channel_id, name in CHANNELS}
    user, channel = "alice", "ops"
    print(HELP.format(users=", ".join(users), channels=", ".join(channels)))
    while not stop.is_set():
        try:
            line = input(f"{user}@#{channel}> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            continue
        if line in (":quit", ":q"):
            break
        if line.startswith(":as "):
            name = line[4:].strip().lstrip("@")
            user = name if name in users else user
            if name not in users:
                print(f"No user {name!r}; try one of {', '.join(users)}")
        elif line.startswith(":in "):
            name = line[4:].strip().lstrip("#")
            channel = name if name in channels else channel
            if name not in channels:
                print(f"No channel {name!r}; try one of {', '.join(channels)}")
        elif line == ":home":
            world.slack.open_home(users[user])
        elif line.startswith(":"):
            print(HELP.format(users=", ".join(users), channels=", ".join(channels)))
        elif line.startswith("/"):
            command, _, text = line.partition(" ")
            said = len(transcript.lines)
            envelope = world.slack.slash_command(users[user], channels[channel], command, text)
            try:
                world.slack.wait_for_ack(envelope, timeout=5)
            except AssertionError:
                print(f"Slack would say: {command} failed with operation_timeout (no ack within 3 seconds)")
                continue
            with contextlib.suppress(AssertionError):  # show the answer before the next prompt, if it comes quickly
                world.slack.wait_for(lambda said=said: len(transcript.lines) > said, timeout=3)
        else:
            world.slack.post_message(users[user], channels[channel], line)
    stop.set()
