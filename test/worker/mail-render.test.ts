// The precompiled e-mail templates render inside workerd too (no eval there).
import { describe, expect, it } from 'vitest'
import { renderEmail } from '../../src/mail/render.ts'

describe('e-mail rendering in workerd', () => {
  it('renders the confirm e-mail with the URL intact in the text part', () => {
    const confirmUrl = 'https://gateway.test/c/tok?a=1&b=2'
    const mail = renderEmail('confirm', 'en', {
      org: 'ACME & Co',
      confirmUrl,
      purposes: [{ title: 'Newsletter' }],
      expiresDays: 7,
    })
    expect(mail.subject).toBe('Confirm your subscription – ACME & Co')
    expect(mail.html).toContain('ACME &amp; Co')
    expect(mail.text).toContain(`\n${confirmUrl}\n`)
  })
})
