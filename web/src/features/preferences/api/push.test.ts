import { describe, expect, it } from "vitest";
import { describeDevice } from "./push";

describe("describeDevice", () => {
  it.each([
    ["Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36", "Chrome on Android"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1", "Safari on iOS"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0", "Edge on Windows"],
    ["Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0", "Firefox on Android"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15", "Safari on macOS"],
    ["Chrome 140 on Mac", "Chrome 140 on Mac"],
    ["", "Unknown device"],
  ])("%s", (ua, name) => expect(describeDevice(ua)).toBe(name));

  it("shortens what it cannot read", () => expect(describeDevice("x".repeat(60))).toBe(`${"x".repeat(40)}…`));
  it("names a device without a user agent", () => expect(describeDevice(null)).toBe("Unknown device"));
});
