// A line diff of two texts (longest common subsequence, after the common start and end are set
// aside), as rows of [kind, old line number, new line number, text]; kind is " ", "-" or "+".

/** Texts so long that the table would be too big are shown as all removed, then all added. */
const MAX_CELLS = 4_000_000;

export function diffLines(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const rows = [];
  for (let i = 0; i < start; i++) rows.push([" ", i + 1, i + 1, a[i]]);
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  for (const [kind, i, j] of middle(midA, midB)) {
    rows.push([kind, i === null ? null : start + i + 1, j === null ? null : start + j + 1, kind === "+" ? midB[j] : midA[i]]);
  }
  for (let i = endA, j = endB; i < a.length; i++, j++) rows.push([" ", i + 1, j + 1, a[i]]);
  return rows;
}

function middle(a, b) {
  const n = a.length;
  const m = b.length;
  if (n * m > MAX_CELLS) {
    return [...a.map((_, i) => ["-", i, null]), ...b.map((_, j) => ["+", null, j])];
  }
  // lengths[i][j]: the LCS of a[i:] and b[j:], in one flat array.
  const width = m + 1;
  const lengths = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * width + j] =
        a[i] === b[j] ? lengths[(i + 1) * width + j + 1] + 1 : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push([" ", i++, j++]);
    } else if (lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) out.push(["-", i++, null]);
    else out.push(["+", null, j++]);
  }
  while (i < n) out.push(["-", i++, null]);
  while (j < m) out.push(["+", null, j++]);
  return out;
}
