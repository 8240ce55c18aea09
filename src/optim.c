/*
 * optim.c - the update that turns the gradient buffer into new parameters.
 * An update is all or nothing: if any new value would not be finite, no
 * parameter changes.
 */
#include "nn_internal.h"

#include <math.h>

nn_status nn__optim_step(const char *fn, nn_model *m)
{
    size_t i, n = m->n_params;
    float *p = m->params;
    const float *g = m->grads;
    float lr = (float)m->lr;

    /* A first pass proves every result finite, so a failing step leaves the
     * model exactly as it was; it costs one read of the buffers, which is
     * small beside the products that made the gradients. */
    for (i = 0; i < n; i++)
        if (!isfinite(p[i] - lr * g[i])) {
            nn_status st = nn__check_grads(fn, m);
            if (st != NN_OK)
                return st;
            return nn__fail(NN_E_NONFINITE,
                            "%s: parameter %zu would become %g; no parameter "
                            "was changed", fn, i,
                            (double)(p[i] - lr * g[i]));
        }
    for (i = 0; i < n; i++)
        p[i] -= lr * g[i];
    return NN_OK;
}

nn_status nn_model_apply_grads(nn_model *model)
{
    static const char fn[] = "nn_model_apply_grads";
    if (!model)
        return nn__fail(NN_E_NULL, "%s: model is NULL", fn);
    if (model->n_layers == 0)
        return nn__fail(NN_E_STATE, "%s: the model has no layers", fn);
    return nn__optim_step(fn, model);
}
