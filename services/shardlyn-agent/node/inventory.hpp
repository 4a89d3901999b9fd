#pragma once
// The node's inventory, collected on request through the tunnel: system, network, disks,
// users, processes, containers (the instances the runtime driver runs).
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace agent {

inline const std::vector<std::string> kInventorySections = {"system", "network", "disks", "users", "processes",
                                                            "containers"};

struct InventorySources {
  std::filesystem::path proc_root = "/proc";
  std::filesystem::path etc_root = "/etc";
  std::filesystem::path data_dir;
  std::function<boost::json::array()> containers;  // the driver's instances
  // pid -> instance id of each instance's main process: each process's `instance_id`
  std::function<std::map<int, std::string>()> instance_mains;
};

// The named sections (empty = all) as one object; throws std::invalid_argument naming an
// unknown section.
boost::json::object collect_inventory(const InventorySources& sources, const std::vector<std::string>& sections);

}  // namespace agent
