// Server errors land on the right editor and line; anything else stays a general message.
import { describe, expect, it } from "vitest";
import { ApiError } from "@/lib/api/client";
import { fieldErrors } from "./templateErrors";
import { eventLabel, sampleContext, variableTree, EVENT_TYPES } from "./sampleData";

describe("fieldErrors", () => {
  it("places a save's syntax error at its field and line", () => {
    const error = new ApiError(422, "template_invalid", "htmlContent line 3: unexpected end", [{ field: "htmlContent", line: 3, message: "unexpected end" }]);
    const { fields, general } = fieldErrors(error, "Welcome");
    expect(fields.htmlContent).toEqual([{ line: 3, message: "unexpected end" }]);
    expect(fields.subject).toEqual([]);
    expect(general).toBeNull();
  });
  it("places a render error in this template, but not one in the layout", () => {
    const own = new ApiError(422, "template_render_failed", "Welcome failed to render: TypeError: x", { template: "Welcome", part: "Welcome:subject", line: 1 });
    expect(fieldErrors(own, "Welcome").fields.subject).toEqual([{ line: 1, message: "TypeError: x" }]);
    const layout = new ApiError(422, "template_render_failed", "layout failed", { template: "Welcome", part: "layout:htmlContent", line: 9 });
    expect(fieldErrors(layout, "Welcome")).toMatchObject({ general: "layout failed", fields: { htmlContent: [] } });
  });
});

describe("sample data", () => {
  it("has data for every event the contract lists, plus what every template receives", () => {
    for (const event of EVENT_TYPES) {
      const context = sampleContext(event);
      expect(Object.keys(context)).toEqual(expect.arrayContaining(["recipient", "app", "links"]));
      expect(Object.keys(context).length).toBeGreaterThan(3);
    }
  });
  it("offers nested variables for completion", () => {
    const tree = variableTree(sampleContext("MessageReceived"));
    const messages = tree.find((n) => n.name === "messages");
    expect(messages?.children?.map((c) => c.name)).toContain("senderName");
  });
  it("names events in words", () => {
    expect(eventLabel("TicketStatusChanged")).toBe("Ticket status changed");
    expect(eventLabel("OTPRequested")).toBe("OTP requested");
  });
});
