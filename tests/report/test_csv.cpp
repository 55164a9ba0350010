#include <gtest/gtest.h>

#include "sim/report/csv.hpp"

namespace nibble::report {
namespace {

TEST(Csv, QuotesOnlyWhatNeedsIt) {
  CsvWriter csv({"layer", "phase", "cycles"});
  csv.row({"conv1", "forward", CsvWriter::field(std::uint64_t{123})});
  csv.row({"a,b", "say \"hi\"", CsvWriter::field(0.25)});
  EXPECT_EQ(csv.str(), "layer,phase,cycles\nconv1,forward,123\n\"a,b\",\"say \"\"hi\"\"\",0.25\n");
  EXPECT_THROW(csv.row({"too", "few"}), std::logic_error);
}

}  // namespace
}  // namespace nibble::report
