# The tuneflow image: the CLI, worker and codec server, compiled, with production dependencies only.
#   docker build -t tuneflow .        (docker-compose.yml builds it for the worker service)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
# npm ci runs `prepare`, which is the build (dist/ and the workflow bundle).
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY data/sample ./data/sample
USER node
ENV TUNEFLOW_HOME=/home/node/.tuneflow
ENTRYPOINT ["node", "/app/bin/tuneflow.mjs"]
CMD ["worker"]
