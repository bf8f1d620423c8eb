# et-import: build in one stage, run the compiled CLI in a slim image as the non-root `node` user.
#   docker build --network=host -t et-import .
#   docker run --rm -v "$PWD:/data" -e ET_URL -e ET_AUTH_KEY -e ET_AUTH_SECRET et-import run -i export.csv -m mapping.yaml
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the sources are not copied yet
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config ./config
COPY fixtures ./fixtures
WORKDIR /data
RUN chown node:node /data
USER node
# a small young generation keeps the resident set low on million-row files (see npm run bench)
ENTRYPOINT ["node", "--max-semi-space-size=16", "--max-old-space-size=2048", "--heap-growing-percent=50", "/app/dist/cli.js"]
CMD ["--help"]
