// Usage rows, as GET /api/v1/usage returns them.
import type { UsageRow } from '../api/types';

/** The user the hub files GPU processes under when their owner is not known. */
export const UNKNOWN_USER = 'unknown';

/** Column sums of usage rows. */
export function sumUsage(rows: readonly UsageRow[] | null | undefined): { gpu_hours: number; gpu_memory_gib_hours: number } {
  let h = 0;
  let m = 0;
  for (const r of rows ?? []) {
    h += r.gpu_hours ?? 0;
    m += r.gpu_memory_gib_hours ?? 0;
  }
  return { gpu_hours: h, gpu_memory_gib_hours: m };
}
