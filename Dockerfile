# selfreg in a container: what `fly deploy` builds, and what `docker run` starts anywhere else.
# The data folder /data (store, backups, component logs, control socket) is the one volume;
# fly.toml mounts its volume there. Secrets come from the environment, never from this file.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The package first (a code change rebuilds only from here); a selfreg.toml beside
# pyproject.toml, if there is one, becomes the config (./selfreg.toml in WORKDIR), else the
# bundled example runs.
COPY pyproject.toml README.md LICENSE selfreg.tom[l] ./
COPY bot ./bot
COPY checks ./checks
COPY common ./common
COPY actions ./actions
COPY models ./models
COPY examples ./examples
RUN pip install .
# `selfreg run` runs under python -OO (bot/interpreter.py), and PYTHONDONTWRITEBYTECODE keeps
# it from writing that bytecode: compile it here once, not at every start.
RUN python -OO -m compileall -q -j 0 -x '/tests?/' \
    "$(python -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')"

# A fixed non-root uid owns the data folder. Fly mounts a volume owned by the image's USER,
# and a new Docker named volume copies /data's owner from the image.
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin selfreg \
    && mkdir -p /data \
    && chown selfreg:selfreg /data

ENV SELFREG_DATA_DIR=/data \
    SELFREG_WEB_HOST=0.0.0.0 \
    SELFREG_WEB_PORT=8787
VOLUME ["/data"]
EXPOSE 8787
USER selfreg

# Liveness as Fly checks it: /health answers 200 while the loop runs and the store is
# writable. Python, not curl: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SELFREG_WEB_PORT', '8787') + '/health', timeout=4)"]

# What the Procfile starts too: the foreground process, stopped by SIGTERM.
CMD ["selfreg", "run"]
