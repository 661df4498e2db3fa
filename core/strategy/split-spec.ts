/** One stage of a spec as written: `name[:arg…]`, with the text it came from. */
export interface StageToken {
  readonly text: string;
  readonly name: string;
  readonly args: readonly string[];
}

/** A piece that starts like a number continues the previous stage's argument: `fedavg:1,5` is a decimal comma, not a stage named "5". */
const continuesNumber = /^[0-9.+-]/;

/** Splits `clip:2,trimmed-mean:0.2,fedadam` into its stages; stage order and meaning are `createStrategy`'s. */
export function splitSpec(spec: string): StageToken[] {
  const pieces: string[] = [];
  for (const piece of spec.trim().split(",")) {
    if (pieces.length > 0 && continuesNumber.test(piece.trimStart())) pieces[pieces.length - 1] += `,${piece}`;
    else pieces.push(piece.trim());
  }
  return pieces.map((text) => {
    const [name = "", ...args] = text.split(":");
    return { text, name, args };
  });
}
