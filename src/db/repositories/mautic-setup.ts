/**
 * @module Rows of the Mautic set-up (migrations/0007_mautic_setup.sql): the field alias Mautic gave each
 * purpose's consent field, the webhook secrets `mautic connect` stored, and the webhook's health.
 */
import type { CompiledQuery, Selectable } from 'kysely'
import type { DB, WebhookHealthTable, WebhookSecretsTable } from '../database.ts'

export type WebhookHealthRow = Selectable<WebhookHealthTable>
export type WebhookSecretRow = Selectable<WebhookSecretsTable>

/** purpose key → the alias Mautic actually gave its field. */
export async function storedFieldAliases(db: DB): Promise<Map<string, string>> {
  const rows = await db.selectFrom('mautic_fields').select(['purpose_key', 'alias']).execute()
  return new Map(rows.map((r) => [r.purpose_key, r.alias]))
}

export function saveFieldAliasQuery(
  db: DB,
  purposeKey: string,
  alias: string,
  now: number,
): CompiledQuery {
  return db
    .insertInto('mautic_fields')
    .values({ purpose_key: purposeKey, alias, created_at: now })
    .onConflict((oc) => oc.column('purpose_key').doUpdateSet({ alias }))
    .compile()
}

/** Newest first. */
export function listWebhookSecrets(db: DB, source: string): Promise<WebhookSecretRow[]> {
  return db
    .selectFrom('webhook_secrets')
    .selectAll()
    .where('source', '=', source)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
}

export function insertWebhookSecretQuery(db: DB, row: WebhookSecretRow): CompiledQuery {
  return db.insertInto('webhook_secrets').values(row).compile()
}

export function setWebhookSecretHookQuery(db: DB, id: string, webhookId: string): CompiledQuery {
  return db
    .updateTable('webhook_secrets')
    .set({ webhook_id: webhookId })
    .where('id', '=', id)
    .compile()
}

export function findWebhookHealth(db: DB, source: string): Promise<WebhookHealthRow | undefined> {
  return db.selectFrom('webhook_health').selectAll().where('source', '=', source).executeTakeFirst()
}

/** Creates the row when missing and sets the given columns (the others keep their value). */
export function upsertWebhookHealthQuery(
  db: DB,
  source: string,
  set: Partial<Omit<WebhookHealthRow, 'source'>>,
): CompiledQuery {
  const values: WebhookHealthRow = {
    source,
    last_received_at: null,
    last_refused_at: null,
    last_refused_reason: null,
    webhook_id: null,
    webhook_url: null,
    published: null,
    checked_at: null,
    ...set,
  }
  return db
    .insertInto('webhook_health')
    .values(values)
    .onConflict((oc) => oc.column('source').doUpdateSet(set))
    .compile()
}
