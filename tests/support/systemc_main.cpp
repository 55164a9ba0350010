// Entry point of SystemC test binaries: libsystemc owns main() and calls sc_main.
#include <gtest/gtest.h>

#include <cstdlib>
#include <systemc>

namespace {
// Keep the SystemC banner out of test logs (runs before main()).
const bool kQuietSystemC = ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0) == 0;
}  // namespace

int sc_main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
