# A swarm node: Debian's Docker engine, run privileged (Docker in Docker). Built on the lab's
# local base image like every other lab image: only apt-get reaches outside during a build.
ARG BASE_IMAGE=debian:trixie-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends docker.io docker-cli iptables ca-certificates procps \
 && rm -rf /var/lib/apt/lists/*
COPY node-entrypoint /usr/local/bin/node-entrypoint
VOLUME /var/lib/docker
ENTRYPOINT ["/usr/local/bin/node-entrypoint"]
