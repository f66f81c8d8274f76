// A page's heading: the document's title follows it, and a navigation puts
// the keyboard's focus on it, so that a screen reader announces the new
// page and Tab starts from its top.
import { useEffect, useRef, type ReactNode } from 'react';

export function PageHeading({ title, children, actions }: { title: string; children?: ReactNode; actions?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · xip-connector`;
  }, [title]);
  useEffect(() => {
    ref.current?.focus({ preventScroll: true });
  }, []);
  return (
    <div className="page-heading">
      <div>
        <h1 ref={ref} tabIndex={-1}>
          {title}
        </h1>
        {children}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}
