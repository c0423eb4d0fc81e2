/**
 * @module /api/v1/admin/proof-bundles: every consent of a period or a purpose as one signed bundle
 * for an authority (src/domain/compliance/proof-bundle.ts gives the format). A client fetches page 0,
 * 1, 2… in turn (each answer's `Link` names the next one, or the manifest after the last), then the
 * manifest; pasted together in order, they are the file `consent-gateway verify-bundle` checks. On Node,
 * `/download` streams the same file in one answer.
 */
import { Hono, type Context } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import {
  bundleStream,
  bundleManifest,
  bundlePage,
  createProofBundle,
  getProofBundle,
  listBundles,
  MAX_PAGE_SIZE,
  type BundleError,
} from '../../../domain/compliance/proof-bundle.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { errors, json } from '../schemas.ts'
import { documentedBody, jsonBody } from '../validate.ts'
import { actor, idParam, isoDate, ms, permitted, requirePermission, text } from './guard.ts'

const NDJSON = 'application/x-ndjson; charset=utf-8'

const CreateBody = v.object({
  purpose: v.nullish(text('purpose', 64)),
  from: v.nullish(isoDate('from')),
  to: v.nullish(isoDate('to')),
  page_size: v.optional(
    v.pipe(
      v.number('page_size must be a whole number'),
      v.integer('page_size must be a whole number'),
      v.minValue(1, `page_size must be between 1 and ${MAX_PAGE_SIZE}`),
      v.maxValue(MAX_PAGE_SIZE, `page_size must be between 1 and ${MAX_PAGE_SIZE}`),
    ),
  ),
  fresh_checkpoint: v.optional(v.boolean('fresh_checkpoint must be true or false')),
})

const BundleView = v.object({
  id: v.string(),
  filter: v.object({
    purpose: v.nullable(v.string()),
    occurred_from: v.nullable(v.string()),
    occurred_to: v.nullable(v.string()),
  }),
  checkpoint_id: v.string(),
  covered_until: v.string(),
  page_size: v.number(),
  pages_made: v.number(),
  complete: v.boolean(),
  created_at: v.string(),
  created_by: v.string(),
})

const ndjson = (description: string) => ({
  description,
  content: { 'application/x-ndjson': { schema: { type: 'string' as const } } },
})

const STATUS: Record<BundleError['code'], 400 | 404 | 409> = {
  not_found: 404,
  unknown_purpose: 400,
  invalid_period: 400,
  page_out_of_order: 409,
  bundle_changed: 409,
  incomplete: 409,
}
const failure = (c: Context, e: BundleError) => jsonError(c, STATUS[e.code], e.code, e.message)

export function proofBundleRoutes(deps: Deps) {
  const base = `${deps.config.publicUrl}/api/v1/admin/proof-bundles`
  return new Hono()
    .get(
      '/',
      describeRoute({
        summary: 'Proof bundles made so far',
        ...permitted('exports.personal'),
        responses: { 200: json(v.object({ bundles: v.array(BundleView) })), ...errors(401, 403) },
      }),
      requirePermission(deps, 'exports.personal'),
      async (c) => c.json({ bundles: await listBundles(deps) }),
    )
    .post(
      '/',
      describeRoute({
        summary:
          'Start a proof bundle: every consent event of a period and/or a purpose, cut at a signed ledger checkpoint',
        ...permitted('exports.personal'),
        requestBody: documentedBody(CreateBody),
        responses: { 201: json(BundleView, 'Created'), ...errors(400, 401, 403) },
      }),
      requirePermission(deps, 'exports.personal'),
      jsonBody(CreateBody),
      async (c) => {
        const b = c.req.valid('json')
        const result = await createProofBundle(
          deps,
          {
            purpose: b.purpose,
            from: ms(b.from),
            to: ms(b.to),
            pageSize: b.page_size,
            freshCheckpoint: b.fresh_checkpoint,
          },
          actor(c),
        )
        if (!result.ok) return failure(c, result)
        c.header('Link', `<${base}/${result.bundle.id}/pages/0>; rel="first"`)
        return c.json(result.bundle, 201)
      },
    )
    .get(
      '/:id',
      describeRoute({
        summary: 'A bundle: its filter, checkpoint and how far its pages were made',
        ...permitted('exports.personal'),
        parameters: [idParam()],
        responses: { 200: json(BundleView), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'exports.personal'),
      async (c) => {
        const bundle = await getProofBundle(deps, c.req.param('id'))
        return bundle ? c.json(bundle) : jsonError(c, 404, 'not_found', 'No bundle with this id')
      },
    )
    .get(
      '/:id/pages/:n',
      describeRoute({
        summary:
          'Page n of a bundle (JSON lines), made after page n-1; Link names the next page or, after the last, the manifest',
        ...permitted('exports.personal'),
        parameters: [
          idParam(),
          { name: 'n', in: 'path', required: true, schema: { type: 'integer' } },
        ],
        responses: { 200: ndjson('The page'), ...errors(400, 401, 403, 404, 409) },
      }),
      requirePermission(deps, 'exports.personal'),
      async (c) => {
        const id = c.req.param('id')
        const raw = c.req.param('n')
        if (!/^\d{1,9}$/.test(raw))
          return jsonError(c, 400, 'invalid_page', 'The page number is a whole number from 0')
        const made = await bundlePage(deps, id, Number(raw))
        if (!made.ok) return failure(c, made)
        const { page } = made
        const next = page.last
          ? `<${base}/${id}/manifest>; rel="manifest"`
          : `<${base}/${id}/pages/${page.n + 1}>; rel="next"`
        return c.body(page.text, 200, {
          'Content-Type': NDJSON,
          Link: next,
          'X-Bundle-Page': String(page.n),
          'X-Bundle-Last-Page': page.last ? 'true' : 'false',
          'X-Page-Sha256': page.sha256,
        })
      },
    )
    .get(
      '/:id/manifest',
      describeRoute({
        summary: 'The signed manifest, once every page was made: the last line of the bundle',
        ...permitted('exports.personal'),
        parameters: [idParam()],
        responses: { 200: ndjson('The manifest line'), ...errors(401, 403, 404, 409) },
      }),
      requirePermission(deps, 'exports.personal'),
      async (c) => {
        const result = await bundleManifest(deps, c.req.param('id'))
        if (!result.ok) return failure(c, result)
        return c.body(result.line, 200, { 'Content-Type': NDJSON })
      },
    )
    .get(
      '/:id/download',
      describeRoute({
        summary:
          'The whole bundle as one streamed file (pages, then the manifest); on Workers, fetch the pages instead',
        ...permitted('exports.personal'),
        parameters: [idParam()],
        responses: { 200: ndjson('The bundle'), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'exports.personal'),
      async (c) => {
        const id = c.req.param('id')
        if (!(await getProofBundle(deps, id)))
          return jsonError(c, 404, 'not_found', 'No bundle with this id')
        const stream = bundleStream(deps, id)
        return c.body(stream, 200, {
          'Content-Type': NDJSON,
          'Content-Disposition': `attachment; filename="proof-bundle-${id}.jsonl"`,
        })
      },
    )
}
