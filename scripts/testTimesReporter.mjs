// A node:test reporter for `npm test -- --record-times`: the seconds each test file's top-level tests
// took, as JSON (file path relative to the repository → seconds), which scripts/run-tests.mjs deals
// files onto lanes by (test/fileSeconds.json). The events name the file a test is written in, also
// when several files share a process.
import { relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;

export default async function* testTimesReporter(source) {
  const seconds = {};
  for await (const event of source) {
    if ((event.type === "test:pass" || event.type === "test:fail") && event.data.nesting === 0 && event.data.file) {
      const file = relative(root, event.data.file);
      seconds[file] = (seconds[file] ?? 0) + (event.data.details?.duration_ms ?? 0) / 1000;
    }
  }
  const rounded = Object.fromEntries(
    Object.entries(seconds)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([file, s]) => [file, Math.round(s * 10) / 10]),
  );
  yield JSON.stringify(rounded, null, 2) + "\n";
}
