// Regenerates src/lib/api/schema.d.ts from the server's OpenAPI document (dumped by scripts/dump_openapi.py).
// tests/e2e/test_api_types.py fails when the committed file differs from what this writes.
import { execFileSync } from "node:child_process";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..", "..");
const python = process.env.PYTHON ?? join(root, ".venv", "bin", "python");
const doc = execFileSync(python, [join(root, "scripts", "dump_openapi.py")], { cwd: root, maxBuffer: 64 << 20 });
const dir = mkdtempSync(join(tmpdir(), "openapi-"));
const input = join(dir, "openapi.json");
writeFileSync(input, doc);
const out = resolve(import.meta.dirname, "..", process.argv[2] ?? "src/lib/api/schema.d.ts");
execFileSync(join(import.meta.dirname, "..", "node_modules", ".bin", "openapi-typescript"), [input, "-o", out], { stdio: "inherit" });
