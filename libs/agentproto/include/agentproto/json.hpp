#pragma once
// JSON for the protocol records (boost::json::value_from / value_to through tag_invoke), and
// text in and out. Readers are strict: a top-level document must carry "v": 1; a missing,
// mistyped or unknown field throws ProtocolError naming it ("heartbeat.metrics.cpu.usage").
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/conversion.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include "agentproto/messages.hpp"

namespace agentproto {

#define AGENTPROTO_JSON(T)                                                         \
  void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const T& m); \
  T tag_invoke(boost::json::value_to_tag<T>, const boost::json::value& in);

AGENTPROTO_JSON(RegisterRequest)
AGENTPROTO_JSON(RegisterResponse)
AGENTPROTO_JSON(InstanceStats)  // the stats object of an instance report (no "v": a part)
AGENTPROTO_JSON(Heartbeat)
AGENTPROTO_JSON(HeartbeatResponse)
AGENTPROTO_JSON(DesiredState)
AGENTPROTO_JSON(EventBatch)
AGENTPROTO_JSON(OpenChannel)
AGENTPROTO_JSON(ChannelData)
AGENTPROTO_JSON(ChannelCredit)
AGENTPROTO_JSON(CloseChannel)
AGENTPROTO_JSON(TunnelRequest)
AGENTPROTO_JSON(TunnelResponse)
#undef AGENTPROTO_JSON

// One tunnel frame; its "type" says which ("open", "data", "credit", "close", "request", "response").
using TunnelFrame = std::variant<OpenChannel, ChannelData, ChannelCredit, CloseChannel, TunnelRequest, TunnelResponse>;
void tag_invoke(boost::json::value_from_tag, boost::json::value& out, const TunnelFrame& frame);
TunnelFrame tag_invoke(boost::json::value_to_tag<TunnelFrame>, const boost::json::value& in);

std::string write_value(const boost::json::value& value);
boost::json::value parse_value(std::string_view text, const char* document);

// JSON text of a message (numbers written plainly, common::write_json).
template <class T>
std::string to_text(const T& message) {
  return write_value(boost::json::value_from(message));
}
// Parses text into a message; text that is not JSON is a ProtocolError on `document`.
template <class T>
T from_text(std::string_view text, const char* document = "message") {
  return boost::json::value_to<T>(parse_value(text, document));
}

}  // namespace agentproto
