#include "common/page_files.hpp"

#include <string>
#include <utility>

#include "common/error.hpp"

namespace common {

Response page_file(std::span<const EmbeddedFile> files, std::string_view name, std::string_view csp) {
  for (const auto& file : files) {
    if (file.name != name) continue;
    std::string type = "application/javascript; charset=utf-8";
    if (name.ends_with(".html")) type = "text/html; charset=utf-8";
    if (name.ends_with(".css")) type = "text/css; charset=utf-8";
    Response res = Response::text(std::string(file.data), std::move(type));
    res.headers.set("Content-Security-Policy", std::string(csp));
    return res;
  }
  throw ApiError::not_found("no such file");
}

}  // namespace common
