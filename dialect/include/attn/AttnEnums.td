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

#endif // ATTN_ENUMS
