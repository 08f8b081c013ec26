# Switchboard in a container; docs/operations.md ("In a container") says how to run it. Two targets:
#   docker build -t switchboard .
#       the default: the bot against Slack when SLACK_BOT_TOKEN and SLACK_APP_TOKEN are set, otherwise the
#       sandbox, so `docker run --rm -it switchboard` plays the tour
#   docker build --target production -t switchboard:production .
#       the bot only: runtime packages, no sandbox, no tests; without the two tokens it exits 1 with one line
# The project runs on Python 3.11. To pin the base image by digest:
#   --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest>

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS production
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
# A fixed UID, so a bind-mounted data directory can be handed to it: chown 10001:10001 ./data
RUN groupadd --gid 10001 switchboard \
    && useradd --uid 10001 --gid switchboard --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
        switchboard
WORKDIR /app

# Packages before code: a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY app.py ./
COPY bot/ bot/
COPY listeners/ listeners/
# The code stays root's (read-only to the bot); its bytecode is compiled once here because the bot's user cannot
# write it, and every health check starts a fresh interpreter. Only data/ is the bot's.
RUN python -m compileall -q app.py bot listeners \
    && mkdir data && chown switchboard:switchboard data
USER switchboard
# All state: the SQLite database (DATABASE_PATH, default data/switchboard.db) and the sandbox's world.
VOLUME /app/data
# SIGTERM stops the bot cleanly; an outbox pass may take up to 30 s, so stop with a longer grace (docker stop -t 40).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["python", "app.py", "health"]
ENTRYPOINT ["python", "app.py"]
CMD ["run"]


# The default target: the production image plus the sandbox, its two packages and the entry point that picks
# between Slack and the sandbox the way ./switchboard does.
FROM production AS sandbox
USER root
COPY requirements-sandbox.txt ./
RUN pip install -r requirements-sandbox.txt
COPY sandbox/ sandbox/
COPY docker/entrypoint docker/
RUN python -m compileall -q sandbox && chmod 0755 docker/entrypoint
USER switchboard
# `health` checks the sandbox's own database when the sandbox is what runs (docker/entrypoint).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["/app/docker/entrypoint", "health"]
ENTRYPOINT ["/app/docker/entrypoint"]
CMD []
