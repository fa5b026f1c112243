// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for wire::decode(). Beyond "no crash, no leak, no UB"
// (ASan + UBSan), it checks the decoder's contract: whatever decode()
// accepts, encode() accepts too and reproduces as a message that decodes to
// the same config.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "nsenter/bootstrap_json.hpp"
#include "nsenter/wire.hpp"

namespace {

void check(const std::uint8_t* data, std::size_t size, nsenter::wire::Profile profile) {
  namespace wire = nsenter::wire;
  auto view = wire::decode_view(wire::ByteView(data, size), profile);
  auto config = wire::decode(wire::ByteView(data, size), profile);
  // The allocation-free and the owning decode agree on every input.
  if (view.has_value() != config.has_value()) std::abort();
  if (view && !(nsenter::to_bootstrap(*view) == *config)) std::abort();
  if (!view && (view.error().code != config.error().code || view.error().offset != config.error().offset))
    std::abort();
  if (!config) {
    // Errors must render without overflowing and point inside the input.
    (void)nsenter::to_string(config.error());
    if (config.error().offset != nsenter::kNoOffset && config.error().offset > size) std::abort();
    return;
  }
  auto bytes = wire::encode(*config, {.profile = profile});
  if (!bytes) {
    std::fprintf(stderr, "decode accepted what encode refuses: %s\n", nsenter::to_string(bytes.error()).c_str());
    std::abort();
  }
  auto back = wire::decode(*bytes, profile);
  if (!back || !(*back == *config)) {
    std::fprintf(stderr, "re-encoded message does not decode to the same config\n");
    std::abort();
  }
  auto json = nsenter::from_json(nsenter::to_json(*config));
  if (!json || !(*json == *config)) {
    std::fprintf(stderr, "JSON form does not round-trip\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check(data, size, nsenter::wire::Profile::Runc11);
  check(data, size, nsenter::wire::Profile::Runc12);
  return 0;
}
