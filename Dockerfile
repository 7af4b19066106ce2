# syntax=docker/dockerfile:1
# The mcp-gateway container image: a release build in the Rust image, copied alone into
# distroless (glibc, CA certificates, no shell, no package manager), running as a non-root user.
#
#   docker build -t mcp-gateway .
#   docker run --rm -p 8000:8000 -e MCP_GATEWAY_ALLOWED_HOSTS=localhost \
#     -v "$PWD/gateways/petstore:/etc/mcp-gateway:ro" -e PETSTORE_BASE_URL=https://petstore.example.com \
#     mcp-gateway
#
# The gateway serves /etc/mcp-gateway/gateway.yaml (mount your gateway's folder there; edits are
# reloaded live) on 0.0.0.0:8000, so MCP_GATEWAY_ALLOWED_HOSTS must name the host clients use.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# Caches keep the registry and the target folder between builds; the binary is copied out of
# the cached target folder because cache mounts are not part of the image.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin mcp-gateway \
    && cp target/release/mcp-gateway /usr/local/bin/mcp-gateway

# Same Debian release as the build stage, so the binary finds the glibc it was linked against.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/mcp-gateway /usr/local/bin/mcp-gateway
# Listen on every interface inside the container; `serve` then insists on MCP_GATEWAY_ALLOWED_HOSTS.
ENV MCP_GATEWAY_LISTEN=0.0.0.0:8000
# distroless' `nonroot` user (65532); numeric so Kubernetes' runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8000
# No curl in this image: the binary asks its own /readyz (at MCP_GATEWAY_LISTEN's port).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/mcp-gateway", "health"]
ENTRYPOINT ["/usr/local/bin/mcp-gateway"]
CMD ["serve", "/etc/mcp-gateway/gateway.yaml"]
