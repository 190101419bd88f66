# Stand-in for node:24-slim (docker.io/library/node, Debian 12 "bookworm", Node 24), built offline by
# scripts/containers/base-images.sh. Same parts as the official image: a Debian 12 minbase root, the
# Node 24 binary in /usr/local/bin, npm in /usr/local/lib/node_modules.
# What differs: no yarn, no docker-entrypoint.sh (ENTRYPOINT is node itself), node and npm from the
# npm registry rather than nodejs.org, and the host's CA bundle added (NODE_EXTRA_CA_CERTS): these
# machines reach the npm registry through a TLS proxy whose CA the host trusts, and `npm ci` in a
# build stage fails with "self-signed certificate in certificate chain" without it.
FROM scratch
ADD rootfs.tar /
COPY node /usr/local/bin/node
COPY npm/ /usr/local/lib/node_modules/npm/
COPY host-ca.crt /usr/local/share/ca-certificates/host-ca-bundle.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
  && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
  && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
  && node --version && npm --version
ENV NODE_VERSION=24 \
    NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-ca-bundle.crt \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LABEL org.opencontainers.image.description="offline stand-in for node:24-slim (content-engine scripts/containers)"
CMD ["node"]
