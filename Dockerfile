# Veil's one image: every process of the Helm chart runs from it
# (`python -m services.<name>`, `python -m veil.cli migrate <service>`).
#
# Stage 1 resolves and installs the dependencies into a virtualenv; stage 2 is
# the same pinned slim base with that virtualenv and Veil's source only: no pip
# cache, no compiler, no build tools, running as an unprivileged user.

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
COPY veil ./veil
COPY services ./services
# Every dependency ships a manylinux wheel, so nothing is compiled here either.
# Veil itself runs from /app (migrations are found next to the services'
# source), so only its dependencies stay in the virtualenv.
RUN /opt/venv/bin/pip install --prefer-binary . \
    && /opt/venv/bin/pip uninstall -y veil \
    && /opt/venv/bin/pip uninstall -y pip setuptools wheel

FROM python:3.11.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 veil \
    && useradd --system --uid 10001 --gid veil --no-create-home --shell /usr/sbin/nologin veil
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root veil ./veil
COPY --chown=root:root services ./services
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# Numeric user so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080 50051 9100
CMD ["python", "-m", "services.gateway"]
