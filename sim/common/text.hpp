// Small text helpers shared by every parser and by the command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nibble {

/// Whole-string unsigned decimal; nullopt on sign, junk, empty or overflow.
std::optional<std::uint64_t> parse_u64(std::string_view text);
/// Whole-string signed decimal; nullopt on junk, empty or overflow.
std::optional<std::int64_t> parse_i64(std::string_view text);
/// Whole-string finite or infinite double ("nan" is rejected); nullopt on junk.
std::optional<double> parse_double(std::string_view text);

/// Trims ASCII whitespace at both ends.
std::string_view trim(std::string_view text);
/// Splits on `sep`, keeping empty fields.
std::vector<std::string_view> split(std::string_view text, char sep);

/// Levenshtein distance (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);
/// The candidate closest to `word` if it is close enough to be a likely typo
/// (distance at most a third of the longer word, and at most 3); else "".
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

/// a*b and a+b that report overflow instead of wrapping.
std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b);
std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b);
/// ceil(a / b) for b > 0, without the overflow of (a + b - 1) / b.
inline std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

/// 64-bit FNV-1a of `data`, continuing from `hash`: a fingerprint of inputs
/// (not a cryptographic hash), the same on every machine.
std::uint64_t fnv1a64(std::string_view data, std::uint64_t hash = 14695981039346656037ULL);

// Numbers as text: the one home of every number printed by nibble (files,
// tables, charts, messages), so one quantity never prints two ways.

/// Shortest round-tripping decimal for a double (printf %.17g, trimmed),
/// so reports are deterministic and exact.
std::string format_double(double value);
/// `value` with `decimals` digits after the point (printf "%.*f"), for tables.
std::string format_fixed(double value, int decimals);
/// `value` with `decimals` digits after the point and a sign always (printf
/// "%+.*f"), for signed differences in tables.
std::string format_fixed_signed(double value, int decimals);
/// `value` with `digits` significant digits (printf "%.*g").
std::string format_sig(double value, int digits);
/// `value` with 4 significant digits (printf "%.4g"): the precision of the
/// human-readable summaries and comparison tables.
std::string format_sig4(double value);
/// A value with 4 significant digits and an SI suffix ("1.235G"), for labels.
std::string format_si(double value);
/// (number, unit): a value in `base` units scaled to the sub-multiple (m, µ,
/// n, p) that makes it read 1..999 with 4 significant digits; 0, inf and NaN
/// stay in `base` and print exactly (format_double).
std::pair<std::string, std::string> format_scaled(double value, std::string_view base);
/// "0x" and `digits` (1..16) lower-case hex digits, zero-padded (a bus word).
std::string format_hex(std::uint64_t value, int digits);
/// `text` right-aligned in `width` bytes, padded with spaces (printf "%*s");
/// longer text is kept whole. For fixed-width text tables.
std::string pad_left(std::string_view text, std::size_t width);
/// `text` left-aligned in `width` bytes (printf "%-*s").
std::string pad_right(std::string_view text, std::size_t width);

}  // namespace nibble
