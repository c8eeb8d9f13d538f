export function compressRuns(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    let j = i;
    while (j < text.length && text[j] === text[i]) j++;
    const run = j - i;
    out += run > 1 ? `${text[i]}${run}` : text[i];
    i = j;
  }
  return out;
}

export function expandRuns(encoded: string): string {
  let out = "";
  for (const match of encoded.matchAll(/(\D)(\d*)/g)) {
    const count = match[2] === "" ? 1 : Number(match[2]);
    out += match[1].repeat(count);
  }
  return out;
}
