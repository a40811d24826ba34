# watcher in a container: the daemon as a numeric non-root user, state on the /data volume.
#
#   docker build -t watcher .
#   podman build --format docker --secret id=pipca,src=/etc/ssl/certs/ca-certificates.crt \
#     --build-arg BASE=localhost/debian:bookworm -t watcher .
#
# One base image for both stages, named once, so that it can point at a local mirror. The official
# python image has python3; a plain Debian bookworm image gets its python3 (3.11) from apt.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
# Debian's own packages follow the base image's release; pinning their versions would break the
# build whenever the mirror moves on.
# hadolint ignore=DL3008
RUN if ! command -v python3 >/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && python3 -m venv /opt/venv
WORKDIR /src
# Dependencies first, from the lock file (make lock), so code edits reuse this layer.
COPY requirements.lock ./
# A machine whose network re-signs TLS passes its CA bundle as the pipca secret; elsewhere the
# secret is absent and pip uses its own.
RUN --mount=type=secret,id=pipca \
    if [ -s /run/secrets/pipca ]; then export PIP_CERT=/run/secrets/pipca; fi; \
    /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements.lock
COPY pyproject.toml README.md ./
COPY watcher ./watcher
# The package itself goes in as a wheel, without its dependencies (already pinned above); then
# pip and setuptools leave the venv, since nothing installs at run time.
RUN --mount=type=secret,id=pipca \
    if [ -s /run/secrets/pipca ]; then export PIP_CERT=/run/secrets/pipca; fi; \
    /opt/venv/bin/pip wheel --no-cache-dir --disable-pip-version-check --no-deps \
        --wheel-dir /tmp/dist . \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps \
        /tmp/dist/watcher-*.whl \
    && /opt/venv/bin/pip uninstall --yes --disable-pip-version-check setuptools pip

FROM ${BASE}
# The same interpreter the venv was built against, at the same path; no compilers, no pip cache.
# hadolint ignore=DL3008
RUN if ! command -v python3 >/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 \
        && apt-get clean \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && mkdir -p /data /config \
    && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
# The shipped sources as a default; mount your own over it (read-only is enough).
COPY sources.toml /config/sources.toml
ENV PATH=/opt/venv/bin:$PATH \
    WATCHER_STATE=/data \
    WATCHER_CONFIG=/config/sources.toml \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080
# The daemon stops on SIGTERM itself (scheduler.py installs the handler, lets checks in flight
# finish and exits 0) and starts no child processes, so as PID 1 it needs no init such as tini:
# there is nothing to reap and no signal it would miss.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=15s --start-period=30s --retries=3 CMD ["watcher", "health"]
ENTRYPOINT ["watcher"]
CMD ["run"]
