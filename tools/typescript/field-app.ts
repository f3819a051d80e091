// A field app's use of the API, type-checked against types generated from the merged OpenAPI
// (tests/e2e/test_generated_client.py writes build/doorstep.d.ts with openapi-typescript).
import type { components, paths } from "./build/doorstep";

type CaseCreate = components["schemas"]["CaseCreate"];
type CaseCreated = paths["/api/v1/proxy/cases"]["post"]["responses"]["201"]["content"]["application/json"];
type CreateHeaders = NonNullable<paths["/api/v1/proxy/cases"]["post"]["parameters"]["header"]>;
type Problem = components["schemas"]["Problem"];
type ResidentPage = paths["/api/v1/proxy/residents"]["get"]["responses"]["200"]["content"]["application/json"];

export function windowCase(residentId: string, id: string): [CaseCreate, CreateHeaders] {
  return [
    { id, resident_id: residentId, item_code: "elderly-allowance", channel: "window" },
    { "Idempotency-Key": `phone-1-${id}` },
  ];
}

export function acceptedBy(created: CaseCreated): string {
  return created.accepted_by;
}

export function firstOfGrid(page: ResidentPage, grid: string): string | undefined {
  return page.items.find((r) => r.grid === grid)?.id;
}

export function explain(problem: Problem): string {
  return `${problem.code}: ${problem.title}`;
}
