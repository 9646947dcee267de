# The ccc manager as a Docker action (action.yml). Dependencies are installed before the code, from the
# hash-pinned lock, so a code change reuses the dependency layer. Runs as root, as GitHub requires of
# Docker actions (the workspace is mounted at /github/workspace).
FROM python:3.12-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/opt/ccc/src

# git: ccc drives the real git binary. Debian's stable git is wanted whatever its point release, so it is
# not pinned (a pinned version breaks the build at the next security update).
# The mounted workspace is owned by the runner's user, not root: mark it safe for git.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /github/workspace

WORKDIR /opt/ccc
COPY requirements.lock ./
RUN pip install --no-deps --require-hashes -r requirements.lock

# ccc is pure Python: on PYTHONPATH it needs no build backend, so nothing unpinned is installed.
COPY src/ccc ./src/ccc
COPY action-scripts/run.py ./action-scripts/run.py

ENTRYPOINT ["python", "/opt/ccc/action-scripts/run.py", "manager"]
