#!/usr/bin/env node
// The package bin: runs the TypeScript sources through tsx, so `npx consent-gateway …` works straight
// after `npm ci` with no build step. Templates are precompiled here when views/ changed.
import { register } from 'tsx/esm/api'
import { buildViews, viewsAreStale } from '../scripts/build-views.mjs'

if (viewsAreStale()) buildViews()
register()
await import('../src/cli/main.ts')
