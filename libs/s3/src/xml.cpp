#include "xml.hpp"

#include <cstdlib>

namespace s3::xml {

std::vector<std::string_view> elements(std::string_view document, std::string_view tag) {
  std::vector<std::string_view> out;
  std::string open = "<" + std::string(tag), close = "</" + std::string(tag) + ">";
  std::size_t at = 0;
  while ((at = document.find(open, at)) != std::string_view::npos) {
    std::size_t after = at + open.size();
    if (after >= document.size() || (document[after] != '>' && document[after] != ' ')) {
      at = after;  // <NameSuffix> is another tag
      continue;
    }
    std::size_t start = document.find('>', after);
    if (start == std::string_view::npos) break;
    if (document[start - 1] == '/') {  // <tag/>
      out.emplace_back();
      at = start + 1;
      continue;
    }
    std::size_t end = document.find(close, start + 1);
    if (end == std::string_view::npos) break;
    out.push_back(document.substr(start + 1, end - start - 1));
    at = end + close.size();
  }
  return out;
}

std::string text(std::string_view document, std::string_view tag) {
  auto found = elements(document, tag);
  return found.empty() ? std::string() : decode(found.front());
}

std::string decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::size_t semi = raw[i] == '&' ? raw.find(';', i) : std::string_view::npos;
    if (semi == std::string_view::npos) {
      out += raw[i];
      continue;
    }
    std::string_view entity = raw.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.size() > 1 && entity[0] == '#') {
      bool hex = entity[1] == 'x';
      unsigned long code = std::strtoul(std::string(entity.substr(hex ? 2 : 1)).c_str(), nullptr, hex ? 16 : 10);
      if (code < 0x80) {
        out += static_cast<char>(code);
      } else if (code < 0x800) {
        out += static_cast<char>(0xC0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3F));
      } else {
        out += static_cast<char>(0xE0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (code & 0x3F));
      }
    } else {
      out += raw.substr(i, semi - i + 1);  // unknown: kept as written
    }
    i = semi;
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

}  // namespace s3::xml
