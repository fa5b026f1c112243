// SPDX-License-Identifier: Apache-2.0
// A test-only builder of raw bootstrap messages that, unlike wire::encode(),
// can produce every malformed shape: wrong lengths, missing NULs, bad types.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace nsenter::test {

class MessageBuilder {
 public:
  MessageBuilder() : bytes_(16, '\0') {}

  // An attribute with an explicit nla_len (defaults to header + payload) and
  // zero padding to 4 bytes unless `pad` is false.
  MessageBuilder& attr(std::uint16_t type, std::string_view payload, int nla_len = -1, bool pad = true) {
    const auto len = static_cast<std::uint16_t>(nla_len >= 0 ? nla_len : static_cast<int>(4 + payload.size()));
    put16(len);
    put16(type);
    bytes_.append(payload);
    if (pad)
      while (bytes_.size() % 4 != 0) bytes_ += '\0';
    return *this;
  }

  // A string attribute as runc sends it: payload, NUL, padding.
  MessageBuilder& str(std::uint16_t type, std::string_view s) {
    std::string payload(s);
    payload += '\0';
    return attr(type, payload);
  }

  MessageBuilder& u32(std::uint16_t type, std::uint32_t v) {
    char raw[4];
    std::memcpy(raw, &v, 4);
    return attr(type, std::string_view(raw, 4));
  }

  MessageBuilder& raw(std::string_view bytes) {
    bytes_.append(bytes);
    return *this;
  }

  std::size_t size() const { return bytes_.size(); }

  // Fills in the header. nlmsg_len defaults to the real size.
  std::string build(std::uint16_t type = 62000, std::int64_t len = -1) const {
    std::string out = bytes_;
    const auto l = static_cast<std::uint32_t>(len >= 0 ? len : static_cast<std::int64_t>(out.size()));
    std::memcpy(&out[0], &l, 4);
    std::memcpy(&out[4], &type, 2);
    const std::uint16_t flags = 1;
    const std::uint32_t seq = 7;
    std::memcpy(&out[6], &flags, 2);
    std::memcpy(&out[8], &seq, 4);
    return out;
  }

 private:
  void put16(std::uint16_t v) {
    char raw[2];
    std::memcpy(raw, &v, 2);
    bytes_.append(raw, 2);
  }

  std::string bytes_;
};

// Attribute type numbers, spelled out so the tests do not depend on the
// library's own table.
inline constexpr std::uint16_t kCloneFlags = 27281, kNsPaths = 27282, kUidMap = 27283, kGidMap = 27284,
                               kSetGroup = 27285, kOomScoreAdj = 27286, kRootlessEuid = 27287,
                               kUidMapPath = 27288, kGidMapPath = 27289, kMountSources = 27290;

}  // namespace nsenter::test
