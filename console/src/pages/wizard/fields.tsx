// The wizard's fields: a labelled input, a secret that may stay as stored, a success line.
import { useId, type ReactNode } from 'react';
import type { Draft } from './draft';
import type { Checks } from './steps';

export type Update = (patch: Partial<Draft>, invalidates?: (keyof Checks)[]) => void;

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

export function Field({ label, value, onChange, hint, type = 'text', placeholder, autoComplete = 'off', list, wide }: FieldProps) {
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
export function SecretField({ label, value, onChange, stored, multiline, hint }: { label: string; value: string; onChange: (v: string) => void; stored: boolean; multiline?: boolean; hint?: string }) {
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

export function Success({ children }: { children: ReactNode }) {
  return (
    <div className="alert alert-ok" role="status">
      {children}
    </div>
  );
}
