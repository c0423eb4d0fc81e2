import { it } from 'vitest'
import { makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { testApp, API_CONSENT } from '../../../helpers/deps.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
it('renders', async () => {
  const t = await testApp({}, { pbkdf2Iterations: TEST_ITERATIONS })
  await subscribe(t.deps, { ...API_CONSENT, email: 'a@b.fr', purposes: ['newsletter'] })
  const b = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'owner'))
  const res = await b.get('/admin?lang=en')
  console.log(res.status, (await res.text()).slice(0, 200000))
})
