// Names for the generated wire types (src/api/schema.d.ts, from the hub's
// OpenAPI document). A field the document marks x-nullable is typed `T | null`
// and arrives as null when absent; code reads such fields with `== null` checks.
import type { components } from './schema';

type S = components['schemas'];

export type Report = S['v1Report'];
export type Gpu = S['v1Gpu'];
export type Process = S['v1Process'];
export type SystemInfo = S['v1SystemInfo'];
export type TerminalSession = S['v1TerminalSession'];
export type DockerContainer = S['v1DockerContainer'];
export type MachineSummary = S['v1MachineSummary'];
export type FleetTotals = S['v1FleetTotals'];
export type ListMachinesResponse = S['v1ListMachinesResponse'];
export type GetMachineResponse = S['v1GetMachineResponse'];
export type GetGpuStatsResponse = S['v1GetGpuStatsResponse'];
export type FreeGpu = S['v1FreeGpu'];
export type ListFreeGpusResponse = S['v1ListFreeGpusResponse'];
export type QueryHistoryResponse = S['v1QueryHistoryResponse'];
export type Series = S['v1Series'];
export type Point = S['v1Point'];
export type WatchResponse = S['v1WatchResponse'];
export type WatchEventType = S['v1WatchEventType'];
export type KillProcessesRequest = S['v1KillProcessesRequest'];
export type KillProcessesResponse = S['v1KillProcessesResponse'];
export type KillResult = S['v1KillResult'];
export type SessionRef = S['v1SessionRef'];
export type GetUsageResponse = S['v1GetUsageResponse'];
export type UsageRow = S['v1UsageRow'];
export type IdleGpu = S['v1IdleGpu'];
export type Alert = S['v1Alert'];
export type ListAlertsResponse = S['v1ListAlertsResponse'];
export type GpuRow = S['v1GpuRow'];
export type ListGpusResponse = S['v1ListGpusResponse'];
