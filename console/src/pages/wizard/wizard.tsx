// /connectors/new and /connectors/NAME/edit: the add-connector wizard, in
// the steps a Microsoft 365 admin knows from the Data connectors page. Each
// step is checked before the next — by the server where it has a check
// (/api/wizard/*), which stores nothing — and Back keeps what was entered.
// Editing runs steps 2 to 7 on the stored configuration.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiError, call } from '../../api/client';
import { keys } from '../../api/queries';
import { Link, navigate, seg } from '../../router';
import { ErrorAlert, Loading } from '../../ui/bits';
import { PageHeading } from '../../ui/page';
import { NotFoundPage } from '../not-found';
import { configOf, draftFromConfig, newDraft, NAME_RULE, sourceOf, sourceUnchanged, targetOf, trustOf, usesStoredSecret, type Draft } from './draft';
import { DestinationStep, MappingStep, NameStep, ReviewStep, ScheduleStep, SourceStep, TrustStep, type Checks } from './steps';

const STEPS = ['Name', 'Source', 'Trust anchors', 'User mapping', 'Destination', 'Schedule', 'Review'] as const;
export type StepName = (typeof STEPS)[number];

export function WizardPage({ editing }: { editing?: string }) {
  const stored = useQuery({
    queryKey: ['connector-config', editing],
    queryFn: () => call(api.GET('/api/connectors/{name}', { params: { path: { name: editing! } } })),
    enabled: editing !== undefined,
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  if (editing === undefined) return <Wizard initial={newDraft()} />;
  if (stored.error instanceof ApiError && stored.error.status === 404) return <NotFoundPage title="Connector not found" message={`There is no connector named “${editing}”.`} />;
  if (!stored.data) {
    return (
      <>
        <PageHeading title={`Edit ${editing}`} />
        {stored.isError ? <ErrorAlert error={stored.error} /> : <Loading what="the connector" />}
      </>
    );
  }
  return <Wizard initial={draftFromConfig(stored.data.config)} editing={editing} />;
}

/** A refusal worked out here, shown like the server's. */
const refusal = (message: string, code = 'CONFIG_INVALID') => new ApiError(400, code, message);

function Wizard({ initial, editing }: { initial: Draft; editing?: string }) {
  const client = useQueryClient();
  const steps: readonly StepName[] = editing ? STEPS.slice(1) : STEPS;
  const [index, setIndex] = useState(0);
  const [reached, setReached] = useState(0);
  const [draft, setDraft] = useState(initial);
  const [checks, setChecks] = useState<Checks>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const moved = useRef(false);
  const step = steps[index]!;

  useEffect(() => {
    // Each step's h2 takes the focus when the step changes (not on the page's first render: its h1 has it).
    if (moved.current) heading.current?.focus();
    moved.current = true;
  }, [index]);

  const update = (patch: Partial<Draft>, invalidates: (keyof Checks)[] = []) => {
    setDraft((d) => ({ ...d, ...patch }));
    if (invalidates.length > 0) setChecks((c) => Object.fromEntries(Object.entries(c).filter(([k]) => !invalidates.includes(k as keyof Checks))));
  };

  /** Runs a check with the busy flag and the error alert; its answer says whether the step passes. */
  const attempt = async (label: string, f: () => Promise<boolean>): Promise<boolean> => {
    setBusy(label);
    setError(null);
    try {
      return await f();
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(null);
    }
  };

  const checkName = () =>
    attempt('name', async () => {
      const name = draft.name.trim();
      if (!NAME_RULE.test(name)) throw refusal('Connector name: 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
      try {
        await call(api.GET('/api/connectors/{name}', { params: { path: { name } } }));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return true;
        throw e;
      }
      throw refusal(`a connector named “${name}” already exists: choose another name`, 'CONNECTOR_EXISTS');
    });

  /** Whether the server's checks can reach the source: not with a secret it only has stored. */
  const storedOnly = usesStoredSecret(draft) && sourceUnchanged(draft);

  const validateSource = () =>
    attempt('source', async () => {
      const s = sourceOf(draft);
      if (!s.ok) throw refusal(s.message);
      if (storedOnly) return true;
      const answer = await call(api.POST('/api/wizard/source', { body: { source: s.source } }));
      setChecks((c) => ({ ...c, source: answer }));
      if (!answer.ok) throw new ApiError(200, answer.code, answer.message);
      return true;
    });

  const checkSigner = () =>
    attempt('trust', async () => {
      const s = sourceOf(draft);
      if (!s.ok) throw refusal(s.message);
      const trust = trustOf(draft);
      if (trust.length === 0) throw refusal('Trust anchors: give at least one certificate (PEM) you trust to sign containers', 'TRUST_INVALID');
      if (storedOnly) return true;
      const answer = await call(api.POST('/api/wizard/trust', { body: { source: s.source, trust } }));
      setChecks((c) => ({ ...c, trust: answer }));
      if (!answer.verified && answer.code) throw new ApiError(200, answer.code, answer.message ?? 'the newest file did not verify');
      return true;
    });

  const checkMapping = () =>
    attempt('mapping', async () => {
      const directory = draft.directory;
      if (!directory) throw refusal('Directory (CSV): give the CSV of your users (email,name,aliases,litigationHold)', 'DIRECTORY_INVALID');
      if ('graph' in directory) return true; // read at each run, from Microsoft 365: nothing to check here
      const mapping = draft.mapping ?? { file: '(no custom mapping)', text: 'sourceId,mailbox\n' };
      const answer = await call(api.POST('/api/wizard/mapping', { body: { directory, mapping } }));
      setChecks((c) => ({ ...c, mapping: { answer, mapping: draft.mapping } }));
      if (!answer.ok) throw new ApiError(200, answer.code, answer.message);
      return true;
    });

  const checkDestination = () =>
    attempt('destination', async () => {
      const t = targetOf(draft);
      if (!t.ok) throw refusal(t.message);
      if (!draft.folder.trim()) throw refusal('Folder: name the folder of each mailbox the items go to (Inbox/XIP)');
      return true;
    });

  const testDelivery = () =>
    attempt('delivery', async () => {
      const t = targetOf(draft);
      if (!t.ok) throw refusal(t.message);
      const mailbox = draft.testMailbox.trim();
      if (!mailbox) throw refusal('Test mailbox: the address of one mailbox to deliver a test message to');
      const started = performance.now();
      setChecks((c) => ({ ...c, delivery: undefined }));
      const answer = await call(api.POST('/api/wizard/delivery', { body: { target: t.target, ...(draft.folder.trim() ? { folder: draft.folder.trim() } : {}), mailbox } }));
      setChecks((c) => ({ ...c, delivery: { ...answer, ms: performance.now() - started } }));
      return true;
    });

  const checkSchedule = () =>
    attempt('schedule', async () => {
      if (!draft.schedule.trim()) throw refusal('Schedule (cron): give a cron expression, such as 0 2 * * * (every day at 02:00)');
      const answer = await call(api.POST('/api/wizard/schedule', { body: { schedule: draft.schedule.trim(), ...(draft.timezone.trim() ? { timezone: draft.timezone.trim() } : {}) } }));
      setChecks((c) => ({ ...c, schedule: { for: `${draft.schedule.trim()}|${draft.timezone.trim()}`, nextRuns: answer.nextRuns } }));
      return true;
    });

  const finish = () =>
    attempt('finish', async () => {
      const config = configOf(draft);
      if (editing) await call(api.PUT('/api/connectors/{name}', { params: { path: { name: editing } }, body: config }));
      else await call(api.POST('/api/connectors', { body: config }));
      await Promise.all([client.invalidateQueries({ queryKey: keys.connectors }), client.invalidateQueries({ queryKey: keys.connector(config.name) }), client.removeQueries({ queryKey: ['connector-config', editing] })]);
      navigate(`/connectors/${seg(config.name)}`);
      return true;
    });

  const validators: Record<StepName, () => Promise<boolean>> = {
    Name: checkName,
    Source: validateSource,
    'Trust anchors': checkSigner,
    'User mapping': checkMapping,
    Destination: checkDestination,
    Schedule: checkSchedule,
    Review: finish,
  };

  const go = (to: number) => {
    setError(null);
    setIndex(to);
    setReached((r) => Math.max(r, to));
  };
  const next = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    if (await validators[step]()) {
      if (index < steps.length - 1) go(index + 1);
    }
  };

  const title = editing ? `Edit ${editing}` : 'Add connector';
  let body: ReactNode;
  switch (step) {
    case 'Name':
      body = <NameStep draft={draft} update={update} />;
      break;
    case 'Source':
      body = <SourceStep draft={draft} update={update} checks={checks} validate={() => void validateSource()} busy={busy} storedOnly={storedOnly} />;
      break;
    case 'Trust anchors':
      body = <TrustStep draft={draft} update={update} checks={checks} check={() => void checkSigner()} busy={busy} storedOnly={storedOnly} />;
      break;
    case 'User mapping':
      body = <MappingStep draft={draft} update={update} checks={checks} check={() => void checkMapping()} busy={busy} />;
      break;
    case 'Destination':
      body = <DestinationStep draft={draft} update={update} checks={checks} test={() => void testDelivery()} busy={busy} editing={editing !== undefined} />;
      break;
    case 'Schedule':
      body = <ScheduleStep draft={draft} update={update} checks={checks} />;
      break;
    case 'Review':
      body = <ReviewStep draft={draft} checks={checks} editing={editing !== undefined} onEdit={(s) => go(steps.indexOf(s))} steps={steps} />;
      break;
  }

  return (
    <>
      <p className="breadcrumbs">
        <Link to="/connectors">Data connectors</Link>
        {editing ? (
          <>
            {' '}
            <span aria-hidden="true">/</span> <Link to={`/connectors/${seg(editing)}`}>{editing}</Link>
          </>
        ) : null}
      </p>
      <PageHeading title={title} />
      <div className="wizard">
        <ol aria-label="Steps" className="steps">
          {steps.map((s, i) => (
            <li key={s} aria-current={i === index ? 'step' : undefined} className={i === index ? 'step step-current' : i < index ? 'step step-done' : 'step'}>
              {i <= reached && i !== index ? (
                <button type="button" className="step-link" onClick={() => go(i)}>
                  <span className="step-number" aria-hidden="true">
                    {i + 1}
                  </span>
                  <span className="step-name">{s}</span>
                </button>
              ) : (
                <span className="step-link">
                  <span className="step-number" aria-hidden="true">
                    {i + 1}
                  </span>
                  <span className="step-name">{s}</span>
                </span>
              )}
            </li>
          ))}
        </ol>
        <form className="panel wizard-panel" onSubmit={(e) => void next(e)} noValidate>
          <p className="step-count">
            Step {index + 1} of {steps.length}
          </p>
          <h2 id="step-h" ref={heading} tabIndex={-1}>
            {step}
          </h2>
          {body}
          {error ? <ErrorAlert error={error} /> : null}
          <div className="wizard-nav">
            <button type="button" className="button button-secondary" onClick={() => go(index - 1)} disabled={index === 0 || busy !== null}>
              Back
            </button>
            <span className="wizard-nav-spacer" />
            {busy ? (
              <span className="busy" role="status">
                Checking…
              </span>
            ) : null}
            {step === 'Review' ? (
              <button type="submit" className="button button-primary" disabled={busy !== null}>
                {editing ? 'Save' : 'Finish'}
              </button>
            ) : (
              <button type="submit" className="button button-primary" disabled={busy !== null}>
                Next
              </button>
            )}
          </div>
        </form>
      </div>
    </>
  );
}
