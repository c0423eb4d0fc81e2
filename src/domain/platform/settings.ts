/**
 * @module Settings staff change in the console, over the environment's defaults: the Mautic mirror's
 * mode (MIRROR_MODE is where it starts; README "Connecting Mautic", 2). Read where they are used, so
 * that every process (every Workers isolate) follows a change at once.
 */
import type { MirrorMode } from '../../config.ts'
import { findSetting, saveSettingQuery } from '../../db/repositories/settings.ts'
import type { Deps } from '../../deps.ts'

const MIRROR_MODE = 'mirror_mode'

/** The mirror mode in force: the console's choice, else MIRROR_MODE. */
export async function mirrorMode(deps: Pick<Deps, 'db' | 'config'>): Promise<MirrorMode> {
  const set = await findSetting(deps.db, MIRROR_MODE)
  return set === 'observe' || set === 'enforce' ? set : deps.config.mirrorMode
}

/** The query that sets the mirror mode, for the unit that also records who did it (the audit). */
export const setMirrorModeQuery = (
  deps: Pick<Deps, 'db' | 'clock'>,
  mode: MirrorMode,
  by: string,
) => saveSettingQuery(deps.db, { key: MIRROR_MODE, value: mode, now: deps.clock.now(), by })
