/* caps.h: capabilities, all five sets (capabilities(7)). */
#ifndef BERTH_CAPS_H
#define BERTH_CAPS_H

#include <stdint.h>

#include "internal.h"

/* berth_caps_keep drops from the bounding set every capability not in keep (PR_CAPBSET_DROP,
 * needs CAP_SETPCAP, so before capset) and sets PR_SET_KEEPCAPS so a uid change keeps the
 * permitted set. Step "capabilities". */
int berth_caps_bound(uint64_t keep, struct berth_err *err);

/* berth_caps_apply sets effective, permitted and inheritable (capset(2), version 3), clears
 * PR_SET_KEEPCAPS and raises the ambient set. Step "capabilities". */
int berth_caps_apply(uint64_t eff, uint64_t perm, uint64_t inh, uint64_t amb, struct berth_err *err);

#endif
