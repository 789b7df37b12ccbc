import { describe, expect, it } from "vitest";
import { bucketLabel } from "./queueBuckets";

describe("queue-time bucket labels", () => {
  it("reads the bounds in the unit that fits", () => {
    expect(bucketLabel(1, null)).toBe("under 1 s");
    expect(bucketLabel(60, 30)).toBe("30 s to 1 min");
    expect(bucketLabel(3600, 300)).toBe("5 min to 1 h");
    expect(bucketLabel(null, 3600)).toBe("1 h or more");
  });
});
