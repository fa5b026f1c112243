// SPDX-License-Identifier: Apache-2.0
// Randomized properties of the wire layer: encode -> decode -> encode is the
// identity on valid configs, and no prefix or single-byte corruption of a
// valid message makes decode crash, loop or accept something encode refuses.
#include "nsenter/wire.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>

#include "nsenter/bootstrap_json.hpp"
#include "support/test_util.hpp"

using nsenter::Bootstrap;
using nsenter::IdMapEntry;
using nsenter::NsKind;
namespace wire = nsenter::wire;
using nsenter::test::as_chars;

namespace {

class ConfigGenerator {
 public:
  explicit ConfigGenerator(std::uint32_t seed, wire::Profile profile = wire::Profile::Runc11)
      : rng_(seed), profile_(profile) {}

  Bootstrap next() {
    Bootstrap b;
    if (coin()) b.clone_flags = *nsenter::NsSet::from_clone_flags(pick(0u, ~0u) & nsenter::kAllNsFlags);
    if (coin()) {
      std::vector<NsKind> kinds;
      for (const auto& k : nsenter::kNsKinds) kinds.push_back(k.kind);
      std::shuffle(kinds.begin(), kinds.end(), rng_);
      kinds.resize(pick<std::size_t>(1, kinds.size()));
      for (NsKind k : kinds) b.ns_paths.push_back({k, path()});
    }
    if (coin()) b.uid_map = id_map();
    if (coin()) b.gid_map = id_map();
    if (coin()) b.setgroups = coin();
    if (coin()) b.oom_score_adj = pick(-1000, 1000);
    if (coin()) b.rootless_euid = coin();
    if (coin()) b.uid_map_helper = path();
    if (coin()) b.gid_map_helper = path();
    if (profile_ == wire::Profile::Runc12) {
      if (coin()) b.time_offsets.push_back(offset(nsenter::Clock::monotonic));
      if (coin()) b.time_offsets.push_back(offset(nsenter::Clock::boottime));
      if (coin()) std::reverse(b.time_offsets.begin(), b.time_offsets.end());
    } else if (coin()) {
      std::vector<std::string> sources(pick<std::size_t>(0, 12));
      for (auto& s : sources)
        if (coin()) s = path();
      b.mount_sources = std::move(sources);
    }
    return b;
  }

 private:
  template <class T>
  T pick(T lo, T hi) {
    return std::uniform_int_distribution<T>(lo, hi)(rng_);
  }
  bool coin() { return pick(0, 1) == 1; }

  // Absolute, without ',' (NS_PATHS' separator) or NUL; any other byte goes,
  // including non-ASCII and JSON-special ones.
  std::string path() {
    std::string p = "/";
    const auto n = pick<std::size_t>(0, 40);
    for (std::size_t i = 0; i < n; ++i) {
      char c;
      do c = static_cast<char>(pick(1, 255));
      while (c == ',');
      p += c;
    }
    return p;
  }

  // Disjoint ranges on both sides, built by cutting [0, 2^32-1) into pieces.
  std::vector<IdMapEntry> id_map() {
    const auto n = pick<std::size_t>(1, 6);
    std::vector<IdMapEntry> map;
    std::uint32_t inside = pick(0u, 1000u), outside = pick(0u, 100000u);
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t count = pick(1u, 70000u);
      map.push_back({inside, outside, count});
      inside += count + pick(0u, 10u);
      outside += count + pick(0u, 100000u);
    }
    std::shuffle(map.begin(), map.end(), rng_);
    return map;
  }

  nsenter::TimeOffset offset(nsenter::Clock c) {
    return {c, pick<std::int64_t>(INT64_MIN, INT64_MAX), pick<std::int64_t>(0, nsenter::kNanosPerSec - 1)};
  }

  std::mt19937 rng_;
  wire::Profile profile_;
};

}  // namespace

TEST_CASE("encode -> decode -> encode is the identity on random valid configs") {
  const std::uint32_t seed = 0x5eed0001;
  CAPTURE(seed);
  ConfigGenerator gen(seed);
  for (int i = 0; i < 3000; ++i) {
    CAPTURE(i);
    const Bootstrap config = gen.next();
    auto bytes = wire::encode(config, {.seq = static_cast<std::uint32_t>(i)});
    REQUIRE_MESSAGE(bytes.has_value(), nsenter::to_string(bytes.error()));
    auto back = wire::decode(*bytes);
    REQUIRE_MESSAGE(back.has_value(), nsenter::to_string(back.error()));
    REQUIRE(*back == config);
    auto again = wire::encode(*back, {.seq = static_cast<std::uint32_t>(i)});
    REQUIRE(again.has_value());
    REQUIRE(*again == *bytes);
    // The JSON form carries the same config.
    auto from_json = nsenter::from_json(nsenter::to_json(config));
    REQUIRE_MESSAGE(from_json.has_value(), nsenter::to_string(from_json.error()));
    REQUIRE(*from_json == config);
  }
}

TEST_CASE("the runc 1.2 profile round-trips too, time offsets included") {
  ConfigGenerator gen(0x5eed0005, wire::Profile::Runc12);
  for (int i = 0; i < 1000; ++i) {
    const Bootstrap config = gen.next();
    auto bytes = wire::encode(config, {.profile = wire::Profile::Runc12});
    REQUIRE_MESSAGE(bytes.has_value(), nsenter::to_string(bytes.error()));
    auto back = wire::decode(*bytes, wire::Profile::Runc12);
    REQUIRE_MESSAGE(back.has_value(), nsenter::to_string(back.error()));
    REQUIRE(*back == config);
    auto from_json = nsenter::from_json(nsenter::to_json(config));
    REQUIRE(from_json.has_value());
    REQUIRE(*from_json == config);
  }
}

TEST_CASE("every strict prefix of a valid message is rejected as short") {
  ConfigGenerator gen(0x5eed0002);
  for (int i = 0; i < 50; ++i) {
    auto bytes = wire::encode(gen.next());
    REQUIRE(bytes.has_value());
    for (std::size_t n = 0; n < bytes->size(); ++n) {
      auto r = wire::decode(wire::ByteView(bytes->data(), n));
      REQUIRE(!r.has_value());
      CHECK((r.error().code == nsenter::Code::ShortHeader || r.error().code == nsenter::Code::Truncated));
    }
  }
}

TEST_CASE("single-byte corruptions never yield a config that encode refuses") {
  ConfigGenerator gen(0x5eed0003);
  std::mt19937 rng(0x5eed0004);
  int accepted = 0, rejected = 0;
  for (int i = 0; i < 300; ++i) {
    auto bytes = wire::encode(gen.next());
    REQUIRE(bytes.has_value());
    for (int j = 0; j < 20; ++j) {
      wire::Bytes mutated = *bytes;
      mutated[std::uniform_int_distribution<std::size_t>(0, mutated.size() - 1)(rng)] =
          static_cast<std::uint8_t>(std::uniform_int_distribution<int>(0, 255)(rng));
      auto r = wire::decode(mutated);
      if (!r) {
        ++rejected;
        continue;
      }
      ++accepted;
      // Whatever decode accepts must be a config encode accepts and
      // reproduces exactly.
      auto re = wire::encode(*r);
      REQUIRE_MESSAGE(re.has_value(), nsenter::to_string(re.error()));
      auto back = wire::decode(*re);
      REQUIRE(back.has_value());
      CHECK(*back == *r);
    }
  }
  MESSAGE("corrupted messages: ", accepted, " accepted, ", rejected, " rejected");
  CHECK(rejected > 0);
  CHECK(accepted > 0);
}
