#include "common/config.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace {

namespace fs = std::filesystem;
using common::Config;
using common::ConfigError;

// A unique directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("common-test-" + std::to_string(random()) + "-" + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A fake environment for Config::parse.
struct Env {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> fn() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

Config make_config() {
  Config c("auth-server", "authentication service");
  c.declare({
      {"AUTH_PORT", "3000", "port to listen on"},
      {"APP_ENV", "development", "development or production"},
      {"JWT_SECRET", "", "signing secret", true},
      {"DEFAULT_SECRET", "s3cr3t-default", "a secret with a default", true},
      {"RATE_LIMIT", "20/min", "requests per client"},
      {"CORS_ALLOWED_ORIGINS", "", "comma separated origins"},
      {"TRUST_PROXY", "false", "trust X-Forwarded-For"},
  });
  return c;
}

Config::Parsed parse(Config& c, std::vector<const char*> args, const Env& env = {}) {
  args.insert(args.begin(), "auth-server");
  return c.parse(static_cast<int>(args.size()), args.data(), env.fn());
}

std::string value_in(const std::vector<std::pair<std::string, std::string>>& items, const std::string& name) {
  for (const auto& [k, v] : items)
    if (k == name) return v;
  FAIL("no " << name << " in effective()");
  return {};
}

}  // namespace

TEST_CASE("config: flag_name", "[common][config]") {
  CHECK(common::flag_name("AUTH_PORT") == "--auth-port");
  CHECK(common::flag_name("X") == "--x");
  CHECK(common::flag_name("S3_BUCKET_2") == "--s3-bucket-2");
}

TEST_CASE("config: defaults apply when nothing is set", "[common][config]") {
  Config c = make_config();
  auto parsed = parse(c, {});
  CHECK_FALSE(parsed.help);
  CHECK_FALSE(parsed.version);
  CHECK_FALSE(parsed.check_openapi);
  CHECK(parsed.positional.empty());
  CHECK(c.get("AUTH_PORT") == "3000");
  CHECK_FALSE(c.is_set("AUTH_PORT"));
  CHECK(c.get("JWT_SECRET").empty());
  CHECK(c.get("UNDECLARED").empty());
  CHECK(c.program() == "auth-server");
}

TEST_CASE("config: environment, then flags in both forms; flags win", "[common][config]") {
  Env env;
  env.vars = {{"AUTH_PORT", "4000"}, {"APP_ENV", "production"}, {"UNDECLARED_VAR", "x"}};
  Config c = make_config();
  parse(c, {"--auth-port", "5000", "--rate-limit=5/s:10"}, env);
  CHECK(c.get("AUTH_PORT") == "5000");
  CHECK(c.is_set("AUTH_PORT"));
  CHECK(c.get("APP_ENV") == "production");  // from the environment
  CHECK(c.get("RATE_LIMIT") == "5/s:10");
  CHECK(c.get("UNDECLARED_VAR").empty());  // undeclared variables are not read

  Config only_env = make_config();
  parse(only_env, {}, env);
  CHECK(only_env.get("AUTH_PORT") == "4000");
}

TEST_CASE("config: '=' form keeps everything after the first '='", "[common][config]") {
  Config c = make_config();
  parse(c, {"--cors-allowed-origins=https://a.example,https://b.example?x=1", "--app-env="});
  CHECK(c.get("CORS_ALLOWED_ORIGINS") == "https://a.example,https://b.example?x=1");
  CHECK_FALSE(c.is_set("APP_ENV"));  // an empty value does not count as set
}

TEST_CASE("config: mode flags and positional arguments", "[common][config]") {
  Config c = make_config();
  auto parsed = parse(c, {"--help", "serve", "--version", "-h", "--check-openapi", "extra"});
  CHECK(parsed.help);
  CHECK(parsed.version);
  CHECK(parsed.check_openapi);
  CHECK(parsed.positional == std::vector<std::string>{"serve", "extra"});

  Config short_help = make_config();
  CHECK(parse(short_help, {"-h"}).help);
}

TEST_CASE("config: unknown flags and missing values are ConfigError", "[common][config]") {
  {
    Config c = make_config();
    CHECK_THROWS_AS(parse(c, {"--no-such-option", "1"}), ConfigError);
  }
  {
    Config c = make_config();
    CHECK_THROWS_WITH(parse(c, {"--bogus=1"}), Catch::Contains("--bogus"));
  }
  {
    Config c = make_config();
    CHECK_THROWS_AS(parse(c, {"--auth-port"}), ConfigError);
  }
  {
    Config c = make_config();
    CHECK_THROWS_WITH(parse(c, {"--auth-port"}), Catch::Contains("--auth-port"));
  }
  {
    Config c = make_config();
    CHECK_THROWS_AS(parse(c, {"--AUTH_PORT", "1"}), ConfigError);  // flags are the lower-case form
  }
}

TEST_CASE("config: the first declaration of a variable wins", "[common][config]") {
  Config c("svc", "test");
  c.declare({"PORT", "8080", "service port"});
  c.declare({"PORT", "9090", "common default"});
  parse(c, {});
  CHECK(c.get("PORT") == "8080");
  CHECK(c.effective().size() == 1);
}

TEST_CASE("config: get_int checks syntax and range", "[common][config]") {
  Config c = make_config();
  c.set("AUTH_PORT", "8443");
  CHECK(c.get_int("AUTH_PORT", 1, 65535) == 8443);
  c.set("AUTH_PORT", "-5");
  CHECK(c.get_int("AUTH_PORT", -10, 10) == -5);
  for (const char* bad : {"0", "65536", "abc", "12x", " 80", "1.5", "99999999999999999999999"}) {
    INFO("'" << bad << "'");
    c.set("AUTH_PORT", bad);
    CHECK_THROWS_AS(c.get_int("AUTH_PORT", 1, 65535), ConfigError);
  }
  c.set("AUTH_PORT", "");  // empty counts as unset: the default applies
  CHECK(c.get_int("AUTH_PORT", 1, 65535) == 3000);
  c.set("AUTH_PORT", "70000");
  CHECK_THROWS_WITH(c.get_int("AUTH_PORT", 1, 65535), Catch::Contains("AUTH_PORT") && Catch::Contains("1") &&
                                                          Catch::Contains("65535") && Catch::Contains("70000"));
}

TEST_CASE("config: get_bool", "[common][config]") {
  Config c = make_config();
  CHECK_FALSE(c.get_bool("TRUST_PROXY"));  // default "false"
  for (const char* yes : {"1", "true", "TRUE", "Yes", "on"}) {
    INFO(yes);
    c.set("TRUST_PROXY", yes);
    CHECK(c.get_bool("TRUST_PROXY"));
  }
  for (const char* no : {"0", "false", "False", "no", "OFF", ""}) {
    INFO("'" << no << "'");
    c.set("TRUST_PROXY", no);
    CHECK_FALSE(c.get_bool("TRUST_PROXY"));
  }
  c.set("TRUST_PROXY", "maybe");
  CHECK_THROWS_AS(c.get_bool("TRUST_PROXY"), ConfigError);
  CHECK_THROWS_WITH(c.get_bool("TRUST_PROXY"), Catch::Contains("TRUST_PROXY") && Catch::Contains("maybe"));
}

TEST_CASE("config: get_limit and get_list", "[common][config]") {
  Config c = make_config();
  auto limit = c.get_limit("RATE_LIMIT");
  CHECK(limit.quota == 20);
  CHECK(limit.period.count() == Approx(60));
  c.set("RATE_LIMIT", "10/s:50");
  CHECK(c.get_limit("RATE_LIMIT").burst == 50);
  c.set("RATE_LIMIT", "5/day");
  CHECK_THROWS_AS(c.get_limit("RATE_LIMIT"), ConfigError);
  CHECK_THROWS_WITH(c.get_limit("RATE_LIMIT"), Catch::Contains("RATE_LIMIT") && Catch::Contains("5/day"));

  CHECK(c.get_list("CORS_ALLOWED_ORIGINS").empty());
  c.set("CORS_ALLOWED_ORIGINS", " https://a.example , https://b.example,,");
  CHECK(c.get_list("CORS_ALLOWED_ORIGINS") == std::vector<std::string>{"https://a.example", "https://b.example"});
}

TEST_CASE("config: split_list trims and drops empty items", "[common][config]") {
  using V = std::vector<std::string>;
  CHECK(common::split_list("").empty());
  CHECK(common::split_list(" , ,\t,").empty());
  CHECK(common::split_list("a") == V{"a"});
  CHECK(common::split_list("a,b,c") == V{"a", "b", "c"});
  CHECK(common::split_list(" a ,\tb\t, c d ,") == V{"a", "b", "c d"});
  CHECK(common::split_list(",,a,,") == V{"a"});
}

TEST_CASE("config: effective() masks secrets", "[common][config]") {
  Env env;
  env.vars = {{"JWT_SECRET", "0123456789abcdef"}, {"AUTH_PORT", "3001"}};
  Config c = make_config();
  parse(c, {}, env);

  auto masked = c.effective();
  REQUIRE(masked.size() == 7);
  CHECK(masked[0].first == "AUTH_PORT");  // declaration order
  CHECK(masked[6].first == "TRUST_PROXY");
  CHECK(value_in(masked, "AUTH_PORT") == "3001");
  CHECK(value_in(masked, "JWT_SECRET") == "***(16 chars)");
  CHECK(value_in(masked, "DEFAULT_SECRET") == "***(14 chars)");
  for (const auto& [k, v] : masked) {
    INFO(k);
    CHECK(v.find("0123456789abcdef") == std::string::npos);
    CHECK(v.find("s3cr3t") == std::string::npos);
  }

  auto plain = c.effective(false);
  CHECK(value_in(plain, "JWT_SECRET") == "0123456789abcdef");
  CHECK(value_in(plain, "DEFAULT_SECRET") == "s3cr3t-default");

  Config unset = make_config();
  parse(unset, {});
  CHECK(value_in(unset.effective(), "JWT_SECRET").empty());  // nothing to mask
}

TEST_CASE("config: usage lists flags, variables and defaults but not secret defaults", "[common][config]") {
  Config c = make_config();
  auto text = c.usage();
  CHECK_THAT(text, Catch::Contains("auth-server"));
  CHECK_THAT(text, Catch::Contains("authentication service"));
  CHECK_THAT(text, Catch::Contains("--auth-port"));
  CHECK_THAT(text, Catch::Contains("[AUTH_PORT]"));
  CHECK_THAT(text, Catch::Contains("port to listen on"));
  CHECK_THAT(text, Catch::Contains("(default: 3000)"));
  CHECK_THAT(text, Catch::Contains("--jwt-secret"));
  CHECK_THAT(text, Catch::Contains("--help"));
  CHECK_THAT(text, Catch::Contains("--version"));
  CHECK_THAT(text, Catch::Contains("--check-openapi"));
  CHECK_THAT(text, !Catch::Contains("s3cr3t-default"));
}

TEST_CASE("config: usage marks secret variables and only those", "[common][config]") {
  Config c = make_config();
  auto text = c.usage();
  auto line_of = [&](std::string_view env) {
    auto at = text.find("[" + std::string(env) + "]");
    REQUIRE(at != std::string::npos);
    auto begin = text.rfind('\n', at) + 1;
    return text.substr(begin, text.find('\n', at) - begin);
  };
  CHECK_THAT(line_of("JWT_SECRET"), Catch::EndsWith(" (secret)"));
  CHECK_THAT(line_of("DEFAULT_SECRET"), Catch::EndsWith(" (secret)"));
  CHECK_THAT(line_of("AUTH_PORT"), !Catch::Contains("(secret)"));
}

TEST_CASE("config: resolve_secret prefers the configured value", "[common][config]") {
  TempDir dir;
  Config c = make_config();
  c.set("JWT_SECRET", "from-env");
  bool generated = true;
  int made = 0;
  auto value = common::resolve_secret(
      c, "JWT_SECRET", dir.path(), false, [&] { return ++made, std::string("x"); }, &generated);
  CHECK(value == "from-env");
  CHECK_FALSE(generated);
  CHECK(made == 0);
  CHECK_FALSE(fs::exists(dir.path() / "secrets" / "JWT_SECRET"));
  // Also in production.
  CHECK(common::resolve_secret(c, "JWT_SECRET", dir.path(), true, [] { return std::string("x"); }) == "from-env");
}

TEST_CASE("config: resolve_secret in production without a value is ConfigError", "[common][config]") {
  TempDir dir;
  Config c = make_config();
  int made = 0;
  CHECK_THROWS_AS(common::resolve_secret(c, "JWT_SECRET", dir.path(), true, [&] { return ++made, std::string("x"); }),
                  ConfigError);
  CHECK_THROWS_WITH(common::resolve_secret(c, "JWT_SECRET", dir.path(), true, [] { return std::string("x"); }),
                    Catch::Contains("JWT_SECRET"));
  CHECK(made == 0);
  CHECK_FALSE(fs::exists(dir.path() / "secrets"));
}

TEST_CASE("config: resolve_secret generates once in development and reuses the file", "[common][config]") {
  TempDir dir;
  Config c = make_config();
  int made = 0;
  auto make = [&] {
    ++made;
    return std::string("generated-secret-") + std::to_string(made);
  };

  bool generated = false;
  auto first = common::resolve_secret(c, "JWT_SECRET", dir.path(), false, make, &generated);
  CHECK(first == "generated-secret-1");
  CHECK(generated);
  CHECK(made == 1);

  const auto file = dir.path() / "secrets" / "JWT_SECRET";
  REQUIRE(fs::exists(file));
  CHECK(fs::is_regular_file(file));
  // Nothing else is left behind in the directory (no temporary files).
  CHECK(std::distance(fs::directory_iterator(dir.path() / "secrets"), fs::directory_iterator()) == 1);
  CHECK((fs::status(file).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK((fs::status(dir.path() / "secrets").permissions() & fs::perms::all) == fs::perms::owner_all);
  {
    std::ifstream in(file);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(content == "generated-secret-1\n");
  }

  // A restart (a new Config) reuses the stored value.
  Config restarted = make_config();
  generated = false;
  auto second = common::resolve_secret(restarted, "JWT_SECRET", dir.path(), false, make, &generated);
  CHECK(second == first);
  CHECK(generated);
  CHECK(made == 1);

  // Another variable gets its own file.
  auto other = common::resolve_secret(c, "DEFAULT_SECRET_X", dir.path(), false, make);
  CHECK(other == "generated-secret-2");
  CHECK(fs::exists(dir.path() / "secrets" / "DEFAULT_SECRET_X"));
}

TEST_CASE("config: resolve_secret reads a hand-written file and regenerates an empty one", "[common][config]") {
  TempDir dir;
  fs::create_directories(dir.path() / "secrets");
  {
    std::ofstream out(dir.path() / "secrets" / "JWT_SECRET");
    out << "handwritten\r\n";
  }
  {
    std::ofstream out(dir.path() / "secrets" / "EMPTY_SECRET");
    out << "\n";
  }
  Config c = make_config();
  int made = 0;
  auto make = [&] { return ++made, std::string("fresh"); };
  CHECK(common::resolve_secret(c, "JWT_SECRET", dir.path(), false, make) == "handwritten");
  CHECK(made == 0);
  CHECK(common::resolve_secret(c, "EMPTY_SECRET", dir.path(), false, make) == "fresh");
  CHECK(made == 1);
}

TEST_CASE("config: a deprecated name still works, warns, and loses to the current one", "[common][config]") {
  auto make = [] {
    Config c("threat-cloud", "threat intelligence");
    c.declare({{"TC_BACKUP_INTERVAL_S", "86400", "seconds between backups", false, {"TC_BACKUP_INTERVAL"}}});
    return c;
  };
  Config fresh = make();
  parse(fresh, {});
  CHECK(fresh.get("TC_BACKUP_INTERVAL_S") == "86400");
  CHECK(fresh.warnings().empty());

  Env old_only;
  old_only.vars = {{"TC_BACKUP_INTERVAL", "60"}};
  Config from_old = make();
  parse(from_old, {}, old_only);
  CHECK(from_old.get("TC_BACKUP_INTERVAL_S") == "60");
  REQUIRE(from_old.warnings().size() == 1);
  CHECK(from_old.warnings()[0] == "TC_BACKUP_INTERVAL is deprecated; use TC_BACKUP_INTERVAL_S");

  Env both;
  both.vars = {{"TC_BACKUP_INTERVAL", "60"}, {"TC_BACKUP_INTERVAL_S", "120"}};
  Config current_wins = make();
  parse(current_wins, {}, both);
  CHECK(current_wins.get("TC_BACKUP_INTERVAL_S") == "120");
  CHECK(current_wins.warnings().empty());

  Config old_flag = make();
  parse(old_flag, {"--tc-backup-interval=30"});
  CHECK(old_flag.get("TC_BACKUP_INTERVAL_S") == "30");
  REQUIRE(old_flag.warnings().size() == 1);
  CHECK(old_flag.warnings()[0] == "--tc-backup-interval is deprecated; use --tc-backup-interval-s");
  CHECK_THAT(old_flag.usage(), Catch::Contains("(formerly TC_BACKUP_INTERVAL)"));
}
