// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for from_json(): arbitrary text must parse or fail with
// an offset inside the input; a parsed config must survive to_json().
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nsenter/bootstrap_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = nsenter::from_json(text);
  if (!config) {
    if (config.error().offset > size) std::abort();
    return 0;
  }
  auto again = nsenter::from_json(nsenter::to_json(*config));
  if (!again || !(*again == *config)) std::abort();
  return 0;
}
