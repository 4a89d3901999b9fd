#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "workload/config_files.hpp"

using namespace workload;

namespace {
Replacement set(std::string match, std::string value) { return {std::move(match), std::nullopt, std::move(value)}; }
Replacement when(std::string match, std::string current, std::string value) {
  return {std::move(match), std::move(current), std::move(value)};
}
}  // namespace

TEST_CASE("properties: keys are set in place, comments kept, missing keys appended") {
  const std::string in = "#Minecraft server properties\nserver-ip=\nserver-port=25565\nmotd=A Minecraft Server\n";
  auto out = rewrite_config(
      ConfigParser::Properties, in,
      {set("server-port", "25570"), set("query.port", "25570"), when("motd", "A Minecraft Server", "Hello")});
  CHECK(out == "#Minecraft server properties\nserver-ip=\nserver-port=25570\nmotd=Hello\nquery.port=25570\n");
  // if_value leaves other values alone
  CHECK(rewrite_config(ConfigParser::Properties, "motd=Mine\n", {when("motd", "A Minecraft Server", "Hello")}) ==
        "motd=Mine\n");
  CHECK(rewrite_config(ConfigParser::Properties, "a = 1\r\nb: 2\r\n", {set("a", "9"), set("b", "8")}) ==
        "a = 9\r\nb: 8\r\n");
}

TEST_CASE("ini: global keys and section.key") {
  const std::string in = "; murmur\ndatabase=\nport=64738\n\n[Ice]\nIce.Warn.UnknownProperties=1\n";
  auto out = rewrite_config(ConfigParser::Ini, in,
                            {set("port", "30000"), set("users", "100"), set("Ice.Ice.MessageSizeMax", "65536")});
  CHECK(out ==
        "; murmur\ndatabase=\nport=30000\nusers=100\n\n[Ice]\nIce.Warn.UnknownProperties=1\n"
        "Ice.MessageSizeMax=65536\n");
  CHECK(rewrite_config(ConfigParser::Ini, "[server]\nport = 1\n", {set("server.port", "2")}) == "[server]\nport = 2\n");
  // No section b: the dotted name is a global key, and global keys come before the first section.
  CHECK(rewrite_config(ConfigParser::Ini, "[a]\nx=1\n", {set("b.y", "2")}) == "b.y=2\n[a]\nx=1\n");
}

TEST_CASE("file: lines that start with the match are replaced whole") {
  CHECK(rewrite_config(ConfigParser::File, "Port 1\nName x\nPort 2", {set("Port", "Port 9")}) ==
        "Port 9\nName x\nPort 9");
}

TEST_CASE("json: dotted paths, wildcards, types kept") {
  const std::string in = R"({"server": {"port": 1, "name": "x"}, "listeners": [{"port": 1}, {"port": 2}]})";
  auto out = rewrite_config(ConfigParser::Json, in,
                            {set("server.port", "25570"), set("listeners.*.port", "30000"), set("new.flag", "true"),
                             set("server.name", "42")});
  auto doc = boost::json::parse(out);
  CHECK(doc.at("server").at("port") == 25570);
  CHECK(doc.at("server").at("name") == "42");  // was a string, stays one
  CHECK(doc.at("listeners").at(0).at("port") == 30000);
  CHECK(doc.at("listeners").at(1).at("port") == 30000);
  CHECK(doc.at("new").at("flag") == true);
  CHECK_THROWS_AS(rewrite_config(ConfigParser::Json, "{nope", {set("a", "1")}, "cfg.json"), SpecError);
}

TEST_CASE("yaml: dotted paths, wildcards, created maps") {
  auto out = rewrite_config(ConfigParser::Yaml, "settings:\n  bungeecord: false\nlisteners:\n  - host: 0.0.0.0:25577\n",
                            {set("settings.bungeecord", "true"), set("listeners.*.host", "0.0.0.0:30000"),
                             set("new.key", "v"), when("settings.other", "x", "y")});
  CHECK(out.find("bungeecord: true") != std::string::npos);
  CHECK(out.find("host: 0.0.0.0:30000") != std::string::npos);
  CHECK(out.find("new:\n  key: v") != std::string::npos);
  CHECK(out.find("other") == std::string::npos);
  CHECK_THROWS_AS(rewrite_config(ConfigParser::Yaml, "a: [1", {set("a", "1")}), SpecError);
}

TEST_CASE("xml: element paths, text escaped, missing elements left alone") {
  const std::string in = "<config>\n  <server>\n    <port>1</port>\n    <name>x</name>\n  </server>\n</config>\n";
  auto out = rewrite_config(
      ConfigParser::Xml, in,
      {set("config.server.port", "25570"), set("config.server.name", "a<b"), set("config.missing", "z")});
  CHECK(out == "<config>\n  <server>\n    <port>25570</port>\n    <name>a&lt;b</name>\n  </server>\n</config>\n");
  CHECK(rewrite_config(ConfigParser::Xml, "<a><b>1</b></a>", {when("a.b", "2", "3")}) == "<a><b>1</b></a>");
}
