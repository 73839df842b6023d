//===- UoEOps.td - all ops of the uoe dialect ---------------*- tablegen -*-===//
//
// One TableGen root for the op definitions, so that one .inc pair and one
// generated document cover the whole dialect.
//
//===----------------------------------------------------------------------===//

#ifndef UOE_DIALECT_UOEOPS_TD
#define UOE_DIALECT_UOEOPS_TD

include "dialect/UoEBase.td"
include "dialect/UoELayerOps.td"
include "dialect/UoERoutingOps.td"
include "dialect/UoEGradOps.td"

#endif // UOE_DIALECT_UOEOPS_TD
