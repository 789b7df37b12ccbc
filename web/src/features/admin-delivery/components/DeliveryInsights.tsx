// The period's rates (of the emails the mail server accepted), the most common failure reasons, how
// long sent emails waited from queued to sent, and the slowest ones (each links to its email).
import { Link } from "react-router";
import { Spinner } from "@/components/Spinner";
import { LoadError, formatDateTime } from "@/features/admin-layout";
import { useDeliveryInsights } from "../api/stats";
import { bucketLabel } from "../queueBuckets";

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 2 });
const count = new Intl.NumberFormat();

function share(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : percent.format(value);
}

export function DeliveryInsightsPanel({ from }: { from: string }) {
  const insights = useDeliveryInsights(from);
  if (insights.isPending) return <Spinner label="Loading delivery insights…" />;
  if (insights.isError && !insights.data) return <LoadError what="Delivery insights" error={insights.error} onRetry={() => insights.refetch()} />;
  const d = insights.data;
  const sentTotal = d.queueToSent.reduce((n, b) => n + b.count, 0);
  const rates = [
    { label: "Delivered of accepted", value: share(d.rates.delivery), hint: "Delivered, of the emails the server accepted", id: "delivery" },
    { label: "Bounced of accepted", value: share(d.rates.bounce), hint: "Bounced, of the emails the server accepted", id: "bounce" },
    { label: "Complaint rate", value: share(d.rates.complaint), hint: `${count.format(d.complaints)} marked as spam`, id: "complaint" },
  ];
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      <section aria-label="Rates of accepted emails" className="lg:col-span-2">
        <ul className="grid grid-cols-1 gap-2 sm:grid-cols-3">
          {rates.map((r) => (
            <li key={r.id} className="rounded-xl border border-line bg-panel px-4 py-3">
              <p className="text-[13px] text-muted">{r.label}</p>
              <p className="tabular text-xl font-semibold text-ink-strong" data-testid={`rate-${r.id}`}>
                {r.value}
              </p>
              <p className="text-xs text-muted">{r.hint}</p>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="failures-h" className="min-w-0 rounded-xl border border-line bg-panel p-4">
        <h2 id="failures-h" className="mb-2 text-sm font-semibold text-ink-strong">
          Most common failure reasons
        </h2>
        {d.topFailures.length === 0 ? (
          <p className="text-sm text-muted">No failed or bounced email in this period.</p>
        ) : (
          <table className="w-full table-fixed text-left text-[13px]">
            <caption className="sr-only">Most common failure reasons, with how many emails each</caption>
            <thead className="text-xs text-muted">
              <tr>
                <th scope="col" className="py-1 font-medium">Reason</th>
                <th scope="col" className="w-20 py-1 text-right font-medium">Emails</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {d.topFailures.map((f) => (
                <tr key={f.reason}>
                  <td className="break-words py-1.5 pr-2 font-mono text-xs text-ink">{f.reason}</td>
                  <td className="tabular py-1.5 text-right text-ink-strong">{count.format(f.count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="queue-h" className="min-w-0 rounded-xl border border-line bg-panel p-4">
        <h2 id="queue-h" className="mb-1 text-sm font-semibold text-ink-strong">
          Time from queued to sent
        </h2>
        <p className="mb-2 text-xs text-muted">
          {sentTotal === 0
            ? "No email was sent in this period."
            : `Half were sent ${bucketLabel(d.queueToSentP50Under ?? null, null)}, 95% ${bucketLabel(d.queueToSentP95Under ?? null, null)}.`}
        </p>
        {sentTotal > 0 && (
          <table className="tabular w-full text-[13px]">
            <caption className="sr-only">Sent emails by time from queued to sent</caption>
            <thead className="text-xs text-muted">
              <tr>
                <th scope="col" className="py-1 text-left font-medium">Waited</th>
                <th scope="col" className="py-1 text-left font-medium"><span className="sr-only">Share</span></th>
                <th scope="col" className="w-20 py-1 text-right font-medium">Emails</th>
              </tr>
            </thead>
            <tbody>
              {d.queueToSent.map((b, i) => (
                <tr key={String(b.underSeconds)}>
                  <th scope="row" className="whitespace-nowrap py-1 pr-2 text-left font-normal text-ink">
                    {bucketLabel(b.underSeconds ?? null, i ? (d.queueToSent[i - 1].underSeconds ?? null) : null)}
                  </th>
                  <td className="w-full py-1" aria-hidden="true">
                    <div className="h-2 rounded bg-accent" style={{ width: `${sentTotal ? (100 * b.count) / sentTotal : 0}%` }} />
                  </td>
                  <td className="py-1 text-right text-ink-strong">{count.format(b.count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="slowest-h" className="min-w-0 rounded-xl border border-line bg-panel p-4 lg:col-span-2">
        <h2 id="slowest-h" className="mb-2 text-sm font-semibold text-ink-strong">
          Slowest from queued to sent
        </h2>
        {d.slowest.length === 0 ? (
          <p className="text-sm text-muted">No email was sent in this period.</p>
        ) : (
          <ol className="divide-y divide-line text-[13px]" aria-label="Slowest emails">
            {d.slowest.map((s) => (
              <li key={s.id} className="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-0.5 py-1.5">
                <Link to={`/admin/emails/${s.id}`} className="min-w-0 truncate font-medium text-accent hover:underline">
                  {s.templateName} to {s.recipientEmail}
                </Link>
                <span className="tabular text-muted">
                  {count.format(s.seconds)} s · queued {formatDateTime(s.queuedAt)}
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}
