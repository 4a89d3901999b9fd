// Reading a shardlyn/v1 document into records, checking the same rules as
// proto-schemas/workload.schema.json (tests/integration/test_workload_schema.py keeps the two in
// step), then the semantic checks a schema cannot express.
#include <regex>

#include "walker.hpp"
#include "workload/spec.hpp"

namespace workload {

namespace json = boost::json;

namespace {

bool matches(const std::string& text, const char* pattern) { return std::regex_match(text, std::regex(pattern)); }

const char* kEnvName = "[A-Za-z_][A-Za-z0-9_]*";
const char* kPortName = "[A-Za-z0-9][A-Za-z0-9_-]{0,31}";

void read_metadata(Walker& w, const json::value& v, Metadata& out) {
  const std::string path = "metadata";
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"name", "labels", "annotations"});
  if (auto* name = w.required(*obj, path, "name")) {
    if (auto s = w.string(*name, "metadata.name")) {
      if (s->empty() || s->size() > 128 || !matches(*s, "[^\\x00-\\x1f\\x7f]+"))
        w.fail("metadata.name", "must be 1 to 128 printable characters");
      out.name = *s;
    }
  }
  if (auto* labels = obj->if_contains("labels"))
    for (auto& [k, val] : w.string_map(*labels, "metadata.labels")) out.labels[k] = val;
  if (auto* annotations = obj->if_contains("annotations"))
    for (auto& [k, val] : w.string_map(*annotations, "metadata.annotations")) out.annotations[k] = val;
}

void read_ports(Walker& w, const json::value& v, std::vector<Port>& out) {
  auto* arr = w.array(v, "spec.ports");
  if (!arr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const std::string path = index_path("spec.ports", i);
    auto* obj = w.object((*arr)[i], path);
    if (!obj) continue;
    w.only(*obj, path, {"name", "containerPort", "protocol"});
    Port port;
    if (auto* name = w.required(*obj, path, "name")) {
      if (auto s = w.string(*name, path + ".name")) {
        if (!matches(*s, kPortName)) w.fail(path + ".name", "must be 1 to 32 letters, digits, '-' or '_'");
        port.name = *s;
      }
    }
    if (auto* p = w.required(*obj, path, "containerPort"))
      if (auto n = w.integer(*p, path + ".containerPort", 1, 65535)) port.container_port = static_cast<int>(*n);
    if (auto* proto = obj->if_contains("protocol")) {
      auto s = w.string(*proto, path + ".protocol");
      if (s && *s != "tcp" && *s != "udp") w.fail(path + ".protocol", "must be tcp or udp");
      if (s && *s == "udp") port.protocol = Protocol::Udp;
    }
    out.push_back(port);
  }
}

void read_amounts(Walker& w, const json::value& v, const std::string& path, Amounts& out) {
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"cpu", "memory", "disk"});
  if (auto* cpu = obj->if_contains("cpu")) {
    std::optional<std::int64_t> m;
    if (cpu->is_number())
      m = parse_millicores(std::to_string(cpu->to_number<double>()));
    else if (auto* s = cpu->if_string())
      m = parse_millicores(*s);
    if (!m) w.fail(path + ".cpu", "must be a positive cpu quantity (e.g. 0.5, 2, 500m)");
    out.cpu_millis = m;
  }
  for (auto [key, target] : {std::pair{"memory", &out.memory_bytes}, std::pair{"disk", &out.disk_bytes}}) {
    auto* q = obj->if_contains(key);
    if (!q) continue;
    std::optional<std::int64_t> bytes;
    if (q->is_int64() && q->as_int64() >= 0)
      bytes = q->as_int64();
    else if (q->is_uint64())
      bytes = parse_bytes(std::to_string(q->as_uint64()));
    else if (auto* s = q->if_string())
      bytes = parse_bytes(*s);
    if (!bytes) w.fail(path + "." + key, "must be a byte quantity (e.g. 512Mi, 2Gi, 1G)");
    *target = bytes;
  }
}

void read_resources(Walker& w, const json::value& v, Resources& out) {
  auto* obj = w.object(v, "spec.resources");
  if (!obj) return;
  w.only(*obj, "spec.resources", {"requests", "limits"});
  if (auto* r = obj->if_contains("requests")) read_amounts(w, *r, "spec.resources.requests", out.requests);
  if (auto* l = obj->if_contains("limits")) read_amounts(w, *l, "spec.resources.limits", out.limits);
}

void read_restart(Walker& w, const json::value& v, RestartPolicy& out) {
  const std::string path = "spec.restartPolicy";
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"mode", "attempts", "interval", "delay", "backoff"});
  if (auto* mode = obj->if_contains("mode")) {
    auto s = w.string(*mode, path + ".mode");
    if (s == "never")
      out.mode = RestartMode::Never;
    else if (s == "on-failure")
      out.mode = RestartMode::OnFailure;
    else if (s == "always")
      out.mode = RestartMode::Always;
    else if (s)
      w.fail(path + ".mode", "must be never, on-failure or always");
  }
  if (auto* a = obj->if_contains("attempts"))
    if (auto n = w.integer(*a, path + ".attempts", 0, 1000)) out.attempts = static_cast<int>(*n);
  if (auto* i = obj->if_contains("interval"))
    if (auto d = w.duration(*i, path + ".interval")) out.interval = *d;
  if (auto* d = obj->if_contains("delay"))
    if (auto x = w.duration(*d, path + ".delay")) out.delay = *x;
  if (auto* b = obj->if_contains("backoff")) {
    auto n = w.number(*b, path + ".backoff");
    if (n && (*n < 1 || *n > 10)) w.fail(path + ".backoff", "must be a number from 1 to 10");
    if (n) out.backoff = *n;
  }
}

DoneMarker done_marker(std::string text) {
  if (text.starts_with("regex:")) return {text.substr(6), true};
  return {std::move(text), false};
}

void read_startup(Walker& w, const json::value& v, Startup& out) {
  const std::string path = "spec.startup";
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"done", "timeout", "stripAnsi"});
  if (auto* done = obj->if_contains("done")) {
    std::vector<std::string> texts;
    if (done->is_string())
      texts.emplace_back(done->as_string());
    else if (done->is_array())
      texts = w.strings(*done, path + ".done");
    else
      w.fail(path + ".done", "must be a string or a list of strings");
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].empty()) w.fail(index_path(path + ".done", i), "must not be empty");
      out.done.push_back(done_marker(texts[i]));
    }
  }
  if (auto* t = obj->if_contains("timeout"))
    if (auto d = w.duration(*t, path + ".timeout")) out.timeout = *d;
  if (auto* s = obj->if_contains("stripAnsi"))
    if (auto b = w.boolean(*s, path + ".stripAnsi")) out.strip_ansi = *b;
}

void read_healthcheck(Walker& w, const json::value& v, std::optional<Healthcheck>& out) {
  const std::string path = "spec.healthcheck";
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"tcp", "interval", "timeout"});
  Healthcheck check;
  if (auto* tcp = w.required(*obj, path, "tcp")) {
    if (auto* s = tcp->if_string(); s && !s->empty()) {
      check.tcp = std::string(*s);
    } else if (tcp->is_number()) {
      if (auto n = w.integer(*tcp, path + ".tcp", 1, 65535)) check.tcp = std::to_string(*n);
    } else {
      w.fail(path + ".tcp", "must be a port name or number");
    }
  }
  if (auto* i = obj->if_contains("interval"))
    if (auto d = w.duration(*i, path + ".interval")) check.interval = *d;
  if (auto* t = obj->if_contains("timeout"))
    if (auto d = w.duration(*t, path + ".timeout")) check.timeout = *d;
  out = check;
}

void read_stop(Walker& w, const json::value& v, Stop& out) {
  const std::string path = "spec.stop";
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"command", "signal"});
  if (obj->contains("command") == obj->contains("signal")) {
    w.fail(path, "must have exactly one of command or signal");
    return;
  }
  if (auto* c = obj->if_contains("command")) {
    auto s = w.string(*c, path + ".command");
    if (s && s->empty()) w.fail(path + ".command", "must not be empty");
    if (s) out.command = *s;
  }
  if (auto* sig = obj->if_contains("signal")) {
    auto s = w.string(*sig, path + ".signal");
    if (s && signal_number(*s) == 0) w.fail(path + ".signal", "must be a signal name such as SIGINT or SIGTERM");
    if (s) out.signal = *s;
  }
}

void read_install(Walker& w, const json::value& v, std::optional<Install>& out) {
  const std::string path = "spec.install";
  auto* obj = w.object(v, path);
  if (!obj) return;
  w.only(*obj, path, {"image", "entrypoint", "script"});
  Install install;
  if (auto* i = obj->if_contains("image"))
    if (auto s = w.string(*i, path + ".image")) install.image = *s;
  if (auto* e = obj->if_contains("entrypoint")) {
    auto s = w.string(*e, path + ".entrypoint");
    if (s && s->empty()) w.fail(path + ".entrypoint", "must not be empty");
    if (s) install.entrypoint = *s;
  }
  if (auto* s = w.required(*obj, path, "script"))
    if (auto text = w.string(*s, path + ".script")) install.script = *text;
  out = install;
}

}  // namespace

// Defined in spec_parse_lists.cpp: the variable and config-file lists.
void read_variables(Walker& w, const json::value& v, std::vector<Variable>& out);
void read_config_files(Walker& w, const json::value& v, std::vector<ConfigFile>& out);

namespace {

void read_command_fields(Walker& w, const json::object& obj, WorkloadSpec& out) {
  if (auto* image = obj.if_contains("image"))
    if (auto s = w.string(*image, "spec.image")) out.image = *s;
  if (auto* images = obj.if_contains("images"))
    for (auto& [k, v] : w.string_map(*images, "spec.images")) out.images[k] = v;
  if (auto* command = w.required(obj, "spec", "command")) {
    out.command = w.strings(*command, "spec.command");
    if (command->is_array() && out.command.empty()) w.fail("spec.command", "must have at least one entry");
  }
  if (auto* args = obj.if_contains("args")) out.args = w.strings(*args, "spec.args");
  if (auto* dir = obj.if_contains("workingDir"))
    if (auto s = w.string(*dir, "spec.workingDir")) out.working_dir = *s;
  if (auto* env = obj.if_contains("env")) {
    for (auto& [k, v] : w.string_map(*env, "spec.env")) {
      if (!matches(k, kEnvName)) w.fail("spec.env." + k, "must be an environment variable name");
      out.env[k] = v;
    }
  }
  if (auto* f = obj.if_contains("features")) out.features = w.strings(*f, "spec.features");
  if (auto* d = obj.if_contains("fileDenylist")) out.file_denylist = w.strings(*d, "spec.fileDenylist");
}

void read_spec(Walker& w, const json::value& v, WorkloadSpec& out) {
  auto* obj = w.object(v, "spec");
  if (!obj) return;
  w.only(
      *obj, "spec",
      {"image", "images", "command", "args", "workingDir", "env", "ports", "resources", "restartPolicy", "stopTimeout",
       "startup", "healthcheck", "stop", "install", "variables", "configFiles", "features", "fileDenylist"});
  read_command_fields(w, *obj, out);
  if (auto* p = obj->if_contains("ports")) read_ports(w, *p, out.ports);
  if (auto* r = obj->if_contains("resources")) read_resources(w, *r, out.resources);
  if (auto* r = obj->if_contains("restartPolicy")) read_restart(w, *r, out.restart_policy);
  if (auto* t = obj->if_contains("stopTimeout"))
    if (auto d = w.duration(*t, "spec.stopTimeout")) out.stop_timeout = *d;
  if (auto* s = obj->if_contains("startup")) read_startup(w, *s, out.startup);
  if (auto* h = obj->if_contains("healthcheck")) read_healthcheck(w, *h, out.healthcheck);
  if (auto* s = obj->if_contains("stop")) read_stop(w, *s, out.stop);
  if (auto* i = obj->if_contains("install")) read_install(w, *i, out.install);
  if (auto* vars = obj->if_contains("variables")) read_variables(w, *vars, out.variables);
  if (auto* files = obj->if_contains("configFiles")) read_config_files(w, *files, out.config_files);
}

}  // namespace

Workload workload_from_json(const json::value& document) {
  ErrorList errors;
  Walker w(errors);
  Workload out;
  if (auto* root = w.object(document, "document")) {
    w.only(*root, "", {"apiVersion", "kind", "metadata", "spec"});
    if (auto* api = w.required(*root, "", "apiVersion"))
      if (auto s = w.string(*api, "apiVersion"); s && *s != kApiVersion) w.fail("apiVersion", "must be shardlyn/v1");
    if (auto* kind = w.required(*root, "", "kind"))
      if (auto s = w.string(*kind, "kind"); s && *s != kKind) w.fail("kind", "must be Workload");
    if (auto* m = w.required(*root, "", "metadata")) read_metadata(w, *m, out.metadata);
    if (auto* s = w.required(*root, "", "spec")) read_spec(w, *s, out.spec);
  }
  errors.throw_if_any();  // semantic checks need a well-formed document
  check_semantics(out, errors);
  errors.throw_if_any();
  return out;
}

Workload parse_workload(std::string_view text) { return workload_from_json(parse_document(text)); }

}  // namespace workload
