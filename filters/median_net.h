/*
 * median_net.h - comparator networks that select the median of 9 and of 25 values.
 *
 * Each is Batcher's odd-even merge sort on 16 / 32 wires (the window values, then 255s that sort
 * above everything), pruned to the comparators that can reach the middle wire, and with the
 * comparators between two padding wires removed. A comparator {a, b} leaves min at a and max at
 * b. The median ends on wire 4 (of 9) and wire 12 (of 25). tests/test_kernels.c checks both
 * networks on every 0/1 input (by the 0-1 principle, that proves them for all inputs).
 */
#ifndef PP_MEDIAN_NET_H
#define PP_MEDIAN_NET_H

#include <stdint.h>

static const uint8_t pp_median9_net[][2] = {
    {0, 1}, {2, 3}, {0, 2}, {1, 3}, {1, 2}, {4, 5}, {6, 7}, {4, 6}, {5, 7}, {5, 6}, {0, 4}, {2, 6},
    {2, 4}, {1, 5}, {3, 7}, {3, 5}, {1, 2}, {3, 4}, {5, 6}, {0, 8}, {4, 8}, {2, 4}, {3, 5}, {3, 4}};
#define PP_MEDIAN9_OUT 4

static const uint8_t pp_median25_net[][2] = {
    {0, 1},   {2, 3},   {0, 2},   {1, 3},   {1, 2},   {4, 5},   {6, 7},   {4, 6},   {5, 7},
    {5, 6},   {0, 4},   {2, 6},   {2, 4},   {1, 5},   {3, 7},   {3, 5},   {1, 2},   {3, 4},
    {5, 6},   {8, 9},   {10, 11}, {8, 10},  {9, 11},  {9, 10},  {12, 13}, {14, 15}, {12, 14},
    {13, 15}, {13, 14}, {8, 12},  {10, 14}, {10, 12}, {9, 13},  {11, 15}, {11, 13}, {9, 10},
    {11, 12}, {13, 14}, {0, 8},   {4, 12},  {4, 8},   {2, 10},  {6, 14},  {6, 10},  {2, 4},
    {6, 8},   {10, 12}, {1, 9},   {5, 13},  {5, 9},   {3, 11},  {7, 15},  {7, 11},  {3, 5},
    {7, 9},   {11, 13}, {1, 2},   {3, 4},   {5, 6},   {7, 8},   {9, 10},  {11, 12}, {13, 14},
    {16, 17}, {18, 19}, {16, 18}, {17, 19}, {17, 18}, {20, 21}, {22, 23}, {20, 22}, {21, 23},
    {21, 22}, {16, 20}, {18, 22}, {18, 20}, {17, 21}, {19, 23}, {19, 21}, {17, 18}, {19, 20},
    {21, 22}, {16, 24}, {20, 24}, {18, 20}, {22, 24}, {19, 21}, {17, 18}, {19, 20}, {21, 22},
    {23, 24}, {0, 16},  {8, 24},  {8, 16},  {4, 20},  {12, 20}, {12, 16}, {2, 18},  {10, 18},
    {6, 22},  {6, 10},  {10, 12}, {1, 17},  {9, 17},  {5, 21},  {13, 21}, {13, 17}, {3, 19},
    {11, 19}, {7, 23},  {7, 11},  {11, 13}, {11, 12}};
#define PP_MEDIAN25_OUT 12

#endif
