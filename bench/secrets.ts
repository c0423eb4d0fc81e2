/**
 * @module The secrets the bench's gateways are started with, apart from the apps so that the load
 * generator can sign webhooks (bench/apps/webhook-requests.ts) without loading them, and the seeded
 * database's builder (bench/seed/) encrypt with the same APP_SECRET without importing the apps.
 */

/** APP_SECRET of every gateway the bench starts (bench/apps/http-apps.ts and seeded-app.ts). */
export const APP_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** MAUTIC_WEBHOOK_SECRET of the 'gateway-hooks' app (bench/apps/http-apps.ts). */
export const WEBHOOK_SECRET = 'bench-mautic-webhook-secret-0123456789'
