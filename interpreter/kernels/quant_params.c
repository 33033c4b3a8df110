#include "kernels/quant_params.h"

qlite_status qlite_qparams_init(const qlite_node *node, const qlite_tensor *t, const char *what,
                                int64_t zp_lo, int64_t zp_hi, qlite_qparams *p) {
    const qlite_quant *q = t->info->quant;
    if (!q || q->count == 0 || !q->scale || !q->zero_point)
        return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                "%s ('%s') has no quantization parameters", what, t->info->name);
    const size_t n = qlite_tensor_elements(t);
    p->outer = 1;
    p->channels = 1;
    p->inner = n;
    if (q->count > 1) {
        uint32_t ax;
        if (!qlite_normalize_axis(q->axis, t->rank, &ax) || (size_t)t->dims[ax] != q->count)
            return qlite_node_error(node, QLITE_ERR_SHAPE,
                                    "%s ('%s'): %u per-channel scales do not match axis %d",
                                    what, t->info->name, q->count, q->axis);
        p->channels = q->count;
        p->inner = 1;
        for (uint32_t i = 0; i < ax; i++) p->outer *= (size_t)t->dims[i];
        for (uint32_t i = ax + 1; i < t->rank; i++) p->inner *= (size_t)t->dims[i];
    }
    for (uint32_t c = 0; c < q->count; c++) {
        if (!(q->scale[c] > 0.0f) || isinf(q->scale[c]))
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "%s ('%s') scale[%u] = %g is not finite and positive", what,
                                    t->info->name, c, (double)q->scale[c]);
        if (q->zero_point[c] < zp_lo || q->zero_point[c] > zp_hi)
            return qlite_node_error(node, QLITE_ERR_INVALID_ARGUMENT,
                                    "%s ('%s') zero_point[%u] = %d is outside [%lld, %lld]", what,
                                    t->info->name, c, q->zero_point[c], (long long)zp_lo,
                                    (long long)zp_hi);
    }
    p->scale = q->scale;
    p->zero_point = q->zero_point;
    return QLITE_OK;
}
