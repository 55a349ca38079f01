# The Telegram fact-check bot: `docker compose up -d` with compose.yaml beside this file (see the operator's guide).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /build

# 1. The dependencies, from pyproject.toml alone: this layer is rebuilt only when they change, not on every edit.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && pip install -r requirements.txt

# 2. The code, installed without dependencies (they are all in the layer above).
COPY README.md ./
COPY bot/ bot/
RUN pip install --no-deps . \
    && rm -rf ./*

# 3. The knowledge base, baked in. To serve another one, mount it and set KNOWLEDGE_DIR (or mount over this one).
WORKDIR /app
COPY knowledge/ knowledge/

# 4. A user of its own; the database (and its .key and .health files beside it) on a volume.
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid bot --home-dir /app --no-create-home --shell /usr/sbin/nologin bot \
    && mkdir /data \
    && chown bot:bot /data
ENV KNOWLEDGE_DIR=/app/knowledge \
    DATABASE_PATH=/data/bot.sqlite3
VOLUME ["/data"]
USER 10001:10001

# Webhook mode only (`run --webhook`), behind a TLS reverse proxy; long polling (the default) needs no port.
EXPOSE 8443

# Exec form throughout: python is PID 1 and gets SIGTERM itself, so answers in flight finish and the database closes.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["python", "-m", "bot", "health"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
