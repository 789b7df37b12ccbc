import { describe, expect, it } from "vitest";
import { outcomeLabel, reasonText } from "./outcomes";

describe("inbound outcomes in words", () => {
  it("names the known reasons and outcomes", () => {
    expect(reasonText("too_large").label).toBe("Too large");
    expect(reasonText("sender_mismatch").explanation).toMatch(/From address/);
    expect(outcomeLabel("DeliveryReport")).toBe("Delivery report");
  });

  it("shows an unknown reason as the server sent it, readably", () => {
    expect(reasonText("new_reason")).toEqual({ label: "new reason", explanation: "" });
    expect(outcomeLabel("Later")).toBe("Later");
  });
});
