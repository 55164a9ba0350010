#include <gtest/gtest.h>

#include "sim/common/stats.hpp"

namespace nibble {
namespace {

TEST(Stats, RegistryKeepsOrderAndRejectsDuplicates) {
  StatRegistry registry;
  const auto cycles = registry.add("cycles", "cycles", "all cycles");
  const auto bytes = registry.add("dram_bytes_read", "bytes", "bytes read from DRAM");
  EXPECT_EQ(cycles, 0u);
  EXPECT_EQ(bytes, 1u);
  EXPECT_EQ(registry.at("dram_bytes_read"), bytes);
  EXPECT_THROW(registry.add("cycles", "cycles", "again"), std::logic_error);
  EXPECT_THROW(registry.at("nope"), std::logic_error);

  StatVector a(registry.size()), b(registry.size());
  a[cycles] = 10;
  b[cycles] = 5;
  b[bytes] = 64;
  a += b;
  EXPECT_EQ(a[cycles], 15u);
  EXPECT_EQ(a[bytes], 64u);
  StatVector wrong(1);
  EXPECT_THROW(a += wrong, std::logic_error);
}

}  // namespace
}  // namespace nibble
