// Technology tables: the shipped tables hold the derivations their comments
// claim, and malformed or incomplete tables are errors that name the entry.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "sim/common/error.hpp"
#include "sim/common/text.hpp"
#include "sim/energy/builtin_tech.hpp"
#include "sim/energy/tech_table.hpp"

namespace nibble::energy {
namespace {

std::string builtin_text(const std::string& name) {
  for (const auto& t : builtin_tech_sources()) {
    if (name == t.name) return t.text;
  }
  ADD_FAILURE() << "no builtin table " << name;
  return "";
}

/// `text` with the first occurrence of `from` replaced by `to` (which must exist).
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

/// 1-based line of the first occurrence of `needle`.
std::int64_t line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  if (at == std::string::npos) return -1;
  std::int64_t line = 1;
  for (std::size_t i = 0; i < at; ++i) line += text[i] == '\n';
  return line;
}

/// Parses `text` expecting an InputError; returns it.
InputError parse_error(const std::string& text) {
  try {
    parse_tech_table(text, "bad.yaml");
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "expected an InputError";
  return InputError("", 0, "", "");
}

double rel(double a, double b) { return std::fabs(a - b) / std::fabs(b); }

TEST(TechTable, ShippedTablesLoadByNameAndPath) {
  EXPECT_EQ(builtin_tech_names(), (std::vector<std::string>{"45nm", "7nm"}));
  const TechTable t45 = builtin_tech_table("45nm");
  EXPECT_EQ(t45.name, "45nm");
  EXPECT_EQ(t45.origin, "builtin:45nm");
  const TechTable from_file = resolve_tech_table(std::string(NIBBLE_SOURCE_DIR) + "/hw/tech/45nm.yaml");
  EXPECT_EQ(from_file.pj(Action::kMacInt4Fp4), t45.pj(Action::kMacInt4Fp4));
  EXPECT_EQ(resolve_tech_table("7nm").name, "7nm");
  // Every entry carries a source.
  for (const TechTable& t : {t45, builtin_tech_table("7nm")}) {
    for (const auto& e : t.energy) EXPECT_FALSE(e.source.empty());
    for (const auto& a : t.area) EXPECT_FALSE(a.source.empty());
    for (const auto& p : t.sram_read) EXPECT_FALSE(p.read_pj.source.empty());
    EXPECT_FALSE(t.leakage_w_per_mm2.source.empty());
  }
}

TEST(TechTable, UnknownNameSuggestsTheClosest) {
  try {
    builtin_tech_table("45mn");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(e.message().find("did you mean '45nm'"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("45nm, 7nm"), std::string::npos) << e.what();
  }
  EXPECT_THROW(resolve_tech_table("/nonexistent/tech.yaml"), InputError);
}

// The 45 nm numbers are Horowitz's (docs/references.md) or derived from them by the rules
// written next to them; recompute each derivation here.
TEST(TechTable, Horowitz45nmDerivationsHold) {
  const TechTable t = builtin_tech_table("45nm");
  // Primary figures.
  EXPECT_EQ(t.pj(Action::kMacFp16), 1.1);
  EXPECT_EQ(t.pj(Action::kMacFp32), 3.7);
  EXPECT_EQ(t.pj(Action::kAccAddInt32), 0.1);
  EXPECT_EQ(t.pj(Action::kAccAddFp16), 0.4);
  EXPECT_EQ(t.pj(Action::kAccAddFp32), 0.9);
  // INT4 multiply: 8-bit 0.2 pJ x (4/8)^2 = 0.05 pJ; area 282 x 1/4 = 70.5 um^2.
  EXPECT_DOUBLE_EQ(t.pj(Action::kMacInt4Int4), 0.2 * 0.25);
  EXPECT_DOUBLE_EQ(t.um2(AreaItem::kMultInt4), 282 * 0.25);
  // Shifter: 5 XOR + (7 + 11 + 19) mux bits = 42, each half of a 32-bit add's bit.
  EXPECT_DOUBLE_EQ(t.pj(Action::kMacInt4Fp4), 42 * 0.5 * 0.1 / 32);
  EXPECT_LT(rel(t.um2(AreaItem::kShiftInt4Fp4), 42 * 0.5 * 137.0 / 32), 0.001);
  // FP8 multiply from the two-term fit a*s^2 + b*n through FP16 and FP32.
  const double a = (3.7 - 2 * 1.1) / (576 - 2 * 121);
  const double b = (1.1 - 121 * a) / 16;
  EXPECT_LT(rel(t.pj(Action::kMacFp8), 16 * a + 9 * b), 0.005);
  const double aa = (7700 - 2 * 1640.0) / (576 - 2 * 121);
  const double ba = (1640 - 121 * aa) / 16;
  EXPECT_LT(rel(t.um2(AreaItem::kMultFp8), 16 * aa + 9 * ba), 0.005);
  // Register bit: Aladdin ratio 0.009/0.21 times the 32-bit add.
  EXPECT_LT(rel(t.pj(Action::kPeRegWriteBit), 0.009 / 0.21 * 0.1), 0.005);
  // DRAM: midpoint of 1.3..2.6 nJ per 8 bytes.
  EXPECT_DOUBLE_EQ(t.pj(Action::kDramReadByte), 1950.0 / 8);
  // SRAM: the three Horowitz points are reproduced exactly, 64-bit words.
  EXPECT_NEAR(t.sram_read_pj(8, 64), 10.0, 1e-9);
  EXPECT_NEAR(t.sram_read_pj(32, 64), 20.0, 1e-9);
  EXPECT_NEAR(t.sram_read_pj(1024, 64), 100.0, 1e-9);
  // Between points: log-log. 16 KiB is halfway (in log) from 8 to 32 KiB, so
  // the energy is the geometric mean sqrt(10 * 20) = 14.142 pJ.
  EXPECT_NEAR(t.sram_read_pj(16, 64), std::sqrt(200.0), 1e-9);
  // Word width scales linearly: a 128-bit word at 8 KiB costs 20 pJ.
  EXPECT_NEAR(t.sram_read_pj(8, 128), 20.0, 1e-9);
  // Below the first point the first segment's power law continues:
  // E(2 KiB) = 10 * (2/8)^(log(2)/log(4)) = 10 * 0.25^0.5 = 5 pJ.
  EXPECT_NEAR(t.sram_read_pj(2, 64), 5.0, 1e-9);
  EXPECT_NEAR(t.sram_write_pj(8, 64), 10.0, 1e-9);  // write_over_read = 1
}

// The 7 nm table takes Jouppi et al.'s 7 nm column and the same rules.
TEST(TechTable, SevenNmDerivationsHold) {
  const TechTable t = builtin_tech_table("7nm");
  EXPECT_DOUBLE_EQ(t.pj(Action::kMacInt4Int4), 0.07 * 0.25);
  EXPECT_LT(rel(t.pj(Action::kMacInt4Fp4), 42 * 0.5 * 0.03 / 32), 0.005);
  const double a = (1.31 - 2 * 0.34) / (576 - 2 * 121);
  const double b = (0.34 - 121 * a) / 16;
  EXPECT_LT(rel(t.pj(Action::kMacFp8), 16 * a + 9 * b), 0.005);
  EXPECT_LT(rel(t.pj(Action::kPeRegWriteBit), 0.009 / 0.21 * 0.03), 0.005);
  EXPECT_DOUBLE_EQ(t.pj(Action::kDramReadByte), 350.0 / 8);
  // Areas: 45 nm logic x 0.059; SRAM by bitcell 0.027 um^2 / 50 % efficiency.
  const TechTable t45 = builtin_tech_table("45nm");
  for (const AreaItem item : {AreaItem::kMultFp16, AreaItem::kMultFp32, AreaItem::kAddInt32, AreaItem::kAddFp16,
                              AreaItem::kAddFp32, AreaItem::kMultInt4, AreaItem::kVectorLane}) {
    EXPECT_LT(rel(t.um2(item), t45.um2(item) * 0.059), 0.005) << area_info(item).name;
  }
  EXPECT_LT(rel(t.um2(AreaItem::kSramPerKib), 0.027 * 8192 / 0.5), 0.005);
  // Nothing in the 7 nm table costs more energy than at 45 nm.
  for (std::size_t i = 0; i < kActionCount; ++i) EXPECT_LE(t.energy[i].value, t45.energy[i].value) << i;
}

// The dot-product tree's adder bit: the 32-bit add / 32 in both shipped tables
// (adder energy ~ width); a table written before it existed still loads, with
// the same derivation from its own 32-bit add and a source that says so.
TEST(TechTable, DotTreeAddBitIsTheThirtySecondOfTheIntAdd) {
  const TechTable t45 = builtin_tech_table("45nm");
  const TechTable t7 = builtin_tech_table("7nm");
  EXPECT_DOUBLE_EQ(t45.pj(Action::kDotTreeAddBit), 0.1 / 32);
  EXPECT_DOUBLE_EQ(t7.pj(Action::kDotTreeAddBit), 0.03 / 32);
  EXPECT_NE(t45.energy[static_cast<std::size_t>(Action::kDotTreeAddBit)].line, 0);
  EXPECT_FALSE(action_optional(Action::kAccAddInt32));
  EXPECT_TRUE(action_optional(Action::kDotTreeAddBit));

  const std::string good = builtin_text("45nm");
  const auto start = good.find("  # --- adder tree of an INT4/FP4");
  const auto end = good.find("  # --- PE operand / pipeline registers");
  ASSERT_NE(start, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::string old_table = good;
  old_table.erase(start, end - start);
  const TechTable derived = parse_tech_table(replaced(old_table, "value: 0.1             # 32-bit int add",
                                                      "value: 0.16            # 32-bit int add"),
                                             "old.yaml");
  const TechValue& bit = derived.energy[static_cast<std::size_t>(Action::kDotTreeAddBit)];
  EXPECT_DOUBLE_EQ(bit.value, 0.16 / 32);
  EXPECT_EQ(bit.line, 0);
  EXPECT_EQ(bit.source.rfind("derived: acc_add_int32 / 32", 0), 0u) << bit.source;
  // Optional is not silent: a misspelt key is still an unknown key.
  const InputError typo = parse_error(replaced(good, "  dot_tree_add_bit:", "  dot_tree_add_bits:"));
  EXPECT_EQ(typo.field(), "energy_pj.dot_tree_add_bits");
  EXPECT_NE(typo.message().find("did you mean 'dot_tree_add_bit'"), std::string::npos) << typo.what();
}

TEST(TechTable, MissingActionIsNamedWithItsLine) {
  const std::string good = builtin_text("45nm");
  // Remove the whole mac_int4_fp4 entry (its key, comment block and fields).
  const auto start = good.find("  mac_int4_fp4:");
  const auto end = good.find("  mac_fp8:");
  ASSERT_NE(start, std::string::npos);
  std::string text = good;
  text.erase(start, end - start);
  const InputError e = parse_error(text);
  EXPECT_EQ(e.file(), "bad.yaml");
  EXPECT_EQ(e.field(), "energy_pj.mac_int4_fp4");
  EXPECT_EQ(e.line(), line_of(text, "energy_pj:"));
  EXPECT_NE(e.message().find("missing entry 'mac_int4_fp4'"), std::string::npos) << e.what();
  EXPECT_NE(e.message().find("INT4 x FP4"), std::string::npos) << e.what();

  // The same for an area item and for the leakage entry.
  const auto a0 = good.find("  reg_bit:");
  const auto a1 = good.find("  sram_per_kib:");
  std::string no_reg = good;
  no_reg.erase(a0, a1 - a0);
  EXPECT_EQ(parse_error(no_reg).field(), "area_um2.reg_bit");
  const auto l0 = good.find("leakage_w_per_mm2:");
  const auto l1 = good.find("area_um2:");
  std::string no_leak = good;
  no_leak.erase(l0, l1 - l0);
  EXPECT_EQ(parse_error(no_leak).field(), "leakage_w_per_mm2");
}

TEST(TechTable, BadNumbersAreRejected) {
  const std::string good = builtin_text("45nm");
  const std::string target = "    value: 0.05            # 0.2 pJ (8-bit multiply) x (4/8)^2";
  const std::int64_t line = line_of(good, target);
  for (const std::string bad : {"-0.05", "nan", ".nan", ".inf", "inf", "1e400", "fifty", "\"\"", "[1, 2]"}) {
    const InputError e = parse_error(replaced(good, target, "    value: " + bad));
    EXPECT_EQ(e.field(), "energy_pj.mac_int4_int4.value") << bad << ": " << e.what();
    EXPECT_EQ(e.line(), line) << bad;
  }
  // A bare number where {value, source} is expected.
  const std::string entry = "  acc_add_int32:\n    value: 0.1             # 32-bit int add\n"
                            "    source: \"Horowitz 2014: 32-bit int add 0.1 pJ\"\n";
  const InputError bare = parse_error(replaced(good, entry, "  acc_add_int32: 0.1\n"));
  EXPECT_EQ(bare.field(), "energy_pj.acc_add_int32");
  EXPECT_NE(bare.message().find("expected {value"), std::string::npos) << bare.what();
  // A number without a source.
  const InputError no_source = parse_error(replaced(good, entry, "  acc_add_int32:\n    value: 0.1\n"));
  EXPECT_EQ(no_source.field(), "energy_pj.acc_add_int32.source");
}

TEST(TechTable, UnknownKeysSuggestTheIntendedOne) {
  const std::string good = builtin_text("45nm");
  const InputError typo = parse_error(replaced(good, "  mac_fp16:", "  mac_fp61:"));
  // mac_fp16 is now missing, and mac_fp61 is its misspelling: the misspelt line is named.
  EXPECT_EQ(typo.field(), "energy_pj.mac_fp61");
  EXPECT_EQ(typo.line(), line_of(good, "  mac_fp16:"));
  EXPECT_EQ(typo.message(), "unknown key (did you mean 'mac_fp16'?)");
  // A missing entry with nothing like it written is still a missing entry.
  const auto m0 = good.find("  mac_fp16:");
  const auto m1 = good.find("  mac_fp32:");
  std::string no_fp16 = good;
  no_fp16.erase(m0, m1 - m0);
  EXPECT_EQ(parse_error(no_fp16).field(), "energy_pj.mac_fp16");
  const std::string extra = replaced(good, "  mac_fp16:", "  vector_op_softmx: {value: 1, source: x}\n  mac_fp16:");
  const InputError e = parse_error(extra);
  EXPECT_EQ(e.field(), "energy_pj.vector_op_softmx");
  EXPECT_NE(e.message().find("did you mean 'vector_op_softmax'"), std::string::npos) << e.what();
  const InputError top = parse_error(good + "leakage_w_per_mm3: {value: 1, source: x}\n");
  EXPECT_EQ(top.field(), "leakage_w_per_mm3");
}

TEST(TechTable, SramCurveMustBeIncreasingAndPositive) {
  const std::string good = builtin_text("45nm");
  const InputError order = parse_error(replaced(good, "    - kib: 1024", "    - kib: 16"));
  EXPECT_EQ(order.field(), "sram.read_pj[2].kib");
  EXPECT_NE(order.message().find("must increase"), std::string::npos) << order.what();
  const InputError zero = parse_error(replaced(good, "      value: 20            # 64-bit read, 32 KB", "      value: 0"));
  EXPECT_EQ(zero.field(), "sram.read_pj[1].value");
  const std::string no_points = replaced(good, "  read_pj:\n", "  read_pj: []\n  old_points:\n");
  EXPECT_EQ(parse_error(no_points).field(), "sram.read_pj");
}

TEST(TechTable, SchemaAndFileErrors) {
  const std::string good = builtin_text("45nm");
  EXPECT_EQ(parse_error(replaced(good, "schema: nibble-tech/1", "schema: nibble-tech/9")).field(), "schema");
  EXPECT_EQ(parse_error("").line(), 0);
  EXPECT_NE(parse_error("energy_pj: [").message().find("YAML syntax error"), std::string::npos);
  EXPECT_EQ(parse_error("- a\n- b\n").file(), "bad.yaml");
  try {
    load_tech_table(std::string(NIBBLE_SOURCE_DIR) + "/tests/energy/data/no-such-table.yaml");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-table.yaml"), std::string::npos);
  }
}

TEST(TechTable, RoundTestTableLoadsWithItsKindOverride) {
  const TechTable t = load_tech_table(std::string(NIBBLE_SOURCE_DIR) + "/tests/energy/data/round.yaml");
  EXPECT_EQ(t.vector_pj("softmax"), 40.0);
  EXPECT_EQ(t.vector_pj("quantize"), 10.0);
  // E64(kib) = 8 * sqrt(kib) through (1, 8) and (16, 32).
  EXPECT_NEAR(t.sram_read_pj(4, 64), 16.0, 1e-12);
  EXPECT_NEAR(t.sram_write_pj(4, 64), 24.0, 1e-12);
}

}  // namespace
}  // namespace nibble::energy

namespace nibble::energy {
namespace {

// Random damage to a real table (byte flips, deletions, duplications) must end
// in a table or an InputError: never a crash, a hang or another exception; and
// either is what the damaged text says. An error names the damaged file and a
// line of it in one line of text, and an error about a key the text holds is
// on the line that holds it. A table holds the text's numbers: every energy
// and area entry whose two lines (value, source) the damage left as they were
// has the undamaged table's value and source.
TEST(TechTable, DamagedTablesFailCleanly) {
  const std::string good = builtin_text("7nm");
  const TechTable good_table = parse_tech_table(good, "good.yaml");
  const auto lines_of = [](const std::string& text) {
    std::vector<std::string> lines;
    for (const std::string_view line : split(text, '\n')) lines.emplace_back(line);
    return lines;
  };
  const std::vector<std::string> good_lines = lines_of(good);
  const auto same_lines = [&](const std::vector<std::string>& lines, std::int64_t line, std::int64_t good_line) {
    return line >= 1 && good_line >= 1 && static_cast<std::size_t>(line) < lines.size() &&
           static_cast<std::size_t>(good_line) < good_lines.size() && lines[line - 1] == good_lines[good_line - 1] &&
           lines[line] == good_lines[good_line];
  };
  std::mt19937_64 rng(2024);
  int accepted = 0, rejected = 0, entries_compared = 0, errors_on_their_key = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string text = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = static_cast<char>(rng() % 256); break;
        case 1: text.erase(at, 1 + rng() % 40); break;
        case 2: text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 40)); break;
        default: text[at] = "-:[]{}#\n'\"&*!|>"[rng() % 16]; break;
      }
    }
    const std::vector<std::string> lines = lines_of(text);
    try {
      const TechTable t = parse_tech_table(text, "damaged.yaml");
      ++accepted;
      for (std::size_t i = 0; i < kActionCount; ++i) {
        ASSERT_TRUE(std::isfinite(t.energy[i].value) && t.energy[i].value >= 0.0);
        if (!same_lines(lines, t.energy[i].line, good_table.energy[i].line)) continue;
        ++entries_compared;
        ASSERT_EQ(t.energy[i].value, good_table.energy[i].value) << action_info(Action(i)).name << "\n" << text;
        ASSERT_EQ(t.energy[i].source, good_table.energy[i].source) << action_info(Action(i)).name << "\n" << text;
      }
      for (std::size_t i = 0; i < kAreaItemCount; ++i) {
        if (!same_lines(lines, t.area[i].line, good_table.area[i].line)) continue;
        ++entries_compared;
        ASSERT_EQ(t.area[i].value, good_table.area[i].value) << area_info(AreaItem(i)).name << "\n" << text;
        ASSERT_EQ(t.area[i].source, good_table.area[i].source) << area_info(AreaItem(i)).name << "\n" << text;
      }
    } catch (const InputError& e) {
      ++rejected;
      const std::string what = e.what();
      ASSERT_EQ(e.file(), "damaged.yaml") << what;
      ASSERT_EQ(what.find('\n'), std::string::npos) << what;
      ASSERT_EQ(what.rfind("damaged.yaml" + (e.line() > 0 ? ":" + std::to_string(e.line()) : std::string()) + ": ", 0),
                0u)
          << what;
      ASSERT_GE(e.line(), 0) << what;
      ASSERT_LE(static_cast<std::size_t>(e.line()), lines.size()) << what;
      // The key the error is about: the last name of its field path.
      std::string key = e.field().substr(e.field().find_last_of('.') + 1);
      key = key.substr(0, key.find('['));
      const bool about_a_written_key = e.line() > 0 && !key.empty() && e.message().rfind("missing", 0) != 0 &&
                                       text.find(key + ":") != std::string::npos;
      if (about_a_written_key) {
        ++errors_on_their_key;
        ASSERT_NE(lines[e.line() - 1].find(key), std::string::npos) << what << "\n" << text;
      }
    }
  }
  // Both outcomes and both checks are exercised (some damage only touches comments or sources).
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
  EXPECT_GT(entries_compared, 0);
  EXPECT_GT(errors_on_their_key, 0);
}

}  // namespace
}  // namespace nibble::energy

namespace nibble::energy {
namespace {

TEST(TechTable, RepeatedKeysAreRejected) {
  const std::string good = builtin_text("45nm");
  const InputError e =
      parse_error(replaced(good, "  mac_fp32:", "  mac_fp16: {value: 9, source: again}\n  mac_fp32:"));
  EXPECT_EQ(e.field(), "energy_pj.mac_fp16");
  EXPECT_NE(e.message().find("appears twice"), std::string::npos);
}

}  // namespace
}  // namespace nibble::energy
