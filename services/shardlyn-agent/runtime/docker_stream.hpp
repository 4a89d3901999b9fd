#pragma once
// Decoders for the engine's streams: HTTP chunked transfer coding, and the multiplexed frames
// of a container without a TTY (an 8-byte head: stream type, three zero bytes, big-endian length).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace agent {

class ChunkDecoder {
 public:
  // Appends the payload bytes found in `bytes` to `out`; throws RuntimeError on bad framing.
  void feed(std::string_view bytes, std::string& out);
  bool finished() const { return state_ == State::Done; }

 private:
  enum class State { Size, Data, DataEnd, Trailer, Done };
  State state_ = State::Size;
  std::string line_;
  std::uint64_t left_ = 0;
};

struct StreamFrame {
  int stream = 1;  // 0 stdin, 1 stdout, 2 stderr
  std::string data;
};

class FrameDemuxer {
 public:
  std::vector<StreamFrame> feed(std::string_view bytes);

 private:
  std::string buffer_;
};

}  // namespace agent
