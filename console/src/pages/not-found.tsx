import { Link } from '../router';
import { PageHeading } from '../ui/page';

export function NotFoundPage({ title = 'Page not found', message = 'There is no page at this address.' }: { title?: string; message?: string }) {
  return (
    <>
      <PageHeading title={title} />
      <p>{message}</p>
      <p>
        <Link to="/connectors">Go to the data connectors</Link>
      </p>
    </>
  );
}
