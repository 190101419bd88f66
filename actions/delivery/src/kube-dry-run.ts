// Server-side dry-run: every object a plan would apply goes through the API server's own defaulting,
// schema validation (CRDs included) and admission, and nothing is stored. The objects' REST
// collections come from discovery, so CRDs need no code here.
import { parseAllDocuments } from "yaml";
import { DeliveryError } from "./errors.ts";
import { getJson, type KubeAccess, KubeApiError, kubeRequest } from "./kube.ts";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Resolves kinds to their REST collection through discovery (one GET per group version). */
export function resourceResolver(access: KubeAccess) {
  const groups = new Map<string, Promise<ApiResource[]>>();
  return async (object: KubeObject, namespace: string): Promise<string> => {
    const base = object.apiVersion.includes("/") ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
    if (!groups.has(base))
      groups.set(
        base,
        getJson<{ resources: ApiResource[] }>(access, base).then((list) =>
          list.resources.filter((r) => !r.name.includes("/")),
        ),
      );
    const resources = await groups.get(base)!.catch((error: unknown) => {
      if (error instanceof KubeApiError && error.status === 404)
        throw new KubeApiError(
          "GET",
          base,
          404,
          `the server does not serve ${object.apiVersion} (CRD not installed?)`,
        );
      throw error;
    });
    const resource = resources.find((r) => r.kind === object.kind);
    if (!resource)
      throw new KubeApiError(
        "GET",
        base,
        404,
        `the server has no kind ${object.kind} in ${object.apiVersion}`,
      );
    const ns = resource.namespaced
      ? `/namespaces/${encodeURIComponent(object.metadata.namespace ?? namespace)}`
      : "";
    return `${base}${ns}/${resource.name}`;
  };
}

/**
 * Server-side apply with dryRun=All and strict field validation: the API server runs defaulting,
 * schema validation (CRDs included) and every admission plugin, and stores nothing.
 * Returns one line per object the server refused.
 */
export async function dryRunApply(
  access: KubeAccess,
  objects: readonly KubeObject[],
  namespace: string,
  fieldManager = "content-engine",
): Promise<string[]> {
  const collection = resourceResolver(access);
  const refused: string[] = [];
  for (const object of objects) {
    try {
      const path = `${await collection(object, namespace)}/${encodeURIComponent(object.metadata.name)}`;
      const query = `?dryRun=All&fieldManager=${encodeURIComponent(fieldManager)}&force=true&fieldValidation=Strict`;
      await kubeRequest(access, "PATCH", `${path}${query}`, {
        body: object,
        contentType: "application/apply-patch+yaml",
      });
    } catch (error) {
      const reason = error instanceof KubeApiError ? error.reason : (error as Error).message;
      refused.push(`${object.kind} ${object.metadata.name}: ${reason}`);
    }
  }
  return refused;
}

/**
 * Server-side admission of every object of a rendered manifest; a refused object fails the plan.
 * Returns the plan's line about it (also when the namespace does not exist yet, so nothing can be sent).
 *
 * @example
 * await admitOnServer(access, helmRenderedManifest, "content-engine");
 * // "server-side dry-run: the API server accepted all 14 objects (ConfigMap, Deployment, …)"
 */
export async function admitOnServer(
  access: KubeAccess,
  manifest: string,
  namespace: string,
): Promise<string> {
  const objects = parseAllDocuments(manifest)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((doc): doc is KubeObject => Boolean(doc?.kind));
  try {
    await getJson(access, `/api/v1/namespaces/${encodeURIComponent(namespace)}`);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404)
      return `server-side dry-run skipped: namespace ${namespace} does not exist yet (the first install creates it)`;
    throw error;
  }
  const refused = await dryRunApply(access, objects, namespace);
  if (refused.length)
    throw new DeliveryError(
      `the API server refused ${refused.length} of ${objects.length} objects (server-side dry-run):\n${refused.map((line) => `- ${line}`).join("\n")}`,
    );
  const kinds = [...new Set(objects.map((o) => o.kind))].sort().join(", ");
  return `server-side dry-run: the API server accepted all ${objects.length} objects (${kinds})`;
}
