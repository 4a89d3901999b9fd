#pragma once
// A service's own web pages (HTML, CSS, JavaScript embedded from services/<name>/assets/).
#include <span>
#include <string_view>

#include "common/embedded.hpp"
#include "common/http.hpp"

namespace common {

// The file `name` of `files` with its content type and this Content-Security-Policy; throws
// ApiError 404 when there is no such file.
Response page_file(std::span<const EmbeddedFile> files, std::string_view name, std::string_view csp);

}  // namespace common
