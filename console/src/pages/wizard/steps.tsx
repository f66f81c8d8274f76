// The wizard's steps: the fields of each, and what its check answered.
import type { Schemas } from '../../api/client';
import { FileField } from '../../ui/file-field';
import { Time } from '../../ui/bits';
import { formatBytes, formatCount } from '../../ui/format';
import { destinationKind, sourceKind, trustOf, type Draft, type TextFile } from './draft';
import { Field, SecretField, Success, type Update } from './fields';
export { ReviewStep, ScheduleStep } from './steps-end';

export interface Checks {
  source?: Schemas['WizardSourceAnswer'];
  trust?: Schemas['WizardTrustAnswer'];
  mapping?: { answer: Schemas['WizardMappingAnswer']; mapping: TextFile | null };
  delivery?: Schemas['WizardDeliveryAnswer'] & { ms: number };
  schedule?: { for: string; nextRuns: string[] };
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
