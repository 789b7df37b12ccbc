// `/admin/delivery`: how email delivery went over a chosen period: counts by status, rates, and a
// per-day chart with its numbers in a table.
import { useEffect, useMemo } from "react";
import { useSearchParams } from "react-router";
import { BarChart3 } from "lucide-react";
import { CenteredSpinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { cn } from "@/lib/classNames";
import { LoadError, PageHeader, formatDay } from "@/features/admin-layout";
import { PERIODS, everyDay, periodStart, useEmailStats, type EmailStats } from "../api/stats";
import { DeliveryChart, SERIES } from "./DeliveryChart";
import { DeliveryInsightsPanel } from "./DeliveryInsights";

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const count = new Intl.NumberFormat();

function rate(part: number, whole: number): string {
  return whole ? percent.format(part / whole) : "—";
}

export function DeliveryPage() {
  const [params, setParams] = useSearchParams();
  const period = PERIODS.find((p) => p.id === params.get("period")) ?? PERIODS[1];
  const from = useMemo(() => periodStart(period.days), [period.days]);
  const stats = useEmailStats(from);
  useEffect(() => {
    document.title = "Delivery · Admin · Tickets";
  }, []);

  return (
    <div className="mx-auto w-full max-w-7xl px-3 py-4 sm:px-6">
      <PageHeader
        title="Delivery"
        description="Emails created in the period, by where they are now. Days are UTC."
        actions={
          <div role="radiogroup" aria-label="Period" className="inline-flex rounded-lg border border-line bg-panel p-0.5">
            {PERIODS.map((p) => (
              <button
                key={p.id}
                type="button"
                role="radio"
                aria-checked={p.id === period.id}
                aria-label={p.label}
                onClick={() => setParams({ period: p.id }, { replace: true })}
                className={cn("h-9 rounded-md px-3 text-[13px] font-medium", p.id === period.id ? "bg-accent-soft text-accent" : "text-muted hover:text-ink")}
              >
                {p.short}
              </button>
            ))}
          </div>
        }
      />
      {stats.isPending ? (
        <CenteredSpinner label="Loading statistics…" />
      ) : stats.isError && !stats.data ? (
        <LoadError what="Delivery statistics" error={stats.error} onRetry={() => stats.refetch()} />
      ) : (
        <Dashboard stats={stats.data} from={from} periodLabel={period.label} />
      )}
    </div>
  );
}

function Dashboard({ stats, from, periodLabel }: { stats: EmailStats; from: string; periodLabel: string }) {
  const finished = stats.total - stats.pending;
  const cards: { label: string; value: number; tone?: string }[] = [
    { label: "Total", value: stats.total },
    ...SERIES.map((s) => ({ label: s.label, value: stats[s.key], tone: s.key })),
  ];
  const rates = [
    { label: "Accepted", value: rate(stats.sent + stats.delivered, finished), hint: "Sent or delivered, of the emails no longer pending" },
    { label: "Confirmed delivered", value: rate(stats.delivered, finished), hint: "Delivery reports received" },
    { label: "Bounce rate", value: rate(stats.bounced, finished), hint: "Hard and soft bounces reported back" },
    { label: "Failure rate", value: rate(stats.failed, finished), hint: "Refused by the mail server or given up" },
  ];
  const days = useMemo(() => everyDay(from, stats.daily ?? []), [from, stats.daily]);
  // The table lists the newest day first; the chart runs left to right.
  const newestFirst = useMemo(() => [...days].reverse(), [days]);
  return (
    <div className="flex flex-col gap-4">
      <section aria-label="Counts by status">
        <ul className="grid grid-cols-2 gap-2 sm:grid-cols-3 lg:grid-cols-6">
          {cards.map((c) => (
            <li key={c.label} className="rounded-xl border border-line bg-panel px-4 py-3">
              <p className="text-[13px] text-muted">{c.label}</p>
              <p className="tabular text-2xl font-semibold text-ink-strong" data-testid={`count-${c.label.toLowerCase()}`}>
                {count.format(c.value)}
              </p>
            </li>
          ))}
        </ul>
      </section>
      <section aria-label="Rates">
        <ul className="grid grid-cols-2 gap-2 lg:grid-cols-4">
          {rates.map((r) => (
            <li key={r.label} className="rounded-xl border border-line bg-panel px-4 py-3">
              <p className="text-[13px] text-muted">{r.label}</p>
              <p className="tabular text-xl font-semibold text-ink-strong">{r.value}</p>
              <p className="text-xs text-muted">{r.hint}</p>
            </li>
          ))}
        </ul>
      </section>
      {stats.total === 0 ? (
        <EmptyState className="rounded-xl border border-line bg-panel" icon={<BarChart3 className="h-7 w-7" />} title="No emails in this period">
          Pick a longer period, or come back once events have sent some.
        </EmptyState>
      ) : (
        <section aria-labelledby="per-day-h" className="grid gap-4 rounded-xl border border-line bg-panel p-4 xl:grid-cols-[minmax(0,1.4fr)_minmax(0,1fr)]">
          <h2 id="per-day-h" className="text-sm font-semibold text-ink-strong xl:col-span-2">
            Emails per day
          </h2>
          <DeliveryChart days={days} label={`Line chart of emails per day by status, ${periodLabel.toLowerCase()}. The numbers are in the table beside it.`} />
          <div className="max-h-80 self-start overflow-auto rounded-lg border border-line">
            <table className="tabular w-full text-right text-[13px]">
              <caption className="sr-only">Emails per day by status, {periodLabel.toLowerCase()}</caption>
              <thead className="sticky top-0 bg-surface text-xs text-muted">
                <tr>
                  <th scope="col" className="px-2 py-1.5 text-left font-medium">Day</th>
                  {SERIES.map((s) => (
                    <th key={s.key} scope="col" className="px-2 py-1.5 font-medium">
                      {s.label}
                    </th>
                  ))}
                  <th scope="col" className="px-2 py-1.5 font-medium">Total</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-line">
                {newestFirst.map((d) => (
                  <tr key={d.date}>
                    <th scope="row" className="px-2 py-1 text-left font-normal text-ink">
                      {formatDay(d.date)}
                    </th>
                    {SERIES.map((s) => (
                      <td key={s.key} className="px-2 py-1">
                        {count.format(d[s.key])}
                      </td>
                    ))}
                    <td className="px-2 py-1 font-medium text-ink-strong">{count.format(d.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
      {stats.total > 0 && <DeliveryInsightsPanel from={from} />}
    </div>
  );
}
