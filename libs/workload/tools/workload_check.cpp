// workload-check: the workload library on the command line.
//   workload-check spec FILE...            one JSON line per file: {"file","valid","errors":[{field,message}]}
//   workload-check export FILE json|yaml   the spec in canonical form
//   workload-check egg FILE json|yaml      the egg imported as a workload
// Exit status: 0 when every input is valid, 1 when one is not, 2 on usage errors.
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/json.hpp>

#include "workload/egg.hpp"
#include "workload/spec.hpp"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

boost::json::array error_array(const workload::SpecError& e) {
  boost::json::array out;
  for (const auto& f : e.errors()) out.push_back({{"field", f.field}, {"message", f.message}});
  return out;
}

int check_specs(int argc, char** argv) {
  int status = 0;
  for (int i = 2; i < argc; ++i) {
    boost::json::object line{{"file", argv[i]}, {"valid", true}, {"errors", boost::json::array()}};
    try {
      workload::parse_workload(read_file(argv[i]));
    } catch (const workload::SpecError& e) {
      line["valid"] = false;
      line["errors"] = error_array(e);
      status = 1;
    }
    std::cout << boost::json::serialize(line) << "\n";
  }
  return status;
}

int print(const workload::Workload& w, const std::string& format) {
  std::cout << (format == "json" ? workload::to_json_text(w) + "\n" : workload::to_yaml(w));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = "usage: workload-check spec FILE... | export FILE json|yaml | egg FILE json|yaml\n";
  if (argc < 3) return std::cerr << usage, 2;
  const std::string command = argv[1];
  try {
    if (command == "spec") return check_specs(argc, argv);
    const std::string format = argc > 3 ? argv[3] : "yaml";
    if (command == "export") return print(workload::parse_workload(read_file(argv[2])), format);
    if (command == "egg") return print(workload::import_egg(read_file(argv[2])).workload, format);
  } catch (const workload::SpecError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::cerr << usage;
  return 2;
}
