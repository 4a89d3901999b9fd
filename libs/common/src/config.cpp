#include "common/config.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/files.hpp"

namespace common {

std::string flag_name(std::string_view env) {
  std::string out = "--";
  for (char c : env) out.push_back(c == '_' ? '-' : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
  return out;
}

Config::Config(std::string program, std::string summary) : program_(std::move(program)), summary_(std::move(summary)) {}

void Config::declare(OptionSpec spec) {
  if (find(spec.env)) return;  // first declaration wins (services may override a common default)
  specs_.push_back(std::move(spec));
}

void Config::declare(std::vector<OptionSpec> specs) {
  for (auto& s : specs) declare(std::move(s));
}

const OptionSpec* Config::find(std::string_view env) const {
  for (const auto& s : specs_)
    if (s.env == env) return &s;
  return nullptr;
}

Config::Parsed Config::parse(int argc, const char* const* argv, const std::function<const char*(const char*)>& getenv) {
  auto env_of = getenv ? getenv : [](const char* name) -> const char* { return std::getenv(name); };
  for (const auto& s : specs_) {
    if (const char* v = env_of(s.env.c_str())) {
      values_[s.env] = v;
      continue;
    }
    for (const auto& old : s.deprecated)
      if (const char* v = env_of(old.c_str())) {
        values_[s.env] = v;
        warnings_.push_back(fmt::format("{} is deprecated; use {}", old, s.env));
        break;
      }
  }

  Parsed parsed;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      continue;
    }
    if (arg == "--version") {
      parsed.version = true;
      continue;
    }
    if (arg == "--check-openapi") {
      parsed.check_openapi = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      parsed.positional.emplace_back(arg);
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs_) {
      if (flag_name(s.env) == name) spec = &s;
      for (const auto& old : s.deprecated)
        if (flag_name(old) == name) {
          spec = &s;
          warnings_.push_back(fmt::format("{} is deprecated; use {}", name, flag_name(s.env)));
        }
    }
    if (!spec) throw ConfigError(fmt::format("unknown option {} (see --help)", name));
    if (!value) {
      if (i + 1 >= argc) throw ConfigError(fmt::format("option {} needs a value", name));
      value = argv[++i];
    }
    values_[spec->env] = *value;
  }
  return parsed;
}

bool Config::is_set(std::string_view env) const {
  auto it = values_.find(env);
  return it != values_.end() && !it->second.empty();
}

std::string Config::get(std::string_view env) const {
  // An empty value counts as unset (compose files and charts pass VAR= for "not given").
  if (auto it = values_.find(env); it != values_.end() && !it->second.empty()) return it->second;
  if (const auto* s = find(env)) return s->default_value;
  return {};
}

std::int64_t Config::get_int(std::string_view env, std::int64_t min, std::int64_t max) const {
  std::string raw = get(env);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
  if (raw.empty() || ec != std::errc() || ptr != raw.data() + raw.size() || v < min || v > max)
    throw ConfigError(fmt::format("{} must be a whole number from {} to {} (got '{}')", env, min, max, raw));
  return v;
}

bool Config::get_bool(std::string_view env) const {
  std::string raw = get(env);
  for (auto& c : raw) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (raw == "1" || raw == "true" || raw == "yes" || raw == "on") return true;
  if (raw.empty() || raw == "0" || raw == "false" || raw == "no" || raw == "off") return false;
  throw ConfigError(fmt::format("{} must be true or false (got '{}')", env, raw));
}

LimitSpec Config::get_limit(std::string_view env) const {
  std::string raw = get(env);
  auto spec = LimitSpec::parse(raw);
  if (!spec)
    throw ConfigError(fmt::format("{} must look like N, N/s, N/min or N/h with optional :burst (got '{}')", env, raw));
  return *spec;
}

std::vector<std::string> Config::get_list(std::string_view env) const { return split_list(get(env)); }

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::stringstream ss{std::string(text)};
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

void Config::set(std::string_view env, std::string value) { values_[std::string(env)] = std::move(value); }

std::string Config::usage() const {
  std::string out = fmt::format(
      "{} - {}\n\nUsage: {} [options]\n\nEvery option is also read from the environment "
      "variable in brackets; a flag wins over the environment.\n\n",
      program_, summary_, program_);
  for (const auto& s : specs_) {
    out += fmt::format("  {:<32} [{}] {}", flag_name(s.env) + " VALUE", s.env, s.help);
    if (!s.default_value.empty() && !s.secret) out += fmt::format(" (default: {})", s.default_value);
    if (s.secret) out += " (secret)";
    if (!s.deprecated.empty()) {
      std::string names;
      for (const auto& old : s.deprecated) names += (names.empty() ? "" : ", ") + old;
      out += fmt::format(" (formerly {})", names);
    }
    out += '\n';
  }
  out +=
      "\n  --check-openapi                  compare the route table with the OpenAPI document and exit\n"
      "  --version                        print the version and exit\n"
      "  --help                           this text\n";
  return out;
}

std::vector<std::pair<std::string, std::string>> Config::effective(bool mask_secrets) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : specs_) {
    std::string v = get(s.env);
    if (s.secret && mask_secrets) v = v.empty() ? "" : fmt::format("***({} chars)", v.size());
    out.emplace_back(s.env, v);
  }
  return out;
}

std::string resolve_secret(const Config& config, std::string_view env, const std::filesystem::path& data_dir,
                           bool production, const std::function<std::string()>& make, bool* generated) {
  if (generated) *generated = false;
  if (config.is_set(env)) return config.get(env);
  if (production) throw ConfigError(fmt::format("{} is required when APP_ENV=production", env));
  auto dir = data_dir / "secrets";
  auto file = dir / std::string(env);
  if (std::ifstream in(file); in) {
    std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    if (!value.empty()) {
      if (generated) *generated = true;
      return value;
    }
  }
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  std::string value = make();
  write_file_atomic(file, value + "\n", 0600);
  if (generated) *generated = true;
  return value;
}

}  // namespace common
