// Validates Kubernetes objects against the API schemas of npm kubernetes-models (types,
// required fields, enums, formats) and reports fields the schema does not know (a misspelt
// key is otherwise silently dropped by the API server's non-strict decoding).
// Usage: node validate_k8s.mjs < objects.json   (a JSON array of objects)
// Prints a JSON array of problems ([] when every object is valid).
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(join(process.env.PLATFORM_NODE_MODULES || process.cwd(), "x.js"));
const schemas = join(dirname(require.resolve("kubernetes-models/package.json")), "_schemas");
const files = readdirSync(schemas).filter((f) => f.endsWith(".js"));

function schemaFile(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  const prefix = "IoK8sApi" + group.split(".")[0].replace(/^./, (c) => c.toUpperCase());
  const name = `${prefix}${version.replace(/^./, (c) => c.toUpperCase())}${kind}.js`;
  return files.includes(name) ? join(schemas, name) : null;
}

// Records which keys the compiled validator reads and which objects it enumerates (maps such
// as labels); a key of a non-enumerated object that was never read is unknown to the schema.
function watch(value, path, seen) {
  if (value === null || typeof value !== "object") return value;
  const node = { read: new Set(), enumerated: false };
  seen.set(path, node);
  const children = Array.isArray(value) ? value.map((v, i) => watch(v, `${path}/${i}`, seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, watch(v, `${path}/${k}`, seen)]));
  return new Proxy(children, {
    get(target, key) { if (typeof key === "string") node.read.add(key); return target[key]; },
    has(target, key) { if (typeof key === "string") node.read.add(key); return key in target; },
    ownKeys(target) { node.enumerated = true; return Reflect.ownKeys(target); },
  });
}

function unknownFields(value, path, seen, out) {
  if (value === null || typeof value !== "object") return;
  const node = seen.get(path);
  for (const [k, v] of Object.entries(value)) {
    const child = Array.isArray(value) ? `${path}/${k}` : `${path}/${k}`;
    if (!Array.isArray(value) && node && !node.enumerated && !node.read.has(k)) out.push(`${child}: unknown field`);
    else unknownFields(v, child, seen, out);
  }
}

const objects = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const obj of objects) {
  const where = `${obj.kind}/${obj.metadata?.name} (${obj.apiVersion})`;
  const file = schemaFile(obj.apiVersion || "", obj.kind || "");
  if (!file) { problems.push(`${where}: no schema for this apiVersion and kind`); continue; }
  const { validate } = await import(file);
  const seen = new Map();
  const ok = validate(watch(obj, "", seen));
  if (!ok) for (const e of validate.errors) problems.push(`${where}: ${e.instancePath || "/"} ${e.message || e.keyword} ${JSON.stringify(e.params)}`);
  const unknown = [];
  unknownFields(obj, "", seen, unknown);
  for (const u of unknown) problems.push(`${where}: ${u}`);
}
process.stdout.write(JSON.stringify(problems, null, 1) + "\n");
