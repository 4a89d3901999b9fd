#pragma once
// Field rules every service that signs people in applies the same way.
#include <string>
#include <string_view>

namespace identity {

// An address a mail can be sent to, in the common dot-atom form (RFC 5321/5322 without quoted
// local parts, comments or address literals, which no sign-up needs and which mail systems
// handle unevenly): at most 254 characters; one '@'; a local part of 1-64 characters from
// letters, digits and !#$%&'*+/=?^_`{|}~.- with no leading, trailing or doubled dot; a domain of
// two or more dot-separated labels of 1-63 letters, digits or '-', no label starting or ending
// with '-', the last label holding a letter. Both services once had their own, looser or
// stricter, check; this is the stricter one.
bool valid_email(std::string_view address);

// The address as stored and compared: ASCII lower case (the rule above admits ASCII only).
std::string normalized_email(std::string_view address);

}  // namespace identity
