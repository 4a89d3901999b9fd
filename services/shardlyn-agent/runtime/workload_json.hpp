#pragma once
// The runtime records as JSON: the workload file a supervisor reads, the exit record it
// leaves behind, and the lines of its socket protocol.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "runtime/driver.hpp"

namespace agent {

boost::json::object to_json(const Workload& workload);
// Throws RuntimeError naming the field when the document is not a workload.
Workload workload_from_json(const boost::json::value& value);

boost::json::object to_json(const ExitStatus& exit);
ExitStatus exit_from_json(const boost::json::value& value);

boost::json::object to_json(const OutputLine& line);
OutputLine line_from_json(const boost::json::value& value);

}  // namespace agent
