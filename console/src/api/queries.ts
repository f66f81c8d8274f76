// The server state the pages share, by query key. Polling follows the
// contract: every 2 s while a connector runs or a run was just asked for,
// every 15 s otherwise.
import { useQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from './client';

export type ConnectorListItem = Schemas['ConnectorListItem'];
export type Connector = Schemas['Connector'];
export type ConnectorConfig = Schemas['ConnectorConfig'];
export type RunListItem = Schemas['RunListItem'];
export type Run = Schemas['Run'];
export type DailyFigures = Schemas['DailyFigures'];

export const FAST_POLL_MS = 2_000;
export const SLOW_POLL_MS = 15_000;
/** How long after "Run now" the pages poll fast even before the run shows as running. */
const JUST_ASKED_MS = 20_000;

let runAskedAt = 0;

/** "Run now" was pressed: poll fast for a while. */
export function runAsked(): void {
  runAskedAt = Date.now();
}

const justAsked = () => Date.now() - runAskedAt < JUST_ASKED_MS;

export const keys = {
  connectors: ['connectors'] as const,
  connector: (name: string) => ['connector', name] as const,
  runs: (name: string) => ['runs', name] as const,
  daily: (name: string) => ['daily', name] as const,
  run: (id: string) => ['run', id] as const,
};

export function useConnectors() {
  return useQuery({
    queryKey: keys.connectors,
    queryFn: () => call(api.GET('/api/connectors')),
    refetchInterval: (query) => (justAsked() || query.state.data?.connectors.some((c) => c.status === 'running') ? FAST_POLL_MS : SLOW_POLL_MS),
  });
}

const pollWhile = (running: () => boolean | undefined) => () => (justAsked() || running() ? FAST_POLL_MS : SLOW_POLL_MS);

export function useConnector(name: string) {
  const q = useQuery({
    queryKey: keys.connector(name),
    queryFn: () => call(api.GET('/api/connectors/{name}', { params: { path: { name } } })),
    refetchInterval: (query) => pollWhile(() => query.state.data?.status === 'running')(),
  });
  return q;
}

export function useRuns(name: string, running: boolean) {
  return useQuery({
    queryKey: keys.runs(name),
    queryFn: () => call(api.GET('/api/connectors/{name}/runs', { params: { path: { name }, query: { limit: 20 } } })),
    refetchInterval: pollWhile(() => running),
  });
}

export function useDaily(name: string, running: boolean) {
  return useQuery({
    queryKey: keys.daily(name),
    queryFn: () => call(api.GET('/api/connectors/{name}/daily', { params: { path: { name }, query: { days: 30 } } })),
    refetchInterval: pollWhile(() => running),
  });
}

export function useRun(id: string) {
  return useQuery({
    queryKey: keys.run(id),
    queryFn: () => call(api.GET('/api/runs/{id}', { params: { path: { id: Number(id) } } })),
    refetchInterval: (query) => (query.state.data?.status === 'running' ? FAST_POLL_MS : false),
  });
}
