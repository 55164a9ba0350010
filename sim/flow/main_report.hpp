// The page and table on top of the main job (`nibble run`, `make run`): the
// 4-bit design against the FP16 baseline at equal area, and the accuracy of
// the same network trained in fp32 and in int4-fp4. Both are rendered only
// from the files the runs wrote (compare/summary.json and
// train-*/summary.json), so `nibble report DIR` re-renders them exactly.
#pragma once

#include <string>
#include <vector>

namespace nibble::flow {

/// A design the main job runs beside the comparison, on the same workload, at its
/// own area and technology (never resized to A's): one `nibble simulate` into `dir`.
struct OtherDesign {
  std::string dir;     ///< sub-directory of its outputs, e.g. "rapid-like"
  std::string design;  ///< design file, a repository path (found as the shipped designs are)
  std::string policy;  ///< precision policy it runs
  std::string what;    ///< why this policy, for the table's note
};

/// The designs the main job adds to its table, in table order: adding one is one line.
inline std::vector<OtherDesign> default_other_designs() {
  return {
      // HFP8: what the RaPiD silicon trains in (JSSC 2022); its INT4 engine is for inference.
      {"rapid-like", "hw/designs/rapid-like.yaml", "hfp8", "RaPiD trains in HFP8"},
      // The block-scaled recipes on chips built for them (block-FP4 PEs beside a BF16 unit).
      {"mxfp4-train", "hw/designs/mxfp4-train.yaml", "mxfp4", "OCP MXFP4, BF16 first and last layers"},
      {"nvfp4-train", "hw/designs/nvfp4-train.yaml", "nvfp4", "NVIDIA's NVFP4 recipe, BF16 last layers"},
  };
}

/// The sub-directories of a main-job output directory.
struct MainJobLayout {
  std::string compare = "compare";                                ///< `nibble compare` outputs
  std::vector<std::string> trainings = {"train-fp32", "train-int4-fp4"};  ///< `nibble train` outputs, in table order
  std::vector<OtherDesign> others = default_other_designs();     ///< `nibble simulate` outputs, in table order
};

/// True when `dir` holds a main job's outputs (compare/summary.json and at
/// least one train-*/summary.json).
bool is_main_job_dir(const std::string& dir, const MainJobLayout& layout = {});

/// The one table of the main job, as text for stdout: per design cycles,
/// time, energy per step, TOPS/W, area; the speedup and energy ratio; and the
/// accuracy of each training; then one row per other design whose outputs
/// exist (time, energy, TOPS/W, area, and its time and energy over A's). InputError naming the file for a missing or
/// malformed summary.
std::string main_job_table(const std::string& dir, const MainJobLayout& layout = {});

/// The self-contained page `dir`/report.html with the same numbers, the
/// commands that produced them, and links to each run's own report.
std::string main_job_report_html(const std::string& dir, const MainJobLayout& layout = {});

/// Writes `dir`/summary.json (the table's numbers) and `dir`/report.html.
void write_main_job_outputs(const std::string& dir, const MainJobLayout& layout = {});

}  // namespace nibble::flow
