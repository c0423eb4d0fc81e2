/**
 * @module Passkeys (WebAuthn Level 3, with @simplewebauthn/server): registered from one's account page,
 * then usable as the second factor at sign-in and for step-up. The relying party is PUBLIC_URL's host
 * and origin. Challenges are random, stored, single-use and short-lived (webauthn_challenges).
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server'
import {
  deletePasskeyQuery,
  findPasskey,
  insertChallenge,
  insertPasskeyQuery,
  listPasskeyRows,
  purgeChallenges,
  takeChallenge,
  touchPasskey,
  type AdminUserRow,
  type PasskeyRow,
} from '../../db/repositories/admin-users.ts'
import type { Deps } from '../../deps.ts'
import { fromBase64Url, toBase64Url, utf8 } from '../../lib/encoding.ts'
import { adminEmail, type Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'
import { markSecondFactorQuery, markStepUpQuery } from './sessions.ts'

const CHALLENGE_TTL_MS = 5 * 60_000

const relyingParty = (deps: Pick<Deps, 'config'>) => {
  const url = new URL(deps.config.publicUrl)
  return { rpID: url.hostname, origin: url.origin, rpName: deps.config.org.name }
}

export const listPasskeys = (deps: Pick<Deps, 'db'>, userId: string) =>
  listPasskeyRows(deps.db, userId)

export type { PasskeyRow }

export async function registrationOptions(
  deps: Deps,
  user: AdminUserRow,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rp = relyingParty(deps)
  const existing = await listPasskeyRows(deps.db, user.id)
  const now = deps.clock.now()
  await purgeChallenges(deps.db, now)
  const options = await generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpID,
    userName: await adminEmail(deps, user),
    userID: utf8(user.id),
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({
      id: p.id,
      transports: JSON.parse(p.transports) as string[],
    })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  })
  await insertChallenge(deps.db, {
    challenge: options.challenge,
    purpose: 'register',
    admin_user_id: user.id,
    expires_at: now + CHALLENGE_TTL_MS,
  })
  return options
}

/** Verifies and stores a new passkey; false when the response does not verify. */
export async function registerPasskey(
  deps: Deps,
  user: AdminUserRow,
  response: unknown,
  name: string,
  by: Actor,
): Promise<boolean> {
  const rp = relyingParty(deps)
  const now = deps.clock.now()
  const json = response as RegistrationResponseJSON
  let challenge: string
  try {
    const clientData = JSON.parse(
      new TextDecoder().decode(fromBase64Url(json.response.clientDataJSON)),
    ) as {
      challenge: string
    }
    challenge = clientData.challenge
  } catch {
    return false
  }
  const stored = await takeChallenge(deps.db, challenge, 'register', now)
  let verified = false
  let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo']
  if (stored && stored.admin_user_id === user.id)
    try {
      const r = await verifyRegistrationResponse({
        response: json,
        expectedChallenge: challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpID,
        requireUserVerification: false,
      })
      verified = r.verified
      info = r.registrationInfo
    } catch {
      verified = false
    }
  if (!verified || !info) {
    await recordAudit(deps, {
      ...by,
      action: 'passkey.register',
      outcome: 'failed',
      target: `user:${user.id}`,
    })
    return false
  }
  const row: PasskeyRow = {
    id: info.credential.id,
    admin_user_id: user.id,
    public_key: toBase64Url(info.credential.publicKey),
    counter: info.credential.counter,
    transports: JSON.stringify(info.credential.transports ?? []),
    name: name.trim().slice(0, 60) || 'passkey',
    created_at: now,
    last_used_at: null,
  }
  await recordAudit(
    deps,
    {
      ...by,
      action: 'passkey.register',
      target: `user:${user.id}`,
      details: { name: row.name },
    },
    [insertPasskeyQuery(deps.db, row)],
  )
  return true
}

export async function removePasskey(deps: Deps, user: AdminUserRow, id: string, by: Actor) {
  await recordAudit(deps, { ...by, action: 'passkey.remove', target: `user:${user.id}` }, [
    deletePasskeyQuery(deps.db, user.id, id),
  ])
}

/** Options for a check with one of `user`'s passkeys (sign-in's second step, or step-up). */
export async function authenticationOptions(
  deps: Deps,
  user: AdminUserRow,
): Promise<PublicKeyCredentialRequestOptionsJSON | null> {
  const passkeys = await listPasskeyRows(deps.db, user.id)
  if (passkeys.length === 0) return null
  const now = deps.clock.now()
  await purgeChallenges(deps.db, now)
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(deps).rpID,
    allowCredentials: passkeys.map((p) => ({
      id: p.id,
      transports: JSON.parse(p.transports) as string[],
    })),
    userVerification: 'preferred',
  })
  await insertChallenge(deps.db, {
    challenge: options.challenge,
    purpose: 'authenticate',
    admin_user_id: user.id,
    expires_at: now + CHALLENGE_TTL_MS,
  })
  return options
}

/** Checks an assertion; on success marks the session (second factor or step-up). */
export async function checkPasskey(
  deps: Deps,
  user: AdminUserRow,
  response: unknown,
  purpose: 'signin' | 'stepup',
  sessionId: string,
  by: Actor,
): Promise<boolean> {
  const rp = relyingParty(deps)
  const now = deps.clock.now()
  const json = response as AuthenticationResponseJSON
  let ok = false
  let newCounter = 0
  let passkey: PasskeyRow | undefined
  try {
    const clientData = JSON.parse(
      new TextDecoder().decode(fromBase64Url(json.response.clientDataJSON)),
    ) as {
      challenge: string
    }
    const stored = await takeChallenge(deps.db, clientData.challenge, 'authenticate', now)
    passkey = await findPasskey(deps.db, String(json.id))
    if (
      stored &&
      stored.admin_user_id === user.id &&
      passkey &&
      passkey.admin_user_id === user.id
    ) {
      const r = await verifyAuthenticationResponse({
        response: json,
        expectedChallenge: clientData.challenge,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpID,
        credential: {
          id: passkey.id,
          publicKey: fromBase64Url(passkey.public_key),
          counter: passkey.counter,
          transports: JSON.parse(passkey.transports) as string[],
        },
        requireUserVerification: false,
      })
      ok = r.verified
      newCounter = r.authenticationInfo.newCounter
    }
  } catch {
    ok = false
  }
  const target = `user:${user.id}`
  if (!ok || !passkey) {
    await recordAudit(deps, { ...by, action: `${purpose}.passkey`, outcome: 'failed', target })
    return false
  }
  await touchPasskey(deps.db, passkey.id, newCounter, now)
  const mark =
    purpose === 'signin' ? markSecondFactorQuery(deps, sessionId) : markStepUpQuery(deps, sessionId)
  await recordAudit(
    deps,
    { ...by, action: `${purpose}.passkey`, target, details: { name: passkey.name } },
    [mark],
  )
  return true
}
