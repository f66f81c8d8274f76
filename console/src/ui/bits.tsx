// Small pieces every page uses: the error alert (the API's code and
// message), a time, a connector or run status, a loading line.
import { ApiError } from '../api/client';
import { formatTime } from './format';

/** An error as the contract shows it: role="alert" with the code and the message. */
export function ErrorAlert({ error, title }: { error: unknown; title?: string }) {
  const code = error instanceof ApiError ? error.code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="alert alert-error">
      {title ? <p className="alert-title">{title}</p> : null}
      <p>
        <code className="code">{code}</code> {message}
      </p>
    </div>
  );
}

/** A refusal worked out in the browser (a field left empty), shown like the server's. */
export function Refusal({ code, message }: { code: string; message: string }) {
  return <ErrorAlert error={new ApiError(400, code, message)} />;
}

export function Time({ iso, seconds }: { iso: string | null | undefined; seconds?: boolean }) {
  if (!iso) return <>—</>;
  return (
    <time dateTime={iso} title={iso}>
      {formatTime(iso, seconds)}
    </time>
  );
}

/** A connector's or a run's status: the word itself (the tests read it), coloured by a class. */
export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{value}</span>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}
