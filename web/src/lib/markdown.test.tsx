// The Markdown subset renders what it should and never turns message text into live HTML.
import { describe, expect, it } from "vitest";
import { render } from "@testing-library/react";
import { Markdown, plainText } from "./markdown";

const html = (text: string) => render(<Markdown text={text} />).container.innerHTML;

describe("Markdown", () => {
  it("renders bold, italic, inline code and links with safe rel", () => {
    const out = render(<Markdown text={"**bold** _it_ `x<y` [site](https://example.com)"} />).container;
    expect(out.querySelector("strong")?.textContent).toBe("bold");
    expect(out.querySelector("em")?.textContent).toBe("it");
    expect(out.querySelector("code")?.textContent).toBe("x<y");
    const a = out.querySelector("a")!;
    expect(a.getAttribute("href")).toBe("https://example.com");
    expect(a.getAttribute("rel")).toBe("noopener noreferrer");
  });

  it("renders code blocks, lists and quotes", () => {
    const out = render(<Markdown text={"```\nconst a = 1;\n```\n- one\n- two\n\n1. first\n> quoted"} />).container;
    expect(out.querySelector("pre code")?.textContent).toBe("const a = 1;");
    expect(out.querySelectorAll("ul li")).toHaveLength(2);
    expect(out.querySelectorAll("ol li")).toHaveLength(1);
    expect(out.querySelector("blockquote")?.textContent).toBe("quoted");
  });

  it("shows raw HTML as text and refuses javascript: links", () => {
    const out = html('<img src=x onerror="alert(1)"> [x](javascript:alert(1))');
    expect(out).not.toContain("<img");
    expect(out).toContain("&lt;img");
    expect(out).not.toContain("href=\"javascript");
  });

  it("makes plain previews", () => {
    expect(plainText("**Hi** see [docs](https://x.y)")).toBe("Hi see docs");
  });
});
