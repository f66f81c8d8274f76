// A file input that reads the chosen files as text (a PEM, a CSV) and lists
// what is held, each with a button to drop it.
import { useId, useRef } from 'react';

export interface TextFile {
  file: string;
  text: string;
}

export function FileField({ label, accept, multiple, files, onChange, hint }: { label: string; accept: string; multiple?: boolean; files: TextFile[]; onChange: (files: TextFile[]) => void; hint?: string }) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const read = async (list: FileList | null) => {
    if (!list || list.length === 0) return;
    const read = await Promise.all([...list].map(async (f) => ({ file: f.name, text: await f.text() })));
    onChange(multiple ? [...files.filter((f) => !read.some((r) => r.file === f.file)), ...read] : read.slice(0, 1));
    if (input.current) input.current.value = '';
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input ref={input} id={id} type="file" accept={accept} multiple={multiple} onChange={(e) => void read(e.target.files)} aria-describedby={hint ? `${id}-hint` : undefined} className="file-input" />
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {files.length > 0 ? (
        <ul className="file-list" aria-label={`${label}: files held`}>
          {files.map((f) => (
            <li key={f.file}>
              <span className="file-name">{f.file}</span>
              <span className="muted">{f.text.length.toLocaleString()} characters</span>
              <button type="button" className="button button-quiet button-small" onClick={() => onChange(files.filter((g) => g !== f))} aria-label={`Remove ${f.file}`}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
