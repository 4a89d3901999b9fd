// The key webhooks match repositories by: one repository's URLs, as GitHub and GitLab name it, meet.
#include "gitdeploy/git_deploy.hpp"

#include <catch2/catch.hpp>

using shardlyn::repository_key;

TEST_CASE("a repository's https, ssh, scp-like and git URLs reduce to one key") {
  auto key = repository_key("https://github.com/Example/site.git");
  CHECK(key == "github.com/Example/site");
  CHECK(repository_key("git@github.com:Example/site.git") == key);
  CHECK(repository_key("ssh://git@GitHub.com/Example/site") == key);
  CHECK(repository_key("git://github.com/Example/site.git/") == key);
  CHECK(repository_key("https://github.com/Example/site") == key);
  // The path keeps its case and the port stays part of the host.
  CHECK(repository_key("https://github.com/example/site.git") != key);
  CHECK(repository_key("git://127.0.0.1:9418/site.git") == "127.0.0.1:9418/site");
}
