/**
 * Parses a Kubernetes resource quantity (`500m`, `2`, `1.5`, `512Mi`, `2Gi`,
 * `1e3`, `128974848`) into a plain number in base units (cores for CPU, bytes
 * for memory). Returns `undefined` when the text is not a quantity.
 */
export function parseQuantity(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  const m = value.trim().match(/^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/);
  if (!m) return undefined;
  const number = Number(m[1]);
  const suffix = m[2];
  if (m[3] !== undefined) return number * 10 ** Number(m[3]);
  const factors: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
  };
  return suffix ? number * (factors[suffix] ?? 1) : number;
}
