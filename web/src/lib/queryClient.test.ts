// A refetch asked for after a change must not be answered by a fetch that started before it.
import { describe, expect, it } from "vitest";
import { QueryClient, QueryObserver } from "@tanstack/react-query";
import { refetchAfterChange } from "./queryClient";

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function firstLoadInFlightWhenTheChangeArrives(refresh: (qc: QueryClient) => Promise<void>) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  let server = 0; // what the server holds: the unread count
  const firstAnswer = deferred<number>();
  let calls = 0;
  const observer = new QueryObserver(qc, {
    queryKey: ["unread"],
    queryFn: () => {
      calls += 1;
      // The first load read the server before the change, and its answer is still on the way.
      return calls === 1 ? firstAnswer.promise : Promise.resolve(server);
    },
  });
  const seen: (number | undefined)[] = [];
  const unsubscribe = observer.subscribe((result) => seen.push(result.data));
  await Promise.resolve();
  server = 1; // the change commits; its socket event arrives before the first answer
  const refreshed = refresh(qc);
  firstAnswer.resolve(0);
  await refreshed;
  await new Promise((r) => setTimeout(r, 0));
  unsubscribe();
  return qc.getQueryData<number>(["unread"]);
}

describe("refetchAfterChange", () => {
  it("answers with a fetch made after the change, even during the first load", async () => {
    expect(await firstLoadInFlightWhenTheChangeArrives((qc) => refetchAfterChange(qc, ["unread"]))).toBe(1);
  });

  it("is needed: a plain invalidate reuses the stale first load", async () => {
    const stale = await firstLoadInFlightWhenTheChangeArrives((qc) => qc.invalidateQueries({ queryKey: ["unread"] }));
    expect(stale).toBe(0);
  });
});
