// SPDX-License-Identifier: Apache-2.0
// nsenter: a vector with its capacity inline, for data that must not touch
// the heap (decoded views, plans carried across clone).
#pragma once

#include <array>
#include <cstddef>

#include "nsenter/version.hpp"

NSENTER_BEGIN_NAMESPACE
namespace detail {

template <class T, std::size_t N>
class FixedVector {
 public:
  constexpr std::size_t size() const noexcept { return size_; }
  static constexpr std::size_t capacity() noexcept { return N; }
  constexpr bool empty() const noexcept { return size_ == 0; }
  constexpr bool full() const noexcept { return size_ == N; }

  // The caller checks full() first; pushing past capacity is a bug, and the
  // element is dropped rather than written out of bounds.
  constexpr void push_back(const T& v) noexcept {
    if (size_ < N) items_[size_++] = v;
  }

  constexpr const T& operator[](std::size_t i) const noexcept { return items_[i]; }
  constexpr const T* begin() const noexcept { return items_.data(); }
  constexpr const T* end() const noexcept { return items_.data() + size_; }

 private:
  std::array<T, N> items_{};
  std::size_t size_ = 0;
};

}  // namespace detail
NSENTER_END_NAMESPACE
