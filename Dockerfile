# syntax=docker/dockerfile:1
# Build stage: the same Maven build as on a developer's machine, dependencies cached in their own layer.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q -DskipTests package

# Run stage: a JRE only, a non-root user, data and logs on volumes.
FROM eclipse-temurin:17-jre
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system leadrelay \
 && useradd --system --gid leadrelay --home-dir /app --shell /usr/sbin/nologin leadrelay
WORKDIR /app
COPY --from=build /src/target/leadrelay.jar /app/leadrelay.jar
COPY conf/config.json /app/conf/config.json
RUN mkdir -p /app/data /app/logs && chown -R leadrelay:leadrelay /app/data /app/logs && chmod 700 /app/data
ENV HTTP_PORT=8080 \
    DATA_DIR=/app/data \
    LOG_DIR=/app/logs
USER leadrelay
# 8080: webhooks and health; 5701 and 5702: Hazelcast and the clustered event bus (only between the nodes).
EXPOSE 8080 5701 5702
VOLUME ["/app/data", "/app/logs"]
# Readiness, every 10 s: "healthy" is what a rolling restart waits for (docker compose ps), and a node that cannot
# keep webhooks (its database unreachable, or stopping) turns unhealthy within about 30 s.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${HTTP_PORT}/health/ready" > /dev/null || exit 1
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "/app/leadrelay.jar"]
