// The chart and table get every day of the period, zeros where the server listed none.
import { describe, expect, it } from "vitest";
import { everyDay, periodStart } from "./stats";

describe("delivery period", () => {
  it("starts at midnight UTC, days - 1 days back", () => {
    expect(periodStart(7, new Date("2026-12-02T16:00:00Z"))).toBe("2026-11-26T00:00:00.000Z");
  });
  it("fills the days without emails", () => {
    const now = new Date("2026-12-02T16:00:00Z");
    const days = everyDay(periodStart(3, now), [{ date: "2026-12-01", total: 2, pending: 0, sent: 2, delivered: 0, bounced: 0, failed: 0 }], now);
    expect(days.map((d) => [d.date, d.total])).toEqual([["2026-11-30", 0], ["2026-12-01", 2], ["2026-12-02", 0]]);
  });
});
