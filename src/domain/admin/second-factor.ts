/**
 * @module Second factors: TOTP enrolment and checks (a step is accepted once: `claimTotpStep`),
 * recovery codes (each once), and the fresh checks behind sign-in and step-up. Every check, passed or
 * failed, is an audit entry; a failure also counts against the sign-in throttle.
 */
import {
  claimTotpStep,
  countUnusedRecoveryCodes,
  deleteRecoveryCodesQuery,
  findAdminUserById,
  insertRecoveryCodeQuery,
  updateAdminUserQuery,
  useRecoveryCode,
  type AdminUserRow,
} from '../../db/repositories/admin-users.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { adminEmail, totpAad, type Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'
import { hashRecoveryCode, looksLikeRecoveryCode, newRecoveryCodes } from './recovery-codes.ts'
import { markSecondFactorQuery, markStepUpQuery } from './sessions.ts'
import { checkThrottle, recordSignInFailure } from './throttle.ts'
import { newTotpSecret, totpStepOf, totpUri } from './totp.ts'

export interface TotpEnrolment {
  secret: string
  uri: string
}

/**
 * The secret being enrolled: kept encrypted on the account (not yet enabled) so that the page can be
 * reloaded; a new one only when there is none pending.
 */
export async function pendingTotp(deps: Deps, user: AdminUserRow): Promise<TotpEnrolment> {
  let secret: string
  if (user.totp_secret_enc && user.totp_enabled_at === null)
    secret = await decryptField(deps.keys, user.totp_secret_enc, totpAad(user.id))
  else {
    secret = newTotpSecret()
    await deps.atomic([
      updateAdminUserQuery(deps.db, user.id, {
        totp_secret_enc: await encryptField(deps.keys, secret, totpAad(user.id)),
        totp_enabled_at: null,
        totp_last_step: null,
      }),
    ])
  }
  const label = await adminEmail(deps, user)
  return { secret, uri: totpUri(secret, deps.config.org.name, label) }
}

/**
 * Confirms the enrolment with a first code: TOTP on, ten new recovery codes (returned: shown once),
 * and the session counts as second-factor checked.
 */
export async function confirmTotp(
  deps: Deps,
  user: AdminUserRow,
  code: string,
  sessionId: string,
  by: Actor,
): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false }> {
  if (!user.totp_secret_enc || user.totp_enabled_at !== null) return { ok: false }
  const secret = await decryptField(deps.keys, user.totp_secret_enc, totpAad(user.id))
  const now = deps.clock.now()
  const step = totpStepOf(secret, code, now)
  if (step === null) {
    await recordAudit(deps, {
      ...by,
      action: 'totp.enrol',
      outcome: 'failed',
      target: `user:${user.id}`,
    })
    return { ok: false }
  }
  const codes = newRecoveryCodes()
  const queries = [
    updateAdminUserQuery(deps.db, user.id, {
      totp_enabled_at: now,
      totp_last_step: step,
      updated_at: now,
    }),
    deleteRecoveryCodesQuery(deps.db, user.id),
    ...(await Promise.all(
      codes.map(async (c) =>
        insertRecoveryCodeQuery(deps.db, {
          id: uuidv7(now),
          admin_user_id: user.id,
          code_hash: await hashRecoveryCode(deps, user.id, c),
          created_at: now,
          used_at: null,
        }),
      ),
    )),
    markSecondFactorQuery(deps, sessionId),
  ]
  await recordAudit(deps, { ...by, action: 'totp.enrol', target: `user:${user.id}` }, queries)
  return { ok: true, recoveryCodes: codes }
}

export type CodeCheck =
  { ok: true; method: 'totp' | 'recovery' } | { ok: false; locked?: boolean; retryAfterMs?: number }

/**
 * Checks a typed code (TOTP, or a recovery code) for `user`: throttled like a password, a TOTP step
 * accepted once, a recovery code used once. `purpose` says what the check is for (the audit action).
 */
export async function checkSecondFactorCode(
  deps: Deps,
  user: AdminUserRow,
  code: string,
  purpose: 'signin' | 'stepup',
  sessionId: string,
  by: Actor,
): Promise<CodeCheck> {
  const ip = by.ip ?? undefined
  const verdict = await checkThrottle(deps, user.email_bidx, ip)
  const target = `user:${user.id}`
  if (!verdict.allowed) {
    await recordAudit(deps, {
      ...by,
      action: `${purpose}.code`,
      outcome: 'denied',
      target,
      details: { throttled: true, locked: verdict.locked },
    })
    return { ok: false, locked: verdict.locked, retryAfterMs: verdict.retryAfterMs }
  }
  const now = deps.clock.now()
  let method: 'totp' | 'recovery' | null = null
  const fresh = await findAdminUserById(deps, user.id)
  if (
    fresh?.totp_secret_enc &&
    fresh.totp_enabled_at !== null &&
    /^\s*\d{3}\s?\d{3}\s*$/.test(code)
  ) {
    const secret = await decryptField(deps.keys, fresh.totp_secret_enc, totpAad(user.id))
    const step = totpStepOf(secret, code, now)
    if (step !== null && (await claimTotpStep(deps.db, user.id, step))) method = 'totp'
  } else if (looksLikeRecoveryCode(code)) {
    if (await useRecoveryCode(deps.db, user.id, await hashRecoveryCode(deps, user.id, code), now))
      method = 'recovery'
  }
  if (!method) {
    const { locked } = await recordSignInFailure(deps, user.email_bidx, ip)
    await recordAudit(deps, {
      ...by,
      action: `${purpose}.code`,
      outcome: 'failed',
      target,
      details: { locked },
    })
    return { ok: false, locked }
  }
  const mark =
    purpose === 'signin' ? markSecondFactorQuery(deps, sessionId) : markStepUpQuery(deps, sessionId)
  const extra =
    method === 'recovery'
      ? { recoveryCodesLeft: await countUnusedRecoveryCodes(deps.db, user.id) }
      : {}
  await recordAudit(
    deps,
    { ...by, action: `${purpose}.code`, target, details: { method, ...extra } },
    [mark],
  )
  return { ok: true, method }
}

export const recoveryCodesLeft = (deps: Pick<Deps, 'db'>, userId: string) =>
  countUnusedRecoveryCodes(deps.db, userId)

/** New recovery codes (the old ones stop working); shown once. */
export async function regenerateRecoveryCodes(
  deps: Deps,
  user: AdminUserRow,
  by: Actor,
): Promise<string[]> {
  const now = deps.clock.now()
  const codes = newRecoveryCodes()
  const queries = [
    deleteRecoveryCodesQuery(deps.db, user.id),
    ...(await Promise.all(
      codes.map(async (c) =>
        insertRecoveryCodeQuery(deps.db, {
          id: uuidv7(now),
          admin_user_id: user.id,
          code_hash: await hashRecoveryCode(deps, user.id, c),
          created_at: now,
          used_at: null,
        }),
      ),
    )),
  ]
  await recordAudit(
    deps,
    { ...by, action: 'recovery.regenerate', target: `user:${user.id}` },
    queries,
  )
  return codes
}
