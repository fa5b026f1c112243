// SPDX-License-Identifier: Apache-2.0
// nsenter: reading one bootstrap message from the init pipe. Exact reads,
// EINTR retried, and no allocation before the header's length is checked.
#pragma once

#include <errno.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>

#include "nsenter/error.hpp"
#include "nsenter/result.hpp"
#include "nsenter/version.hpp"
#include "nsenter/wire.hpp"

NSENTER_BEGIN_NAMESPACE

// Reads until `buf` is full. Returns the number of bytes read, which is less
// than buf.size() only at EOF; a failing read(2) yields its errno.
inline Result<std::size_t> read_exact(int fd, std::span<std::uint8_t> buf, Op op) noexcept {
  std::size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return make_sys_error(op, err, detail::detail_text("read fd {}", fd));
    }
    got += static_cast<std::size_t>(n);
  }
  return got;
}

// Reads exactly one bootstrap message from `fd` (a stream: the init pipe is
// a SOCK_STREAM socketpair) and returns its raw bytes, header included.
// EOF before the first byte and EOF in the middle are both Code::Truncated,
// with "got N of M bytes"; the body is allocated only after decode_header()
// has bounded nlmsg_len by kMaxMessageBytes.
inline Result<wire::Bytes> read_message(int fd) {
  std::array<std::uint8_t, kNlMsgHeaderBytes> head{};
  auto got = read_exact(fd, head, Op::ReadBootstrap);
  if (!got) return got.error();
  if (*got < head.size())
    return make_error(Op::ReadBootstrap, Code::Truncated, static_cast<std::uint32_t>(*got),
                      fmt::format("got {} of {} header bytes", *got, head.size()));
  auto header = wire::decode_header(head);
  if (!header) {
    Error e = header.error();
    e.op = Op::ReadBootstrap;
    return e;
  }
  wire::Bytes msg(header->len);
  std::memcpy(msg.data(), head.data(), head.size());
  auto body = std::span<std::uint8_t>(msg).subspan(head.size());
  got = read_exact(fd, body, Op::ReadBootstrap);
  if (!got) return got.error();
  if (*got < body.size())
    return make_error(Op::ReadBootstrap, Code::Truncated, static_cast<std::uint32_t>(head.size() + *got),
                      fmt::format("got {} of {} bytes", head.size() + *got, header->len));
  return msg;
}

NSENTER_END_NAMESPACE
