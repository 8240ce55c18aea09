/* SPDX-License-Identifier: MIT */
/*
 * lanes.h - includes the file NN__LANES_FILE names once per type of eight
 * lanes of double (layers.h, NN__LANES): with nn__lanes8, its functions
 * keep their names and are inlined into the includer's clones; where
 * NN__LANES_V4 is defined, again with nn__wide8, compiled for x86-64-v4
 * and named f_v4. That file defines its loops over L8_T, the operations
 * L8(op), the names L8_NAME(f) and the attributes L8_ATTR. No include
 * guard: a layer's file includes it where its loops belong.
 */
#define L8_T nn__lanes8
#define L8(op) nn__lanes8_##op
#define L8_NAME(f) f
#define L8_ATTR NN__ALWAYS_INLINE
#include NN__LANES_FILE
#undef L8_T
#undef L8
#undef L8_NAME
#undef L8_ATTR
#ifdef NN__LANES_V4
#define L8_T nn__wide8
#define L8(op) nn__wide8_##op
#define L8_NAME(f) f##_v4
#define L8_ATTR NN__V4
#include NN__LANES_FILE
#undef L8_T
#undef L8
#undef L8_NAME
#undef L8_ATTR
#endif
#undef NN__LANES_FILE
