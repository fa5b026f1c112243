// SPDX-License-Identifier: Apache-2.0
// decode_view(): the allocation-free decode the child side plans from.
#include "nsenter/bootstrap_view.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <new>
#include <string>

#include "nsenter/wire.hpp"
#include "support/message_builder.hpp"
#include "support/test_util.hpp"

namespace wire = nsenter::wire;
using namespace nsenter::test;

// Counts every operator new in this binary, to show decode_view() makes none.
static std::size_t g_news = 0;
void* operator new(std::size_t n) {
  ++g_news;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC cannot see that this pair matches the operator new above.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace {
wire::ByteView bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
bool inside(std::string_view view, const std::string& buffer) {
  return view.data() >= buffer.data() && view.data() + view.size() <= buffer.data() + buffer.size();
}
}  // namespace

TEST_CASE("decode_view allocates nothing, on success and on error") {
  const std::string msg = MessageBuilder()
                              .u32(kCloneFlags, CLONE_NEWUSER | CLONE_NEWNS)
                              .str(kNsPaths, "net:/proc/1/ns/net,uts:/proc/1/ns/uts")
                              .str(kUidMapPath, "/usr/bin/newuidmap")
                              .str(kUidMap, "0 1000 1\n1 100000 65536\n")
                              .str(kOomScoreAdj, "-10")
                              .str(kMountSources, std::string("/a\0\0/b\0", 7))
                              .build();
  const std::string bad = MessageBuilder().str(kNsPaths, "net:/a,bogus:/b").build();
  const std::size_t before = g_news;
  auto view = wire::decode_view(bytes_of(msg));
  auto error = wire::decode_view(bytes_of(bad));
  const std::size_t during = g_news - before;
  REQUIRE_MESSAGE(view.has_value(), nsenter::to_string(view.error()));
  REQUIRE(!error.has_value());
  CHECK(error.error().code == nsenter::Code::UnknownNsKind);
  CHECK(during == 0);
  // The counter does see allocations: the owning decode makes some.
  const std::size_t owning_before = g_news;
  REQUIRE(wire::decode(msg).has_value());
  CHECK(g_news > owning_before);
}

TEST_CASE("views point into the message; C strings stay NUL-terminated there") {
  const std::string msg = read_file("tests/data/runc/rootless_multi.bin");
  auto view = wire::decode_view(bytes_of(msg));
  REQUIRE(view.has_value());
  CHECK(view->uid_map.text == "0 1001 1\n1 100000 65536\n");
  CHECK(view->uid_map.lines == 2);
  CHECK(inside(view->uid_map.text, msg));
  CHECK(view->uid_map_helper == "/usr/bin/newuidmap");
  CHECK(inside(view->uid_map_helper, msg));
  CHECK(view->uid_map_helper.data()[view->uid_map_helper.size()] == '\0');
  std::vector<nsenter::IdMapEntry> entries;
  view->gid_map.for_each([&](const nsenter::IdMapEntry& e) { entries.push_back(e); });
  CHECK(entries == std::vector<nsenter::IdMapEntry>{{0, 1001, 1}, {1, 100000, 65536}});

  const std::string mounts = read_file("tests/data/runc/bind_mounts.bin");
  auto with_mounts = wire::decode_view(bytes_of(mounts));
  REQUIRE(with_mounts.has_value());
  REQUIRE(with_mounts->mount_sources.has_value());
  CHECK(with_mounts->mount_sources->count == 9);
  std::vector<std::string> sources;
  with_mounts->mount_sources->for_each([&](std::string_view s) {
    CHECK(inside(s, mounts));
    CHECK(s.data()[s.size()] == '\0');
    sources.emplace_back(s);
  });
  CHECK(sources.back() == "/work/capture/bindsrc2");
}

TEST_CASE("to_bootstrap(decode_view(m)) is decode(m) for every captured message") {
  for (const char* name :
       {"root_default", "root_userns", "root_join", "rootless", "rootless_multi", "bind_mounts", "oom_negative"}) {
    CAPTURE(name);
    const std::string msg = read_file(fmt::format("tests/data/runc/{}.bin", name));
    auto view = wire::decode_view(bytes_of(msg));
    auto owned = wire::decode(msg);
    REQUIRE(view.has_value());
    REQUIRE(owned.has_value());
    CHECK(nsenter::to_bootstrap(*view) == *owned);
  }
}
