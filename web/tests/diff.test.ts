import { describe, expect, it } from "vitest";

import { editScript, sideBySide, splitLines } from "../src/lib/diff";

/** Both sides of the rows, read back: they must be exactly the two texts. */
function sides(rows: ReturnType<typeof sideBySide>) {
  return {
    left: rows.filter((r) => r.left !== null).map((r) => r.left),
    right: rows.filter((r) => r.right !== null).map((r) => r.right),
  };
}

describe("line diff", () => {
  it("splits lines of any ending, without a phantom last line", () => {
    expect(splitLines("a\r\nb\nc\rd\n")).toEqual(["a", "b", "c", "d"]);
    expect(splitLines("")).toEqual([]);
  });

  it("finds nothing to change in equal texts", () => {
    const rows = sideBySide("a\nb\n", "a\nb\n");
    expect(rows.map((r) => r.kind)).toEqual(["same", "same"]);
    expect(rows[1]).toEqual({ kind: "same", leftNo: 2, left: "b", rightNo: 2, right: "b" });
  });

  it("shows an injected report line as added, with both sides' line numbers", () => {
    const before = "def handle(context):\n    order('600000.XSHG', 100)\n    log.info('done')\n";
    const after = "def handle(context):\n    order('600000.XSHG', 100)\n    _ql_report()  # quantlink\n    log.info('done')\n";
    const rows = sideBySide(before, after);
    expect(rows.map((r) => r.kind)).toEqual(["same", "same", "added", "same"]);
    expect(rows[2]).toEqual({ kind: "added", leftNo: null, left: null, rightNo: 3, right: "    _ql_report()  # quantlink" });
    expect(rows[3]).toMatchObject({ leftNo: 3, rightNo: 4 });
  });

  it("pairs a removed line with the line added in its place", () => {
    const rows = sideBySide("a\nold\nc", "a\nnew\nc");
    expect(rows[1]).toEqual({ kind: "changed", leftNo: 2, left: "old", rightNo: 2, right: "new" });
  });

  it("handles all-new and all-gone texts", () => {
    expect(sideBySide("", "x\ny").map((r) => r.kind)).toEqual(["added", "added"]);
    expect(sideBySide("x\ny", "").map((r) => r.kind)).toEqual(["removed", "removed"]);
  });

  it("is a minimal edit script whose sides rebuild both texts (random cases)", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 200; round++) {
      const a = Array.from({ length: Math.floor(random() * 30) }, () => "abcd"[Math.floor(random() * 4)]!);
      const b = Array.from({ length: Math.floor(random() * 30) }, () => "abcd"[Math.floor(random() * 4)]!);
      const rows = sideBySide(a.join("\n"), b.join("\n"));
      expect(sides(rows)).toEqual({ left: a, right: b });
      // Myers finds a shortest script: its length is |a| + |b| - 2·LCS.
      const edits = editScript(a, b).filter((op) => op.kind !== "same").length;
      expect(edits).toBe(a.length + b.length - 2 * lcs(a, b));
    }
  });

  it("handles a long strategy with many small insertions (O(D²) memory, not O(D·N))", () => {
    const before = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const after = before.flatMap((line, i) => (i % 50 === 0 ? [line, "    _ql_report()"] : [line]));
    const rows = sideBySide(before.join("\n"), after.join("\n"));
    expect(rows.filter((r) => r.kind === "added")).toHaveLength(400);
    expect(sides(rows)).toEqual({ left: before, right: after });
  });
});

function lcs(a: string[], b: string[]): number {
  const table = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      table[i]![j] = a[i - 1] === b[j - 1] ? table[i - 1]![j - 1]! + 1 : Math.max(table[i - 1]![j]!, table[i]![j - 1]!);
  return table[a.length]![b.length]!;
}
