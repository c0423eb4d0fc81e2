/** @module The organisation shown on every page, from config. */
import type { Config } from '../config.ts'
import type { SiteInfo } from './views.ts'

export const siteInfo = (config: Config): SiteInfo => ({
  name: config.org.name,
  logoUrl: config.org.logoUrl,
  privacyUrl: config.org.privacyUrl,
})
