#pragma once
// A throw-away PostgreSQL cluster (initdb + pg_ctl) in its own temporary directory, listening
// on a free loopback port; stopped and removed on destruction. Run as root, the server runs as
// the postgres user (PostgreSQL refuses to run as root).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "temp_dir.hpp"

namespace store_test {

class PgCluster {
 public:
  PgCluster() : port_(free_port()) {
    if (geteuid() == 0) {
      run("chown postgres: '" + dir_.path().string() + "'");
      as_user_ = "runuser -u postgres -- ";
    }
    run(as_user_ + tool("initdb") + " -D '" + data() + "' -U postgres -A trust -E UTF8 --no-sync > '" +
        (dir_ / "initdb.log").string() + "' 2>&1");
    start();
  }
  ~PgCluster() { std::system((as_user_ + tool("pg_ctl") + " -D '" + data() + "' -m immediate -w stop >/dev/null 2>&1").c_str()); }
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  void start() {
    run(as_user_ + tool("pg_ctl") + " -D '" + data() + "' -l '" + (dir_ / "server.log").string() + "' -w -o \"-p " +
        std::to_string(port_) + " -k '" + dir_.path().string() +
        "' -c listen_addresses=127.0.0.1 -c fsync=off\" start > /dev/null");
  }
  void stop() { run(as_user_ + tool("pg_ctl") + " -D '" + data() + "' -m fast -w stop > /dev/null"); }
  std::string url() const { return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres"; }

 private:
  static std::string tool(const std::string& name) {
    const std::filesystem::path debian = "/usr/lib/postgresql/15/bin/" + name;
    return std::filesystem::exists(debian) ? debian.string() : name;
  }
  static void run(const std::string& command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  static int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      close(fd);
      throw std::runtime_error("no free loopback port");
    }
    close(fd);
    return ntohs(address.sin_port);
  }
  std::string data() const { return (dir_ / "data").string(); }

  TempDir dir_;
  int port_;
  std::string as_user_;
};

}  // namespace store_test
