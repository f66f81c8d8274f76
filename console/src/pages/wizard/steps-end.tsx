// The wizard's last steps: the schedule with its next runs, and the review.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, call } from '../../api/client';
import { Time } from '../../ui/bits';
import { formatTimeIn } from '../../ui/format';
import { destinationKind, sourceKind, trustOf, SET, type Draft } from './draft';
import type { StepName } from './wizard';
import { Field, type Update } from './fields';
import type { Checks } from './steps';

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

const TIME_ZONES: readonly string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return [];
  }
})();

export function ScheduleStep({ draft, update, checks }: { draft: Draft; update: Update; checks: Checks }) {
  const schedule = useDebounced(draft.schedule.trim(), 400);
  const timezone = useDebounced(draft.timezone.trim(), 400);
  const preview = useQuery({
    queryKey: ['wizard-schedule', schedule, timezone],
    queryFn: () => call(api.POST('/api/wizard/schedule', { body: { schedule, ...(timezone ? { timezone } : {}) } })),
    enabled: schedule !== '',
    retry: false,
    placeholderData: (previous) => previous,
  });
  // The zone the server read the schedule in: the one given, else its own.
  const zone = preview.data?.timezone;
  const nextRuns = preview.data?.nextRuns ?? (checks.schedule?.for === `${schedule}|${timezone}` ? checks.schedule.nextRuns : undefined);
  return (
    <>
      <p className="step-intro">When the connector looks for new files. Runs can also be started at any time with Run now.</p>
      <div className="field-pair">
        <Field label="Schedule (cron)" value={draft.schedule} onChange={(s) => update({ schedule: s }, ['schedule'])} hint="Minute, hour, day of month, month, day of week: 0 2 * * * is every day at 02:00." />
        <Field label="Time zone" value={draft.timezone} onChange={(tz) => update({ timezone: tz }, ['schedule'])} list="time-zones" hint="An IANA time zone, such as Europe/Paris; left empty, the server's." />
        <datalist id="time-zones">
          {TIME_ZONES.map((z) => (
            <option key={z} value={z} />
          ))}
        </datalist>
      </div>
      <div className="next-runs" aria-live="polite">
        <h3>Next runs</h3>
        {preview.isError ? <p className="field-error">{preview.error instanceof Error ? preview.error.message : 'the schedule cannot be read'}</p> : null}
        {nextRuns && !preview.isError ? (
          <ul>
            {nextRuns.map((r) => (
              <li key={r}>
                <time dateTime={r}>{formatTimeIn(r, zone ?? (timezone || 'UTC'))}</time>
              </li>
            ))}
          </ul>
        ) : null}
        {!nextRuns && !preview.isError ? <p className="muted">{schedule ? 'Asking the server…' : 'Give a schedule.'}</p> : null}
      </div>
    </>
  );
}

function Secret({ value }: { value: string | undefined }) {
  return <>{value === undefined ? 'none' : '(set)'}</>;
}

export function ReviewStep({ draft, checks, editing, onEdit, steps }: { draft: Draft; checks: Checks; editing: boolean; onEdit: (step: StepName) => void; steps: readonly StepName[] }) {
  const kind = sourceKind(draft.source);
  const dkind = destinationKind(draft.destination);
  const trust = trustOf(draft);
  const dir = draft.directory;
  const change = (s: StepName) =>
    steps.includes(s) ? (
      <button type="button" className="button button-link" onClick={() => onEdit(s)}>
        Change<span className="visually-hidden"> {s.toLowerCase()}</span>
      </button>
    ) : null;
  const stored = draft.base;
  const sourceSecret = kind === 'sftp' ? draft.sourcePassword || draft.sourcePrivateKey || (stored?.source.kind === 'sftp' ? (stored.source.password ?? stored.source.privateKey) : undefined) || undefined : kind === 'azure' ? draft.azureSecret || (stored?.source.kind === 'azure' ? SET : undefined) : undefined;
  const targetSecret = dkind === 'imap' ? draft.destinationPassword || stored?.target.password || undefined : dkind === 'graph' ? draft.appClientSecret || stored?.target.app?.clientSecret || stored?.target.app?.privateKey || undefined : undefined;
  return (
    <>
      <p className="step-intro">{editing ? 'Check the changes, then save them.' : 'Check everything, then finish: the connector runs at its next scheduled time, or now with Run now.'}</p>
      <dl className="review">
        <div>
          <dt>Name</dt>
          <dd>{draft.name}</dd>
          <dd className="review-change">{change('Name')}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd className="wrap-anywhere">{draft.source}</dd>
          <dd className="review-change">{change('Source')}</dd>
        </div>
        {kind === 'sftp' ? (
          <div>
            <dt>Host key</dt>
            <dd className="wrap-anywhere">{draft.hostKey}</dd>
          </div>
        ) : null}
        {kind !== 'folder' ? (
          <div>
            <dt>Source secret</dt>
            <dd>
              <Secret value={sourceSecret} />
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Trust anchors</dt>
          <dd className="wrap-anywhere">{trust.map((t) => t.file).join(', ') || 'none'}</dd>
          <dd className="review-change">{change('Trust anchors')}</dd>
        </div>
        {checks.trust?.signer ? (
          <div>
            <dt>Signer</dt>
            <dd className="wrap-anywhere">{checks.trust.signer.subject} (verified)</dd>
          </div>
        ) : null}
        <div>
          <dt>Directory</dt>
          <dd className="wrap-anywhere">{!dir ? 'none' : 'graph' in dir ? dir.graph : dir.file}</dd>
          <dd className="review-change">{change('User mapping')}</dd>
        </div>
        <div>
          <dt>Custom mapping</dt>
          <dd className="wrap-anywhere">{draft.mapping?.file ?? 'none: by each participant’s Email property'}</dd>
        </div>
        <div>
          <dt>Destination</dt>
          <dd className="wrap-anywhere">{draft.destination}</dd>
          <dd className="review-change">{change('Destination')}</dd>
        </div>
        {dkind !== 'maildir' ? (
          <div>
            <dt>Destination secret</dt>
            <dd>
              <Secret value={targetSecret} />
            </dd>
          </div>
        ) : null}
        <div>
          <dt>Folder</dt>
          <dd>{draft.folder}</dd>
        </div>
        <div>
          <dt>Schedule</dt>
          <dd>
            <code>{draft.schedule}</code> ({draft.timezone || 'the server’s time zone'})
          </dd>
          <dd className="review-change">{change('Schedule')}</dd>
        </div>
        {checks.schedule ? (
          <div>
            <dt>Next run</dt>
            <dd>
              <Time iso={checks.schedule.nextRuns[0]} />
            </dd>
          </div>
        ) : null}
      </dl>
    </>
  );
}
