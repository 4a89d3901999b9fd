#include "common/page_files.hpp"

#include <string>

#include "common/error.hpp"

namespace common {

Response page_file(std::span<const EmbeddedFile> files, std::string_view name, std::string_view csp) {
  for (const auto& file : files) {
    if (file.name != name) continue;
    const char* type = name.ends_with(".html")  ? "text/html; charset=utf-8"
                       : name.ends_with(".css") ? "text/css; charset=utf-8"
                                                : "application/javascript; charset=utf-8";
    auto res = Response::text(std::string(file.data), type);
    res.headers.add("Content-Security-Policy", std::string(csp));
    return res;
  }
  throw ApiError::not_found("no such file");
}

}  // namespace common
