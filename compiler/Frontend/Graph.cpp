//===- Graph.cpp ------------------------------------------------*- C++ -*-===//

#include "attnc/Frontend/Graph.h"

using namespace attnc;

int64_t attnc::numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string attnc::shapeToString(const Shape &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

const char *attnc::maskKindName(MaskKind kind) {
  switch (kind) {
  case MaskKind::None: return "none";
  case MaskKind::Causal: return "causal";
  case MaskKind::Window: return "window";
  }
  return "none";
}

unsigned Graph::numInputArgs() const {
  unsigned n = 0;
  for (const KernelArg &a : args)
    n += a.role != ArgRole::Output;
  return n;
}
