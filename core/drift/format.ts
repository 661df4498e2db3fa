/** Numbers as a data steward reads them in a reason: three significant digits, shares in percent. */
export const num = (x: number): string => Number(x.toPrecision(3)).toString();

export const pct = (x: number): string => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 1 : 0)}%`;

