// `/admin/suppressions`: addresses that are not mailed (hard bounce or complaint), why and since when,
// with the email that caused it; search, and lift one after confirming.
import { useEffect, useMemo, useState } from "react";
import { Link } from "react-router";
import { Search, ShieldCheck } from "lucide-react";
import { Button } from "@/components/Button";
import { TextInput } from "@/components/Field";
import { Modal } from "@/components/Modal";
import { CenteredSpinner, Spinner } from "@/components/Spinner";
import { EmptyState } from "@/components/EmptyState";
import { LoadError, PageHeader, formatDateTime } from "@/features/admin-layout";
import { useLiftSuppression, useSuppressions, type Suppression } from "../api/suppressions";

const SEARCH_DELAY_MS = 300;

export function SuppressionsPage() {
  const [q, setQ] = useState("");
  const [needle, setNeedle] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setNeedle(q.trim()), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [q]);
  const list = useSuppressions(needle);
  const lift = useLiftSuppression();
  const [confirming, setConfirming] = useState<Suppression | null>(null);
  const [lifted, setLifted] = useState<string | null>(null);
  useEffect(() => {
    document.title = "Suppressions · Admin · Tickets";
  }, []);
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  return (
    <div className="mx-auto w-full max-w-6xl px-3 py-4 sm:px-6">
      <PageHeader title="Suppressions" description="Addresses that hard-bounced or complained. They get no email until you lift them." />
      <div role="search" className="relative mb-3 max-w-md">
        <Search className="pointer-events-none absolute left-3 top-1/2 h-4 w-4 -translate-y-1/2 text-muted" aria-hidden="true" />
        <TextInput type="search" aria-label="Search suppressions" placeholder="Search by address" value={q} onChange={(e) => setQ(e.target.value)} className="pl-9 pr-28" />
        {list.isFetching && !list.isPending && <Spinner label="Searching…" className="absolute right-3 top-1/2 -translate-y-1/2 text-xs" />}
      </div>
      <div role="status" aria-live="polite" className="empty:hidden">
        {lifted && <p className="mb-3 rounded-lg border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-500/40 dark:bg-emerald-500/10 dark:text-emerald-200">{lifted} can get email again.</p>}
      </div>
      {list.isPending ? (
        <CenteredSpinner label="Loading suppressions…" />
      ) : list.isError ? (
        <LoadError what="Suppressions" error={list.error} onRetry={() => list.refetch()} />
      ) : rows.length === 0 ? (
        <EmptyState icon={<ShieldCheck className="h-7 w-7" />} title={needle ? `No suppressed address contains “${needle}”` : "No suppressed addresses"}>
          {needle ? "Try another address." : "Every address can get email."}
        </EmptyState>
      ) : (
        <div className="overflow-hidden rounded-xl border border-line bg-panel">
          <table className="w-full table-fixed text-left text-sm">
            <caption className="sr-only">Suppressed addresses</caption>
            <thead className="border-b border-line bg-surface text-xs font-medium uppercase tracking-wide text-muted">
              <tr>
                <th scope="col" className="px-3 py-2.5 sm:px-4">Address</th>
                <th scope="col" className="hidden w-[30%] px-4 py-2.5 md:table-cell">Reason</th>
                <th scope="col" className="hidden w-44 px-4 py-2.5 sm:table-cell">Since</th>
                <th scope="col" className="w-24 px-3 py-2.5 sm:px-4"><span className="sr-only">Actions</span></th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {rows.map((s) => (
                <tr key={s.email}>
                  <td className="min-w-0 px-3 py-2.5 sm:px-4">
                    <p className="truncate font-medium text-ink-strong">{s.email}</p>
                    <p className="truncate text-xs text-muted md:hidden">{s.reason}{s.detail ? ` · ${s.detail}` : ""}</p>
                    <p className="text-xs text-muted sm:hidden">{formatDateTime(s.createdAt)}</p>
                  </td>
                  <td className="hidden px-4 py-2.5 md:table-cell">
                    <p>{s.reason}</p>
                    {s.detail && <p className="truncate text-xs text-muted" title={s.detail}>{s.detail}</p>}
                    {s.emailLogId && (
                      <Link to={`/admin/emails/${s.emailLogId}`} className="text-xs font-medium text-accent hover:underline">
                        The email that caused it
                      </Link>
                    )}
                  </td>
                  <td className="tabular hidden px-4 py-2.5 text-muted sm:table-cell">{formatDateTime(s.createdAt)}</td>
                  <td className="px-3 py-2 text-right sm:px-4">
                    <Button size="sm" className="h-10 sm:h-8" aria-label={`Lift suppression for ${s.email}`} onClick={() => { lift.reset(); setConfirming(s); }}>
                      Lift
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.hasNextPage && (
            <div className="flex justify-center border-t border-line p-3">
              {list.isFetchingNextPage ? <Spinner label="Loading more…" /> : <Button size="sm" onClick={() => list.fetchNextPage()}>Load more addresses</Button>}
            </div>
          )}
        </div>
      )}
      <Modal
        open={confirming !== null}
        onOpenChange={(open) => !open && setConfirming(null)}
        title="Lift this suppression?"
        description={confirming ? `${confirming.email} will get email again. If the address still bounces it is suppressed again.` : undefined}
      >
        {lift.isError && <p role="alert" className="mb-3 text-sm text-danger">Not lifted: {lift.error.message}</p>}
        <div className="flex justify-end gap-2">
          <Button onClick={() => setConfirming(null)}>Cancel</Button>
          <Button
            variant="primary"
            disabled={lift.isPending}
            onClick={() =>
              confirming &&
              lift.mutate(confirming.email, {
                onSuccess: () => {
                  setLifted(confirming.email);
                  setConfirming(null);
                },
              })
            }
          >
            Lift suppression
          </Button>
        </div>
      </Modal>
    </div>
  );
}
