#include "gitdeploy/git_sync.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "common/log.hpp"
#include "node/node_requests.hpp"
#include "security/encoding.hpp"

extern char** environ;

namespace agent {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The environment git runs in: no prompt, no user or system configuration, the credential's
// variables; nothing else of the agent's environment but PATH and HOME.
struct GitEnv {
  std::vector<std::string> vars;
  std::vector<char*> pointers() {
    std::vector<char*> out;
    for (auto& v : vars) out.push_back(v.data());
    out.push_back(nullptr);
    return out;
  }
};

// A private folder for an SSH key, removed with everything in it.
class KeyFolder {
 public:
  explicit KeyFolder(const std::string& key) {
    std::string tmpl = (fs::temp_directory_path() / "shardlyn-git-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw RequestRefused("git_failed", std::string("mkdtemp: ") + std::strerror(errno));
    dir_ = tmpl;
    auto file = dir_ / "key";
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw RequestRefused("git_failed", std::string("key file: ") + std::strerror(errno));
    std::string text = key.ends_with('\n') ? key : key + "\n";
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    if (!written) throw RequestRefused("git_failed", "key file: short write");
  }
  ~KeyFolder() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  KeyFolder(const KeyFolder&) = delete;
  KeyFolder& operator=(const KeyFolder&) = delete;
  fs::path key() const { return dir_ / "key"; }

 private:
  fs::path dir_;
};

GitEnv git_env(const agentproto::GitSyncSpec& spec, const KeyFolder* key) {
  GitEnv env;
  const char* path = std::getenv("PATH");
  const char* home = std::getenv("HOME");
  env.vars = {std::string("PATH=") + (path ? path : "/usr/local/bin:/usr/bin:/bin"),
              std::string("HOME=") + (home ? home : "/nonexistent"),
              "GIT_TERMINAL_PROMPT=0",
              "GIT_CONFIG_NOSYSTEM=1",
              "GIT_CONFIG_GLOBAL=/dev/null",
              "GIT_ASKPASS=/bin/false",
              "SSH_ASKPASS=/bin/false",
              "LC_ALL=C"};
  if (spec.auth == agentproto::GitAuth::Token) {
    // Basic with any user name: what GitHub (x-access-token), GitLab and Gitea take for a token.
    env.vars.push_back("GIT_CONFIG_COUNT=1");
    env.vars.push_back("GIT_CONFIG_KEY_0=http.extraHeader");
    env.vars.push_back("GIT_CONFIG_VALUE_0=Authorization: Basic " +
                       security::base64_encode("x-access-token:" + spec.secret));
  }
  if (key)  // the key's path is a mkdtemp name under the temp folder: quoted for the shell git uses
    env.vars.push_back("GIT_SSH_COMMAND=ssh -F /dev/null -i '" + key->key().string() +
                       "' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new"
                       " -o UserKnownHostsFile=/dev/null");
  return env;
}

// What one git command did: its exit status and the end of its output.
struct Run {
  int status = -1;
  std::string output;
};

void keep_tail(std::string& out, std::string_view more) {
  out.append(more);
  if (out.size() > kGitOutputBytes) out.erase(0, out.size() - kGitOutputBytes);
}

// Reads the child's output until it closes or the deadline passes (then its group is killed).
bool drain(int fd, pid_t pid, Clock::time_point deadline, std::string& output) {
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      ::kill(-pid, SIGKILL);
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (ready < 0 && errno != EINTR) return true;
    if (ready <= 0) continue;
    auto n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    keep_tail(output, std::string_view(buf, static_cast<std::size_t>(n)));
  }
}

Run git(const fs::path& dir, std::vector<std::string> args, GitEnv& env, Clock::time_point deadline) {
  args.insert(args.begin(), {"git", "-C", dir.string()});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) throw RequestRefused("git_failed", std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = 0;
  auto envp = env.pointers();
  int rc = ::posix_spawnp(&pid, "git", &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    throw RequestRefused("git_failed", std::string("cannot run git: ") + std::strerror(rc));
  }
  Run run;
  bool in_time = drain(pipefd[0], pid, deadline, run.output);
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!in_time) throw RequestRefused("git_timeout", "git did not finish in time; output: " + run.output);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

// The target folder, inside the root, every step of the way a real folder (made when missing).
fs::path confined_target(const fs::path& root, const std::string& target) {
  fs::path at = root;
  for (const auto& part : fs::path(target)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") throw RequestRefused("target_not_confined", "the target path must not contain '..'");
    at /= part;
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) {
      if (errno != ENOENT || ::mkdir(at.c_str(), 0755) != 0)
        throw RequestRefused("target_not_confined", "cannot make " + part.string() + ": " + std::strerror(errno));
      continue;
    }
    if (S_ISLNK(st.st_mode)) throw RequestRefused("target_not_confined", "'" + part.string() + "' is a symlink");
    if (!S_ISDIR(st.st_mode)) throw RequestRefused("target_not_confined", "'" + part.string() + "' is not a folder");
  }
  struct stat st {};
  if (::lstat((at / ".git").c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
    throw RequestRefused("target_not_confined", "the target's .git is not a folder");
  return at;
}

void step(const fs::path& dir, std::vector<std::string> args, GitEnv& env, Clock::time_point deadline,
          std::string& output) {
  auto run = git(dir, args, env, deadline);
  keep_tail(output, run.output);
  if (run.status != 0)
    throw RequestRefused("git_failed", "git " + args.front() + " exited with " + std::to_string(run.status) + ": " +
                                           run.output.substr(run.output.size() > 2000 ? run.output.size() - 2000 : 0));
}

}  // namespace

GitSyncResult sync_repository(const fs::path& instances_dir, const agentproto::GitSyncSpec& spec) {
  auto root = instances_dir / spec.instance_id;
  struct stat st {};
  if (::lstat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw RequestRefused("instance_not_found", "instance " + spec.instance_id + " has no root on this node");
  auto dir = confined_target(root, spec.target);
  std::optional<KeyFolder> key;
  if (spec.auth == agentproto::GitAuth::SshKey) key.emplace(spec.secret);
  auto env = git_env(spec, key ? &*key : nullptr);
  auto deadline = Clock::now() + std::chrono::seconds(spec.timeout_s);
  GitSyncResult result;
  result.first = !fs::is_directory(dir / ".git");
  if (result.first) step(dir, {"init", "-q"}, env, deadline, result.output);
  std::string remote = "refs/remotes/origin/" + spec.branch;
  step(dir, {"fetch", "--depth", "1", "--no-tags", "--", spec.repository, "+refs/heads/" + spec.branch + ":" + remote},
       env, deadline, result.output);
  step(dir, {"reset", "-q", "--hard", remote}, env, deadline, result.output);
  auto head = git(dir, {"rev-parse", "HEAD"}, env, deadline);
  if (head.status != 0 || head.output.size() < 40) throw RequestRefused("git_failed", "git rev-parse HEAD: " + head.output);
  result.commit = head.output.substr(0, 40);
  common::log::info("git sync", {{"instance", spec.instance_id}, {"commit", result.commit}, {"first", result.first}});
  return result;
}

boost::json::object git_result_json(const GitSyncResult& result) {
  return {{"commit", result.commit}, {"first", result.first}, {"output", result.output}};
}

}  // namespace agent
