//===- MemoryBudget.cpp - what a model needs, against a limit -------------===//

#include "attnc/Frontend/MemoryBudget.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/SourceMgr.h"

#include <cmath>
#include <unistd.h>

using namespace llvm;
using namespace attnc;

static const char *roleName(ArgRole role) {
  switch (role) {
  case ArgRole::Input: return "input";
  case ArgRole::Param: return "param";
  case ArgRole::Output: return "output";
  }
  return "argument";
}

MemoryUse attnc::estimateMemoryUse(const Graph &graph,
                                   const SourceMgr &sourceMgr,
                                   unsigned bytesPerElement) {
  MemoryUse use;
  auto bytesOf = [&](ValueId v) {
    return uint64_t(numElements(graph.shapeOf(v))) * bytesPerElement;
  };
  auto consider = [&](uint64_t bytes, const std::string &what) {
    if (bytes > use.largestBytes) {
      use.largestBytes = bytes;
      use.largestWhat = what;
    }
  };
  std::vector<bool> isArgument(graph.valueShapes.size(), false);
  for (const KernelArg &arg : graph.args) {
    isArgument[arg.value] = true;
    // Embedded params live in the object, which is mapped all the same.
    uint64_t bytes = uint64_t(numElements(arg.shape)) * bytesPerElement;
    use.arguments += bytes;
    consider(bytes, formatv("{0} '{1}' {2}", roleName(arg.role), arg.name,
                            shapeToString(arg.shape)));
  }

  // Where each intermediate value dies: its last use, or its definition.
  std::vector<size_t> lastUse(graph.valueShapes.size(), 0);
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    for (ValueId v : graph.ops[i].results)
      lastUse[v] = i;
    for (ValueId v : graph.ops[i].operands)
      lastUse[v] = i;
  }
  std::vector<std::vector<ValueId>> dying(graph.ops.size());
  for (size_t i = 0; i < graph.ops.size(); ++i)
    for (ValueId v : graph.ops[i].results)
      if (!isArgument[v])
        dying[lastUse[v]].push_back(v);
  uint64_t live = 0;
  for (size_t i = 0; i < graph.ops.size(); ++i) {
    const GraphOp &op = graph.ops[i];
    for (ValueId v : op.results) {
      if (isArgument[v])
        continue;
      live += bytesOf(v);
      auto [line, col] = sourceMgr.getLineAndColumn(op.loc);
      consider(bytesOf(v),
               formatv("the value {0} computed at line {1}, column {2}",
                       shapeToString(graph.shapeOf(v)), line, col));
    }
    use.intermediates = std::max(use.intermediates, live);
    for (ValueId v : dying[i])
      live -= bytesOf(v);
  }
  return use;
}

Expected<uint64_t> attnc::parseByteSize(StringRef text) {
  auto bad = [&]() {
    return createStringError(inconvertibleErrorCode(),
                             "expected a size such as 512M, 8G, 1.5GiB or a "
                             "number of bytes, not '" +
                                 text + "'");
  };
  StringRef rest = text.trim();
  size_t digits = rest.find_first_not_of("0123456789.");
  StringRef number = rest.take_front(digits);
  StringRef unit = rest.drop_front(number.size()).trim();
  double value;
  if (number.empty() || number.getAsDouble(value) || value < 0)
    return bad();
  unit.consume_back_insensitive("ib") || unit.consume_back_insensitive("b");
  double scale = 1;
  if (!unit.empty()) {
    size_t power = StringRef("kmgtp").find(toLower(unit[0]));
    if (unit.size() != 1 || power == StringRef::npos)
      return bad();
    scale = std::pow(1024.0, double(power + 1));
  }
  double bytes = value * scale;
  if (bytes >= 18446744073709551615.0)
    return bad();
  return uint64_t(bytes);
}

std::string attnc::formatBytes(uint64_t bytes) {
  const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024)
    return formatv("{0} byte{1}", bytes, bytes == 1 ? "" : "s");
  double value = double(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  return formatv("{0:f1} {1}", value, units[unit]);
}

Expected<MemoryBudget>
MemoryBudget::fromOption(const cl::opt<std::string> &option) {
  return fromOption(option.getNumOccurrences()
                        ? std::optional<StringRef>(option.getValue())
                        : std::nullopt);
}

Expected<MemoryBudget>
MemoryBudget::fromOption(std::optional<StringRef> value) {
  MemoryBudget budget;
  if (value && value->equals_insensitive("none"))
    return budget;
  if (!value) {
    long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && pageSize > 0)
      budget.bytes = uint64_t(pages) * uint64_t(pageSize);
    budget.isDefault = true;
    return budget;
  }
  Expected<uint64_t> bytes = parseByteSize(*value);
  if (!bytes)
    return bytes.takeError();
  budget.bytes = *bytes;
  return budget;
}

Error MemoryBudget::check(const MemoryUse &use, StringRef who) const {
  if (!bytes || use.total() <= *bytes)
    return Error::success();
  std::string parts = formatBytes(use.arguments) + " for its arguments";
  parts += " and " + formatBytes(use.intermediates) +
           " for intermediate values at their peak";
  return createStringError(
      inconvertibleErrorCode(),
      formatv("{0} needs {1} of memory ({2}; the largest buffer is {3}, {4}), "
              "more than the memory budget of {5} ({6}); set "
              "--memory-budget=SIZE to allow more, or make the shapes smaller",
              who, formatBytes(use.total()), parts, use.largestWhat,
              formatBytes(use.largestBytes), formatBytes(*bytes),
              isDefault ? "this machine's physical memory"
                        : "from --memory-budget")
          .str());
}

Error MemoryBudget::checkModel(const Graph &graph, const SourceMgr &sourceMgr,
                               unsigned bytesPerElement) const {
  return check(estimateMemoryUse(graph, sourceMgr, bytesPerElement),
               "model '" + graph.name + "'");
}
