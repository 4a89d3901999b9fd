#include "node/inventory.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <boost/json.hpp>

#include "node/metrics.hpp"
#include "node/processes.hpp"

namespace agent {

namespace {

constexpr std::size_t kMaxProcesses = 2000;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

boost::json::object system_section(const InventorySources& src) {
  utsname u{};
  ::uname(&u);
  auto mem = parse_meminfo(slurp(src.proc_root / "meminfo"));
  double uptime = 0;
  std::istringstream(slurp(src.proc_root / "uptime")) >> uptime;
  std::string os = "linux";
  std::istringstream release(slurp(src.etc_root / "os-release"));
  for (std::string line; std::getline(release, line);)
    if (line.starts_with("PRETTY_NAME=")) {
      os = line.substr(12);
      os.erase(std::remove(os.begin(), os.end(), '"'), os.end());
    }
  return {{"hostname", u.nodename}, {"kernel", u.release},     {"arch", u.machine},
          {"os", os},               {"cpu_count", ::sysconf(_SC_NPROCESSORS_ONLN)},
          {"memory_bytes", mem.total_bytes}, {"uptime_s", static_cast<std::uint64_t>(uptime)}};
}

boost::json::array network_section(const InventorySources& src) {
  boost::json::array out;
  for (const auto& i : parse_net_dev(slurp(src.proc_root / "net" / "dev")).interfaces)
    out.push_back({{"name", i.name}, {"rx_bytes", i.rx_bytes}, {"tx_bytes", i.tx_bytes}});
  return out;
}

boost::json::array disks_section(const InventorySources& src) {
  auto d = disk_usage(src.data_dir);
  return {boost::json::object{{"path", d.path}, {"total_bytes", d.total_bytes}, {"free_bytes", d.free_bytes}}};
}

boost::json::array users_section(const InventorySources& src) {
  boost::json::array out;
  std::istringstream in(slurp(src.etc_root / "passwd"));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string part; std::getline(fields, part, ':');) f.push_back(part);
    if (f.size() < 7) continue;
    out.push_back({{"name", f[0]}, {"uid", std::stoll(f[2])}, {"gid", std::stoll(f[3])}, {"home", f[5]}, {"shell", f[6]}});
  }
  return out;
}

struct ProcessEntry {
  int pid = 0;
  std::string name;
  ProcStat stat;
};

std::vector<ProcessEntry> read_processes(const std::filesystem::path& proc_root) {
  std::vector<ProcessEntry> out;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root)) {
    auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    auto text = slurp(entry.path() / "stat");
    auto stat = parse_proc_pid_stat(text);
    if (!stat) continue;  // ended meanwhile
    auto open = text.find('('), close = text.rfind(')');
    out.push_back({std::stoi(name), text.substr(open + 1, close - open - 1), *stat});
    if (out.size() >= kMaxProcesses) break;
  }
  return out;
}

// Each process with the instance it belongs to (null: none of this agent's instances), by the
// same rule the process kill checks.
boost::json::array processes_section(const InventorySources& src) {
  auto processes = read_processes(src.proc_root);
  std::map<int, const ProcStat*> by_pid;
  for (const auto& p : processes) by_pid[p.pid] = &p.stat;
  StatLookup lookup = [&](int pid) -> std::optional<ProcStat> {
    auto found = by_pid.find(pid);
    if (found == by_pid.end()) return std::nullopt;
    return *found->second;
  };
  auto mains = src.instance_mains ? src.instance_mains() : std::map<int, std::string>{};
  auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  boost::json::array out;
  for (const auto& p : processes) {
    auto owner = owning_instance(lookup, p.pid, mains);
    out.push_back({{"pid", p.pid},
                   {"ppid", p.stat.ppid},
                   {"name", p.name},
                   {"state", std::string(1, p.stat.state)},
                   {"rss_bytes", p.stat.rss_pages * page},
                   {"instance_id", owner ? boost::json::value(*owner) : boost::json::value(nullptr)}});
  }
  return out;
}

}  // namespace

boost::json::object collect_inventory(const InventorySources& src, const std::vector<std::string>& sections) {
  for (const auto& s : sections)
    if (std::find(kInventorySections.begin(), kInventorySections.end(), s) == kInventorySections.end())
      throw std::invalid_argument("unknown inventory section '" + s + "'");
  auto wanted = [&](const char* s) { return sections.empty() || std::find(sections.begin(), sections.end(), s) != sections.end(); };
  boost::json::object out;
  if (wanted("system")) out["system"] = system_section(src);
  if (wanted("network")) out["network"] = network_section(src);
  if (wanted("disks")) out["disks"] = disks_section(src);
  if (wanted("users")) out["users"] = users_section(src);
  if (wanted("processes")) out["processes"] = processes_section(src);
  if (wanted("containers")) out["containers"] = src.containers ? src.containers() : boost::json::array{};
  return out;
}

}  // namespace agent
