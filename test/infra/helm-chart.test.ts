// The chart through the real helm binary: lint and render it with the values deploy-helm derives from
// every environment file and with every chart-testing profile (ci/*-values.yaml), validate every
// manifest against the Kubernetes/KEDA/Prometheus Operator schemas, and reject bad values.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnvironments } from "@content-engine/environments";
import { describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { toolPath } from "../../scripts/tools.ts";
import { findOne, loadTerraformDir, modulesRoot } from "../support/hcl.ts";
import {
  byKind,
  chartDir,
  ciValues,
  environments,
  environmentsDir,
  environmentValues,
  helmTemplate,
  type Manifest,
  one,
  parseManifests,
  profiles,
  renderEnvironment,
  renderProfile,
  validateManifest,
  writeValuesFile,
} from "../support/helm.ts";
import { run } from "../support/run.ts";

/** One set of values the chart is rendered with: an environment file's (as deploy-helm derives them) or a profile's. */
interface Target {
  label: string;
  valuesFile: string;
  // biome-ignore lint/suspicious/noExplicitAny: chart values are arbitrary nested objects
  values: any;
  manifests: Manifest[];
}

/** Each environment file's release, rendered with the monitoring CRDs present. */
const rendered: Record<string, Manifest[]> = Object.fromEntries(
  environments.map((env) => [env, renderEnvironment(env)]),
);

const targets: Target[] = [
  ...environments.map((env) => ({
    label: `environments/${env}.yaml`,
    valuesFile: environmentValues(env),
    manifests: rendered[env]!,
  })),
  ...profiles.map((profile) => ({
    label: `ci/${profile}-values.yaml`,
    valuesFile: ciValues(profile),
    manifests: renderProfile(profile),
  })),
].map((target) => ({ ...target, values: parse(readFileSync(target.valuesFile, "utf8")) }));

/** The chart-testing profiles the variant tests below read, rendered with the monitoring CRDs present. */
const profile = Object.fromEntries(profiles.map((name) => [name, renderProfile(name)])) as Record<
  "minimal" | "autoscaling-bedrock" | "irsa",
  Manifest[]
>;

const valuesFile = (values: unknown) => writeValuesFile(values, "chart-values-");

/** Renders the minimal profile with an override merged on top (helm merges values files in order). */
function renderWith(override: unknown) {
  return helmTemplate({ valuesFiles: [ciValues("minimal"), valuesFile(override)] });
}

function container(manifest: Manifest) {
  return manifest.spec.template.spec.containers[0];
}

describe("what the chart is rendered with", () => {
  it("renders every environment file, and the chart-testing profiles the variant tests read", () => {
    expect(environments.length).toBeGreaterThan(0);
    expect(environments).toEqual(loadEnvironments(environmentsDir).names);
    expect(profiles).toEqual(expect.arrayContaining(["minimal", "autoscaling-bedrock", "irsa"]));
  });
});

describe("helm lint --strict", () => {
  it.each(targets)("passes with $label", ({ valuesFile }) => {
    const result = run(toolPath("helm"), ["lint", "--strict", chartDir, "--values", valuesFile]);
    expect(result.output).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(result.code).toBe(0);
  });

  it("fails on the chart defaults, which have no image digest, bucket or queue", () => {
    const result = run(toolPath("helm"), ["lint", "--strict", chartDir]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("digest");
  });
});

describe("rendered manifests", () => {
  it.each(targets)(
    "$label: every manifest validates against its Kubernetes or CRD schema",
    async ({ manifests }) => {
      expect(manifests.length).toBeGreaterThan(8);
      for (const manifest of manifests) await validateManifest(manifest);
    },
  );

  it("schema validation catches a wrongly typed field (the validator is live)", async () => {
    const deployment = structuredClone(one(profile.minimal, "Deployment", "-api"));
    deployment.spec.replicas = "two";
    await expect(validateManifest(deployment)).rejects.toThrow(/replicas must be integer/);
  });

  it.each(targets)(
    "$label: puts everything in the release namespace with standard labels",
    ({ manifests }) => {
      for (const manifest of manifests) {
        expect(manifest.metadata.namespace, `${manifest.kind} ${manifest.metadata.name}`).toBe(
          "content-engine",
        );
        expect(manifest.metadata.labels).toMatchObject({
          "app.kubernetes.io/name": "content-engine",
          "app.kubernetes.io/instance": "ce",
          "app.kubernetes.io/managed-by": "Helm",
        });
      }
    },
  );

  it.each(targets)(
    "$label: runs both containers by digest, as UID 10001, read-only, without capabilities",
    ({ manifests }) => {
      for (const deployment of byKind(manifests, "Deployment")) {
        const pod = deployment.spec.template.spec;
        expect(pod.securityContext).toMatchObject({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: "RuntimeDefault" },
        });
        const c = container(deployment);
        expect(c.image).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.resources.requests).toBeDefined();
        expect(c.resources.limits.memory).toBeDefined();
        expect(pod.volumes).toContainEqual(expect.objectContaining({ name: "tmp" }));
      }
    },
  );

  it("probes the API on /health (liveness) and /ready (readiness), the worker on its metrics port", () => {
    const api = container(one(profile.irsa, "Deployment", "-api"));
    expect(api.livenessProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(api.readinessProbe.httpGet).toEqual({ path: "/ready", port: "http" });
    expect(api.ports).toEqual([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
    const worker = container(one(profile.irsa, "Deployment", "-worker"));
    expect(worker.livenessProbe.httpGet).toEqual({ path: "/health", port: "metrics" });
    expect(worker.ports).toEqual([{ name: "metrics", containerPort: 9100, protocol: "TCP" }]);
    expect(worker.args).toEqual(["/app/consumer.mjs"]);
    expect(api.args).toEqual(["/app/main.mjs"]);
  });

  it("gives the service contract's environment to both containers, and the API keys from the Secret", () => {
    const manifests = profile["autoscaling-bedrock"];
    const config = one(manifests, "ConfigMap", "-config");
    expect(config.data).toMatchObject({
      AWS_REGION: "eu-west-1",
      CONTENT_ENGINE_BUCKET: "content-engine-autoscaling-222222222222",
      CONTENT_ENGINE_QUEUE_URL:
        "https://sqs.eu-west-1.amazonaws.com/222222222222/content-engine-autoscaling-jobs",
      CONTENT_ENGINE_PROCESSOR: "bedrock",
      CONTENT_ENGINE_BEDROCK_MODEL_ID: "anthropic.claude-3-haiku-20240307-v1:0",
      CONTENT_ENGINE_MAX_UPLOAD_BYTES: "26214400",
    });
    const api = container(one(manifests, "Deployment", "-api"));
    expect(api.env).toContainEqual({
      name: "CONTENT_ENGINE_API_KEYS",
      valueFrom: { secretKeyRef: { name: "content-engine-api-keys", key: "CONTENT_ENGINE_API_KEYS" } },
    });
    const worker = container(one(manifests, "Deployment", "-worker"));
    expect(worker.env).toContainEqual({ name: "WORKER_METRICS_PORT", value: "9100" });
    for (const c of [api, worker])
      expect(c.envFrom).toEqual([{ configMapRef: { name: config.metadata.name } }]);
  });

  it("uses the separate worker image when one is given, else the API image", () => {
    expect(container(one(profile.irsa, "Deployment", "-worker")).image).toBe(
      `333333333333.dkr.ecr.eu-west-1.amazonaws.com/content-engine-irsa-worker@sha256:${"4".repeat(64)}`,
    );
    expect(container(one(profile.minimal, "Deployment", "-worker")).image).toBe(
      container(one(profile.minimal, "Deployment", "-api")).image,
    );
  });
});

describe("each environment file, as deploy-helm installs it", () => {
  const set = loadEnvironments(environmentsDir);

  it.each(environments)(
    "environments/%s.yaml: runs the file's digest against its bucket and queues, labelled with its name",
    (name) => {
      const env = set.get(name);
      const manifests = rendered[name]!;
      for (const deployment of byKind(manifests, "Deployment"))
        expect(container(deployment).image).toBe(`${env.image.repository}@${env.image.digest}`);
      expect(one(manifests, "ConfigMap", "-config").data).toMatchObject({
        AWS_REGION: env.region,
        CONTENT_ENGINE_BUCKET: env.bucket,
        CONTENT_ENGINE_QUEUE_URL: env.queue.url,
      });
      for (const monitor of byKind(manifests, "ServiceMonitor"))
        expect(monitor.spec.endpoints[0].relabelings).toContainEqual({
          action: "replace",
          targetLabel: "env",
          replacement: name,
        });
      const scaled = byKind(manifests, "ScaledObject");
      expect(scaled).toHaveLength(env.worker.keda ? 1 : 0);
      if (env.worker.keda)
        expect(scaled[0]!.spec).toMatchObject({
          minReplicaCount: env.worker.keda.minReplicas,
          maxReplicaCount: env.worker.keda.maxReplicas,
        });
    },
  );

  it.each(environments)(
    "environments/%s.yaml: the PrometheusRule carries the generated alarm rules, valid for promtool",
    (name) => {
      const rule = one(rendered[name]!, "PrometheusRule", "ce-content-engine");
      const alerts = rule.spec.groups.flatMap((g: { rules: { alert?: string }[] }) =>
        g.rules.map((r) => r.alert),
      );
      expect(alerts).toContain("ContentEngineApiDown");
      expect(alerts.length).toBeGreaterThan(2);
      const file = join(mkdtempSync(join(tmpdir(), "rules-")), "rules.yaml");
      writeFileSync(file, stringify({ groups: rule.spec.groups }));
      const result = run(toolPath("promtool"), ["check", "rules", file]);
      expect(result.output).toContain("SUCCESS");
      expect(result.code).toBe(0);
    },
  );
});

describe("scaling", () => {
  it("scales the worker with a KEDA aws-sqs-queue trigger authenticated through pod identity", () => {
    const manifests = profile.irsa;
    const scaled = one(manifests, "ScaledObject", "-worker");
    expect(scaled.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: one(manifests, "Deployment", "-worker").metadata.name,
    });
    expect(scaled.spec).toMatchObject({
      minReplicaCount: 2,
      maxReplicaCount: 50,
      pollingInterval: 10,
      cooldownPeriod: 300,
    });
    const [trigger] = scaled.spec.triggers;
    expect(trigger.type).toBe("aws-sqs-queue");
    expect(trigger.metadata).toMatchObject({
      queueURL: "https://sqs.eu-west-1.amazonaws.com/333333333333/content-engine-irsa-jobs",
      queueLength: "5",
      awsRegion: "eu-west-1",
    });
    const auth = one(manifests, "TriggerAuthentication", "-worker-sqs");
    expect(trigger.authenticationRef).toEqual({ name: auth.metadata.name });
    expect(auth.spec).toEqual({ podIdentity: { provider: "aws" } });
  });

  it.each(targets)(
    "$label: never puts an HPA on the worker, and lets KEDA own its replica count",
    ({ manifests }) => {
      const worker = one(manifests, "Deployment", "-worker");
      for (const hpa of byKind(manifests, "HorizontalPodAutoscaler")) {
        expect(hpa.spec.scaleTargetRef.name).not.toBe(worker.metadata.name);
      }
      expect(worker.spec.replicas).toBeUndefined();
    },
  );

  it("scales the API with an HPA on CPU when autoscaling is on, and fixes replicas when it is off", () => {
    const hpa = one(profile.irsa, "HorizontalPodAutoscaler", "-api");
    expect(hpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 12 });
    expect(hpa.spec.metrics[0].resource).toEqual({
      name: "cpu",
      target: { type: "Utilization", averageUtilization: 60 },
    });
    expect(one(profile.irsa, "Deployment", "-api").spec.replicas).toBeUndefined();
    expect(byKind(profile.minimal, "HorizontalPodAutoscaler")).toEqual([]);
    expect(one(profile.minimal, "Deployment", "-api").spec.replicas).toBe(1);
  });

  it("renders a fixed-size worker Deployment and no KEDA objects when KEDA is off", () => {
    const result = renderWith({ worker: { replicaCount: 2, keda: { enabled: false } } });
    expect(result.code, result.output).toBe(0);
    const manifests = parseManifests(result.stdout);
    expect(byKind(manifests, "ScaledObject")).toEqual([]);
    expect(byKind(manifests, "TriggerAuthentication")).toEqual([]);
    expect(one(manifests, "Deployment", "-worker").spec.replicas).toBe(2);
  });

  it("spreads pods across zones strictly when asked, and keeps a disruption budget for both workloads", () => {
    const api = one(profile.irsa, "Deployment", "-api").spec.template.spec;
    expect(api.topologySpreadConstraints[0]).toMatchObject({
      topologyKey: "topology.kubernetes.io/zone",
      whenUnsatisfiable: "DoNotSchedule",
      maxSkew: 1,
    });
    const budgets = byKind(profile.irsa, "PodDisruptionBudget").map((p) => p.metadata.name);
    expect(budgets.sort()).toEqual(["ce-content-engine-api", "ce-content-engine-worker"]);
    expect(byKind(profile.minimal, "PodDisruptionBudget")).toEqual([]);
  });
});

describe("identity and monitoring", () => {
  it("lets pods reach only DNS, HTTPS and the Pod Identity agent, and admits only their own port", () => {
    const policy = one(profile.irsa, "NetworkPolicy", "-worker");
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.ingress).toEqual([{ ports: [{ protocol: "TCP", port: 9100 }] }]);
    const egressPorts = policy.spec.egress.flatMap((rule: { ports: Array<{ port: number }> }) =>
      rule.ports.map((p) => p.port),
    );
    expect(egressPorts.sort()).toEqual([443, 53, 53, 80]);
    expect(policy.spec.egress).toContainEqual({
      to: [{ ipBlock: { cidr: "169.254.170.23/32" } }],
      ports: [{ protocol: "TCP", port: 80 }],
    });
  });

  it("annotates service accounts with their IRSA role only when a role ARN is given", () => {
    const irsaApi = one(profile.irsa, "ServiceAccount", "-api");
    expect(irsaApi.metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::333333333333:role/content-engine-irsa-api-pod",
    });
    expect(
      one(profile["autoscaling-bedrock"], "ServiceAccount", "-api").metadata.annotations,
    ).toBeUndefined();
    expect(one(profile.irsa, "Deployment", "-worker").spec.template.spec.serviceAccountName).toBe(
      one(profile.irsa, "ServiceAccount", "-worker").metadata.name,
    );
  });

  it("names the service accounts of release content-engine as the EKS Pod Identity associations expect", async () => {
    const eks = await loadTerraformDir(join(modulesRoot, "eks"));
    const type = String(findOne(eks, "variable", "", "service_accounts").body.type);
    const expected = Object.fromEntries(
      [...type.matchAll(/(api|worker)\s*=\s*optional\(string,\s*"([^"]+)"\)/g)].map((m) => [m[1], m[2]]),
    );
    expect(Object.keys(expected).sort()).toEqual(["api", "worker"]);
    const result = helmTemplate({ release: "content-engine", valuesFiles: [ciValues("irsa")] });
    expect(result.code, result.output).toBe(0);
    const manifests = parseManifests(result.stdout);
    expect(one(manifests, "ServiceAccount", "-api").metadata.name).toBe(expected.api);
    expect(one(manifests, "ServiceAccount", "-worker").metadata.name).toBe(expected.worker);
  });

  it("renders ServiceMonitors and the PrometheusRule only when the cluster serves their CRDs", () => {
    const withCrds = profile.irsa;
    const relabel = (service: string) => [
      { action: "replace", targetLabel: "env", replacement: "irsa" },
      { action: "replace", targetLabel: "service", replacement: service },
    ];
    expect(byKind(withCrds, "ServiceMonitor").map((m) => m.spec.endpoints[0])).toEqual([
      { port: "http", path: "/metrics", interval: "30s", relabelings: relabel("api") },
      { port: "metrics", path: "/metrics", interval: "30s", relabelings: relabel("worker") },
    ]);
    expect(byKind(withCrds, "PrometheusRule")).toHaveLength(1);
    const withoutCrds = renderProfile("irsa", []);
    expect(byKind(withoutCrds, "ServiceMonitor")).toEqual([]);
    expect(byKind(withoutCrds, "PrometheusRule")).toEqual([]);
  });

  it("the PrometheusRule's expressions are valid PromQL rules for promtool", () => {
    const rule = one(profile.irsa, "PrometheusRule", "ce-content-engine");
    const file = join(mkdtempSync(join(tmpdir(), "rules-")), "rules.yaml");
    writeFileSync(file, stringify({ groups: rule.spec.groups }));
    const result = run(toolPath("promtool"), ["check", "rules", file]);
    expect(result.output).toContain("SUCCESS: 2 rules found");
    expect(result.code).toBe(0);
  });
});

/** The value of one environment variable of a container, or its valueFrom; undefined when absent. */
function envVar(c: { env: { name: string; value?: string; valueFrom?: unknown }[] }, name: string) {
  const entry = c.env.find((e) => e.name === name);
  return entry && (entry.value ?? entry.valueFrom);
}

describe("runtime settings of the processor, the dead-letter handler and AWS calls", () => {
  it.each(targets)(
    "$label: the worker's thread pool follows its CPU limit, not the node's cores",
    ({ manifests, values }) => {
      const worker = container(one(manifests, "Deployment", "-worker"));
      // The kubelet resolves this to ceil(limit / 1 core): 1 for "1", 2 for the irsa profile's 1500m.
      expect(envVar(worker, "CONTENT_ENGINE_PROCESSOR_THREADS")).toEqual({
        resourceFieldRef: { containerName: "worker", resource: "limits.cpu", divisor: "1" },
      });
      // The values' limit, else the chart's default of one core.
      expect(worker.resources.limits.cpu).toBe(values.worker?.resources?.limits?.cpu ?? "1");
      const api = container(one(manifests, "Deployment", "-api"));
      expect(envVar(api, "CONTENT_ENGINE_PROCESSOR_THREADS")).toBeUndefined();
    },
  );

  it("gives the irsa profile's worker its fractional CPU limit and shorter processing budget", () => {
    const worker = container(one(profile.irsa, "Deployment", "-worker"));
    expect(worker.resources.limits.cpu).toBe("1500m");
    expect(envVar(worker, "CONTENT_ENGINE_PROCESSING_BUDGET_MS")).toBe("15000");
  });

  it.each(targets)(
    "$label: gives the worker the processing budget, the threads' heap limit and the DLQ, and the API none of them",
    ({ manifests, values }) => {
      const worker = container(one(manifests, "Deployment", "-worker"));
      expect(envVar(worker, "CONTENT_ENGINE_PROCESSING_BUDGET_MS")).toBe(
        String(values.worker?.processingBudgetMs ?? 20000),
      );
      expect(envVar(worker, "CONTENT_ENGINE_PROCESSING_HEAP_MB")).toBe("320");
      expect(envVar(worker, "CONTENT_ENGINE_DLQ_URL")).toBe(values.config.dlqUrl);
      expect(values.config.dlqUrl).toMatch(/^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com\/\d{12}\/.+/);
      const api = container(one(manifests, "Deployment", "-api"));
      expect(envVar(api, "CONTENT_ENGINE_DLQ_URL")).toBeUndefined();
      expect(envVar(api, "CONTENT_ENGINE_PROCESSING_HEAP_MB")).toBeUndefined();
      expect(one(manifests, "ConfigMap", "-config").data).not.toHaveProperty("CONTENT_ENGINE_DLQ_URL");
    },
  );

  it("leaves the optional settings to the services' defaults until they are set, then passes them", () => {
    const defaults = profile.minimal;
    const worker = container(one(defaults, "Deployment", "-worker"));
    const api = container(one(defaults, "Deployment", "-api"));
    const config = one(defaults, "ConfigMap", "-config").data;
    expect(envVar(worker, "CONTENT_ENGINE_REDRIVE_AFTER_SECONDS")).toBeUndefined();
    expect(envVar(api, "CONTENT_ENGINE_IDEMPOTENCY_TTL_SECONDS")).toBeUndefined();
    for (const key of ["CONNECT_TIMEOUT_MS", "REQUEST_TIMEOUT_MS", "MAX_ATTEMPTS"])
      expect(config).not.toHaveProperty(`CONTENT_ENGINE_AWS_${key}`);
    // No key prefix: the keys start at the bucket's root (the service's default).
    expect(config).not.toHaveProperty("CONTENT_ENGINE_KEY_PREFIX");

    const result = renderWith({
      config: {
        dlqUrl: "",
        keyPrefix: "previews/pr-12/",
        aws: { connectTimeoutMs: 1500, requestTimeoutMs: 8000, maxAttempts: 5 },
      },
      api: { idempotencyTtlSeconds: 3600 },
      worker: { processorThreads: 3, redriveAfterSeconds: 600, resources: { limits: { cpu: null } } },
    });
    expect(result.code, result.output).toBe(0);
    const manifests = parseManifests(result.stdout);
    const tuned = container(one(manifests, "Deployment", "-worker"));
    expect(envVar(tuned, "CONTENT_ENGINE_PROCESSOR_THREADS")).toBe("3");
    expect(envVar(tuned, "CONTENT_ENGINE_REDRIVE_AFTER_SECONDS")).toBe("600");
    expect(envVar(tuned, "CONTENT_ENGINE_DLQ_URL")).toBeUndefined();
    expect(
      envVar(container(one(manifests, "Deployment", "-api")), "CONTENT_ENGINE_IDEMPOTENCY_TTL_SECONDS"),
    ).toBe("3600");
    expect(one(manifests, "ConfigMap", "-config").data).toMatchObject({
      CONTENT_ENGINE_AWS_CONNECT_TIMEOUT_MS: "1500",
      CONTENT_ENGINE_AWS_REQUEST_TIMEOUT_MS: "8000",
      CONTENT_ENGINE_AWS_MAX_ATTEMPTS: "5",
      // One ConfigMap for both containers: the API and the worker share the preview's prefix.
      CONTENT_ENGINE_KEY_PREFIX: "previews/pr-12/",
    });
  });
});

describe("the values contract deploy-helm relies on", () => {
  it("accepts every agreed key, all at once", () => {
    const result = renderWith({
      image: {
        repository: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/content-engine",
        digest: `sha256:${"b".repeat(64)}`,
        tag: "main-abc",
      },
      api: {
        replicaCount: 2,
        resources: { requests: { cpu: "256m", memory: "512Mi" }, limits: { memory: "512Mi" } },
        autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4, targetCPUUtilizationPercentage: 70 },
      },
      worker: {
        keda: {
          enabled: true,
          queueLength: 5,
          minReplicaCount: 0,
          maxReplicaCount: 10,
          pollingInterval: 15,
          cooldownPeriod: 60,
        },
        resources: { requests: { cpu: "250m", memory: "384Mi" } },
      },
      config: {
        region: "eu-west-1",
        bucket: "content-engine-dev-123456789012",
        queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/content-engine-dev-jobs",
        dlqUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/content-engine-dev-jobs-dlq",
        processor: "bedrock",
        bedrockModelId: "anthropic.claude-3-haiku-20240307-v1:0",
        maxUploadBytes: 1048576,
      },
      apiKeys: { existingSecret: "content-engine-api-keys" },
      serviceAccounts: {
        api: { create: true, name: "content-engine-api", annotations: {}, roleArn: "" },
        worker: { create: true, name: "content-engine-worker", annotations: {}, roleArn: "" },
      },
      monitoring: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: false } },
      podDisruptionBudget: { enabled: true },
      topologySpread: { enabled: true },
    });
    expect(result.code, result.output).toBe(0);
    const manifests = parseManifests(result.stdout);
    expect(one(manifests, "ScaledObject", "-worker").spec.minReplicaCount).toBe(0);
    expect(one(manifests, "ServiceAccount", "-api").metadata.name).toBe("content-engine-api");
  });
});

describe("values.schema.json rejects bad values", () => {
  it("rejects a missing image digest", () => {
    const result = helmTemplate({
      valuesFiles: [
        valuesFile({
          image: { repository: "example.com/ce" },
          config: { bucket: "b-bucket", queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/q" },
        }),
      ],
    });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("values don't meet the specifications of the schema");
    // values.yaml documents the key with an empty default, which the digest pattern refuses.
    expect(result.output).toContain("at '/image/digest': '' does not match pattern '^sha256:[0-9a-f]{64}$'");
  });

  it("rejects an image tag where a digest belongs", () => {
    const result = renderWith({ image: { digest: "latest" } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(
      "at '/image/digest': 'latest' does not match pattern '^sha256:[0-9a-f]{64}$'",
    );
  });

  it("rejects negative replicas", () => {
    const result = renderWith({ api: { replicaCount: -1 } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("at '/api/replicaCount': minimum: got -1, want 0");
  });

  it("rejects an unknown key, such as a typo of a real one", () => {
    const result = renderWith({ api: { replicas: 3 } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("at '/api': additional properties 'replicas' not allowed");
  });

  it("rejects an unknown processor and a KEDA minimum above its maximum", () => {
    const processor = renderWith({ config: { processor: "gpt" } });
    expect(processor.code).not.toBe(0);
    expect(processor.output).toContain("at '/config/processor': value must be one of 'local', 'bedrock'");
    const keda = renderWith({ worker: { keda: { minReplicaCount: 5, maxReplicaCount: 2 } } });
    expect(keda.code).not.toBe(0);
    expect(keda.output).toContain("worker.keda.minReplicaCount must not exceed worker.keda.maxReplicaCount");
  });

  it.each([
    ["../other/", "a path that climbs out"],
    ["previews/pr-12", "a prefix without its closing /"],
    ["Previews/", "upper case"],
  ])("rejects the key prefix %j (%s)", (keyPrefix) => {
    const result = renderWith({ config: { keyPrefix } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain(`at '/config/keyPrefix': '${keyPrefix}' does not match pattern`);
  });

  it("rejects the bedrock processor without a model id", () => {
    const result = renderWith({ config: { processor: "bedrock", bedrockModelId: "" } });
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("config.bedrockModelId is required when config.processor is bedrock");
  });

  it("rejects a processing budget, thread count or attempt count out of range, and a DLQ that is no queue URL", () => {
    const budget = renderWith({ worker: { processingBudgetMs: -1 } });
    expect(budget.code).not.toBe(0);
    expect(budget.output).toContain("at '/worker/processingBudgetMs': minimum: got -1, want 1");
    const heap = renderWith({ worker: { processingHeapMb: 8 } });
    expect(heap.code).not.toBe(0);
    expect(heap.output).toContain("at '/worker/processingHeapMb': minimum: got 8, want 16");
    // 0 would mean "one per core" to the service: the very thing the chart exists to prevent.
    const threads = renderWith({ worker: { processorThreads: 0 } });
    expect(threads.code).not.toBe(0);
    expect(threads.output).toContain("at '/worker/processorThreads': minimum: got 0, want 1");
    const attempts = renderWith({ config: { aws: { maxAttempts: 11 } } });
    expect(attempts.code).not.toBe(0);
    expect(attempts.output).toContain("at '/config/aws/maxAttempts': maximum: got 11, want 10");
    const dlq = renderWith({ config: { dlqUrl: "content-engine-dev-jobs-dlq" } });
    expect(dlq.code).not.toBe(0);
    expect(dlq.output).toContain("at '/config/dlqUrl'");
  });

  it("refuses to derive the thread count from a CPU limit that is missing or zero", () => {
    for (const cpu of [null, "0", "0m"]) {
      const result = renderWith({ worker: { resources: { limits: { cpu } } } });
      expect(result.code, String(cpu)).not.toBe(0);
      expect(result.output).toContain(
        "worker.resources.limits.cpu (above 0) is required when worker.processorThreads is unset",
      );
    }
  });
});
