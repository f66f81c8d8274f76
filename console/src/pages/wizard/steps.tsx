// The wizard's steps: the fields of each, and what its check answered.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useId, useState, type ReactNode } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { FileField } from '../../ui/file-field';
import { Time } from '../../ui/bits';
import { formatBytes, formatCount, formatTimeIn } from '../../ui/format';
import { destinationKind, sourceKind, trustOf, SET, type Draft, type TextFile } from './draft';
import type { StepName } from './wizard';

export interface Checks {
  source?: Schemas['WizardSourceAnswer'];
  trust?: Schemas['WizardTrustAnswer'];
  mapping?: { answer: Schemas['WizardMappingAnswer']; mapping: TextFile | null };
  delivery?: Schemas['WizardDeliveryAnswer'] & { ms: number };
  schedule?: { for: string; nextRuns: string[] };
}

type Update = (patch: Partial<Draft>, invalidates?: (keyof Checks)[]) => void;

interface FieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  hint?: ReactNode;
  type?: string;
  placeholder?: string;
  autoComplete?: string;
  list?: string;
  wide?: boolean;
}

function Field({ label, value, onChange, hint, type = 'text', placeholder, autoComplete = 'off', list, wide }: FieldProps) {
  const id = useId();
  return (
    <div className={wide ? 'field field-wide' : 'field'}>
      <label htmlFor={id}>{label}</label>
      <input id={id} type={type} value={value} onChange={(e) => onChange(e.target.value)} placeholder={placeholder} autoComplete={autoComplete} spellCheck={false} list={list} aria-describedby={hint ? `${id}-hint` : undefined} />
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** A secret field: empty in an edit keeps the stored one. */
function SecretField({ label, value, onChange, stored, multiline, hint }: { label: string; value: string; onChange: (v: string) => void; stored: boolean; multiline?: boolean; hint?: string }) {
  const id = useId();
  const note = stored ? 'Set. Leave empty to keep it; type a new one to replace it.' : hint;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {multiline ? (
        <textarea id={id} rows={4} value={value} onChange={(e) => onChange(e.target.value)} spellCheck={false} aria-describedby={note ? `${id}-hint` : undefined} className="mono" />
      ) : (
        <input id={id} type="password" value={value} onChange={(e) => onChange(e.target.value)} autoComplete="new-password" aria-describedby={note ? `${id}-hint` : undefined} />
      )}
      {note ? (
        <p className="hint" id={`${id}-hint`}>
          {note}
        </p>
      ) : null}
    </div>
  );
}

function Success({ children }: { children: ReactNode }) {
  return (
    <div className="alert alert-ok" role="status">
      {children}
    </div>
  );
}

export function NameStep({ draft, update }: { draft: Draft; update: Update }) {
  return (
    <>
      <p className="step-intro">A name to tell this connector from the others, in the list, the logs and the audit trail. It cannot be changed later.</p>
      <Field label="Connector name" value={draft.name} onChange={(name) => update({ name })} hint='1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit; unique.' />
    </>
  );
}

export function SourceStep({ draft, update, checks, validate, busy, storedOnly }: { draft: Draft; update: Update; checks: Checks; validate: () => void; busy: string | null; storedOnly: boolean }) {
  const kind = sourceKind(draft.source);
  const stored = draft.base?.source;
  const answer = checks.source;
  const inv: (keyof Checks)[] = ['source', 'trust'];
  return (
    <>
      <p className="step-intro">Where the signed XIP containers arrive: a folder on this server, an SFTP server, or an Azure Blob Storage container.</p>
      <Field
        label="Source"
        value={draft.source}
        onChange={(source) => update({ source }, inv)}
        wide
        placeholder="/srv/xip/drop"
        hint={
          <>
            A folder path (<code>/srv/xip/drop</code>), <code>sftp://USER@HOST[:PORT]/PATH</code> or <code>https://ACCOUNT.blob.core.windows.net/CONTAINER</code>.
          </>
        }
      />
      {kind === 'sftp' ? (
        <fieldset className="fieldset">
          <legend>SFTP server</legend>
          <Field label="Host key" value={draft.hostKey} onChange={(hostKey) => update({ hostKey }, inv)} placeholder="SHA256:…" hint="The server's key fingerprint as ssh-keygen -lf prints it (ask its administrator)." wide />
          <SecretField label="Password" value={draft.sourcePassword} onChange={(sourcePassword) => update({ sourcePassword }, inv)} stored={stored?.kind === 'sftp' && stored.password !== undefined} hint="Or a private key below: one of the two." />
          <SecretField label="Private key" value={draft.sourcePrivateKey} onChange={(sourcePrivateKey) => update({ sourcePrivateKey }, inv)} stored={stored?.kind === 'sftp' && stored.privateKey !== undefined} multiline hint="An OpenSSH private key (PEM text), instead of a password." />
        </fieldset>
      ) : null}
      {kind === 'azure' ? (
        <fieldset className="fieldset">
          <legend>Azure Blob Storage</legend>
          <div className="radio-row" role="radiogroup" aria-label="Kind of credential">
            <label>
              <input type="radio" name="azure-auth" checked={draft.azureAuth === 'sas'} onChange={() => update({ azureAuth: 'sas' }, inv)} /> SAS token
            </label>
            <label>
              <input type="radio" name="azure-auth" checked={draft.azureAuth === 'key'} onChange={() => update({ azureAuth: 'key' }, inv)} /> Account key
            </label>
          </div>
          <SecretField label="Azure key or SAS" value={draft.azureSecret} onChange={(azureSecret) => update({ azureSecret }, inv)} stored={stored?.kind === 'azure'} hint="A SAS needs the read and list permissions." />
        </fieldset>
      ) : null}
      <div className="check-row">
        <button type="button" className="button button-secondary" onClick={validate} disabled={busy !== null}>
          Validate connection
        </button>
        {storedOnly ? <span className="hint">The stored secret is kept; type it again to validate the connection.</span> : null}
      </div>
      {answer?.ok ? (
        <>
          <Success>
            Connected: {formatCount(answer.total)} {answer.total === 1 ? 'file' : 'files'} found{answer.total > answer.files.length ? `, the newest ${answer.files.length} listed` : ''}.
          </Success>
          <div className="table-wrap table-scroll" tabIndex={0} role="group" aria-label="Files found, scrollable">
            <table className="table table-compact">
              <caption>Files found</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Size
                  </th>
                  <th scope="col">Modified</th>
                </tr>
              </thead>
              <tbody>
                {answer.files.length === 0 ? (
                  <tr>
                    <td colSpan={3} className="empty">
                      No *.xip file yet
                    </td>
                  </tr>
                ) : (
                  answer.files.map((f) => (
                    <tr key={f.name}>
                      <td className="wrap-anywhere">{f.name}</td>
                      <td className="num">{formatBytes(f.size)}</td>
                      <td>
                        <Time iso={f.modified} />
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}

export function TrustStep({ draft, update, checks, check, busy, storedOnly }: { draft: Draft; update: Update; checks: Checks; check: () => void; busy: string | null; storedOnly: boolean }) {
  const t = checks.trust;
  return (
    <>
      <p className="step-intro">The certificates you trust to sign containers (PEM). Each container's signature must chain to one of them, or it is rejected.</p>
      <FileField label="Trust anchors (PEM)" accept=".pem,.crt,.cer,application/x-pem-file" multiple files={draft.trust} onChange={(trust) => update({ trust }, ['trust'])} />
      <div className="field">
        <label htmlFor="trust-paste">Or paste PEM</label>
        <textarea id="trust-paste" rows={5} className="mono" spellCheck={false} value={draft.trustPaste} onChange={(e) => update({ trustPaste: e.target.value }, ['trust'])} placeholder="-----BEGIN CERTIFICATE-----" />
      </div>
      <div className="check-row">
        <button type="button" className="button button-secondary" onClick={check} disabled={busy !== null}>
          Check signer
        </button>
        <span className="hint">Verifies the newest file of the source against {trustOf(draft).length === 1 ? 'this certificate' : 'these certificates'}.</span>
      </div>
      {storedOnly ? <p className="hint">The source's stored secret is kept; type it again on the Source step to check the signer.</p> : null}
      {t && t.verified && t.signer ? (
        <Success>
          <p>File: {t.file}</p>
          <p>Signer: {t.signer.subject}</p>
          <p className="muted-strong">
            Issued by {t.signer.issuer}, valid until <Time iso={t.signer.notAfter} />
          </p>
          <p>
            Verdict: <strong>verified</strong>
          </p>
        </Success>
      ) : null}
      {t && !t.verified && !t.code ? <p className="notice">{t.message ?? 'The source holds no file to check yet.'} You can go on: each run verifies every container.</p> : null}
    </>
  );
}

interface MappingLine {
  line: number;
  sourceId: string;
  mailbox: string;
}

/** The custom mapping's lines after its header, numbered as the server counts them (the header is line 1). */
function mappingLines(text: string): MappingLine[] {
  return text
    .split(/\r?\n/)
    .map((l, i) => ({ raw: l, line: i + 1 }))
    .slice(1)
    .filter((l) => l.raw.trim() !== '')
    .map(({ raw, line }) => {
      const [sourceId = '', mailbox = ''] = raw.split(',');
      return { line, sourceId: sourceId.replace(/^"|"$/g, ''), mailbox: mailbox.replace(/^"|"$/g, '') };
    });
}

export function MappingStep({ draft, update, checks, check, busy }: { draft: Draft; update: Update; checks: Checks; check: () => void; busy: string | null }) {
  const dir = draft.directory;
  const m = checks.mapping;
  const failedLine = m && !m.answer.ok ? Number(/\bline (\d+)/.exec(m.answer.message)?.[1] ?? NaN) : NaN;
  return (
    <>
      <div className="callout">
        <p className="callout-title">Automatic: by each participant's Email property</p>
        <p>
          Each item goes to the mailboxes of its participants whose email is in your directory. Where a source names users by its own id, a custom mapping says
          which mailbox each id is.
        </p>
      </div>
      {dir && 'graph' in dir ? (
        <p className="notice">The directory is Microsoft 365's ({dir.graph}), read at each run.</p>
      ) : (
        <FileField label="Directory (CSV)" accept=".csv,text/csv" files={dir ? [dir] : []} onChange={(f) => update({ directory: f[0] ?? null }, ['mapping'])} hint="The header email,name,aliases,litigationHold, then one user per line." />
      )}
      <FileField label="Custom mapping (CSV, optional)" accept=".csv,text/csv" files={draft.mapping ? [draft.mapping] : []} onChange={(f) => update({ mapping: f[0] ?? null }, ['mapping'])} hint="The header sourceId,mailbox, then one source user per line." />
      <p>
        <a href="/api/wizard/mapping-template.csv" download>
          Download mapping template
        </a>
      </p>
      <div className="check-row">
        <button type="button" className="button button-secondary" onClick={check} disabled={busy !== null}>
          Check mapping
        </button>
      </div>
      {m ? (
        <>
          {m.answer.ok ? <Success>The directory loads{m.mapping ? `, and the custom mapping maps ${formatCount(m.answer.rows)} source ${m.answer.rows === 1 ? 'user' : 'users'}` : ''}.</Success> : null}
          <div className="table-wrap">
            <table className="table table-compact">
              <caption>Mapping check</caption>
              <thead>
                <tr>
                  <th scope="col" className="num">
                    Line
                  </th>
                  <th scope="col">Source user</th>
                  <th scope="col">Mailbox</th>
                  <th scope="col">Result</th>
                </tr>
              </thead>
              <tbody>
                {m.mapping ? (
                  mappingLines(m.mapping.text).map((l) => (
                    <tr key={l.line}>
                      <td className="num">{l.line}</td>
                      <td className="wrap-anywhere">{l.sourceId}</td>
                      <td className="wrap-anywhere">{l.mailbox}</td>
                      <td>
                        {m.answer.ok || l.line < failedLine ? (
                          <span className="verdict verdict-ok">ok</span>
                        ) : l.line === failedLine ? (
                          <>
                            <span className="verdict verdict-bad">refused</span> <code className="code">{m.answer.ok ? '' : m.answer.code}</code>
                          </>
                        ) : (
                          <span className="muted">not checked</span>
                        )}
                      </td>
                    </tr>
                  ))
                ) : (
                  <tr>
                    <td colSpan={4} className="empty">
                      No custom mapping: every item goes by its participants' Email property
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
    </>
  );
}

export function DestinationStep({ draft, update, checks, test, busy, editing }: { draft: Draft; update: Update; checks: Checks; test: () => void; busy: string | null; editing: boolean }) {
  const kind = destinationKind(draft.destination);
  const stored = draft.base?.target;
  const d = checks.delivery;
  return (
    <>
      <p className="step-intro">The mailboxes the items are delivered to, and the folder they go into in each.</p>
      <Field
        label="Destination"
        value={draft.destination}
        onChange={(destination) => update({ destination }, ['delivery'])}
        wide
        placeholder="/var/mail/compliance"
        hint={
          <>
            A maildir folder on this server (<code>/var/mail/compliance</code>), <code>imaps://USER@HOST:993</code> or <code>graph://TENANT</code> for Microsoft 365.
          </>
        }
      />
      {kind === 'imap' ? <SecretField label="IMAP password" value={draft.destinationPassword} onChange={(destinationPassword) => update({ destinationPassword }, ['delivery'])} stored={editing && stored?.to === draft.destination.trim() && stored.password !== undefined} hint="The administrative user's password." /> : null}
      {kind === 'graph' ? (
        <fieldset className="fieldset">
          <legend>Microsoft 365 app</legend>
          <Field label="App (client) ID" value={draft.appClientId} onChange={(appClientId) => update({ appClientId }, ['delivery'])} hint="The app registration with Mail.ReadWrite (application) permission." />
          <SecretField label="Client secret" value={draft.appClientSecret} onChange={(appClientSecret) => update({ appClientSecret }, ['delivery'])} stored={editing && stored?.app !== undefined && stored.app.clientId === draft.appClientId.trim()} />
        </fieldset>
      ) : null}
      <Field label="Folder" value={draft.folder} onChange={(folder) => update({ folder }, ['delivery'])} hint="In each mailbox; created when missing." />
      <fieldset className="fieldset">
        <legend>Test delivery (optional)</legend>
        <Field label="Test mailbox" value={draft.testMailbox} onChange={(testMailbox) => update({ testMailbox }, ['delivery'])} placeholder="ana@corp.example" hint="One mailbox of the directory: a short test message is delivered into its folder." />
        <div className="check-row">
          <button type="button" className="button button-secondary" onClick={test} disabled={busy !== null}>
            Test delivery
          </button>
        </div>
        {d ? (
          <Success>
            Delivered to {d.mailbox} in {d.folder} ({(d.ms / 1000).toFixed(1)} s).
          </Success>
        ) : null}
      </fieldset>
    </>
  );
}

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
