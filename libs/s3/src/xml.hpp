#pragma once
// Just enough XML for S3's answers: the text of named elements, entities decoded. S3's
// documents are flat and machine-written (no CDATA, no attributes on the elements read).
#include <string>
#include <string_view>
#include <vector>

namespace s3::xml {

// The raw content of every <tag>...</tag> in document, in order (nesting of the same tag is
// not supported; S3 does not nest them).
std::vector<std::string_view> elements(std::string_view document, std::string_view tag);

// The decoded text of the first <tag> in document, "" when absent.
std::string text(std::string_view document, std::string_view tag);

// &amp; &lt; &gt; &quot; &apos; and numeric references decoded.
std::string decode(std::string_view raw);

// & < > escaped for element content.
std::string escape(std::string_view text);

}  // namespace s3::xml
