// SPDX-License-Identifier: Apache-2.0
// Error rendering: the one golden text, truncation and escaping of details.
#include "nsenter/error.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using nsenter::Code;
using nsenter::Op;

TEST_CASE("rendered errors read as one line: op, cause, detail, offset, strerror") {
  CHECK(nsenter::to_string(nsenter::make_error(Op::DecodeBootstrap, Code::UnknownAttr, 40, "type 12345")) ==
        "decode bootstrap: unknown attribute type: type 12345 (at byte 40)");
  CHECK(nsenter::to_string(nsenter::make_sys_error(Op::ReadBootstrap, EBADF, "read fd 9")) ==
        "read bootstrap: read fd 9: Bad file descriptor");
  CHECK(nsenter::to_string(nsenter::make_error(Op::EncodeBootstrap, Code::BadOomScoreAdj)) ==
        "encode bootstrap: oom_score_adj is not an integer in -1000..1000");
  CHECK(nsenter::to_string(nsenter::make_sys_error(Op::None, 4095)) == "errno 4095");
}

TEST_CASE("details are escaped and cut with a marker, never overflowing") {
  auto e = nsenter::make_error(Op::DecodeBootstrap, Code::BadNsPath, 0, std::string("/a\nb\\\xff", 6));
  CHECK(e.detail_view() == "/a\\x0ab\\x5c\\xff");
  const std::string long_path(500, 'x');
  e = nsenter::make_error(Op::DecodeBootstrap, Code::BadNsPath, 0, long_path);
  CHECK(e.detail_view().size() == nsenter::kErrorDetailBytes - 1);
  CHECK(e.detail_view().substr(e.detail_view().size() - 3) == "...");
  // Exactly full: no marker.
  e = nsenter::make_error(Op::DecodeBootstrap, Code::BadNsPath, 0, std::string(nsenter::kErrorDetailBytes - 1, 'y'));
  CHECK(e.detail_view() == std::string(nsenter::kErrorDetailBytes - 1, 'y'));
  // An escape is never split by the cut.
  e = nsenter::make_error(Op::DecodeBootstrap, Code::BadNsPath, 0, std::string(200, '\x01'));
  CHECK(e.detail_view().size() == (nsenter::kErrorDetailBytes - 1 - 3) / 4 * 4 + 3);
}

TEST_CASE("render_error truncates into a small buffer and stays NUL-terminated") {
  const auto e = nsenter::make_error(Op::DecodeBootstrap, Code::UnknownAttr, 40, "type 12345");
  char buf[12];
  const auto text = nsenter::render_error(e, buf, sizeof buf);
  CHECK(text == "decode boot");
  CHECK(buf[11] == '\0');
  CHECK(nsenter::render_error(e, buf, 0).empty());
}
