#include "runtime/docker_stream.hpp"

#include <charconv>

#include "runtime/driver.hpp"

namespace agent {

void ChunkDecoder::feed(std::string_view bytes, std::string& out) {
  std::size_t i = 0;
  while (i < bytes.size() && state_ != State::Done) {
    if (state_ == State::Data) {
      auto n = std::min<std::uint64_t>(left_, bytes.size() - i);
      out.append(bytes.substr(i, n));
      i += n;
      left_ -= n;
      if (left_ == 0) state_ = State::DataEnd;
      continue;
    }
    char c = bytes[i++];
    if (c != '\n') {
      if (c != '\r') line_.push_back(c);
      if (line_.size() > 1024) throw RuntimeError("chunked stream: line too long");
      continue;
    }
    std::string line = std::move(line_);
    line_.clear();
    if (state_ == State::DataEnd) {
      if (!line.empty()) throw RuntimeError("chunked stream: data longer than its chunk size");
      state_ = State::Size;
    } else if (state_ == State::Size) {
      auto end = line.find(';');  // chunk extensions are ignored
      std::string_view size = std::string_view(line).substr(0, end);
      auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), left_, 16);
      if (ec != std::errc() || size.empty() || p != size.data() + size.size())
        throw RuntimeError("chunked stream: bad chunk size '" + line + "'");
      state_ = left_ == 0 ? State::Trailer : State::Data;
    } else if (state_ == State::Trailer && line.empty()) {
      state_ = State::Done;
    }
  }
}

std::vector<StreamFrame> FrameDemuxer::feed(std::string_view bytes) {
  buffer_.append(bytes);
  std::vector<StreamFrame> frames;
  while (buffer_.size() >= 8) {
    auto b = [&](int k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(buffer_[k])); };
    std::uint32_t length = b(4) << 24 | b(5) << 16 | b(6) << 8 | b(7);
    if (b(0) > 3 || b(1) || b(2) || b(3)) throw RuntimeError("container stream: not a multiplexed frame");
    if (buffer_.size() < 8 + std::size_t(length)) break;
    frames.push_back({static_cast<int>(b(0)), buffer_.substr(8, length)});
    buffer_.erase(0, 8 + std::size_t(length));
  }
  return frames;
}

}  // namespace agent
