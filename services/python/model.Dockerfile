# The image of a model that runs on one of the interpreters of services/python/Dockerfile
# rather than on Debian 13's python3: PYTHON names the interpreter image (python-ft,
# python-gil, python314), MODEL the model's folder, SOURCE the folder of the server it runs
# (default MODEL), PORTS what it serves. Otherwise the same layout as services/python.Dockerfile:
# user 10001, /app/fiblab, /app/<model files>, python3.
#
# PY_PACKAGES: Debian packages of pure-Python libraries (e.g. python3-gunicorn): Debian builds
# them for its own python3, so they are installed in a stage of their own and their modules
# (PY_MODULES, e.g. "gunicorn packaging") copied onto the interpreter's path, /opt/pylib, and
# compiled for it there.
ARG BASE_IMAGE=debian:trixie-slim
ARG PYTHON=python-ft
FROM ${BASE_IMAGE} AS pylib
ARG PY_PACKAGES=""
ARG PY_MODULES=""
RUN mkdir /pylib && if [ -n "$PY_PACKAGES" ]; then \
      apt-get update && apt-get install -y --no-install-recommends $PY_PACKAGES && \
      for m in $PY_MODULES; do cp -a "/usr/lib/python3/dist-packages/$m" /pylib/; done && \
      find /pylib -name __pycache__ -prune -exec rm -rf {} +; \
    fi

FROM fiblab/${PYTHON}:latest
COPY --from=pylib /pylib /opt/pylib
RUN python3 -m compileall -q /opt/pylib && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY fiblab /app/fiblab
ARG MODEL
# A model that runs its GIL neighbour's code (SOURCE=py-threads for py-threads-ft) has only its
# model.json in its own folder, copied over the neighbour's.
ARG SOURCE=${MODEL}
COPY ${SOURCE}/ /app/
COPY ${MODEL}/ /app/
# The read-only root cannot take bytecode later: compile the service now, for this interpreter.
RUN python3 -m compileall -q /app
ENV PYTHONPATH=/app:/opt/pylib PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001
ARG PORTS="8000 25000"
EXPOSE ${PORTS}
CMD ["python3", "/app/server.py"]
