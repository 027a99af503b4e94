import { test, describe } from "node:test";
import assert from "node:assert/strict";
import {
  parseContainerProgram,
  runProgram,
  type SimulatedProcessContext,
} from "../../../../src/emulators/kubernetes/simulatedCommand.js";

/** A context whose sleeps pass instantly but are recorded; `killAfterSleeps` simulates pod deletion. */
function fakeContext(kernel = "5.15.48.1-8.cm2", killAfterSleeps = Number.POSITIVE_INFINITY) {
  const lines: string[] = [];
  const sleeps: number[] = [];
  const ctx: SimulatedProcessContext = {
    kernel,
    hostname: "pod-abcde",
    writeLine: (line) => lines.push(line),
    sleep: async (seconds) => {
      if (seconds > 0) sleeps.push(seconds);
      if (sleeps.length > killAfterSleeps) throw new Error("killed");
    },
  };
  return { ctx, lines, sleeps };
}

async function run(command: string[] | undefined, args?: string[], kernel?: string) {
  const f = fakeContext(kernel);
  const code = await runProgram(parseContainerProgram(command, args, "busybox:1.36"), f.ctx);
  return { code, ...f };
}

describe("simulated container commands", () => {
  test("uname -r prints the context kernel", async () => {
    assert.deepEqual((await run(["uname", "-r"])).lines, ["5.15.48.1-8.cm2"]);
    assert.deepEqual((await run(["uname", "-r"], undefined, "5.15.80.mshv2-hvl1.m2")).lines, ["5.15.80.mshv2-hvl1.m2"]);
    assert.match((await run(["uname", "-a"])).lines[0] ?? "", /^Linux pod-abcde 5\.15\.48\.1-8\.cm2 /);
  });

  test("echo, sequences with ; and &&, exit codes", async () => {
    const r = await run(["sh", "-c", "echo hello world; echo 'a  b' && exit 3; echo never"]);
    assert.deepEqual(r.lines, ["hello world", "a  b"]);
    assert.equal(r.code, 3);
    const failed = await run(["sh", "-c", "false && echo no; echo yes"]);
    assert.deepEqual(failed.lines, ["yes"]);
    assert.equal(failed.code, 0);
    const or = await run(["sh", "-c", "false || echo fallback"]);
    assert.deepEqual(or.lines, ["fallback"]);
  });

  test("-e stops at the first failing command", async () => {
    const r = await run(["/bin/sh", "-ec", "echo one; false; echo two"]);
    assert.deepEqual(r.lines, ["one"]);
    assert.equal(r.code, 1);
    const without = await run(["/bin/sh", "-c", "echo one; false; echo two"]);
    assert.deepEqual(without.lines, ["one", "two"]);
  });

  test("sleep waits simulated seconds (with units); exit without sh", async () => {
    const r = await run(["sh", "-c", "sleep 5; sleep 2m; sleep 0.5"]);
    assert.deepEqual(r.sleeps, [5, 120, 0.5]);
    assert.equal((await run(["sh"], ["-c", "exit 42"])).code, 42);
  });

  test("the docs' dot loop prints a dot every 5 s until killed", async () => {
    const f = fakeContext("k", 4);
    const program = parseContainerProgram(["/bin/sh", "-ec", "while :; do echo '.'; sleep 5 ; done"], undefined, "img");
    await assert.rejects(runProgram(program, f.ctx), /killed/);
    assert.deepEqual(f.lines, [".", ".", ".", ".", "."]);
    assert.deepEqual(f.sleeps.slice(0, 4), [5, 5, 5, 5]);
  });

  test("unknown commands print one line naming them and exit 0; no command names the image", async () => {
    const r = await run(["python3", "train.py", "--epochs", "3"]);
    assert.equal(r.code, 0);
    assert.equal(r.lines.length, 1);
    assert.match(r.lines[0] ?? "", /^python3 train\.py --epochs 3: simulated/);
    const none = await run(undefined);
    assert.equal(none.lines.length, 1);
    assert.match(none.lines[0] ?? "", /busybox:1\.36/);
  });

  test("quoting, nested sh -c and hostname", async () => {
    const r = await run([
      "bash",
      "-c",
      `echo "double \\"quoted\\"" 'single;not split'; sh -c 'echo nested; exit 2'; hostname`,
    ]);
    // echo joins its two arguments; the quoted `;` does not split the sequence.
    assert.deepEqual(r.lines, ['double "quoted" single;not split', "nested", "pod-abcde"]);
    assert.equal(r.code, 0);
  });
});
