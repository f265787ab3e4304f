# The smoke image: the healthchecks CLI (botplatform-smoke) compiled to JavaScript, run as the
# non-root `node` user. Kubernetes stages run it as the post-deploy smoke Job (stage smoke.image).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.smoke.json ./
COPY healthchecks ./healthchecks
RUN npx tsc -p tsconfig.smoke.json && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER node
ENTRYPOINT ["node", "/app/dist/healthchecks/cli.js"]
