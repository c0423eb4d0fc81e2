/**
 * @module `consent-gateway create-admin --email E [--role R]`: a staff account and its one-time set-up
 * link, printed alone on the last line of standard output (for scripts); the person opens it to choose
 * a password and set up the second factor. With --url --key, on a running gateway.
 */
import { options, UsageError } from './args.ts'
import { print, withDeps } from './context.ts'
import { callAdminApi, type Remote } from './remote.ts'
import { createAccount, SETUP_LINK_TTL_MS } from '../domain/admin/accounts.ts'
import { isRole, ROLES } from '../domain/admin/permissions.ts'
import { normalizeEmail } from '../lib/email.ts'

export async function createAdmin(args: string[], remote?: Remote): Promise<number> {
  const { email, role = 'owner' } = options(args, ['email', 'role'])
  if (!email) throw new UsageError('create-admin needs --email.')
  if (!normalizeEmail(email))
    throw new UsageError(`--email must be an e-mail address, got "${email}".`)
  if (!isRole(role))
    throw new UsageError(`--role must be one of ${ROLES.join(', ')}, got "${role}".`)
  const hours = Math.round(SETUP_LINK_TTL_MS / 3_600_000)
  if (remote) {
    const r = await callAdminApi<{ setup_url: string }>(remote, 'POST', '/users', {
      email,
      role,
      mail: false,
    })
    console.error(
      `Account ${email} (${role}) created on ${remote.url}. Its one-time set-up link, valid ${hours} h, is on the next line:`,
    )
    await print(r.setup_url)
    return 0
  }
  return withDeps(async (deps) => {
    const r = await createAccount(deps, { email, role, mail: false }, { actor: 'cli' })
    if (!r.ok) {
      console.error(
        r.error === 'exists'
          ? `${email} already has an account: it signs in at ${deps.config.publicUrl}/admin (an owner can change its role in the console).`
          : `Cannot create the account: ${r.error}.`,
      )
      return 1
    }
    console.error(
      `Account ${email} (${role}) created. Open the one-time set-up link below within ${hours} h to choose ` +
        'a password and set up the second factor; it works once.',
    )
    await print(r.url)
    return 0
  })
}
