/** @module Health: whether the gateway can serve, as `/healthz` reports it to probes. */
import { PING } from '../../db/repositories/health.ts'
import type { Deps } from '../../deps.ts'

/** Resolves when the database answers a trivial query; throws (the driver's error) when it does not. */
export async function checkDatabase(deps: Pick<Deps, 'queryOne'>): Promise<void> {
  await deps.queryOne(PING)
}
