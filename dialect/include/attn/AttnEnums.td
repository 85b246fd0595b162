//===- AttnEnums.td - enums of the attn dialect --------------*- tablegen -*-===//

#ifndef ATTN_ENUMS
#define ATTN_ENUMS

include "mlir/IR/EnumAttr.td"

def Attn_MaskNone   : I32EnumAttrCase<"none", 0>;
def Attn_MaskCausal : I32EnumAttrCase<"causal", 1>;
def Attn_MaskWindow : I32EnumAttrCase<"window", 2>;

def Attn_MaskKindAttr : I32EnumAttr<"MaskKind",
    "which keys a query may attend to",
    [Attn_MaskNone, Attn_MaskCausal, Attn_MaskWindow]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_RopeHalf        : I32EnumAttrCase<"half", 0>;
def Attn_RopeInterleaved : I32EnumAttrCase<"interleaved", 1>;

def Attn_RopeStyleAttr : I32EnumAttr<"RopeStyle",
    "how rotary embedding pairs the features of a head",
    [Attn_RopeHalf, Attn_RopeInterleaved]> {
  let cppNamespace = "::mlir::attn";
}

def Attn_GeluNone : I32EnumAttrCase<"none", 0>;
def Attn_GeluTanh : I32EnumAttrCase<"tanh", 1>;

def Attn_GeluApproximationAttr : I32EnumAttr<"GeluApproximation",
    "the formula gelu uses",
    [Attn_GeluNone, Attn_GeluTanh]> {
  let cppNamespace = "::mlir::attn";
}

#endif // ATTN_ENUMS
