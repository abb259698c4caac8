// A contract's custom error in words, for every page that follows an action.
import { t } from "./i18n";

/** A contract's custom error, `Name(key=value, …)` as the API reports it, in words; else as it came. */
export function failure(error: string | null): string {
  const match = /^(\w+)\((.*)\)$/s.exec((error ?? "").trim());
  if (!match) return error ?? "";
  const args: Record<string, string | number> = {};
  for (const part of match[2].split(",")) {
    const [k, v] = part.split("=").map((x) => x.trim());
    if (k && v !== undefined) args[k] = v;
  }
  if (args.min !== undefined) args.minMinutes = Math.ceil(Number(args.min) / 60);
  if (args.max !== undefined) args.maxMinutes = Math.floor(Number(args.max) / 60);
  return t(`failures.${match[1]}`, { ...args, defaultValue: error });
}
