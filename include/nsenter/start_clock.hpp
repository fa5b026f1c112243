// SPDX-License-Identifier: Apache-2.0
// nsenter: where the time of one init start goes. At log level debug the
// pipeline stamps each step into a page shared by its three stages (made
// before the first clone), and stage 0 ends with one debug record that
// breaks the start down:
//   start (us): boot 612, protection 0, read 21, plan 9, joins 95, unshares 140, maps 33, stage 2 180, total 1090
// Below debug nothing is mapped and nothing is stamped. The Launcher parses
// the record back (StartBreakdown) and `nsrun --log-level=debug` prints it.
#pragma once

#include <fmt/format.h>
#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <new>
#include <optional>
#include <string_view>

#include "nsenter/detail/decimal.hpp"
#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE

inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// The steps, in the order they happen.
enum class StartStep : std::uint8_t {
  Spawned,        // the runtime spawned the init (from its environment; 0 if it did not say)
  Began,          // the pipeline began, before self-protection's re-exec if there was one
  Protected,      // self-protection done
  MessageRead,    // handshake sent, message read
  Planned,        // decoded and planned
  Joined,         // stage 1 joined what it had to
  MapsAsked,      // stage 0 got the request for id maps
  MapsWritten,    // stage 0 wrote them
  Unshared,       // stage 1 created the rest
  Released,       // stage 0 let stage 2 go
  Done,           // stage 2 reported back
  Count,
};

// The figures of the breakdown record, in microseconds (-1: not known).
struct StartBreakdown {
  long long boot = -1, protection = -1, read = -1, plan = -1, joins = -1, unshares = -1, maps = -1, stage2 = -1,
            total = -1;
};

class StartClock {
 public:
  // Maps the shared page; call before the first clone. `began` is the
  // pipeline's start (kept across the self-protection re-exec).
  void enable(std::uint64_t spawned, std::uint64_t began) noexcept {
    void* page = ::mmap(nullptr, sizeof(Stamps), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return;
    stamps_ = new (page) Stamps{};
    stamps_->at[index(StartStep::Spawned)] = spawned;
    stamps_->at[index(StartStep::Began)] = began;
  }
  bool enabled() const noexcept { return stamps_ != nullptr; }

  void mark(StartStep step) const noexcept {
    if (stamps_) stamps_->at[index(step)] = monotonic_ns();
  }
  // Microseconds since the init started (since it was spawned, when the
  // runtime said when); 0 when disabled.
  long long elapsed_us() const noexcept {
    if (!stamps_) return 0;
    const std::uint64_t from = origin();
    const std::uint64_t now = monotonic_ns();
    return now > from ? static_cast<long long>((now - from) / 1000) : 0;
  }

  StartBreakdown breakdown() const noexcept {
    StartBreakdown b;
    if (!stamps_) return b;
    auto us = [&](StartStep from, StartStep to) -> long long {
      const std::uint64_t a = stamps_->at[index(from)], z = stamps_->at[index(to)];
      return a != 0 && z >= a ? static_cast<long long>((z - a) / 1000) : -1;
    };
    using S = StartStep;
    b.boot = us(S::Spawned, S::Began);
    b.protection = us(S::Began, S::Protected);
    b.read = us(S::Protected, S::MessageRead);
    b.plan = us(S::MessageRead, S::Planned);
    b.joins = us(S::Planned, S::Joined);
    b.maps = stamps_->at[index(S::MapsAsked)] != 0 ? us(S::MapsAsked, S::MapsWritten) : 0;
    const long long unshared = us(S::Joined, S::Unshared);
    b.unshares = unshared >= 0 && b.maps >= 0 ? unshared - b.maps : unshared;
    b.stage2 = us(S::Unshared, S::Done);
    const std::uint64_t done = stamps_->at[index(S::Done)];
    b.total = done != 0 ? static_cast<long long>((done - origin()) / 1000) : -1;
    return b;
  }

 private:
  struct Stamps {
    std::array<std::uint64_t, static_cast<std::size_t>(StartStep::Count)> at;
  };
  static constexpr std::size_t index(StartStep s) noexcept { return static_cast<std::size_t>(s); }
  std::uint64_t origin() const noexcept {
    const std::uint64_t spawned = stamps_->at[index(StartStep::Spawned)];
    return spawned != 0 ? spawned : stamps_->at[index(StartStep::Began)];
  }

  Stamps* stamps_ = nullptr;  // shared by the stages; never unmapped (the stages _exit or exec)
};

inline constexpr std::string_view kBreakdownPrefix = "start (us): ";

// The record's text, written on the stack: `out` must hold 200 bytes.
inline std::size_t format_breakdown(const StartBreakdown& b, char* out, std::size_t size) noexcept {
  const auto r = fmt::format_to_n(out, size,
                                  "{}boot {}, protection {}, read {}, plan {}, joins {}, unshares {}, maps {}, stage 2 {}, "
                                  "total {}",
                                  kBreakdownPrefix, b.boot, b.protection, b.read, b.plan, b.joins, b.unshares, b.maps,
                                  b.stage2, b.total);
  return std::min(r.size, size);
}

// A debug record's text without the "+612us " the logger put before it.
inline std::string_view without_elapsed(std::string_view text) noexcept {
  if (!text.starts_with('+')) return text;
  const std::size_t us = text.find("us ");
  if (us == std::string_view::npos) return text;
  for (std::size_t i = 1; i < us; ++i)
    if (text[i] < '0' || text[i] > '9') return text;
  return text.substr(us + 3);
}

// The figures back from a record's text; nullopt if it is no breakdown.
inline std::optional<StartBreakdown> parse_breakdown(std::string_view text) noexcept {
  if (!text.starts_with(kBreakdownPrefix)) return std::nullopt;
  text.remove_prefix(kBreakdownPrefix.size());
  StartBreakdown b;
  long long* fields[] = {&b.boot, &b.protection, &b.read, &b.plan, &b.joins, &b.unshares, &b.maps, &b.stage2, &b.total};
  constexpr std::string_view names[] = {"boot ", "protection ", "read ", "plan ", "joins ",
                                        "unshares ", "maps ", "stage 2 ", "total "};
  for (std::size_t i = 0; i < std::size(names); ++i) {
    if (i > 0) {
      if (!text.starts_with(", ")) return std::nullopt;
      text.remove_prefix(2);
    }
    if (!text.starts_with(names[i])) return std::nullopt;
    text.remove_prefix(names[i].size());
    std::size_t digits = text.starts_with('-') ? 1 : 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const auto value = detail::parse_decimal<long long>(text.substr(0, digits));
    if (!value) return std::nullopt;
    *fields[i] = *value;
    text.remove_prefix(digits);
  }
  if (!text.empty()) return std::nullopt;
  return b;
}

NSENTER_END_NAMESPACE
