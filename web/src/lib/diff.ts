// A line diff (Myers' O(ND) algorithm) laid out side by side: injection adds lines and rarely
// changes one, so D stays small and the diff is fast even for long strategies.

export type RowKind = "same" | "added" | "removed" | "changed";

export interface DiffRow {
  kind: RowKind;
  /** 1-based line numbers; null where that side has no line. */
  leftNo: number | null;
  left: string | null;
  rightNo: number | null;
  right: string | null;
}

type Op = { kind: "same" | "added" | "removed"; a: number; b: number };

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The edit script turning `a` into `b`, as a list of same / removed / added operations. */
export function editScript(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  // trace[d]: the frontier before step d, only the diagonals -d-1..d+1 that step d reads
  // (O(D²) memory instead of O(D·(N+M))).
  const trace: Int32Array[] = [];
  let done = false;
  for (let d = 0; d <= max && !done; d++) {
    trace.push(v.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!)) x = v[offset + k + 1]!;
      else x = v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        done = true;
        break;
      }
    }
  }
  // Walk back through the saved frontiers.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const frontier = trace[d]!;
    const at = (diagonal: number) => frontier[diagonal + d + 1]!;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && at(k - 1) < at(k + 1))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: "same", a: x, b: y });
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: "added", a: x, b: prevY });
      else ops.push({ kind: "removed", a: prevX, b: y });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/** Side-by-side rows: a run of removals next to a run of additions pairs up as changed lines. */
export function sideBySide(before: string, after: string): DiffRow[] {
  const a = splitLines(before);
  const b = splitLines(after);
  const rows: DiffRow[] = [];
  const ops = editScript(a, b);
  let i = 0;
  while (i < ops.length) {
    const op = ops[i]!;
    if (op.kind === "same") {
      rows.push({ kind: "same", leftNo: op.a + 1, left: a[op.a]!, rightNo: op.b + 1, right: b[op.b]! });
      i++;
      continue;
    }
    const removed: Op[] = [];
    const added: Op[] = [];
    while (i < ops.length && ops[i]!.kind !== "same") {
      (ops[i]!.kind === "removed" ? removed : added).push(ops[i]!);
      i++;
    }
    for (let j = 0; j < Math.max(removed.length, added.length); j++) {
      const r = removed[j];
      const s = added[j];
      rows.push({
        kind: r && s ? "changed" : r ? "removed" : "added",
        leftNo: r ? r.a + 1 : null,
        left: r ? a[r.a]! : null,
        rightNo: s ? s.b + 1 : null,
        right: s ? b[s.b]! : null,
      });
    }
  }
  return rows;
}
