// Must NOT type-check: proves the generated types are real (a number where the API takes a string).
import type { components } from "./build/doorstep";

export const wrong: components["schemas"]["CaseCreate"] = {
  id: "x",
  resident_id: "y",
  item_code: 42,
  channel: "window",
};
